"""The store's read path for several months at once (store.read_months): a dashboard's
twelve-month trend reads the registry, the stored months and the cells once, not once a
month, and gives what the engine counts month by month, stored months and months counted
live alike."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from liudong.stats import services, store
from liudong.stats.engine import Period, evaluate_counts
from liudong.stats.models import Indicator, StoredMonth
from liudong.stats.store import refresher

from .conftest import certificate, child, resident, service

D = datetime.date
# 2026-06 and 2026-07 lie before the first stored month: counted live.
MONTHS = [Period(2026, m) for m in (6, 7, 8, 9, 10, 11)]
REGIONS = ["33", "330106", "330106002", "330106002001", "411326"]
CHILD_LENGTHS = {2: 4, 6: 9, 9: 12, 12: 15}


@pytest.fixture
def stored(settings, villages):
    settings.STATS_STORE = "on"
    settings.STATS_FROM = "2026-08"
    people = [
        resident(arrived=D(2026, 7, 20), verified=D(2026, 8, 10)),
        resident(age=40, sex="1", arrived=D(2026, 9, 1)),
        resident(household="330105", lives_in="330106004001", arrived=D(2026, 2, 1)),
        resident(household="330106", lives_in="411326", arrived=D(2025, 12, 1)),
    ]
    certificate(people[0], issued=D(2026, 8, 1))
    service(people[0], D(2026, 9, 12))
    child(people[0], D(2026, 10, 9), sex="2")
    store.refresh()
    assert not StoredMonth.objects.filter(month__in=["2026-06", "2026-07"]).exists()
    assert StoredMonth.objects.filter(month="2026-08").exists()


def test_months_read_together_equal_the_engine_month_by_month(stored):
    counts = refresher.indicator_counts()
    for region in REGIONS:
        for child_length in (CHILD_LENGTHS.get(len(region)), None):
            read = store.read_months(
                counts, region=region, periods=MONTHS, child_length=child_length
            )
            assert list(read) == MONTHS
            for period in MONTHS:
                live = evaluate_counts(
                    counts, region=region, period=period, child_length=child_length
                )
                for count in counts:
                    assert dict(read[period][count]) == dict(live[count]), (
                        count,
                        region,
                        period,
                        child_length,
                    )


def test_the_trend_reads_its_stored_months_in_one_query(stored):
    indicator = Indicator.objects.get(code="inflow_total")
    with CaptureQueriesContext(connection) as seen:
        points = services.trend(indicator, "330106", Period(2026, 11))
    cells = [q for q in seen.captured_queries if "stats_storecell" in q["sql"]]
    registry = [q for q in seen.captured_queries if "stats_storedcount" in q["sql"]]
    assert len(cells) == 1 and len(registry) == 1
    assert [p["period"] for p in points][-4:] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    live = evaluate_counts(
        [indicator.parsed], region="330106", period=Period(2026, 11), child_length=None
    )
    assert points[-1]["value"] == int(live[indicator.parsed][""])
