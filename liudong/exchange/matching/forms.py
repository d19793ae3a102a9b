from django import forms
from django.utils.translation import gettext_lazy as _

from .engine import DEFAULT_THRESHOLD


class MatchForm(forms.Form):
    outflow = forms.FileField(
        label=_("Outflow register (place of household registration), .csv or .xlsx"),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    inflow = forms.FileField(
        label=_("Inflow register (place of residence), .csv or .xlsx"),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    threshold = forms.FloatField(
        label=_("Lowest score of a match"),
        initial=DEFAULT_THRESHOLD,
        required=False,
        min_value=0.01,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
