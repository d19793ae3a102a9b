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
import datetime
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from liudong.stats.definitions import Count, Ratio
from liudong.stats.engine import Period

from . import counting
from .models import StoredCount, StoredMonth, StoreMark, StoreState

LOCK_KEY = 1_505_115  # pg advisory lock id of the refresher ("15" + "store")
LEASE = datetime.timedelta(minutes=15)
MARK_BATCH = 5000


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
    chosen = chosen or getattr(settings, "LIUDONG_STATS_FROM", "")
    if chosen:
        return counting.period_of(chosen)
    return counting.month_of(today or timezone.localdate()).shifted(-24)


def wanted_months(today: datetime.date | None = None) -> list[Period]:
    today = today or timezone.localdate()
    month, last = first_month(today), counting.month_of(today)
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


def apply_marks(
    marks: list[tuple[int, str, datetime.date]], summary: dict, deadline: float | None
) -> None:
    stored = list(StoredMonth.objects.order_by("month").values_list("month", flat=True))
    counts = list(StoredCount.objects.all())
    regions: dict[str, tuple[str, list[int]]] = {}
    for pk, county, since in marks:
        first, ids = regions.get(county, ("9999-12", []))
        regions[county] = (min(first, str(counting.month_of(since))), [*ids, pk])
    for county, (first, ids) in sorted(regions.items()):
        if deadline is not None and time.monotonic() > deadline:
            summary["complete"] = False
            return
        months = [m for m in stored if m >= first]
        cells = [c for m in months for c in counting.compute(counts, county, counting.period_of(m))]
        with transaction.atomic():
            summary["cells"] += counting.replace(counts, county, months, cells)
            StoreMark.objects.filter(pk__in=ids).delete()
        summary["counties"] += 1


def read_marks() -> list[tuple[int, str, datetime.date]]:
    return list(StoreMark.objects.order_by("id").values_list("id", "county", "since")[:MARK_BATCH])


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
        marks = read_marks()
        counting.register(indicator_counts())
        not_ready = list(StoredCount.objects.filter(ready=False))
        if not_ready:
            summary["cells"] += counting.build_counts(not_ready)
            summary["counts"] = len(not_ready)
        apply_marks(marks, summary, deadline)
        if summary["complete"]:
            have = set(StoredMonth.objects.values_list("month", flat=True))
            for period in reversed(wanted_months()):  # the newest first: dashboards ask for it
                if str(period) in have:
                    continue
                if deadline is not None and time.monotonic() > deadline:
                    summary["complete"] = False
                    break
                summary["cells"] += counting.build_month(period)
                summary["months"] += 1
        if summary["complete"] and len(marks) < MARK_BATCH:
            # Every change committed before the run began is counted.
            StoreState.objects.update_or_create(pk=1, defaults={"refreshed_at": started_at})
    summary["seconds"] = round(time.monotonic() - started, 3)
    return summary
