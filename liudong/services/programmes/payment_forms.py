"""The forms of the payment pages: making a list, uploading the bank's return, filtering
lines and resolving a failed payment. Field checks only: the rules are ``payments``'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import PaymentLine


def _this_year() -> int:
    return timezone.localdate().year


class MakeListForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, initial=_this_year)


class ReturnForm(forms.Form):
    file = forms.FileField(
        label=_("The bank's return file (.csv or .xlsx)"),
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    returned_on = forms.DateField(
        label=_("Returned on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The date of the bank's return; today when left blank."),
    )


class LinesFilterForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=2100)
    result = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[("", _("all results")), *PaymentLine.Result.choices],
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("What was done"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. card corrected, paid by hand")}),
    )
    resolved_on = forms.DateField(
        label=_("Resolved on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    new_bank_card = forms.CharField(
        label=_("Her correct bank card (for the next lists)"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Leave blank when the card on file is right."),
    )
    benefit_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "resolution": data["resolution"],
            "resolved_on": data.get("resolved_on"),
            "new_bank_card": data.get("new_bank_card") or "",
            "benefit_version": data.get("benefit_version"),
        }
