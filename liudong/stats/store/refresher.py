"""Bringing marked cells up to date (``refresh``, run by ``liudong worker`` every
LIUDONG_STATS_REFRESH_INTERVAL seconds) and building months and counts not stored yet.

One refresher at a time: PostgreSQL's session advisory lock (a killed process's
connection ends and frees it), on SQLite a lease in StoreState (SQLite has one writer
anyway). A second refresher returns at once with ``skipped``.

Marks are read first and remembered by id; each marked region is recounted from its
earliest marked month to the last stored month, and its cells replaced and exactly its
marks deleted in one transaction. A change committed meanwhile leaves a mark this run
did not read: the next run recounts it. A run killed half-way leaves the marks of the
regions it had not finished. Cells are replaced, never incremented: nothing counts twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from liudong.stats.definitions import Count, Ratio
from liudong.stats.engine import Period

from .counting import (
    build_month,
    compute,
    month_of,
    period_of,
    register,
    replace,
)
from .models import StoredCount, StoredMonth, StoreMark, StoreState

LOCK_KEY = 1_505_115  # pg advisory lock id of the refresher ("15" + "store")
LEASE = datetime.timedelta(minutes=15)
MARK_BATCH = 50_000


@contextlib.contextmanager
def exclusive() -> Iterator[bool]:
    """Whether this process may refresh now (held until the block ends)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            got = bool(cursor.fetchone()[0])
        try:
            yield got
        finally:
            if got:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        return
    now = timezone.now()
    StoreState.objects.get_or_create(pk=1)
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    got = StoreState.objects.filter(free, pk=1).update(locked_until=now + LEASE) == 1
    try:
        yield got
    finally:
        if got:
            StoreState.objects.filter(pk=1).update(locked_until=None)


def first_month(today: datetime.date | None = None) -> Period:
    """The first month the refresher keeps: `stats rebuild --from`, else
    LIUDONG_STATS_FROM, else 24 months before the current one."""
    chosen = StoreState.objects.filter(pk=1).values_list("first_month", flat=True).first()
    chosen = chosen or settings.STATS_FROM
    if chosen:
        return period_of(chosen)
    return month_of(today or timezone.localdate()).shifted(-24)


def wanted_months(today: datetime.date | None = None) -> list[Period]:
    today = today or timezone.localdate()
    month, last = first_month(today), month_of(today)
    months = []
    while (month.year, month.month) <= (last.year, last.month):
        months.append(month)
        month = month.shifted(1)
    return months


def indicator_counts() -> list[Count]:
    """Every count an indicator (shipped or a county's own) is made of."""
    from liudong.stats.models import Indicator

    counts: list[Count] = []
    for indicator in Indicator.objects.all():
        parsed = indicator.parsed
        if isinstance(parsed, Ratio):
            counts += [s for s in (parsed.numerator, parsed.denominator) if isinstance(s, Count)]
        else:
            counts.append(parsed)
    return counts


@dataclasses.dataclass
class Marked:
    """A region's marks as read: its cells are stale from the month ``first`` on."""

    county: str
    first: str  # YYYY-MM
    ids: list[int]  # PostgreSQL: exactly the marks read
    up_to: int | None = None  # SQLite: every mark of the region up to this id

    def delete(self) -> None:
        if self.up_to is not None:
            StoreMark.objects.filter(county=self.county, pk__lte=self.up_to).delete()
        else:
            StoreMark.objects.filter(pk__in=self.ids).delete()


def read_marks(after: int = 0) -> tuple[list[Marked], bool]:
    """The marks waiting, one per region, and whether more are left unread (PostgreSQL
    reads MARK_BATCH at a time: ``after`` the highest id of the batch read before)."""
    if connection.vendor == "sqlite":
        # One writer at a time, and ids given in commit order: every mark at or below the
        # highest id visible now is committed, so "up to that id" is exactly what was read
        # (a row-level trigger marks each row of a million-row import: grouped here).
        # The claim is one write statement: serialised with the triggers' inserts.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE stats_storestate SET read_up_to = "
                "(SELECT COALESCE(MAX(id), 0) FROM stats_storemark) WHERE id = 1"
            )
        top = StoreState.objects.values_list("read_up_to", flat=True).get(pk=1)
        if not top:
            return [], False
        rows = (
            StoreMark.objects.filter(pk__lte=top)
            .values("county")
            .annotate(since=Min("since"))
            .order_by("county")
        )
        return [Marked(r["county"], str(month_of(r["since"])), [], top) for r in rows], False
    # PostgreSQL: a transaction holding a lower id may commit after a higher one: delete
    # only the ids read. Statement-level triggers keep marks few (one per region a
    # statement touched).
    waiting = StoreMark.objects.filter(pk__gt=after).order_by("id")
    raw = list(waiting.values_list("id", "county", "since")[:MARK_BATCH])
    regions: dict[str, Marked] = {}
    for pk, county, since in raw:
        month = str(month_of(since))
        marked = regions.setdefault(county, Marked(county, month, []))
        marked.first = min(marked.first, month)
        marked.ids.append(pk)
    return sorted(regions.values(), key=lambda m: m.county), len(raw) == MARK_BATCH


def apply_marks(marks: list[Marked], summary: dict, deadline: float | None) -> None:
    stored = list(StoredMonth.objects.order_by("month").values_list("month", flat=True))
    counts = list(StoredCount.objects.all())
    for marked in marks:
        if deadline is not None and time.monotonic() > deadline:
            summary["complete"] = False
            return
        months = [m for m in stored if m >= marked.first]
        cells = compute(counts, marked.county, [period_of(m) for m in months])
        with transaction.atomic():
            summary["cells"] += replace(counts, marked.county, months, cells)
            marked.delete()
        summary["counties"] += 1


# Months of a new count filled by one query (the newest first), between budget checks.
FILL_MONTHS = 3


def fill_counts(summary: dict, deadline: float | None) -> None:
    """Fill the cells of counts not ready (a county's new indicator), FILL_MONTHS
    stored months at a time from the newest, until the budget is spent; a count whose
    every stored month is filled is marked ready (reads use its cells from then on).
    ``summary["filling"]``: the months filled of the months to fill, as the rebuild
    shows its progress."""
    not_ready = list(StoredCount.objects.filter(ready=False))
    if not not_ready:
        return
    stored = list(StoredMonth.objects.order_by("month").values_list("month", flat=True))

    def lacking(count: StoredCount) -> list[str]:
        return [m for m in stored if not count.filled_from or m < count.filled_from]

    progress = {"counts": len(not_ready), "months": len(stored) * len(not_ready), "filled": 0}
    summary["filling"] = progress
    everyone, stepped = list(not_ready), False
    while True:
        progress["filled"] = sum(len(stored) - len(lacking(c)) for c in everyone)
        done = [c.pk for c in not_ready if not lacking(c)]
        if done:
            StoredCount.objects.filter(pk__in=done).update(ready=True)
            summary["counts"] += len(done)
        not_ready = [c for c in not_ready if lacking(c)]
        if not not_ready:
            return
        if stepped and deadline is not None and time.monotonic() > deadline:
            summary["complete"] = False  # the rest next round (one step a round at least)
            return
        # The counts lacking the newest month, and the months before it they lack too.
        newest = max(lacking(c)[-1] for c in not_ready)
        counts = [c for c in not_ready if lacking(c)[-1] == newest]
        months = lacking(counts[0])[-FILL_MONTHS:]
        cells = compute(counts, "", [period_of(m) for m in months])
        with transaction.atomic():
            summary["cells"] += replace(counts, "", months, cells)
            StoredCount.objects.filter(pk__in=[c.pk for c in counts]).update(filled_from=months[0])
        for count in counts:
            count.filled_from = months[0]
        stepped = True


def refresh(budget_seconds: float | None = None) -> dict[str, Any]:
    """Bring marked cells up to date, then build the months and counts not stored yet
    (the current month once it begins, a new indicator's counts). Returns a summary:
    counties recounted, months and counts built, cells written, seconds, and whether
    the run finished (``complete``) or another refresher held the lock (``skipped``)."""
    started, started_at = time.monotonic(), timezone.now()
    deadline = None if budget_seconds is None else started + budget_seconds
    summary: dict[str, Any] = {
        "counties": 0,
        "months": 0,
        "counts": 0,
        "cells": 0,
        "complete": True,
        "skipped": False,
    }
    with exclusive() as got:
        if not got:
            summary["skipped"] = True
            return summary
        marks, more = read_marks()
        register(indicator_counts())
        fill_counts(summary, deadline)
        apply_marks(marks, summary, deadline)
        if summary["complete"]:
            have = set(StoredMonth.objects.values_list("month", flat=True))
            for period in reversed(wanted_months()):  # the newest first: dashboards ask for it
                if str(period) in have:
                    continue
                if deadline is not None and time.monotonic() > deadline:
                    summary["complete"] = False
                    break
                summary["cells"] += build_month(period)
                summary["months"] += 1
        if summary["complete"] and not more:
            # Every change committed before the run began is counted.
            StoreState.objects.update_or_create(pk=1, defaults={"refreshed_at": started_at})
    summary["seconds"] = round(time.monotonic() - started, 3)
    return summary
