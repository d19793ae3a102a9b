"""Evaluating indicator definitions over the registry (the one implementation reports,
dashboards, targets and the API share).

A population is evaluated with one grouped query: every count over it becomes a
conditional ``COUNT(*) FILTER (WHERE ...)`` of the same scan, grouped by the child region
(the first L characters of the region code). That is the hand-written ``GROUP BY`` the
benchmark compares against, so a report of thirty indicators costs about one scan per
population, not thirty.

People are counted as they stood at the reference date (the last day of the period), from
their residence history: a stay covers day D when it began on or before D and had not
ended by D (a stay ending on D is over: her next one begins that day). The stay is
floating by DESIGN.md §5 (household and residence counties differ, unless both are
districts of one city), computed from the two codes so a past month is counted as it was.
Marital status is the one fact not kept with a history: a report counts it as now.
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Count as CountOf
from django.db.models import (
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Substr

from liudong.certificates.models import Certificate
from liudong.exchange.models import AssistanceRequest
from liudong.people.models import Child, HeldCertificate, ResidenceEpisode
from liudong.people.template import MARRIED_CODES
from liudong.regions.codes import subtree_q
from liudong.regions.models import Level, Region
from liudong.services.models import ServiceRecord

from .definitions import Count
from .models import FieldResult, SpotCheckResult

GroupKey = str  # a child region's code, or the region's own code for files coded at it


@dataclasses.dataclass(frozen=True)
class Period:
    """A calendar month; its reference date is the last day."""

    year: int
    month: int

    @property
    def first(self) -> datetime.date:
        return datetime.date(self.year, self.month, 1)

    @property
    def last(self) -> datetime.date:
        return datetime.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def statistical_year_start(self) -> datetime.date:
        """1 October opening the statistical year the period belongs to."""
        return datetime.date(self.year if self.month >= 10 else self.year - 1, 10, 1)

    def shifted(self, months: int) -> Period:
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` earlier (29 February becomes the 28th): someone born on or
    before it is at least ``years`` old on ``day`` (people.models.age_on)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_between(field: str, day: datetime.date, low: int, high: int) -> Q:
    """Aged ``low`` to ``high`` whole years on ``day``, as a range of birth dates."""
    return Q(
        **{f"{field}__lte": years_before(day, low), f"{field}__gt": years_before(day, high + 1)}
    )


def _districts(prefix: str) -> list[str]:
    """City districts that could make a stay in the region not floating: a move between
    two districts of one city stays in one province, the region's."""
    return list(
        Region.objects.filter(
            subtree_q(prefix[:2]), level=Level.COUNTY, is_district=True
        ).values_list("code", flat=True)
    )


def stays_on(
    day: datetime.date | OuterRef, *, prefix: str, region_field: str, districts: list[str]
) -> QuerySet:
    """Floating stays covering ``day`` (a date or an OuterRef), ``region_field`` under
    ``prefix``; merged-away files are not counted."""
    stays = (
        ResidenceEpisode.objects.filter(subtree_q(prefix, region_field))
        .filter(arrival_date__lte=day, person__merged_into__isnull=True)
        .filter(Q(departure_date__isnull=True) | Q(departure_date__gt=day))
        .alias(
            household_county=Substr("person__household_region_id", 1, 6),
            residence_county=Substr("region_id", 1, 6),
        )
        .exclude(household_county=F("residence_county"))
    )
    if districts:
        stays = stays.alias(
            household_city=Substr("person__household_region_id", 1, 4),
            residence_city=Substr("region_id", 1, 4),
        ).exclude(
            household_city=F("residence_city"),
            household_county__in=districts,
            residence_county__in=districts,
        )
    return stays


def _valid_certificate(day: datetime.date) -> Q:
    issued_here = Certificate.objects.filter(
        person_id=OuterRef("person_id"), issued_on__lte=day, valid_until__gte=day
    ).filter(Q(revoked_at__isnull=True) | Q(revoked_at__date__gt=day))
    # Named in a register row and issued elsewhere: no expiry is known, so it counts
    # from its issue date (a row without one counts).
    held = HeldCertificate.objects.filter(
        person_id=OuterRef("person_id"), certificate__isnull=True
    ).filter(Q(issued_on__isnull=True) | Q(issued_on__lte=day))
    return Q(Exists(issued_here)) | Q(Exists(held))


def _service_in_year(period: Period, day: datetime.date, **conditions: Any) -> Q:
    accepted = ServiceRecord.objects.filter(
        person_id=OuterRef("person_id"),
        date__gte=period.statistical_year_start,
        date__lte=day,
        consent_recorded=True,
        **conditions,
    )
    return Q(Exists(accepted))


def stay_condition(name: str, value: Any, *, period: Period, day: datetime.date) -> Q:
    """One filter of the vocabulary as a condition on a stay (definitions.FILTERS)."""
    if name == "sex":
        return Q(person__sex=value)
    if name == "age":
        return age_between("person__birth_date", day, *value)
    if name == "married":
        married = Q(person__marital_status__in=MARRIED_CODES)
        return married if value else ~married
    if name == "marital_status":
        return Q(person__marital_status__in=value)
    if name == "valid_certificate":
        valid = _valid_certificate(day)
        return valid if value else ~valid
    if name == "verified":
        verified = Q(verified_on__lte=day)
        return verified if value else ~verified
    if name == "verified_within_days":
        return Q(verified_on__lte=day, waited__lte=datetime.timedelta(days=value))
    if name == "arrived_in_period":
        arrived = Q(arrival_date__gte=period.first)
        return arrived if value else ~arrived
    if name == "service_in_year":
        if value == "any":
            return _service_in_year(period, day)
        return _service_in_year(period, day, service_type=value)
    if name == "free_service_in_year":
        free = _service_in_year(period, day, free_of_charge=True)
        return free if value else ~free
    raise ValueError(f"no condition for filter {name!r}")  # definitions.parse prevents it


def _grouped(
    rows: QuerySet, group_field: str, group_length: int | None, conditions: Sequence[Q]
) -> dict:
    """``{group: [count per condition]}`` from one grouped query."""
    aggregates = {f"n{i}": CountOf("pk", filter=c) for i, c in enumerate(conditions)}
    if group_length is None:
        values = rows.aggregate(**aggregates)
        return {"": [values[f"n{i}"] for i in range(len(conditions))]}
    grouped = (
        rows.annotate(group=Substr(group_field, 1, group_length))
        .values("group")
        .annotate(**aggregates)
        .order_by()
    )
    return {row["group"]: [row[f"n{i}"] for i in range(len(conditions))] for row in grouped}


def _stay_counts(
    counts: list[Count],
    region: str,
    child_length: int | None,
    period: Period,
    day: datetime.date,
    districts: list[str],
) -> dict:
    field = "person__household_region_id" if counts[0].population == "outflow" else "region_id"
    stays = stays_on(day, prefix=region, region_field=field, districts=districts)
    if any("verified_within_days" in c.filters for c in counts):
        stays = stays.alias(
            waited=ExpressionWrapper(F("verified_on") - F("arrival_date"), DurationField())
        )
    conditions = [
        Q(*(stay_condition(n, v, period=period, day=day) for n, v in _subqueries_last(c.where)))
        for c in counts
    ]
    return _grouped(stays, field, child_length, conditions)


# Filters written as EXISTS subqueries (one index probe per stay they are asked about).
SUBQUERY_FILTERS = frozenset({"valid_certificate", "service_in_year", "free_service_in_year"})


def _subqueries_last(where: tuple) -> list:
    """A count's filters with the subqueries after the column tests. The terms of an
    aggregate's FILTER are evaluated in the order written and stop at the first false
    one (neither SQLite nor PostgreSQL reorders them), so a certificate or a service is
    then looked up only for the stays that sex, age and marital status have kept. In
    name order the service lookups came before "sex" (and "free_service_in_year" before
    "married"): every stay aged 18-49, men included, was looked up."""
    return sorted(where, key=lambda item: item[0] in SUBQUERY_FILTERS)


def _birth_counts(
    counts: list[Count], region: str, child_length: int | None, period: Period, districts: list[str]
) -> dict:
    """Children born in the period to floating residents, placed where the mother or
    father lived on the day of the birth."""
    stay = stays_on(
        OuterRef("birth_date"), prefix=region, region_field="region_id", districts=districts
    ).filter(person_id=OuterRef("parent_id"))
    births = (
        Child.objects.filter(birth_date__gte=period.first, birth_date__lte=period.last)
        .filter(parent__merged_into__isnull=True)
        .alias(born_in=Subquery(stay.values("region_id")[:1]))
        .filter(born_in__isnull=False)
    )
    conditions = [Q(sex=c.filters["sex"]) if "sex" in c.filters else Q() for c in counts]
    return _grouped(births, "born_in", child_length, conditions)


def _spot_field_counts(
    counts: list[Count], region: str, child_length: int | None, period: Period
) -> dict:
    """Fields spot checks found correct or incorrect (not those left unverified) on visits
    from 1 October to the reference date: a check is made once or twice a year, so a
    month's own visits would leave most months' rate empty. Each is placed at the village
    its file was drawn in (``SpotCheckEntry.village``)."""
    results = SpotCheckResult.objects.filter(
        subtree_q(region, "entry__village_id"),
        entry__visited_on__gte=period.statistical_year_start,
        entry__visited_on__lte=period.last,
        result__in=(FieldResult.CORRECT, FieldResult.INCORRECT),
    )
    conditions = []
    for count in counts:
        correct = count.filters.get("correct")
        if correct is None:
            conditions.append(Q())
        else:
            conditions.append(Q(result=FieldResult.CORRECT if correct else FieldResult.INCORRECT))
    return _grouped(results, "entry__village_id", child_length, conditions)


def _assistance_counts(
    counts: list[Count], region: str, child_length: int | None, period: Period
) -> dict:
    """Assistance requests this node was asked (the side assessed), placed at the region
    that answers them, whose deadline fell from 1 October to the reference date: the
    requests due in the statistical year so far. One answered early but due later is
    counted in the month its deadline falls in, so each request counts once a year and a
    month's figure does not change once it is over (an answer dated after the deadline is
    late whenever it comes). On time: answered on or before the deadline."""
    requests = AssistanceRequest.objects.filter(
        subtree_q(region, "region_id"),
        direction=AssistanceRequest.Direction.INCOMING,
        deadline__gte=period.statistical_year_start,
        deadline__lte=period.last,
    )
    on_time = Q(answered_on__isnull=False, answered_on__lte=F("deadline"))
    conditions = []
    for count in counts:
        condition = Q()
        if "answered_on_time" in count.filters:
            condition &= on_time if count.filters["answered_on_time"] else ~on_time
        if "urgency" in count.filters:
            condition &= Q(urgency=count.filters["urgency"])
        conditions.append(condition)
    return _grouped(requests, "region_id", child_length, conditions)


@contextlib.contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL: no JIT compilation for the grouped queries. Their estimated cost (a
    scan of the region's stays with twenty aggregate filters and EXISTS subplans) passes
    jit_optimize_above_cost and jit_inline_above_cost, and LLVM then spent 2-5 s
    compiling each query (more with parallel workers, each compiling its own), longer
    than running it: at a million files the province report took twice as long, and
    the births query (0.2 s to run) 2.6 s. The setting is this transaction's only and is
    put back afterwards, so a caller's own transaction keeps its own."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        previous = cursor.fetchone()[0]
        yield
        cursor.execute("SELECT set_config('jit', %s, true)", [previous])


def evaluate_counts(
    counts: Iterable[Count], *, region: str, period: Period, child_length: int | None
) -> dict[Count, dict[GroupKey, float]]:
    """Each count's value per group (child region code; ``""`` when not grouped). A
    group holding no one is absent (its counts are 0)."""
    wanted = list(dict.fromkeys(counts))
    districts = _districts(region)
    by_query: dict[tuple, list[Count]] = defaultdict(list)
    for count in wanted:
        by_query[(count.population, False)].append(count)
        if count.mean:
            by_query[(count.population, True)].append(count)
    values: dict[Count, dict[GroupKey, float]] = {c: defaultdict(float) for c in wanted}
    with _without_jit():
        for (population, before), group in by_query.items():
            day = period.first - datetime.timedelta(days=1) if before else period.last
            if population == "births":
                result = _birth_counts(group, region, child_length, period, districts)
            elif population == "spot_fields":
                result = _spot_field_counts(group, region, child_length, period)
            elif population == "assistance":
                result = _assistance_counts(group, region, child_length, period)
            else:
                plain = [dataclasses.replace(c, mean=False) for c in group]
                result = _stay_counts(plain, region, child_length, period, day, districts)
            for key, numbers in result.items():
                for count, number in zip(group, numbers, strict=True):
                    values[count][key] += number / 2 if count.mean else number
    return values
