"""Statistics rules: periods, the monthly report (DESIGN.md §5), indicator values.

Reports are aggregates: they name no person, and a staff member gets them only for a
region inside their own (``check_region``). Personal data is read only by the engine's
grouped counts.
"""

from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.regions.codes import Level, level_of
from liudong.regions.models import Region
from liudong.regions.services import resolve_region

from . import definitions
from .definitions import Count, Ratio
from .engine import Period, evaluate_counts
from .models import Indicator

PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
OWN_ROW_NAME = "本级"  # files coded at the region itself, not at one of its children


def parse_period(raw: str, *, today: datetime.date | None = None) -> Period:
    """``YYYY-MM``, not after the current month."""
    match = PERIOD_PATTERN.match(str(raw or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1950:
        raise ValidationError(
            {
                "period": _("“%(value)s” is not a period: write YYYY-MM, e.g. 2026-10.")
                % {"value": raw}
            },
            code="malformed",
        )
    period = Period(int(match[1]), int(match[2]))
    today = today or timezone.localdate()
    if period.first > today:
        raise ValidationError(
            {"period": _("The period %(period)s has not begun.") % {"period": period}},
            code="future",
        )
    return period


def check_region(acting_user, raw_code: str) -> Region:
    """The region a report is asked for, which must lie in the user's own."""
    try:
        region = resolve_region(raw_code)
    except ValidationError as exc:
        raise ValidationError({"region": exc.messages}, code="unknown") from exc
    if acting_user is not None and not region.code.startswith(acting_user.region_id):
        raise PermissionDenied(
            _("The region %(code)s lies outside your region %(region)s.")
            % {"code": region.code, "region": acting_user.region_id}
        )
    return region


def rounded(value: float | None) -> float | None:
    """Rates to two decimals, halves away from zero (as the offices round by hand)."""
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class IndicatorSet:
    """The indicators of a report, their counts resolved to one list for the engine."""

    def __init__(self, indicators: list[Indicator]):
        self.indicators = indicators
        self.parsed = {i.code: i.parsed for i in indicators}
        by_code = {i.code: i for i in Indicator.objects.all()}
        self.counts_by_code: dict[str, Count] = {}
        for parsed in self.parsed.values():
            for code in definitions.referenced_codes(parsed):
                referenced = by_code[code].parsed
                assert isinstance(referenced, Count)
                self.counts_by_code[code] = referenced

    def _count(self, side: Count | str) -> Count:
        return side if isinstance(side, Count) else self.counts_by_code[side]

    def counts(self) -> list[Count]:
        wanted: list[Count] = []
        for parsed in self.parsed.values():
            if isinstance(parsed, Ratio):
                wanted += [self._count(parsed.numerator), self._count(parsed.denominator)]
            else:
                wanted.append(parsed)
        return wanted

    def values(self, counted: dict[Count, dict[str, float]], key: str) -> dict:
        """Each indicator's value for one group: counts as integers, rates rounded."""
        result: dict[str, int | float | None] = {}
        for code, parsed in self.parsed.items():
            if isinstance(parsed, Count):
                result[code] = int(counted[parsed].get(key, 0))
                continue
            numerator = counted[self._count(parsed.numerator)].get(key, 0)
            denominator = counted[self._count(parsed.denominator)].get(key, 0)
            result[code] = rounded(numerator * parsed.scale / denominator) if denominator else None
        return result


def _child_length(region: Region) -> int | None:
    """How many characters of a code name the region's children (None below groups)."""
    try:
        return Level(level_of(region.code) + 1).length
    except ValueError:
        return None


def report_indicators() -> list[Indicator]:
    return list(Indicator.objects.order_by("position", "code"))


def monthly_report(
    region_code: str, period: Period, *, acting_user=None, indicators: list[Indicator] | None = None
) -> dict:
    """The report of DESIGN.md §5: the region's indicators and one row per child region
    (plus a 本级 row for files coded at the region itself, when there are any, so the
    rows' counts add up to the region's)."""
    region = check_region(acting_user, region_code)
    chosen = IndicatorSet(indicators if indicators is not None else report_indicators())
    child_length = _child_length(region)
    counted = evaluate_counts(
        chosen.counts(), region=region.code, period=period, child_length=child_length
    )
    totals = {count: {"": sum(groups.values())} for count, groups in counted.items()}
    rows = []
    if child_length is not None:
        keys = {key for groups in counted.values() for key in groups}
        for child in Region.objects.filter(parent_id=region.code).order_by("code"):
            rows.append(
                {
                    "region": child.code,
                    "name": child.name,
                    "indicators": chosen.values(counted, child.code),
                }
            )
        known = {row["region"] for row in rows}
        for key in sorted(keys - known):
            # Files coded at the region itself (or at a child no longer listed).
            name = OWN_ROW_NAME if key == region.code else key
            rows.append({"region": key, "name": name, "indicators": chosen.values(counted, key)})
    return {
        "region": region.code,
        "name": region.name,
        "period": str(period),
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "indicators": chosen.values(totals, ""),
        "rows": rows,
    }
