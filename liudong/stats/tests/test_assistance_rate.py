"""``assistance_answered_on_time_rate`` (DESIGN.md §5, issue 7 part 4) counted by hand at
its boundaries: the side asked is assessed (incoming requests, at the region answering);
a request is due in the statistical year to the reference date when its deadline falls
from 1 October to the period's last day; on time = answered on or before the deadline.

Township A (330106002) answers in 北山社区 (330106002001), township B (330106004) in
西溪社区 (330106004001). The period is 2026-10 unless a test says otherwise.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError

from liudong.exchange.models import AssistanceRequest
from liudong.stats.engine import Period
from liudong.stats.models import Indicator

D = datetime.date
VILLAGE_A1 = "330106002001"
VILLAGE_B1 = "330106004001"
CODE = "assistance_answered_on_time_rate"
_ids = itertools.count(11, 2)


@pytest.fixture(autouse=True)
def standard_indicators(db):
    """As migration 0009 installs them (a transactional test may have emptied the table)."""
    from django.apps import apps

    from liudong.stats import standard

    standard.install(apps)


def asked(deadline, answered=None, *, region=VILLAGE_A1, direction="incoming", urgency="normal"):
    from liudong.people.idnumbers import make

    return AssistanceRequest.objects.create(
        direction=direction,
        id_number=make("411326", D(1990, 1, 1), next(_ids), "2"),
        question="marital_status",
        urgency=urgency,
        asked_on=deadline - datetime.timedelta(days=30 if urgency == "normal" else 15),
        deadline=deadline,
        region_id=region,
        other_region="41",
        answered_on=answered,
        finding="confirmed" if answered else "",
        answer="与档案一致" if answered else "",
    )


@pytest.fixture
def requests(villages):
    asked(D(2026, 10, 31), D(2026, 10, 31))  # answered on the deadline day: on time
    asked(D(2026, 10, 20), D(2026, 10, 21))  # a day late
    asked(D(2026, 11, 1))  # unanswered, not due by 31 October
    asked(D(2026, 10, 15))  # unanswered, overdue
    asked(D(2026, 9, 30), D(2026, 9, 1))  # due in the statistical year before
    asked(D(2026, 10, 10), direction="outgoing")  # we asked: the other side is assessed
    asked(D(2026, 10, 5), D(2026, 10, 1), region=VILLAGE_B1, urgency="urgent")  # on time
    asked(D(2026, 11, 5), D(2026, 10, 20))  # answered early, due in November


OCTOBER = Period(2026, 10)


def rate(report, code="330106", period=OCTOBER):
    figures = report(code, period)
    rows = {row["region"]: row["indicators"][CODE] for row in figures["rows"]}
    return figures["indicators"][CODE], rows


def test_due_requests_and_answers_on_time_by_hand(requests, report):
    total, rows = rate(report)
    assert total == 50.0  # on time 2 (A on the day, B) of 4 due (A: 3, B: 1)
    assert rows["330106002"] == round(100 / 3, 2) == 33.33
    assert rows["330106004"] == 100.0
    township, villages = rate(report, "330106002")
    assert township == 33.33 and villages[VILLAGE_A1] == 33.33


def test_a_later_month_counts_what_fell_due_since(requests, report):
    # November adds the one unanswered (due 1 November) and the one answered early.
    assert rate(report, period=Period(2026, 11))[0] == 50.0  # 3 of 6
    # September belongs to the statistical year before: only its own request.
    assert rate(report, period=Period(2026, 9))[0] == 100.0


def test_nothing_due_is_no_rate(villages, report):
    asked(D(2026, 11, 1))  # not due yet
    assert rate(report)[0] is None


def test_the_counts_by_urgency(requests):
    from liudong.stats import definitions
    from liudong.stats.engine import evaluate_counts

    urgent = definitions.parse({"count": "assistance", "where": {"urgency": "urgent"}})
    late = definitions.parse({"count": "assistance", "where": {"answered_on_time": False}})
    values = evaluate_counts(
        [urgent, late], region="330106", period=Period(2026, 10), child_length=None
    )
    assert values[urgent][""] == 1
    assert values[late][""] == 2  # a day late, and never answered


def test_it_is_a_standard_indicator():
    indicator = Indicator.objects.get(code=CODE)
    assert indicator.standard and indicator.unit == "percent" and indicator.direction == "higher"
    assert indicator.name_zh == "协查按时办结率"
    indicator.full_clean()


def test_the_assistance_vocabulary_is_checked():
    from liudong.stats import definitions

    with pytest.raises(ValidationError, match="does not apply"):
        definitions.parse({"count": "assistance", "where": {"sex": "2"}})
    with pytest.raises(ValidationError, match="does not apply"):
        definitions.parse({"count": "inflow", "where": {"answered_on_time": True}})
    with pytest.raises(ValidationError, match="urgent"):
        definitions.parse({"count": "assistance", "where": {"urgency": "soon"}})
    with pytest.raises(ValidationError, match="no mean"):
        definitions.parse({"count": "assistance", "at": "mean"})
