"""Forms of the certificate pages: issue (with her declared contraception, optional),
revoke (a reason), the verification box, and recording a check. They only collect input;
the rules are in ``issuing``, ``verification`` and ``notices``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from .models import Contraception, Method


class IssueForm(forms.Form):
    contraception = forms.ChoiceField(
        label=gettext_lazy("Contraception, as she declares it (optional)"),
        choices=Contraception.choices,
        initial=Contraception.NOT_STATED,
        required=False,
        help_text=gettext_lazy(
            "Her free choice: ask only whether she wishes to state it. It is not required, "
            "and the certificate is issued the same whatever she answers."
        ),
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for revoking"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"].strip()


class VerifyForm(forms.Form):
    """One box: a handheld scanner types the QR payload into it and presses Enter; staff
    may paste a payload or type a certificate number instead."""

    code = forms.CharField(
        label=gettext_lazy("QR payload or certificate number"),
        max_length=2000,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "data-testid": "verify-code",
            }
        ),
        help_text=gettext_lazy(
            "Scan the QR code on her certificate with the scanner, paste the text it holds, "
            "or type the certificate number."
        ),
    )


class RecordForm(forms.Form):
    """Record a check already shown to the user (the code is checked again on saving)."""

    method = forms.ChoiceField(choices=Method.choices)
    code = forms.CharField(max_length=2000, required=False)
    person = forms.IntegerField(required=False, min_value=1)
