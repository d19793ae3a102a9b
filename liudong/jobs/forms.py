from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (.csv or .xlsx)"),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    sheet = forms.CharField(
        label=_("Sheet (xlsx only; empty: the first sheet)"),
        max_length=100,
        required=False,
    )
