from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        min_length=15,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    code = forms.CharField(
        label=_("Access code"),
        max_length=20,
        help_text=_("The code on the slip from your office, e.g. ACDEF-HJKMN."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}
        ),
    )
    birth_date = forms.DateField(
        label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"})
    )
