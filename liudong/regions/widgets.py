"""The region picker: a code input that a small script (static/regions/picker.js) turns
into a search box, by name or code, from province down to village.

Without the script it is the plain code input it always was; with it, the code input is
hidden and still carries the value, so form cleaning and the API see the same code either
way. The search answers from ``regions:search`` within ``under`` (the user's own region,
where the form allows no other) and at ``lengths`` (the levels the form takes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


class RegionPicker(forms.TextInput):
    template_name = "regions/widgets/picker.html"

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        lengths: Iterable[int] = (),
        under: str = "",
    ) -> None:
        base = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        super().__init__({**base, **(attrs or {})})
        self.lengths = tuple(lengths)
        self.under = under

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["picker"] = {
            "url": reverse_lazy("regions:search"),
            "lengths": ",".join(str(n) for n in self.lengths),
            "under": self.under,
            "placeholder": _("Type a place name or a region code"),
            "empty": _("No region matches."),
        }
        return context


def restrict(field: forms.Field, *, under: str = "", lengths: Iterable[int] | None = None) -> None:
    """Narrow a picker field's search to a subtree and levels (its cleaning stays the
    field's own: the search only offers what the form would accept)."""
    widget = field.widget
    if isinstance(widget, RegionPicker):
        widget.under = under
        if lengths is not None:
            widget.lengths = tuple(lengths)
