"""Cells: computing them with the engine, writing them, adding them up.

A cell is one count's value for one month at one full region code: the engine evaluated
with ``child_length=15`` groups by the whole code. Counts are additive and the engine's
only dependence on the region asked about beyond its subtree is ``_districts``, which
depends on the province alone (a stay between two districts of one city never leaves
the province), so adding up the cells of a subtree grouped by the first L characters
equals ``evaluate_counts(region=..., child_length=L)`` for every region, key by key
(a group holding no one but counted for another count of its population has a 0 cell,
as the engine returns it).
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Substr
from django.utils import timezone

from liudong import bulk
from liudong.regions.codes import MAX_CODE_LENGTH, subtree_bounds
from liudong.stats import definitions
from liudong.stats.definitions import Count
from liudong.stats.engine import GroupKey, Period, evaluate_counts

from .models import StoreCell, StoredCount, StoredMonth

Counted = dict[Count, dict[GroupKey, float]]


def count_key(count: Count) -> str:
    """The count's canonical text: its definition as parse_count reads it back."""
    raw: dict = {"count": count.population, "where": {n: v for n, v in count.where}}
    if count.mean:
        raw["at"] = "mean"
    return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def count_of(key: str) -> Count:
    return definitions.parse_count(json.loads(key))


def month_of(day: datetime.date) -> Period:
    return Period(day.year, day.month)


def period_of(month: str) -> Period:
    return Period(int(month[:4]), int(month[5:7]))


def register(counts: Iterable[Count]) -> dict[Count, StoredCount]:
    """The counts' registry rows, adding those not yet kept (not ready)."""
    by_key = {count_key(c): c for c in counts}
    kept = {by_key[s.key]: s for s in StoredCount.objects.filter(key__in=list(by_key))}
    if len(kept) == len(by_key):
        return kept  # a read: nothing to write
    StoredCount.objects.bulk_create(
        [StoredCount(key=k) for k in by_key], ignore_conflicts=True, batch_size=500
    )
    return {by_key[s.key]: s for s in StoredCount.objects.filter(key__in=list(by_key))}


Cell = tuple[int, str, str, float]  # count id, month, key, value


def compute(counts: list[StoredCount], region: str, period: Period) -> list[Cell]:
    """The cells of ``region``'s subtree for one month, from the engine."""
    if not counts:
        return []
    by_count = {count_of(s.key): s for s in counts}
    counted = evaluate_counts(
        list(by_count), region=region, period=period, child_length=MAX_CODE_LENGTH
    )
    month = str(period)
    return [
        (by_count[count].pk, month, key, value)
        for count, groups in counted.items()
        for key, value in groups.items()
    ]


def replace(counts: list[StoredCount], region: str, months: list[str], cells: list[Cell]) -> int:
    """Put ``cells`` in place of the counts' cells of ``region``'s subtree in ``months``
    (the caller holds a transaction)."""
    low, high = subtree_bounds(region)
    StoreCell.objects.filter(
        month__in=months, count__in=counts, key__gte=low, key__lte=high
    ).delete()
    bulk.insert(StoreCell, ["count_id", "month", "key", "value"], cells)  # COPY on PostgreSQL
    return len(cells)


def recount(counts: list[StoredCount], region: str, months: list[str]) -> int:
    """Recount ``region``'s subtree for ``months`` in one transaction."""
    cells = [c for month in months for c in compute(counts, region, period_of(month))]
    with transaction.atomic():
        return replace(counts, region, months, cells)


def build_month(period: Period, regions: Iterable[str] = ("",)) -> int:
    """Count every registered count for a month not stored yet and store it (the nation
    at once by default: ``""`` is every code's prefix)."""
    counts = list(StoredCount.objects.all())
    month = str(period)
    written = 0
    for region in regions:
        written += recount(counts, region, [month])
    StoredMonth.objects.update_or_create(month=month, defaults={"counted_at": timezone.now()})
    return written


def build_counts(counts: list[StoredCount]) -> int:
    """Fill counts not ready for every stored month, then mark them ready."""
    written = 0
    for month in StoredMonth.objects.order_by("month").values_list("month", flat=True):
        written += recount(counts, "", [month])
    StoredCount.objects.filter(pk__in=[c.pk for c in counts]).update(ready=True)
    return written


def read(
    counts: dict[Count, StoredCount], *, region: str, period: Period, child_length: int | None
) -> Counted:
    """The counts added up from the cells, in evaluate_counts' shape."""
    return read_months(counts, region=region, periods=[period], child_length=child_length)[period]


def read_months(
    counts: dict[Count, StoredCount],
    *,
    region: str,
    periods: list[Period],
    child_length: int | None,
) -> dict[Period, Counted]:
    """``read`` for several months in one query (grouped by month as well)."""
    if not periods:
        return {}
    low, high = subtree_bounds(region)
    by_month = {str(p): p for p in periods}
    cells = StoreCell.objects.filter(
        month__in=list(by_month),
        count_id__in=[s.pk for s in counts.values()],
        key__gte=low,
        key__lte=high,
    )
    by_id = {s.pk: count for count, s in counts.items()}
    values: dict[Period, Counted] = {
        p: {count: defaultdict(float) for count in counts} for p in periods
    }
    if child_length is None:
        totals = cells.values("month", "count_id").annotate(total=Sum("value")).order_by()
        for row in totals:
            values[by_month[row["month"]]][by_id[row["count_id"]]][""] += row["total"]
        for counted in values.values():
            for groups in counted.values():
                groups[""] += 0.0  # the engine's ungrouped count is always there
        return values
    grouped = (
        cells.annotate(group=Substr("key", 1, child_length))
        .values("month", "count_id", "group")
        .annotate(total=Sum("value"))
        .order_by()
    )
    for row in grouped:
        values[by_month[row["month"]]][by_id[row["count_id"]]][row["group"]] += row["total"]
    return values
