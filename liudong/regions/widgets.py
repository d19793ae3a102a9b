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


class _Searching(forms.Widget):
    """What both pickers tell the script: where to search, within what, at which levels."""

    base_attrs: dict[str, str] = {}

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        lengths: Iterable[int] = (),
        under: str = "",
    ) -> None:
        super().__init__({**self.base_attrs, **(attrs or {})})
        self.lengths = tuple(lengths)
        self.under = under

    def search_context(self) -> dict[str, Any]:
        return {
            "url": reverse_lazy("regions:search"),
            "lengths": ",".join(str(n) for n in self.lengths),
            "under": self.under,
            "placeholder": _("Type a place name or a region code"),
            "empty": _("No region matches."),
        }


class RegionPicker(_Searching, forms.TextInput):
    template_name = "regions/widgets/picker.html"
    base_attrs = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["picker"] = self.search_context()
        return context


def restrict(field: forms.Field, *, under: str = "", lengths: Iterable[int] | None = None) -> None:
    """Narrow a picker field's search to a subtree and levels (its cleaning stays the
    field's own: the search only offers what the form would accept)."""
    widget = field.widget
    if isinstance(widget, (RegionPicker, RegionMultiPicker)):
        widget.under = under
        if lengths is not None:
            widget.lengths = tuple(lengths)


def split_codes(value: Any) -> list[str]:
    """Codes in a field's value: a list, or text separated by spaces, commas or new lines."""
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return [str(c).strip() for c in value if str(c).strip()]
    return [c for c in str(value).replace(",", " ").replace("，", " ").split() if c]


class RegionMultiPicker(_Searching, forms.Textarea):
    """Several regions in one field: the codes textarea it always was, which the script
    hides behind the same search box, each pick added as a removable chip. The textarea
    keeps the codes joined by spaces, so the field's cleaning is the same with or
    without the script."""

    template_name = "regions/widgets/multi_picker.html"
    base_attrs = {"rows": "3", "autocomplete": "off", "spellcheck": "false"}

    def format_value(self, value: Any) -> str:
        return " ".join(split_codes(value))

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        from .models import Region
        from .services import with_paths

        context = super().get_context(name, value, attrs)
        codes = split_codes(value)
        # The chips of the regions already chosen, named in one query (two with paths);
        # a code that names no region keeps a chip of its own so it can be removed.
        known = {r.code: r for r in with_paths(list(Region.objects.filter(code__in=codes)))}
        context["chips"] = [
            {
                "code": c,
                "name": known[c].name if c in known else c,
                "path": getattr(known.get(c), "path", ""),
            }
            for c in dict.fromkeys(codes)
        ]
        context["picker"] = {**self.search_context(), "remove": _("Remove")}
        return context
