"""Forms of the statistics pages. The indicator form builds a definition from plain
fields (a county administrator picks a population and ticks filters; nobody types JSON)
and leaves every check to ``definitions.parse`` and ``Indicator.clean``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.forms import BoundField
from django.utils.translation import gettext_lazy as _

from liudong.regions.widgets import RegionPicker, restrict
from liudong.servicetypes import ServiceType

from .models import Direction, Indicator, Unit

YES_NO_ANY = [("", _("either")), ("yes", _("yes")), ("no", _("no"))]
POPULATION_CHOICES = [
    ("inflow", _("inflow: floating persons living in the region")),
    ("outflow", _("outflow: floating persons registered in the region")),
    ("births", _("births in the period to floating residents")),
]


class PeriodForm(forms.Form):
    region = forms.CharField(required=False)
    period = forms.CharField(required=False)


def region_jump(code: str, *, under: str) -> BoundField:
    """The region box of a report page's head: pick another region of one's own (by name
    or code) and the page shows it (``data-autosubmit``; without JS, the Show button)."""
    form = PeriodForm(initial={"region": code})
    form.fields["region"].widget = RegionPicker(
        attrs={"data-autosubmit": "", "aria-label": _("Region"), "data-testid": "region"},
        under=under,
    )
    return form["region"]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class IndicatorForm(forms.Form):
    code = forms.RegexField(
        label=_("Code"),
        regex=r"^[a-z][a-z0-9_]{1,39}$",
        help_text=_("Lower-case letters, digits and underscores, e.g. inflow_young_men."),
    )
    name_zh = forms.CharField(label=_("Chinese name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("count", _("a count of people")), ("ratio", _("a rate: one count over another"))],
        widget=forms.RadioSelect,
        initial="count",
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    assessable = forms.BooleanField(
        label=_("Assessable: it measures the offices' own work"),
        required=False,
        initial=True,
        help_text=_(
            "Births, birth rate, sex ratio and counts of contraception, pregnancies or "
            "health checks accepted are statistics: they can carry no target and no points."
        ),
    )
    # A count
    population = forms.ChoiceField(
        label=_("Who is counted"), choices=POPULATION_CHOICES, required=False
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=[("", _("either")), ("1", _("male")), ("2", _("female"))],
        required=False,
    )
    age_from = forms.IntegerField(label=_("Aged from"), min_value=0, max_value=150, required=False)
    age_to = forms.IntegerField(label=_("to"), min_value=0, max_value=150, required=False)
    married = forms.ChoiceField(label=_("Currently married"), choices=YES_NO_ANY, required=False)
    valid_certificate = forms.ChoiceField(
        label=_("Holds a valid certificate"), choices=YES_NO_ANY, required=False
    )
    verified = forms.ChoiceField(label=_("Verified here"), choices=YES_NO_ANY, required=False)
    verified_within_days = forms.IntegerField(
        label=_("Verified within days of arrival"), min_value=0, max_value=366, required=False
    )
    registered_within_days = forms.IntegerField(
        label=_("Registered within days of arrival"), min_value=0, max_value=366, required=False
    )
    arrived_in_period = forms.ChoiceField(
        label=_("Arrived in the period"), choices=YES_NO_ANY, required=False
    )
    service_in_year = forms.ChoiceField(
        label=_("Accepted a service in the statistical year"),
        choices=[("", _("no condition")), ("any", _("any service")), *ServiceType.choices],
        required=False,
    )
    free_service_in_year = forms.ChoiceField(
        label=_("Received a free service in the statistical year"),
        choices=YES_NO_ANY,
        required=False,
    )
    # A rate
    numerator = forms.ChoiceField(label=_("Numerator"), required=False)
    denominator = forms.ChoiceField(label=_("Denominator"), required=False)
    scale = forms.TypedChoiceField(
        label=_("Expressed as"),
        choices=[(100, _("percent (%)")), (1000, _("per mille (‰)"))],
        coerce=int,
        required=False,
    )

    FLAGS = (
        "married",
        "valid_certificate",
        "verified",
        "arrived_in_period",
        "free_service_in_year",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        counts = [
            (i.code, f"{i.name_zh} ({i.code})")
            for i in Indicator.objects.filter(unit=Unit.COUNT).order_by("position", "code")
        ]
        for name in ("numerator", "denominator"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "—"), *counts]

    def definition(self) -> dict:
        """The definition the fields describe (checked afterwards by the model)."""
        data = self.cleaned_data
        if data["kind"] == "ratio":
            return {
                "ratio": [data.get("numerator") or "", data.get("denominator") or ""],
                "scale": data.get("scale") or 100,
            }
        where: dict = {}
        if data.get("sex"):
            where["sex"] = data["sex"]
        if data.get("age_from") is not None or data.get("age_to") is not None:
            where["age"] = [
                data.get("age_from") or 0,
                150 if data.get("age_to") is None else data["age_to"],
            ]
        for flag in self.FLAGS:
            if data.get(flag):
                where[flag] = data[flag] == "yes"
        for days in ("verified_within_days", "registered_within_days"):
            if data.get(days) is not None:
                where[days] = data[days]
        if data.get("service_in_year"):
            where["service_in_year"] = data["service_in_year"]
        return {"count": data.get("population") or "inflow", "where": where}

    def unit(self) -> str:
        if self.cleaned_data["kind"] == "count":
            return Unit.COUNT
        return Unit.PERMILLE if self.cleaned_data.get("scale") == 1000 else Unit.PERCENT


class SchemeForm(forms.Form):
    """An assessment scheme: a name and year, a weight for each rate that counts, and the
    deductions for late and returned reports."""

    name = forms.CharField(label=_("Name"), max_length=100)
    year = forms.IntegerField(label=_("Statistical year"), min_value=2000, max_value=2100)
    due_day = forms.IntegerField(
        label=_("Reports due by this day of the next month"), min_value=1, max_value=28, initial=5
    )
    late_deduction = forms.DecimalField(
        label=_("Points off per late report"),
        min_value=0,
        max_digits=5,
        decimal_places=2,
        initial=2,
    )
    return_deduction = forms.DecimalField(
        label=_("Points off per returned report"),
        min_value=0,
        max_digits=5,
        decimal_places=2,
        initial=1,
    )

    def __init__(
        self,
        *args: Any,
        indicators: Sequence[Indicator],
        statistics: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        """``statistics``: indicator code → why it is not assessable; its weight field is
        shown disabled with the reason, and a weight sent for it anyway is refused."""
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        self.statistics = dict(statistics or {})
        for indicator in indicators:
            reason = self.statistics.get(indicator.code)
            attrs = {"disabled": True, "title": reason} if reason else {}
            self.fields[f"weight_{indicator.code}"] = forms.DecimalField(
                label=indicator.name_zh,
                min_value=0,
                max_digits=6,
                decimal_places=2,
                required=False,
                widget=forms.NumberInput(attrs=attrs),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for code, reason in self.statistics.items():
            if data.get(f"weight_{code}"):
                self.add_error(f"weight_{code}", reason)
        return data

    def weight_fields(self) -> list[BoundField]:
        return [self[f"weight_{i.code}"] for i in self.indicators]

    def weight_lines(self) -> list[tuple[BoundField, str | None]]:
        """Each weight field with the reason it cannot carry points (None: it can)."""
        return [(self[f"weight_{i.code}"], self.statistics.get(i.code)) for i in self.indicators]

    def scheme_fields(self) -> dict:
        data = self.cleaned_data
        items = [
            {"indicator": i.code, "weight": float(data[f"weight_{i.code}"])}
            for i in self.indicators
            if data.get(f"weight_{i.code}")
        ]
        return {
            "name": data["name"],
            "year": data["year"],
            "due_day": data["due_day"],
            "late_deduction": data["late_deduction"],
            "return_deduction": data["return_deduction"],
            "items": items,
        }


class SpotCheckDrawForm(forms.Form):
    """Draw a spot check's sample (``spotchecks.draw`` checks everything else)."""

    region = forms.CharField(
        label=_("Unit checked (region code)"),
        max_length=15,
        widget=RegionPicker(lengths=(6, 9, 12)),
    )
    period = forms.CharField(label=_("Period (YYYY-MM)"), max_length=7)
    per_village = forms.IntegerField(
        label=_("Files per village"), min_value=1, max_value=200, initial=20
    )
    seed = forms.IntegerField(
        label=_("Seed (optional)"),
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        help_text=_("Give the seed of an earlier draw to draw the same sample again."),
    )
    fields_checked = forms.MultipleChoiceField(
        label=_("Fields checked"), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args: Any, under: str = "", **kwargs: Any) -> None:
        from .spotchecks import DEFAULT_FIELDS, FIELDS

        super().__init__(*args, **kwargs)
        restrict(self.fields["region"], under=under)
        field = self.fields["fields_checked"]
        field.choices = [(code, f.label) for code, f in FIELDS.items()]  # type: ignore[attr-defined]
        field.initial = list(DEFAULT_FIELDS)
