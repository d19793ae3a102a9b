"""``corrections_answered_on_time_rate`` (issue 19 item 4): residents' correction requests
answered (accepted or refused) by their deadline, counted by hand at the boundaries, live
and from the pre-counted store.

Counted as assistance requests are: placed at the township holding the file, each once in
the month its deadline falls in, from 1 October (the statistical year) to the reference
date. The period is 2026-10; township A is 330106002, township B 330106004.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from liudong.people.models import CorrectionRequest
from liudong.stats import definitions, store
from liudong.stats.engine import Period, evaluate_counts
from liudong.stats.models import Indicator

from .conftest import resident
from .test_ontime_rates import rate
from .test_store import assert_store_equals_live, stored_value_of

D = datetime.date
CODE = "corrections_answered_on_time_rate"
TOWNSHIP_A, TOWNSHIP_B = "330106002", "330106004"


@pytest.fixture(autouse=True)
def standard_indicators(db):
    from django.apps import apps

    from liudong.stats import standard

    standard.install(apps)


def asked(deadline: D, answered: D | None = None, township: str = TOWNSHIP_A):
    person = resident(arrived=D(2026, 6, 1))
    return CorrectionRequest.objects.create(
        person=person,
        field="phone",
        requested_value="13800138000",
        note="说明",
        status="accepted" if answered else "open",
        deadline=deadline,
        answered_on=answered,
        holding_region_id=township,
    )


@pytest.fixture
def requests(villages):
    asked(D(2026, 10, 20), D(2026, 10, 20))  # answered on the deadline day: on time
    asked(D(2026, 10, 21), D(2026, 10, 22))  # a day late
    asked(D(2026, 10, 15))  # open past its deadline: late
    asked(D(2026, 11, 5))  # open, not due by 31 October: not counted
    asked(D(2026, 9, 30), D(2026, 9, 1))  # due in the statistical year before
    asked(D(2026, 10, 5), D(2026, 9, 30), township=TOWNSHIP_B)  # answered early: on time


def test_corrections_answered_by_their_deadline_by_hand(requests, report):
    total, rows = rate(report, CODE)
    assert total == 50.0  # 2 on time of 4 due (A: 3, B: 1)
    assert rows[TOWNSHIP_A] == round(100 / 3, 2)
    assert rows[TOWNSHIP_B] == 100.0


def test_the_on_time_and_late_counts(requests):
    late = definitions.parse({"count": "corrections", "where": {"answered_on_time": False}})
    on_time = definitions.parse({"count": "corrections", "where": {"answered_on_time": True}})
    values = evaluate_counts(
        [late, on_time], region="330106", period=Period(2026, 10), child_length=None
    )
    assert values[late][""] == 2
    assert values[on_time][""] == 2


def test_answering_late_stays_late(villages, report):
    made = asked(D(2026, 10, 15))
    assert rate(report, CODE)[0] == 0.0
    CorrectionRequest.objects.filter(pk=made.pk).update(answered_on=D(2026, 10, 16))
    assert rate(report, CODE)[0] == 0.0
    CorrectionRequest.objects.filter(pk=made.pk).update(answered_on=D(2026, 10, 15))
    assert rate(report, CODE)[0] == 100.0


def test_it_is_assessable_and_has_no_mean(villages):
    indicator = Indicator.objects.get(code=CODE)
    assert indicator.assessable and indicator.name_zh == "更正申请按时答复率"
    with pytest.raises(ValidationError, match="mean"):
        definitions.parse({"count": "corrections", "at": "mean"})


def test_a_request_marks_its_county_from_the_deadline(villages):
    from liudong.stats.models import StoreMark

    person = resident(arrived=D(2026, 6, 1))
    StoreMark.objects.all().delete()
    made = CorrectionRequest.objects.create(
        person=person,
        field="phone",
        requested_value="1",
        note="n",
        deadline=D(2026, 10, 20),
        holding_region_id=TOWNSHIP_A,
    )
    assert set(StoreMark.objects.values_list("county", "since")) == {("330106", D(2026, 10, 20))}
    StoreMark.objects.all().delete()
    CorrectionRequest.objects.filter(pk=made.pk).update(answered_on=D(2026, 10, 19))
    assert set(StoreMark.objects.values_list("county", "since")) == {("330106", D(2026, 10, 20))}


def test_the_store_counts_them_as_the_engine_does(settings, requests):
    settings.STATS_STORE = "on"
    settings.STATS_FROM = "2026-08"
    store.refresh()
    parsed = Indicator.objects.get(code=CODE).parsed
    assert stored_value_of(parsed.numerator, Period(2026, 10), "330106") == 2
    assert stored_value_of(parsed.denominator, Period(2026, 10), "330106") == 4
    made = CorrectionRequest.objects.filter(deadline=D(2026, 10, 15)).get()
    CorrectionRequest.objects.filter(pk=made.pk).update(answered_on=D(2026, 10, 14))
    assert stored_value_of(parsed.numerator, Period(2026, 10), "330106") == 2  # until refreshed
    store.refresh()
    assert stored_value_of(parsed.numerator, Period(2026, 10), "330106") == 3
    assert_store_equals_live()
