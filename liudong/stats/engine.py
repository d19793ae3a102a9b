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
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models import Count as CountOf
from django.db.models.functions import Substr, TruncDate

from liudong.certificates.models import Certificate, Notice
from liudong.exchange.models import AssistanceRequest
from liudong.people.models import Child, CorrectionRequest, HeldCertificate, ResidenceEpisode
from liudong.people.template import MARRIED_CODES
from liudong.regions.codes import MAX_CODE_LENGTH, subtree_q
from liudong.regions.models import Level, Region
from liudong.services.models import ServiceRecord
from liudong.services.programmes.models import Benefit, ProgrammeAmount

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


def covering(day: datetime.date | OuterRef) -> Q:
    """A stay covers ``day``: begun on or before it and not ended by it."""
    return Q(arrival_date__lte=day) & (Q(departure_date__isnull=True) | Q(departure_date__gt=day))


def floating_stays(*, prefix: str, region_field: str, districts: list[str]) -> QuerySet:
    """Floating stays (on any day), ``region_field`` under ``prefix``; merged-away files
    are not counted."""
    stays = (
        ResidenceEpisode.objects.filter(subtree_q(prefix, region_field))
        .filter(person__merged_into__isnull=True)
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


def stays_on(
    day: datetime.date | OuterRef, *, prefix: str, region_field: str, districts: list[str]
) -> QuerySet:
    """Floating stays covering ``day`` (a date or an OuterRef), ``region_field`` under
    ``prefix``; merged-away files are not counted."""
    return floating_stays(prefix=prefix, region_field=region_field, districts=districts).filter(
        covering(day)
    )


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
    """One filter of the vocabulary as a condition on a stay (definitions.FILTERS). A
    filter that reads ``period`` beyond ``day`` must say so in _term_key too, or two
    months' figures would share one aggregate."""
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
    if name == "registered_within_days":
        # Entered on a day (Beijing time, as the office saw it) at most N days after the
        # stay began; entered before it began (registered in advance) is on time too.
        return Q(registration_wait__lte=datetime.timedelta(days=value))
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


@dataclasses.dataclass(frozen=True)
class Term:
    """One figure a query counts: ``count`` for ``period``, its population taken on
    ``day`` (the period's last day; a mean count also the day before the period)."""

    period: Period
    day: datetime.date
    count: Count


STAY_POPULATIONS = ("inflow", "outflow")


def _term_key(term: Term) -> tuple:
    """Terms with one key count the same rows (one aggregate serves them): what
    stay_condition reads of the period beyond the day, or, for the populations counted
    over the period (births, spot checks, assistance, notices), the period itself."""
    count = term.count
    if count.population not in STAY_POPULATIONS:
        return (count.population, count.where, count.total, term.period)
    key: tuple = (count.population, count.where, term.day)
    if "arrived_in_period" in count.filters:
        key += (term.period.first,)
    if {"service_in_year", "free_service_in_year"} & set(count.filters):
        key += (term.period.statistical_year_start,)
    return key


@dataclasses.dataclass
class _Rows:
    """The rows a population's terms count: ``rows(when)`` those the time condition
    ``when`` keeps, grouped by ``field``; ``window(term)`` the time condition of one
    term (the population on its day, or in its period), ``span(terms)`` one that keeps
    every row any of the terms counts."""

    rows: Callable[[Q], QuerySet]
    field: str
    window: Callable[[Term], Q]
    window_key: Callable[[Term], Any]
    span: Callable[[list[Term]], Q]
    condition: Callable[[Term], Q]
    # What a count with a "sum" adds up for a term (definitions.SUMS), row by row.
    measure: Callable[[Term], Any] | None = None


def _in_periods(
    field: str, start: Callable[[Period], datetime.date]
) -> tuple[Callable[[Term], Q], Callable[[list[Term]], Q]]:
    """The window and span of a population counted from ``start(period)`` to the
    period's last day, by the date in ``field``."""

    def window(term: Term) -> Q:
        return Q(**{f"{field}__gte": start(term.period), f"{field}__lte": term.period.last})

    def span(terms: list[Term]) -> Q:
        return Q(
            **{
                f"{field}__gte": min(start(t.period) for t in terms),
                f"{field}__lte": max(t.period.last for t in terms),
            }
        )

    return window, span


def _grouped(
    rows: QuerySet,
    group_field: str,
    group_length: int | None,
    conditions: Sequence[Q | Aggregate],
) -> dict:
    """``{group: [number per condition]}`` from one grouped query: the rows a condition
    keeps counted, or an aggregate given as it is (a sum; 0 where no row is summed)."""
    aggregates = {
        f"n{i}": CountOf("pk", filter=c) if isinstance(c, Q) else c
        for i, c in enumerate(conditions)
    }
    if group_length is None:
        values = rows.aggregate(**aggregates)
        return {"": [_number(values[f"n{i}"]) for i in range(len(conditions))]}
    # At the full length the code itself: the same groups, without computing a substring.
    group = (
        F(group_field) if group_length >= MAX_CODE_LENGTH else Substr(group_field, 1, group_length)
    )
    grouped = rows.annotate(group=group).values("group").annotate(**aggregates).order_by()
    return {
        row["group"]: [_number(row[f"n{i}"]) for i in range(len(conditions))] for row in grouped
    }


def _number(value: Any) -> int | float:
    """A count as it is; a sum (a Decimal of yuan, None over no rows) as a float."""
    if isinstance(value, int):
        return value
    return float(value or 0)


def _stay_rows(population: str, region: str, districts: list[str], terms: list[Term]) -> _Rows:
    field = "person__household_region_id" if population == "outflow" else "region_id"

    def rows(when: Q) -> QuerySet:
        stays = floating_stays(prefix=region, region_field=field, districts=districts)
        stays = stays.filter(when)
        if any("verified_within_days" in t.count.filters for t in terms):
            stays = stays.alias(
                waited=ExpressionWrapper(F("verified_on") - F("arrival_date"), DurationField())
            )
        if any("registered_within_days" in t.count.filters for t in terms):
            stays = stays.alias(
                registration_wait=ExpressionWrapper(
                    TruncDate("created") - F("arrival_date"), DurationField()
                )
            )
        return stays

    def span(terms: list[Term]) -> Q:
        # Stays covering any of the days: begun by the last, not ended by the first.
        first, last = min(t.day for t in terms), max(t.day for t in terms)
        return Q(arrival_date__lte=last) & (
            Q(departure_date__isnull=True) | Q(departure_date__gt=first)
        )

    def condition(term: Term) -> Q:
        return Q(
            *(
                stay_condition(n, v, period=term.period, day=term.day)
                for n, v in _subqueries_last(term.count.where)
            )
        )

    return _Rows(rows, field, lambda t: covering(t.day), lambda t: t.day, span, condition)


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


def _birth_rows(population: str, region: str, districts: list[str], terms: list[Term]) -> _Rows:
    """Children born in the period to floating residents, placed where the mother or
    father lived on the day of the birth."""

    def rows(when: Q) -> QuerySet:
        stay = stays_on(
            OuterRef("birth_date"), prefix=region, region_field="region_id", districts=districts
        ).filter(person_id=OuterRef("parent_id"))
        return (
            Child.objects.filter(when)
            .filter(parent__merged_into__isnull=True)
            .alias(born_in=Subquery(stay.values("region_id")[:1]))
            .filter(born_in__isnull=False)
        )

    def condition(term: Term) -> Q:
        return Q(sex=term.count.filters["sex"]) if "sex" in term.count.filters else Q()

    window, span = _in_periods("birth_date", lambda p: p.first)
    return _Rows(rows, "born_in", window, lambda t: t.period, span, condition)


def _spot_field_rows(
    population: str, region: str, districts: list[str], terms: list[Term]
) -> _Rows:
    """Fields spot checks found correct or incorrect (not those left unverified) on visits
    from 1 October to the reference date: a check is made once or twice a year, so a
    month's own visits would leave most months' rate empty. Each is placed at the village
    its file was drawn in (``SpotCheckEntry.village``)."""

    def rows(when: Q) -> QuerySet:
        return SpotCheckResult.objects.filter(
            when,
            subtree_q(region, "entry__village_id"),
            result__in=(FieldResult.CORRECT, FieldResult.INCORRECT),
        )

    def condition(term: Term) -> Q:
        correct = term.count.filters.get("correct")
        if correct is None:
            return Q()
        return Q(result=FieldResult.CORRECT if correct else FieldResult.INCORRECT)

    window, span = _in_periods("entry__visited_on", lambda p: p.statistical_year_start)
    return _Rows(rows, "entry__village_id", window, lambda t: t.period, span, condition)


def _assistance_rows(
    population: str, region: str, districts: list[str], terms: list[Term]
) -> _Rows:
    """Assistance requests this node was asked (the side assessed), placed at the region
    that answers them, whose deadline fell from 1 October to the reference date: the
    requests due in the statistical year so far. One answered early but due later is
    counted in the month its deadline falls in, so each request counts once a year and a
    month's figure does not change once it is over (an answer dated after the deadline is
    late whenever it comes). On time: answered on or before the deadline."""

    def rows(when: Q) -> QuerySet:
        return AssistanceRequest.objects.filter(
            when,
            subtree_q(region, "region_id"),
            direction=AssistanceRequest.Direction.INCOMING,
        )

    on_time = Q(answered_on__isnull=False, answered_on__lte=F("deadline"))

    def condition(term: Term) -> Q:
        filters, found = term.count.filters, Q()
        if "answered_on_time" in filters:
            found &= on_time if filters["answered_on_time"] else ~on_time
        if "urgency" in filters:
            found &= Q(urgency=filters["urgency"])
        return found

    window, span = _in_periods("deadline", lambda p: p.statistical_year_start)
    return _Rows(rows, "region_id", window, lambda t: t.period, span, condition)


def _notice_rows(population: str, region: str, districts: list[str], terms: list[Term]) -> _Rows:
    """Notices to obtain a certificate given at the region, whose deadline fell from 1
    October to the reference date, counted as assistance requests are (each once, in the
    month its deadline falls in). On time: fulfilled (her certificate verified here) on or
    before the deadline. A notice still open when she moved away, on or before its
    deadline, is not counted: the office had nothing left to do for it."""

    on_time = Q(fulfilled_on__isnull=False, fulfilled_on__lte=F("deadline"))

    def rows(when: Q) -> QuerySet:
        left = Q(episode__departure_date__lte=F("deadline"))
        return Notice.objects.filter(when, subtree_q(region, "region_id")).exclude(left & ~on_time)

    def condition(term: Term) -> Q:
        answered = term.count.filters.get("answered_on_time")
        if answered is None:
            return Q()
        return on_time if answered else ~on_time

    window, span = _in_periods("deadline", lambda p: p.statistical_year_start)
    return _Rows(rows, "region_id", window, lambda t: t.period, span, condition)


def _correction_rows(
    population: str, region: str, districts: list[str], terms: list[Term]
) -> _Rows:
    """Residents' correction requests (issue 19), placed at the township holding the file
    that answers them, whose deadline fell from 1 October to the reference date, counted
    as assistance requests are (each once, in the month its deadline falls in). On time:
    answered (accepted or refused) on or before the deadline."""

    def rows(when: Q) -> QuerySet:
        return CorrectionRequest.objects.filter(when, subtree_q(region, "holding_region_id"))

    on_time = Q(answered_on__isnull=False, answered_on__lte=F("deadline"))

    def condition(term: Term) -> Q:
        answered = term.count.filters.get("answered_on_time")
        if answered is None:
            return Q()
        return on_time if answered else ~on_time

    window, span = _in_periods("deadline", lambda p: p.statistical_year_start)
    return _Rows(rows, "holding_region_id", window, lambda t: t.period, span, condition)


def _benefit_rows(population: str, region: str, districts: list[str], terms: list[Term]) -> _Rows:
    """Reward and assistance benefits active at the reference date, placed at the family's
    household region (the township keeping it). Active: begun on or before the day and
    not suspended or ended on or before it (``status_changed_on``). A status is kept
    without history, as marital status is: a benefit suspended and resumed counts as
    active over the suspension when a past month is recounted."""
    field = "family__household_region_id"
    active = Q(status=Benefit.Status.ACTIVE)

    def rows(when: Q) -> QuerySet:
        return Benefit.objects.filter(when, subtree_q(region, field))

    def window(term: Term) -> Q:
        return Q(starts_on__lte=term.day) & (active | Q(status_changed_on__gt=term.day))

    def span(terms: list[Term]) -> Q:
        first, last = min(t.day for t in terms), max(t.day for t in terms)
        return Q(starts_on__lte=last) & (active | Q(status_changed_on__gt=first))

    def condition(term: Term) -> Q:
        codes = term.count.filters.get("programme")
        return Q(programme__code__in=codes) if codes else Q()

    def measure(term: Term) -> Any:
        # The year's amount of its programme in the household region's province.
        amount = ProgrammeAmount.objects.filter(
            programme_id=OuterRef("programme_id"),
            year=term.day.year,
            province=Substr(OuterRef(field), 1, 2),
        ).values("yuan_per_year")[:1]
        return Subquery(amount)

    return _Rows(rows, field, window, lambda t: t.day, span, condition, measure)


POPULATION_ROWS: dict[str, Callable[[str, str, list[str], list[Term]], _Rows]] = {
    "inflow": _stay_rows,
    "outflow": _stay_rows,
    "births": _birth_rows,
    "spot_fields": _spot_field_rows,
    "assistance": _assistance_rows,
    "notices": _notice_rows,
    "benefits": _benefit_rows,
    "corrections": _correction_rows,
}


def _count_terms(
    population: str,
    terms: list[Term],
    region: str,
    child_length: int | None,
    districts: list[str],
) -> dict[GroupKey, list[int | None]]:
    """Each term's number per group (in the order of ``terms``) from one grouped query
    over the population. None where the population had no row in the group in the
    term's window: a query of that term alone would not give the group at all."""
    spec = POPULATION_ROWS[population](population, region, districts, terms)
    by_key: dict[tuple, Term] = {}
    for term in terms:
        by_key.setdefault(_term_key(term), term)
    windows = {spec.window_key(t): spec.window(t) for t in by_key.values()}
    if len(windows) == 1:
        # One day (or period): the time condition goes in the WHERE clause, as it did
        # when the engine counted one day per query.
        rows = spec.rows(next(iter(windows.values())))
        conditions = [_aggregate(spec, t, spec.condition(t)) for t in by_key.values()]
        present: list[Q] = []
    else:
        # Several: every row any term counts, each aggregate's FILTER beginning with its
        # window (the cheapest test, false for most rows of other days), and a count per
        # window telling which groups had anyone then.
        rows = spec.rows(spec.span(list(by_key.values())))
        conditions = [
            _aggregate(spec, t, spec.window(t) & spec.condition(t)) for t in by_key.values()
        ]
        present = list(windows.values())
    numbers = _grouped(rows, spec.field, child_length, [*conditions, *present])
    index = {k: i for i, k in enumerate(by_key)}
    window_index = {k: len(conditions) + i for i, k in enumerate(windows)}
    places = [(index[_term_key(t)], window_index[spec.window_key(t)]) for t in terms]
    if not present:
        return {group: [counted[at] for at, _ in places] for group, counted in numbers.items()}
    return {
        group: [counted[at] if counted[window] else None for at, window in places]
        for group, counted in numbers.items()
    }


def _aggregate(spec: _Rows, term: Term, condition: Q) -> Q | Aggregate:
    """What the term counts: the rows ``condition`` keeps, or, for a count with a "sum",
    the sum of its measure over them."""
    if term.count.total is None:
        return condition
    assert spec.measure is not None, f"{term.count.population} has nothing to add up"
    return Sum(spec.measure(term), filter=condition)


# Aggregates per query at most when several periods are counted at once (PostgreSQL
# allows 1,664 columns, SQLite 2,000; the statement's parameters grow with them too).
MAX_AGGREGATES = 400


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
    return evaluate_periods(counts, region=region, periods=[period], child_length=child_length)[
        period
    ]


def evaluate_periods(
    counts: Iterable[Count],
    *,
    region: str,
    periods: Sequence[Period],
    child_length: int | None,
) -> dict[Period, dict[Count, dict[GroupKey, float]]]:
    """``evaluate_counts`` for each of ``periods``, counting them together: one grouped
    query per population covers many months (up to MAX_AGGREGATES figures), where
    evaluate_counts makes one per population and day. For the statistics store's builds."""
    wanted = list(dict.fromkeys(counts))
    chosen = list(dict.fromkeys(periods))
    districts = _districts(region)
    values: dict[Period, dict[Count, dict[GroupKey, float]]] = {
        p: {c: defaultdict(float) for c in wanted} for p in chosen
    }
    with _without_jit():
        for population, batches in _batches(wanted, chosen).items():
            for terms in batches:
                counted = _count_terms(population, terms, region, child_length, districts)
                targets = [(values[t.period][t.count], 0.5 if t.count.mean else 1) for t in terms]
                for key, numbers in counted.items():
                    for (target, share), number in zip(targets, numbers, strict=True):
                        if number is not None:
                            target[key] += number * share
    return values


def _batches(counts: list[Count], periods: list[Period]) -> dict[str, list[list[Term]]]:
    """The terms of each population, in queries: one per day when a single period is
    counted (as reports always have), else as many periods as MAX_AGGREGATES allows."""
    terms: dict[str, list[Term]] = defaultdict(list)
    for period in periods:
        for count in counts:
            terms[count.population].append(Term(period, period.last, count))
            if count.mean:
                before = period.first - datetime.timedelta(days=1)
                terms[count.population].append(Term(period, before, count))
    batches: dict[str, list[list[Term]]] = {}
    for population, found in terms.items():
        if len(periods) == 1:
            by_day: dict[datetime.date, list[Term]] = defaultdict(list)
            for term in found:
                by_day[term.day].append(term)
            batches[population] = list(by_day.values())
            continue
        per_period = -(-len(found) // len(periods))
        step = max(1, MAX_AGGREGATES // (per_period + 1))
        batches[population] = [
            [t for t in found if t.period in periods[i : i + step]]
            for i in range(0, len(periods), step)
        ]
    return batches
