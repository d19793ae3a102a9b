"""The pre-counted statistics store (issue 15): the engine's counts kept per (count,
month, full region code) so reports, dashboards, trends, rankings, assessments and the
API add up stored cells instead of scanning the registry.

``read_counts`` is the read path (evaluate_counts' signature and shape);
``refresh`` brings marked cells up to date (the worker calls it). Setting
``LIUDONG_STATS_STORE``: ``on`` (default) reads the store where a month is stored and a
count ready, and counts the rest live; ``off`` counts everything live; ``check`` (the
test suite) refreshes first, reads the store and the engine and raises AssertionError
naming the count, month and key of any difference.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings

from liudong.stats.definitions import Count, Definition, Ratio
from liudong.stats.engine import Period, evaluate_counts

from . import counting
from .counting import Counted
from .models import StoredMonth, StoreMark, StoreState
from .refresher import apply_marks, exclusive, read_marks, refresh

__all__ = ["as_of", "mode", "read_counts", "read_months", "refresh", "register_definition"]

MODES = ("on", "off", "check")


def mode() -> str:
    chosen = settings.STATS_STORE
    if chosen not in MODES:
        raise ValueError(f"LIUDONG_STATS_STORE is on, off or check, not {chosen!r}")
    return chosen


def read_counts(
    counts: Iterable[Count], *, region: str, period: Period, child_length: int | None
) -> Counted:
    """What ``evaluate_counts`` returns, added up from the store where it can be."""
    return read_months(counts, region=region, periods=[period], child_length=child_length)[period]


def read_months(
    counts: Iterable[Count], *, region: str, periods: Iterable[Period], child_length: int | None
) -> dict[Period, Counted]:
    """``read_counts`` for several months (a dashboard's trend): the registry, the stored
    months and the cells each read once for all of them, not once a month."""
    wanted = list(dict.fromkeys(counts))
    months = list(dict.fromkeys(periods))
    chosen = mode()
    if chosen == "off" or not wanted:
        return {
            p: evaluate_counts(wanted, region=region, period=p, child_length=child_length)
            for p in months
        }
    if chosen == "check":
        return {
            p: _checked(wanted, region=region, period=p, child_length=child_length) for p in months
        }
    registry = counting.register(wanted)
    ready = {c: s for c, s in registry.items() if s.ready}
    stored = set(
        StoredMonth.objects.filter(month__in=[str(p) for p in months]).values_list(
            "month", flat=True
        )
    )
    from_store = [p for p in months if str(p) in stored] if ready else []
    values = counting.read_months(
        ready, region=region, periods=from_store, child_length=child_length
    )
    result: dict[Period, Counted] = {}
    for p in months:
        got = values.get(p, {}) if p in from_store else {}
        live = [c for c in wanted if c not in got]
        if live:
            got.update(evaluate_counts(live, region=region, period=p, child_length=child_length))
        result[p] = got
    return result


def _checked(
    wanted: list[Count], *, region: str, period: Period, child_length: int | None
) -> Counted:
    """Refresh now, then hold the store's figures against the engine's."""
    with exclusive() as got:
        assert got, "another refresher holds the statistics store"
        more = True
        while more:
            marks, more = read_marks()
            apply_marks(marks, {"cells": 0, "counties": 0, "complete": True}, None)
        registry = counting.register(wanted)
        not_ready = [s for s in registry.values() if not s.ready]
        if not_ready:
            counting.build_counts(not_ready)
            for s in not_ready:
                s.ready = True
        if not StoredMonth.objects.filter(month=str(period)).exists():
            counting.build_month(period)
    stored = counting.read(registry, region=region, period=period, child_length=child_length)
    live = evaluate_counts(wanted, region=region, period=period, child_length=child_length)
    for count in wanted:
        mine, theirs = dict(stored[count]), dict(live[count])
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                raise AssertionError(
                    f"statistics store differs from the live engine: count "
                    f"{counting.count_key(count)} month {period} region {region} key "
                    f"{key!r}: store {mine.get(key)}, live {theirs.get(key)}"
                )
    return stored


def register_definition(parsed: Definition) -> None:
    """Keep a new indicator's counts from now on: registered not ready, so reads count
    them live until the refresher has filled every stored month."""
    if isinstance(parsed, Ratio):
        counting.register(s for s in (parsed.numerator, parsed.denominator) if isinstance(s, Count))
    else:
        counting.register([parsed])


def as_of() -> datetime.datetime | None:
    """When the stored figures were last complete, if changes are waiting to be counted
    (pages then say "figures as of ..."); None when they are current or not stored."""
    if mode() != "on" or not StoreMark.objects.exists():
        return None
    return StoreState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
