"""Forms of the programme catalogue: rules as JSON (checked by rules.parse in the service),
a province's own programme, and a year's amount."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ProgrammeAmount


class RulesField(forms.CharField):
    """JSON text in, the parsed list out; the service checks the vocabulary."""

    widget = forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "code"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("Not valid JSON (line %(line)s, column %(column)s): %(problem)s"),
                params={"line": exc.lineno, "column": exc.colno, "problem": exc.msg},
                code="json",
            ) from exc

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | dict):
            return json.dumps(value, ensure_ascii=False, indent=2)
        return value


class RulesForm(forms.Form):
    rules = RulesField(label=_("Eligibility rules (JSON)"))


class ProgrammeForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    group = forms.SlugField(
        label=_("Exclusive group"),
        max_length=40,
        required=False,
        help_text=_("A person holds one programme of a group at a time (empty: its code)."),
    )
    rules = RulesField(label=_("Eligibility rules (JSON)"))


class AmountForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    yuan_per_year = forms.DecimalField(
        label=_("Yuan a year per person"), max_digits=9, decimal_places=2, min_value=0
    )
    schedule = forms.ChoiceField(label=_("Paid"), choices=ProgrammeAmount.Schedule.choices)
    example = forms.BooleanField(
        label=_("An example amount, not an official figure"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year
        self.fields["year"].widget.attrs.update(inputmode="numeric")
