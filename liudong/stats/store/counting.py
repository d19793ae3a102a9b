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

from django.db import connection, transaction
from django.db.models import Sum
from django.db.models.functions import Substr
from django.utils import timezone

from liudong import bulk
from liudong.regions.codes import MAX_CODE_LENGTH, subtree_bounds
from liudong.stats import definitions
from liudong.stats.definitions import Count
from liudong.stats.engine import GroupKey, Period, evaluate_periods

from .models import StoreCell, StoredCount, StoredMonth

Counted = dict[Count, dict[GroupKey, float]]


def count_key(count: Count) -> str:
    """The count's canonical text: its definition as parse_count reads it back."""
    raw: dict = {"count": count.population, "where": {n: v for n, v in count.where}}
    if count.mean:
        raw["at"] = "mean"
    if count.total:
        raw["sum"] = count.total
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


def compute(counts: list[StoredCount], region: str, periods: list[Period]) -> list[Cell]:
    """The cells of ``region``'s subtree for some months, from the engine (one grouped
    query per population for many months: engine.evaluate_periods)."""
    if not counts or not periods:
        return []
    by_count = {count_of(s.key): s for s in counts}
    counted = evaluate_periods(
        list(by_count), region=region, periods=periods, child_length=MAX_CODE_LENGTH
    )
    return [
        (by_count[count].pk, str(period), key, value)
        for period, figures in counted.items()
        for count, groups in figures.items()
        for key, value in groups.items()
    ]


def replace(counts: list[StoredCount], region: str, months: list[str], cells: list[Cell]) -> int:
    """Put ``cells`` in place of the counts' cells of ``region``'s subtree in ``months``
    (the caller holds a transaction). Only what differs is written: a recount mostly
    finds the figures it had (a rebuild after a region change, a county recounted from a
    backdated change's month), and rewriting a million unchanged cells took longer than
    counting them. Returns the number of cells the subtree now holds for the months."""
    low, high = subtree_bounds(region)
    kept = StoreCell.objects.filter(
        month__in=months, count__in=counts, key__gte=low, key__lte=high
    ).values_list("id", "count_id", "month", "key", "value")
    old = {(c, m, k): (pk, v) for pk, c, m, k, v in kept.iterator(chunk_size=20_000)}
    new, changed = [], []
    for cell in cells:
        found = old.pop(cell[:3], None)
        if found is None:
            new.append(cell)
        elif found[1] != cell[3]:
            changed.append((found[0], cell[3]))
    gone = [pk for pk, _value in old.values()]
    for start in range(0, len(gone), 10_000):
        StoreCell.objects.filter(pk__in=gone[start : start + 10_000]).delete()
    _set_values(changed)
    bulk.insert(StoreCell, ["count_id", "month", "key", "value"], new)  # COPY on PostgreSQL
    return len(cells)


def _set_values(changed: list[tuple[int, float]]) -> None:
    """New values for cells by id, a few thousand per statement."""
    table = StoreCell._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            sql = f"UPDATE {table} SET value = %s WHERE id = %s"  # noqa: S608
            cursor.executemany(sql, [(v, pk) for pk, v in changed])
            return
        for start in range(0, len(changed), 5_000):
            batch = changed[start : start + 5_000]
            cursor.execute(
                f"UPDATE {table} AS cell SET value = fresh.value"  # noqa: S608
                " FROM unnest(%s::bigint[], %s::double precision[]) AS fresh(id, value)"
                " WHERE cell.id = fresh.id",
                [[pk for pk, _ in batch], [v for _, v in batch]],
            )


def recount(counts: list[StoredCount], region: str, months: list[str]) -> int:
    """Recount ``region``'s subtree for ``months`` in one transaction."""
    cells = compute(counts, region, [period_of(m) for m in months])
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


def build_counts(counts: list[StoredCount], months: list[str] | None = None) -> int:
    """Fill counts not ready for ``months`` (every stored month by default); marks them
    ready when no stored month is left without them (the caller says so by passing
    none, or the last ones)."""
    if months is None:
        months = list(StoredMonth.objects.order_by("month").values_list("month", flat=True))
        done = True
    else:
        done = False
    written = recount(counts, "", months) if months else 0
    if done:
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
