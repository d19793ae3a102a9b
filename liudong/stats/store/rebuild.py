"""`liudong stats rebuild`: recount the store from scratch (everything, or one region's
subtree), one province and month at a time at child_length 15: one scan per population
per province-month, cheaper than recounting county by county. Region changes (a county
made a district, new codes) alter counts without marking any cell: rebuild after them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from liudong.regions.codes import subtree_bounds
from liudong.regions.models import Level, Region
from liudong.stats.engine import Period

from . import counting
from .models import StoreCell, StoredCount, StoredMonth, StoreState
from .refresher import exclusive, indicator_counts, read_marks, wanted_months


class Busy(RuntimeError):
    """Another refresher or rebuild holds the store."""


def rebuild(
    *,
    region: str = "",
    first: Period | None = None,
    step: Callable[[str, Period], None] | None = None,
    planned: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Recount ``region``'s subtree (every province when empty) for every month from
    ``first`` (kept as the store's first month) to the current one. ``planned(n)`` is told
    the number of steps, ``step(region, month)`` after each."""
    started = time.monotonic()
    with exclusive() as got:
        if not got:
            raise Busy("another refresher or rebuild is running; try again when it ends")
        marks, _more = read_marks()  # the rest stay for the refresher
        if first is not None:
            StoreState.objects.update_or_create(pk=1, defaults={"first_month": str(first)})
        counting.register(indicator_counts())
        counts = list(StoredCount.objects.all())
        months = wanted_months()
        if region:
            regions = [region]
        else:
            regions = list(
                Region.objects.filter(level=Level.PROVINCE)
                .order_by("code")
                .values_list("code", flat=True)
            )
            # Months outside the range go; the rest are rewritten below.
            kept = [str(m) for m in months]
            StoreCell.objects.exclude(month__in=kept).delete()
            StoredMonth.objects.exclude(month__in=kept).delete()
        if planned:
            planned(len(months) * len(regions))
        cells = 0
        for period in months:
            for code in regions:
                cells += counting.recount(counts, code, [str(period)])
                if step:
                    step(code, period)
            if not region:
                StoredMonth.objects.update_or_create(
                    month=str(period), defaults={"counted_at": timezone.now()}
                )
        low, high = subtree_bounds(region)
        with transaction.atomic():
            for marked in marks:
                if low <= marked.county <= high:
                    marked.delete()
            if not region:
                StoredCount.objects.update(ready=True)
    return {
        "region": region or "all",
        "months": len(months),
        "regions": len(regions),
        "cells": cells,
        "seconds": round(time.monotonic() - started, 3),
    }
