"""Statistics rules: periods, the monthly report (DESIGN.md §5), indicator values.

Reports are aggregates: they name no person, and a staff member gets them only for a
region inside their own (``check_region``). Personal data is read only by the engine's
grouped counts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import (
    APPROVE_REPORTS,
    MANAGE_INDICATORS,
    SUBMIT_REPORTS,
    can,
)
from liudong.actors import OPERATOR, Actor, Caller, account_of, accountable, region_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.base import StaleWrite
from liudong.regions.codes import Level, ancestors, level_of
from liudong.regions.models import Region

from . import definitions, store
from .definitions import Count, Ratio
from .engine import Period
from .models import (
    AssessmentScheme,
    Indicator,
    MonthlyReport,
    ReportEvent,
    ReportStatus,
    Target,
    statistical_year_of,
)
from .scope import check_region  # re-exported: views and the CLI call it from here
from .store import read_counts, read_months

if TYPE_CHECKING:
    from liudong.actors import Actor


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


def rounded(value: float | None) -> float | None:
    """Rates to two decimals, halves away from zero (as the offices round by hand)."""
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def whole(value: float) -> int:
    """A sum to a whole number, halves away from zero (1920.5 yuan is 1921)."""
    return int(Decimal(repr(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class IndicatorSet:
    """The indicators of a report, their counts resolved to one list for the engine."""

    def __init__(self, indicators: list[Indicator], known: Sequence[Indicator] = ()) -> None:
        """``known``: indicators already read (a ratio's counts may be among them)."""
        self.indicators = indicators
        self.parsed = {i.code: i.parsed for i in indicators}
        named = {
            code for parsed in self.parsed.values() for code in definitions.referenced_codes(parsed)
        }
        by_code = {i.code: i for i in [*known, *indicators]}
        if not named <= set(by_code):  # a ratio of counts not among those asked for
            by_code = {i.code: i for i in Indicator.objects.filter(code__in=named)}
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

    def denominators(self, counted: dict[Count, dict[str, float]]) -> dict[str, dict[str, float]]:
        """Each rate's denominator by group (how many women, fields or requests it is of)."""
        return {
            code: counted[self._count(parsed.denominator)]
            for code, parsed in self.parsed.items()
            if isinstance(parsed, Ratio)
        }

    def values(self, counted: dict[Count, dict[str, float]], key: str) -> dict:
        """Each indicator's value for one group: counts as integers, rates rounded."""
        result: dict[str, int | float | None] = {}
        for code, parsed in self.parsed.items():
            if isinstance(parsed, Count):
                value = counted[parsed].get(key, 0)
                # A sum (yuan) in whole yuan, halves up; a count is whole already.
                result[code] = whole(value) if parsed.total else int(value)
                continue
            numerator = counted[self._count(parsed.numerator)].get(key, 0)
            denominator = counted[self._count(parsed.denominator)].get(key, 0)
            result[code] = rounded(numerator * parsed.scale / denominator) if denominator else None
        return result


def _child_length(region: Region | str) -> int | None:
    """How many characters of a code name the region's children (None below groups)."""
    code = region if isinstance(region, str) else region.code
    try:
        return Level(level_of(code) + 1).length
    except ValueError:
        return None


def report_indicators() -> list[Indicator]:
    return list(Indicator.objects.order_by("position", "code"))


def monthly_report(
    region_code: str,
    period: Period,
    *,
    acting_user: Actor,
    indicators: list[Indicator] | None = None,
) -> dict:
    """The report of DESIGN.md §5: the region's indicators and one row per child region
    (plus a 本级 row for files coded at the region itself, when there are any, so the
    rows' counts add up to the region's)."""
    return _monthly_report(region_code, period, acting_user=acting_user, indicators=indicators)[0]


def _monthly_report(
    region_code: str,
    period: Period,
    *,
    acting_user: Actor,
    indicators: list[Indicator] | None = None,
) -> tuple[dict, dict[str, dict[str, float]]]:
    """``monthly_report`` and each rate's denominator per row (``IndicatorSet.denominators``),
    read with the same counts: a ranking needs them, the report's json does not show them."""
    region = check_region(region_code, acting_user=acting_user)
    chosen = IndicatorSet(indicators if indicators is not None else report_indicators())
    child_length = _child_length(region)
    counted = read_counts(
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
    report = {
        "region": region.code,
        "name": region.name,
        "period": str(period),
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "indicators": chosen.values(totals, ""),
        "rows": rows,
    }
    return report, chosen.denominators(counted)


# --- submission and approval -----------------------------------------------------------


def _log(action: str, report: MonthlyReport, reason: str = "", *, acting_user: Actor) -> None:
    report.events.create(
        action=action, by=accountable(acting_user), at=timezone.now(), reason=reason
    )
    audit.record(
        Action.UPDATE if report.version > 1 else Action.CREATE,
        acting_user=acting_user,
        obj=report,
        region=report.region_id,
        detail={
            "report": action,
            "period": report.period,
            **({"reason": reason} if reason else {}),
        },
    )


def _locked(report: MonthlyReport, version: int | None) -> MonthlyReport:
    current = MonthlyReport.objects.select_for_update().get(pk=report.pk)
    if version is not None and current.version != version:
        raise StaleWrite(report, current)
    return current


def submit_report(
    *, acting_user: Actor, period: Period, today: datetime.date | None = None
) -> MonthlyReport:
    """A unit submits its own month, once the month is over, with the figures as they are
    now. A returned or reopened month is submitted again; an approved one is frozen."""
    authorize(acting_user, SUBMIT_REPORTS)
    today = today or timezone.localdate()
    if period.last >= today:
        raise ValidationError(
            {"period": _("The period %(period)s is not over yet.") % {"period": period}},
            code="not_over",
        )
    region = accountable(acting_user).region  # a unit submits its own month: an account
    assert region is not None  # authorize() refuses an account without a region
    figures = monthly_report(region.code, period, acting_user=acting_user)
    now = timezone.now()
    with transaction.atomic():
        report = (
            MonthlyReport.objects.select_for_update()
            .filter(region=region, period=str(period))
            .first()
        )
        if report is not None and report.status == ReportStatus.APPROVED:
            raise ValidationError(
                _(
                    "The report for %(period)s was approved on %(day)s and is frozen; "
                    "ask the approving office to reopen it."
                )
                % {"period": period, "day": timezone.localdate(report.decided_at)},
                code="approved",
            )
        if report is None:
            report = MonthlyReport(region=region, period=str(period))
        else:
            report.version += 1
        report.status = ReportStatus.SUBMITTED
        report.figures = figures
        report.submitted_by, report.submitted_at = accountable(acting_user), now
        report.decided_by, report.decided_at, report.reason = None, None, ""
        report.save()
        _log(ReportStatus.SUBMITTED, report, acting_user=acting_user)
    return report


def _check_decider(report: MonthlyReport, *, acting_user: Actor) -> None:
    authorize(acting_user, APPROVE_REPORTS)
    own = region_of(acting_user)
    if report.region_id == own or not report.region_id.startswith(own):
        raise PermissionDenied(
            _("The report of %(code)s is approved by an office above it, not by %(region)s.")
            % {"code": report.region_id, "region": own}
        )
    if report.submitted_by_id == acting_user.pk:
        raise PermissionDenied(_("You submitted this report: someone else approves it."))


def _decide(
    report: MonthlyReport,
    version: int | None,
    *,
    acting_user: Actor,
    status: str,
    reason: str = "",
    expect: tuple[str, ...],
) -> MonthlyReport:
    with transaction.atomic():
        current = _locked(report, version)
        _check_decider(current, acting_user=acting_user)
        if current.status not in expect:
            raise ValidationError(
                _("The report is %(status)s: it cannot be %(action)s now.")
                % {"status": current.get_status_display(), "action": ReportStatus(status).label},
                code="status",
            )
        current.status = status
        if status != ReportStatus.REOPENED:
            current.decided_by, current.decided_at = account_of(acting_user), timezone.now()
        current.reason = reason
        current.version += 1
        current.save()
        _log(status, current, reason, acting_user=acting_user)
    return current


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason.")}, code="required")
    return reason


def approve_report(
    *, acting_user: Actor, report: MonthlyReport, version: int | None = None
) -> MonthlyReport:
    return _decide(
        report,
        version,
        acting_user=acting_user,
        status=ReportStatus.APPROVED,
        expect=(ReportStatus.SUBMITTED,),
    )


def return_report(
    *, acting_user: Actor, report: MonthlyReport, reason: str, version: int | None = None
) -> MonthlyReport:
    return _decide(
        report,
        version,
        acting_user=acting_user,
        status=ReportStatus.RETURNED,
        reason=_reason(reason),
        expect=(ReportStatus.SUBMITTED,),
    )


def reopen_report(
    *, acting_user: Actor, report: MonthlyReport, reason: str, version: int | None = None
) -> MonthlyReport:
    """An approved month opened again (a correction found later): audited with its reason;
    the unit then submits it again."""
    return _decide(
        report,
        version,
        acting_user=acting_user,
        status=ReportStatus.REOPENED,
        reason=_reason(reason),
        expect=(ReportStatus.APPROVED,),
    )


def reports_in_scope(user: Caller) -> QuerySet[MonthlyReport]:
    """Submitted reports of the user's region and below."""
    return MonthlyReport.objects.in_scope(user)


def reports_to_approve(user: Actor) -> QuerySet[MonthlyReport]:
    """Reports of the units below waiting for the user's office to approve or return."""
    return (
        reports_in_scope(user)
        .exclude(region_id=region_of(user))
        .filter(status=ReportStatus.SUBMITTED)
    )


# A returned or reopened month goes back to the unit, to submit again.
REPORT_RESUBMIT = (ReportStatus.RETURNED, ReportStatus.REOPENED)


def months_to_submit(user: Actor, today: datetime.date | None = None) -> list[Period]:
    """The months the user's own unit still has to submit, oldest first: last month when
    it has no report yet, and every month returned or reopened (one query)."""
    if not can(user, SUBMIT_REPORTS):
        return []
    last = last_full_month(today)
    own = dict(
        reports_in_scope(user)
        .filter(region_id=region_of(user))
        .filter(Q(period=str(last)) | Q(status__in=REPORT_RESUBMIT))
        .values_list("period", "status")
    )
    due = {raw for raw, status in own.items() if status in REPORT_RESUBMIT}
    if str(last) not in own:
        due.add(str(last))
    return [parse_period(raw, today=today) for raw in sorted(due)]


@dataclasses.dataclass
class ShownReport:
    """What a report page shows: frozen figures when approved, else live ones; and the
    previous month's approved figures to compare with."""

    figures: dict
    record: MonthlyReport | None
    previous: dict | None
    # Each rate's denominator per row, when the figures were counted now (not frozen).
    sizes: dict[str, dict[str, float]] | None = None

    @property
    def frozen(self) -> bool:
        return self.record is not None and self.record.is_frozen


def report_to_show(
    region_code: str,
    period: Period,
    *,
    acting_user: Actor,
    indicators: list[Indicator] | None = None,
) -> ShownReport:
    region = check_region(region_code, acting_user=acting_user)
    records = {
        r.period: r
        for r in MonthlyReport.objects.filter(
            region=region, period__in=[str(period), str(period.shifted(-1))]
        ).select_related("submitted_by", "decided_by")
    }
    record = records.get(str(period))
    before = records.get(str(period.shifted(-1)))
    sizes = None
    if record is not None and record.is_frozen:
        figures = record.figures
    else:
        figures, sizes = _monthly_report(
            region.code, period, acting_user=acting_user, indicators=indicators
        )
    previous = before.figures if before is not None and before.is_frozen else None
    return ShownReport(figures, record, previous, sizes)


# --- indicators a county adds -----------------------------------------------------------


def add_indicator(*, acting_user: Actor, **fields: Any) -> Indicator:
    """A county's own indicator, checked as a shipped one is (definitions.parse), audited."""
    authorize(acting_user, MANAGE_INDICATORS)
    indicator = Indicator(**fields, standard=False, created_by=account_of(acting_user))
    if "assessable" not in fields:
        # Unless the county says otherwise, what its definition counts decides (a bad
        # definition: full_clean names what is wrong with it).
        with contextlib.suppress(ValidationError):
            indicator.assessable = indicator.definition_reason() is None
    indicator.full_clean()
    with transaction.atomic():
        indicator.save()
        store.register_definition(indicator.parsed)
        audit.record(
            Action.CREATE,
            acting_user=acting_user,
            obj=indicator,
            region=acting_user.region_id,
            detail={"definition": indicator.definition},
        )
    return indicator


def statistic_reason(indicator: Indicator, known: Sequence[Indicator] = ()) -> str | None:
    """Why no target or assessment scheme may use the indicator, or None when it is
    assessable: decided by what its definition counts (``definitions.statistic_reason``:
    births, reproductive services accepted and people are statistics), then by the flag
    a county set when it added its own. ``known``: indicators already read."""
    return indicator.statistic_reason(known={i.code: i for i in known})


def ranking_minimum() -> int:
    """The fewest people (fields, requests) a unit's rate must be of to be ranked."""
    return max(1, int(getattr(settings, "RANKING_MIN_DENOMINATOR", 10)))


def denominators(
    indicators: Sequence[Indicator], region_code: str, period: Period
) -> dict[str, dict[str, float]]:
    """Each rate's denominator in each child region of ``region`` (child code → how many
    people, fields or requests the rate is of): one grouped read for all of them."""
    rates = [i for i in indicators if isinstance(i.parsed, Ratio)]
    if not rates:
        return {}
    chosen = IndicatorSet(rates)
    sides = {
        code: chosen._count(parsed.denominator)
        for code, parsed in chosen.parsed.items()
        if isinstance(parsed, Ratio)
    }
    counted = read_counts(
        list(dict.fromkeys(sides.values())),
        region=region_code,
        period=period,
        child_length=_child_length(region_code),
    )
    return {code: counted[count] for code, count in sides.items()}


def size_status(value: float | None, size: float | None, minimum: int) -> str:
    """``no_data`` (nothing to count: no rate), ``too_few`` (a rate of fewer than the
    minimum: not ranked, not scored) or ``ranked``."""
    if value is None:
        return "no_data"
    if size is not None and size < minimum:
        return "too_few"
    return "ranked"


def last_full_month(today: datetime.date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today.year, today.month).shifted(-1)


# --- targets ------------------------------------------------------------------------------


def set_target(
    *,
    acting_user: Actor,
    indicator: Indicator,
    region_code: str,
    year: int,
    value: Decimal | float | str,
) -> Target:
    """A yearly target for the user's region or one below it (audited)."""
    authorize(acting_user, MANAGE_INDICATORS)
    region = check_region(region_code, acting_user=acting_user)
    with transaction.atomic():
        target = Target.objects.filter(indicator=indicator, region=region, year=year).first()
        before = None if target is None else str(target.value)
        if target is None:
            target = Target(indicator=indicator, region=region, year=year)
        else:
            target.version += 1
        target.value, target.set_by = Decimal(str(value)), account_of(acting_user)
        target.full_clean()
        target.save()
        audit.record(
            Action.CREATE if before is None else Action.UPDATE,
            acting_user=acting_user,
            obj=target,
            region=region.code,
            detail={"indicator": indicator.code, "year": year, "value": str(target.value)}
            | ({"before": before} if before is not None else {}),
        )
    return target


def targets_for(region_code: str, year: int) -> dict[str, Decimal]:
    """Each indicator's target for the region: its own, else the nearest region above's."""
    chain = [*ancestors(region_code), region_code]  # province first
    found: dict[str, Decimal] = {}
    for target in (
        Target.objects.filter(region_id__in=chain, year=year)
        .select_related("indicator")
        .order_by("region_id")
    ):
        # Longer codes come later and lie lower: the region's own target wins.
        found[target.indicator.code] = target.value
    return found


def own_targets(region_code: str, year: int) -> set[str]:
    """Codes of the indicators the region has a target of its own for."""
    return set(
        Target.objects.filter(region_id=region_code, year=year).values_list(
            "indicator__code", flat=True
        )
    )


# --- the dashboard --------------------------------------------------------------------------

KEY_INDICATORS = (
    "outflow_certificate_rate",
    "inflow_verification_rate",
    "inflow_verified_within_30d_rate",
    "inflow_health_check_rate",
    "free_service_rate",
)
# Statistics of the reward and assistance benefits (issue 17) the dashboard shows beside the
# cards: figures, never compared with a target nor ranked.
BENEFIT_STATISTICS = ("beneficiaries_reward", "beneficiaries_special", "benefit_amount_yuan")
TREND_MONTHS = 12


def _met(indicator: Indicator, value: float | None, target: Decimal | float | None) -> bool | None:
    if value is None or target is None or indicator.direction == "neutral":
        return None
    if indicator.direction == "lower":
        return value <= float(target)
    return value >= float(target)


def trend(
    indicator: Indicator,
    region_code: str,
    period: Period,
    *,
    known: Sequence[Indicator] = (),
) -> list[dict]:
    """The indicator over the twelve months to ``period``: an approved month's frozen
    figure, else counted now (only the counts this indicator needs, ungrouped)."""
    months = [period.shifted(-i) for i in range(TREND_MONTHS - 1, -1, -1)]
    frozen = {
        r.period: r.figures["indicators"].get(indicator.code)
        for r in MonthlyReport.objects.filter(
            region_id=region_code,
            period__in=[str(m) for m in months],
            status=ReportStatus.APPROVED,
        )
    }
    chosen = IndicatorSet([indicator], known=known)
    # The months not frozen, read together: one query for all of them, not three a month.
    counted = read_months(
        chosen.counts(),
        region=region_code,
        periods=[m for m in months if str(m) not in frozen],
        child_length=None,
    )
    points = []
    for month in months:
        if str(month) in frozen:
            points.append({"period": str(month), "value": frozen[str(month)], "frozen": True})
            continue
        value = chosen.values(counted[month], "")[indicator.code]
        points.append({"period": str(month), "value": value, "frozen": False})
    return points


def _number_ranked(rows: list[dict]) -> None:
    """Rank 1, 2, ... to the rows ranked, in their order; None to the rows too few or without
    data (they are listed, not ranked)."""
    rank = 0
    for row in rows:
        if row["status"] == "ranked":
            rank += 1
            row["rank"] = rank
        else:
            row["rank"] = None


def rank_units(
    indicator: Indicator,
    rows: list[dict],
    region_code: str,
    period: Period,
    *,
    sizes: Mapping[str, float] | None = None,
) -> list[dict]:
    """The child regions ordered by the indicator, best first: ``rank`` 1, 2, ... for the
    units whose rate is of at least ``ranking_minimum()`` (women, fields, requests); then
    the units with too few (``status`` too_few, ``rank`` None: one woman verified is not
    first at 100%) and those with nothing to count (no_data), never ranked as 0."""
    minimum = ranking_minimum()
    if sizes is None:  # not counted with the figures (a frozen month): read them
        sizes = denominators([indicator], region_code, period).get(indicator.code)
    better_first = indicator.direction != "lower"
    listed = []
    for row in rows:
        value = row["indicators"].get(indicator.code)
        size = None if sizes is None else sizes.get(row["region"], 0)
        listed.append(
            {
                "region": row["region"],
                "name": row["name"],
                "value": value,
                "size": size,
                "status": size_status(value, size, minimum),
            }
        )
    order = {"ranked": 0, "too_few": 1, "no_data": 2}
    listed.sort(
        key=lambda r: (
            order[r["status"]],
            -(r["value"] or 0) if better_first else r["value"] or 0,
            r["region"],
        )
    )
    _number_ranked(listed)
    return listed


def dashboard(region_code: str, period: Period, *, acting_user: Actor, indicator_code: str) -> dict:
    """Key indicators against their targets, a twelve-month trend and a ranking of the
    child regions for one indicator; every figure from the report engine."""
    listed = report_indicators()  # read once for the report, the cards and the trend
    shown = report_to_show(region_code, period, acting_user=acting_user, indicators=listed)
    figures = shown.figures
    indicators = {i.code: i for i in listed}
    chosen = indicators.get(indicator_code) or indicators[KEY_INDICATORS[1]]
    year = statistical_year_of(period.last)
    targets = targets_for(figures["region"], year)
    # A statistic is shown, never measured against a target (one set before it was
    # marked a statistic stays in the database, unused).
    targets = {
        code: value
        for code, value in targets.items()
        if code in indicators and statistic_reason(indicators[code], listed) is None
    }
    cards = []
    for code in KEY_INDICATORS:
        if code not in indicators:
            continue
        value = figures["indicators"].get(code)
        cards.append(
            {
                "indicator": indicators[code],
                "value": value,
                "target": targets.get(code),
                "met": _met(indicators[code], value, targets.get(code)),
                "statistic": statistic_reason(indicators[code], listed) is not None,
            }
        )
    ranked = rank_units(
        chosen,
        figures["rows"],
        figures["region"],
        period,
        sizes=None if shown.sizes is None else shown.sizes.get(chosen.code),
    )
    return {
        "region": figures["region"],
        "name": figures["name"],
        "period": str(period),
        "year": year,
        "indicator": chosen,
        "target": targets.get(chosen.code),
        "statistic": statistic_reason(chosen, listed),
        "cards": cards,
        "trend": trend(chosen, figures["region"], period, known=listed),
        "ranking": ranked,
        "minimum": ranking_minimum(),
        "frozen": shown.frozen,
        "indicators": listed,
        "benefits": [
            {
                "indicator": indicators[code],
                "value": figures["indicators"].get(code),
                "statistic": statistic_reason(indicators[code], listed),
            }
            for code in BENEFIT_STATISTICS
            if code in indicators
        ],
    }


# --- assessment ---------------------------------------------------------------------------


def create_scheme(*, acting_user: Actor, **fields: Any) -> AssessmentScheme:
    """An assessment scheme of the user's own unit (its children are scored); audited."""
    authorize(acting_user, MANAGE_INDICATORS)
    scheme = AssessmentScheme(
        **fields, region=accountable(acting_user).region, created_by=account_of(acting_user)
    )
    scheme.full_clean()
    with transaction.atomic():
        scheme.save()
        audit.record(
            Action.CREATE,
            acting_user=acting_user,
            obj=scheme,
            region=scheme.region_id,
            detail={"items": scheme.items, "year": scheme.year},
        )
    return scheme


def schemes_in_scope(user: Caller) -> QuerySet[AssessmentScheme]:
    """The schemes the unit sets and those it is scored by (AssessmentScheme.in_scope)."""
    return AssessmentScheme.objects.in_scope(user)


def year_months(year: int, today: datetime.date) -> list[Period]:
    """The months of a statistical year that are over (October to September)."""
    months = [Period(year - 1, 10).shifted(i) for i in range(12)]
    return [m for m in months if m.last < today]


def item_score(
    indicator: Indicator,
    weight: float,
    value: float | None,
    target: Decimal | float | None,
) -> float | None:
    """Full marks at or above the target (at or below, when lower is better), in
    proportion below it. A rate without a target is measured against 100%; anything else
    without one cannot be judged and gets full marks. No figure is not scored (None):
    a unit with nothing to count is shown as such, never given 0 or full marks."""
    if value is None:
        return None
    if target is None and indicator.unit == "percent":
        target = 100
    if target is None or float(target) == 0:
        return float(weight)
    target = float(target)
    if indicator.direction == "lower":
        ratio = 1.0 if value <= target else (target / value if value else 1.0)
    else:
        ratio = min(1.0, value / target)
    return round(float(weight) * ratio, 2)


def _lateness(
    units: list[str], months: list[Period], due_day: int, today: datetime.date
) -> dict[str, int]:
    """Months whose report was first submitted after its due day (or not by then)."""
    first_submitted: dict[tuple[str, str], datetime.date] = {}
    for region_id, period, at in (
        ReportEvent.objects.filter(
            report__region_id__in=units,
            report__period__in=[str(m) for m in months],
            action=ReportStatus.SUBMITTED,
        )
        .order_by("at")
        .values_list("report__region_id", "report__period", "at")
    ):
        first_submitted.setdefault((region_id, period), timezone.localdate(at))
    late = dict.fromkeys(units, 0)
    for month in months:
        following = month.shifted(1)
        due = datetime.date(following.year, following.month, due_day)
        if due >= today:
            continue  # not yet due
        for unit in units:
            submitted = first_submitted.get((unit, str(month)))
            if submitted is None or submitted > due:
                late[unit] += 1
    return late


def assess(
    scheme: AssessmentScheme, *, acting_user: Actor, today: datetime.date | None = None
) -> dict:
    """The scored, ranked table of the units below the scheme's region for its year."""
    today = today or timezone.localdate()
    if not schemes_in_scope(acting_user).filter(pk=scheme.pk).exists():
        raise PermissionDenied(_("This assessment is not one of your region's."))
    months = year_months(scheme.year, today)
    period = months[-1] if months else Period(scheme.year - 1, 10)
    # The scores are the region's own figures, whoever asks (the caller was checked above).
    # Each rate's denominator comes with the figures (a frozen month's too: the period's
    # counts, as the registry holds them now).
    figures, sizes = _monthly_report(scheme.region_id, period, acting_user=OPERATOR)
    frozen = {
        r.region_id: r.figures["indicators"]
        for r in MonthlyReport.objects.filter(
            period=str(period), status=ReportStatus.APPROVED, region__parent_id=scheme.region_id
        )
    }
    known = list(Indicator.objects.all())
    indicators = {i.code: i for i in known}
    weights = {item["indicator"]: float(item["weight"]) for item in scheme.items}
    # Items on a statistic (a scheme saved before its indicator was marked one) are shown
    # with the reason and scored by no one; full marks are those of the assessable items.
    reasons = {code: statistic_reason(indicators[code], known) for code in weights}
    assessed = [indicators[code] for code, reason in reasons.items() if reason is None]
    full_marks = sum(weights[i.code] for i in assessed)
    minimum = ranking_minimum()
    rows = [row for row in figures["rows"] if row["name"] != OWN_ROW_NAME]
    units = [row["region"] for row in rows]
    late = _lateness(units, months, scheme.due_day, today)
    returned = dict.fromkeys(units, 0)
    for region_id in ReportEvent.objects.filter(
        report__region_id__in=units,
        report__period__in=[str(m) for m in months],
        action=ReportStatus.RETURNED,
    ).values_list("report__region_id", flat=True):
        returned[region_id] += 1
    scored = []
    for row in rows:
        values = frozen.get(row["region"], row["indicators"])
        targets = targets_for(row["region"], scheme.year)
        items = []
        for code, weight in weights.items():
            indicator = indicators[code]
            value = values.get(code)
            target = targets.get(code)
            size = None
            if reasons[code] is not None:
                status, score = "statistic", None
            else:
                if code in sizes:
                    size = sizes[code].get(row["region"], 0)
                status = size_status(value, size, minimum)
                score = item_score(indicator, weight, value, target) if status == "ranked" else None
            items.append(
                {
                    "indicator": code,
                    "value": value,
                    "target": None if target is None else float(target),
                    "size": size,
                    "status": status,
                    "score": score,
                }
            )
        deductions = float(
            late[row["region"]] * scheme.late_deduction
            + returned[row["region"]] * scheme.return_deduction
        )
        counted = [i for i in items if i["score"] is not None]
        scored_weight = sum(weights[i["indicator"]] for i in counted)
        total: float | None = None
        if counted:
            # Items with nothing to count or too few are left out and the others stand
            # for the full marks: neither 0 nor full marks for what could not be judged.
            earned = sum(i["score"] for i in counted) * full_marks / scored_weight
            total = max(0.0, round(earned - deductions, 2))
            status = "ranked"
        elif any(i["status"] == "too_few" for i in items):
            status = "too_few"
        else:
            status = "no_data"
        scored.append(
            {
                "region": row["region"],
                "name": row["name"],
                "items": items,
                "late": late[row["region"]],
                "returned": returned[row["region"]],
                "deductions": deductions,
                "score": total,
                "scored_weight": scored_weight,
                "status": status,
                "frozen": row["region"] in frozen,
            }
        )
    order = {"ranked": 0, "too_few": 1, "no_data": 2}
    scored.sort(key=lambda r: (order[r["status"]], -(r["score"] or 0), r["region"]))
    _number_ranked(scored)
    return {
        "scheme": scheme.name,
        "region": scheme.region_id,
        "year": scheme.year,
        "period": str(period),
        "full_marks": full_marks,
        "minimum": minimum,
        "rows": scored,
    }
