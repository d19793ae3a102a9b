"""`liudong stats rebuild`: recount the store from scratch (everything, or one region's
subtree). The engine counts several months at once (evaluate_periods: one grouped query
per population covers MONTHS_PER_STEP months at child_length 15) over the whole subtree
asked about, the nation for a full rebuild: counting province by province scanned the
stays and births of the whole country again for each province's outflow and births
(a province's query cannot use an index on where its outflow lives), 31 times a month.
Each step's cells replace the old ones in one transaction, so readers see a month either
as it was or rebuilt. Region changes (a county made a district, new codes) alter counts
without marking any cell: rebuild after them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from liudong.regions.codes import subtree_bounds
from liudong.stats.engine import Period

from . import counting
from .models import StoreCell, StoredCount, StoredMonth, StoreState
from .refresher import exclusive, indicator_counts, read_marks, wanted_months

# Months counted by one query per population: fewer scans the more, but the cells of
# the whole country for these months are held in memory at once (about 170,000 a month
# at a million persons, ~30 MB).
MONTHS_PER_STEP = 9
# PostgreSQL work memory of the rebuild's session: a step groups a million stays by
# their code with a few hundred figures each; at the default 4 MB the sort spills to
# disk. One session, one query at a time, so the memory is bounded.
WORK_MEM = "256MB"


@contextlib.contextmanager
def roomy() -> Iterator[None]:
    """PostgreSQL: WORK_MEM for this session until the block ends."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('work_mem'), set_config('work_mem', %s, false)", [WORK_MEM]
        )
        previous = cursor.fetchone()[0]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, false)", [previous])


class Busy(RuntimeError):
    """Another refresher or rebuild holds the store."""


def rebuild(
    *,
    region: str = "",
    first: Period | None = None,
    step: Callable[[str, Period], None] | None = None,
    planned: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Recount ``region``'s subtree (the nation when empty) for every month from
    ``first`` (kept as the store's first month) to the current one. ``planned(n)`` is told
    the number of months, ``step(region, month)`` after each is stored."""
    started, started_at = time.monotonic(), timezone.now()
    with exclusive() as got:
        if not got:
            raise Busy("another refresher or rebuild is running; try again when it ends")
        # Every change committed before the counting begins is counted: all the marks
        # visible now go when it ends (a bulk load leaves more than one batch; left, the
        # refresher recounted each county they name once more). Later ones stay.
        marks, more = read_marks()
        while more:
            batch, more = read_marks(after=max(i for m in marks for i in m.ids))
            marks += batch
        if first is not None:
            StoreState.objects.update_or_create(pk=1, defaults={"first_month": str(first)})
        counting.register(indicator_counts())
        counts = list(StoredCount.objects.all())
        months = wanted_months()
        if not region:
            # Months outside the range go; the rest are rewritten below.
            kept = [str(m) for m in months]
            StoreCell.objects.exclude(month__in=kept).delete()
            StoredMonth.objects.exclude(month__in=kept).delete()
        steps = [months[i : i + MONTHS_PER_STEP] for i in range(0, len(months), MONTHS_PER_STEP)]
        if planned:
            planned(len(months))
        cells, counting_s, writing_s = 0, 0.0, 0.0
        with roomy():
            for chunk in steps:
                began = time.monotonic()
                computed = counting.compute(counts, region, chunk)
                counted = time.monotonic()
                with transaction.atomic():
                    cells += counting.replace(counts, region, [str(p) for p in chunk], computed)
                del computed
                counting_s += counted - began
                writing_s += time.monotonic() - counted
                if not region:
                    for period in chunk:
                        StoredMonth.objects.update_or_create(
                            month=str(period), defaults={"counted_at": timezone.now()}
                        )
                if step:
                    for period in chunk:
                        step(region or "all", period)
        low, high = subtree_bounds(region)
        with transaction.atomic():
            for marked in marks:
                if low <= marked.county <= high:
                    marked.delete()
            if not region:
                StoredCount.objects.update(ready=True)
                # Every change committed before the rebuild began is counted: pages name
                # this time when changes wait ("figures as of"), as after a refresh;
                # without it they named none until the first refresh.
                StoreState.objects.update_or_create(pk=1, defaults={"refreshed_at": started_at})
    return {
        "region": region or "all",
        "months": len(months),
        "steps": len(steps),
        "cells": cells,
        "seconds": round(time.monotonic() - started, 3),
        "counting_seconds": round(counting_s, 3),
        "writing_seconds": round(writing_s, 3),
    }
