"""The forms of the re-qualification pages: opening a round, confirming, ending a benefit
and a new child learnt of at re-qualification. Every rule is ``requalification``'s; the
forms only offer the choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liudong.people.forms import DateInput
from liudong.regions.codes import Level
from liudong.regions.models import Region
from liudong.services.forms import VersionedForm

from .requalification import EndCause


class RoundForm(forms.Form):
    county = forms.ModelChoiceField(label=_("County"), queryset=Region.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    deadline = forms.DateField(
        label=_("Deadline"),
        widget=DateInput,
        help_text=_("Benefits not confirmed by this day are suspended (not ended) after it."),
    )

    def __init__(self, *args: Any, under: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counties = Region.objects.filter(code__startswith=under, level=Level.COUNTY)
        field = self.fields["county"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = counties.order_by("code")
        if len(under) == 6:
            field.initial = under
        self.fields["year"].initial = timezone.localdate().year


class ConfirmForm(VersionedForm):
    on = forms.DateField(label=_("Confirmed on"), widget=DateInput)


class EndForm(VersionedForm):
    cause = forms.ChoiceField(
        label=_("Why the benefit ends"), choices=EndCause.choices, widget=forms.RadioSelect
    )
    on = forms.DateField(
        label=_("Date of the event"),
        widget=DateInput,
        help_text=_("Paid to the end of this month; it ends from the next payment."),
    )
    note = forms.CharField(label=_("Details"), max_length=300, required=False)


class NewChildForm(forms.Form):
    sex = forms.ChoiceField(
        label=_("Sex"), choices=[("1", _("boy")), ("2", _("girl"))], widget=forms.RadioSelect
    )
    birth_date = forms.DateField(label=_("Birth date"), widget=DateInput)
    adopted = forms.BooleanField(label=_("Adopted"), required=False)
