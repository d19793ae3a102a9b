"""``registration_timely_rate`` and ``notices_answered_on_time_rate`` (issue 16 item 8:
offices are assessed on registration and notices answered on time) counted by hand at
their boundaries.

Registration: of the inflow stays begun in the period (and covering its last day), those
entered in the system (the stay's ``created``, as a date in Beijing) within 30 days of the
arrival. Notices: notices to obtain a certificate given at the region whose deadline fell
from 1 October to the reference date, as assistance requests are counted; on time =
fulfilled on or before the deadline; one left open because she moved away by its deadline
is not counted.

Township A (330106002) in 北山社区 (330106002001), township B (330106004) in 西溪社区
(330106004001). The period is 2026-10.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from liudong.certificates.models import Notice
from liudong.people.models import ResidenceEpisode
from liudong.stats import definitions
from liudong.stats.engine import Period, evaluate_counts
from liudong.stats.models import Indicator

from .conftest import resident

D = datetime.date
BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
VILLAGE_A1 = "330106002001"
VILLAGE_B1 = "330106004001"
OCTOBER = Period(2026, 10)
REGISTRATION = "registration_timely_rate"
NOTICES = "notices_answered_on_time_rate"


def beijing(month: int, day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, tzinfo=BEIJING)


@pytest.fixture(autouse=True)
def standard_indicators(db):
    """As migration 0013 installs them (a transactional test may have emptied the table)."""
    from django.apps import apps

    from liudong.stats import standard

    standard.install(apps)


@pytest.fixture
def arrivals(villages):
    """Inflow stays of October and around it, each entered on a known Beijing day."""
    on_time_same_day = resident(arrived=D(2026, 10, 5), registered=beijing(10, 5))
    on_time_day_30 = resident(arrived=D(2026, 10, 1), registered=beijing(10, 31, 23))
    # 1 November 01:00 in Beijing is still 31 October in UTC: late by the office's day.
    late_day_31 = resident(arrived=D(2026, 10, 1), registered=beijing(11, 1, 1))
    late_man = resident(
        sex="1", lives_in=VILLAGE_B1, arrived=D(2026, 10, 10), registered=beijing(12, 1)
    )
    in_advance = resident(lives_in=VILLAGE_B1, arrived=D(2026, 10, 15), registered=beijing(10, 12))
    # Not counted: arrived in September; not floating (same county); gone by 31 October.
    september = resident(arrived=D(2026, 9, 28), registered=beijing(10, 1))
    resident(household="330106", arrived=D(2026, 10, 2), registered=beijing(12, 1))
    resident(arrived=D(2026, 10, 3), left=D(2026, 10, 20), registered=beijing(12, 1))
    return {
        "on time": [on_time_same_day, on_time_day_30, in_advance, september],
        "late": [late_day_31, late_man],
    }


def rate(report, code, region="330106", period=OCTOBER):
    figures = report(region, period)
    rows = {row["region"]: row["indicators"][code] for row in figures["rows"]}
    return figures["indicators"][code], rows


def test_stays_registered_within_30_days_of_arrival_by_hand(arrivals, report):
    total, rows = rate(report, REGISTRATION)
    assert total == 60.0  # 3 on time (A: same day, day 30; B: in advance) of 5 begun
    assert rows["330106002"] == round(200 / 3, 2) == 66.67  # the day-31 one is late
    assert rows["330106004"] == 50.0  # the man registered in December is late


def test_a_late_registration_lowers_the_month_the_stay_began_in(arrivals, report):
    stay = ResidenceEpisode.objects.get(person=arrivals["on time"][0])
    ResidenceEpisode.objects.filter(pk=stay.pk).update(created=beijing(11, 20))
    assert rate(report, REGISTRATION)[0] == 40.0  # 2 of 5
    assert rate(report, REGISTRATION, period=Period(2026, 11))[0] is None  # no stay began


def test_the_filter_counts_outflow_stays_too(arrivals):
    registered = definitions.parse({"count": "outflow", "where": {"registered_within_days": 30}})
    everyone = definitions.parse({"count": "outflow"})
    within_40 = definitions.parse({"count": "outflow", "where": {"registered_within_days": 40}})
    values = evaluate_counts(
        [registered, everyone, within_40], region="41", period=OCTOBER, child_length=None
    )
    # Stays of the Henan files covering 31 October: 4 entered within 30 days (September's
    # too: the filter is on the stay, whenever it began), the day-31 one within 40.
    assert values[everyone][""] == 6
    assert values[registered][""] == 4
    assert values[within_40][""] == 5


def notice(person, deadline, fulfilled=None):
    stay = ResidenceEpisode.objects.filter(person=person).get()
    return Notice.objects.create(
        person=person,
        episode=stay,
        region_id=stay.region_id,
        issued_on=deadline - datetime.timedelta(days=91),
        deadline=deadline,
        fulfilled_on=fulfilled,
    )


@pytest.fixture
def notices(villages):
    def given(deadline, fulfilled=None, *, lives_in=VILLAGE_A1, left=None):
        person = resident(lives_in=lives_in, arrived=D(2026, 6, 1), left=left)
        return notice(person, deadline, fulfilled)

    given(D(2026, 10, 31), D(2026, 10, 31))  # fulfilled on the deadline day: on time
    given(D(2026, 10, 20), D(2026, 10, 22))  # fulfilled two days late
    given(D(2026, 10, 15))  # open past its deadline, she still lives here: late
    given(D(2026, 11, 5))  # open, not due by 31 October
    given(D(2026, 10, 10), left=D(2026, 10, 8))  # she left before the deadline: not counted
    given(D(2026, 10, 12), left=D(2026, 10, 25))  # she left after it, still open: late
    given(D(2026, 9, 30), D(2026, 9, 1))  # due in the statistical year before
    given(D(2026, 10, 5), D(2026, 9, 30), lives_in=VILLAGE_B1)  # on time


def test_notices_fulfilled_by_their_deadline_by_hand(notices, report):
    total, rows = rate(report, NOTICES)
    assert total == 40.0  # on time 2 (A on the day, B) of 5 due (A: 4, B: 1)
    assert rows["330106002"] == 25.0
    assert rows["330106004"] == 100.0
    township, villages = rate(report, NOTICES, "330106002")
    assert township == 25.0 and villages[VILLAGE_A1] == 25.0


def test_a_later_month_counts_the_notices_fallen_due_since(notices, report):
    # November adds the open one due on 5 November: 2 of 6.
    assert rate(report, NOTICES, period=Period(2026, 11))[0] == round(200 / 6, 2)
    # September belongs to the statistical year before: only its own notice.
    assert rate(report, NOTICES, period=Period(2026, 9))[0] == 100.0


def test_the_overdue_and_on_time_notice_counts(notices):
    late = definitions.parse({"count": "notices", "where": {"answered_on_time": False}})
    on_time = definitions.parse({"count": "notices", "where": {"answered_on_time": True}})
    values = evaluate_counts([late, on_time], region="330106", period=OCTOBER, child_length=None)
    assert values[late][""] == 3  # two days late, open and overdue, open when she left late
    assert values[on_time][""] == 2


def test_fulfilling_a_notice_late_is_counted_late(villages, report):
    person = resident(arrived=D(2026, 6, 1))
    given = notice(person, D(2026, 10, 15))
    assert rate(report, NOTICES)[0] == 0.0
    Notice.objects.filter(pk=given.pk).update(fulfilled_on=D(2026, 10, 30))
    assert rate(report, NOTICES)[0] == 0.0  # fulfilled after the deadline: still late
    Notice.objects.filter(pk=given.pk).update(fulfilled_on=D(2026, 10, 15))
    assert rate(report, NOTICES)[0] == 100.0


@pytest.mark.parametrize(
    ("code", "name_zh"),
    [(REGISTRATION, "流入人口登记及时率"), (NOTICES, "通知按时办结率")],
)
def test_they_are_standard_assessable_indicators(code, name_zh):
    indicator = Indicator.objects.get(code=code)
    assert indicator.standard and indicator.unit == "percent" and indicator.direction == "higher"
    assert indicator.name_zh == name_zh
    assert indicator.assessable
    indicator.full_clean()


def test_the_vocabulary_is_checked():
    with pytest.raises(ValidationError, match="does not apply"):
        definitions.parse({"count": "notices", "where": {"sex": "2"}})
    with pytest.raises(ValidationError, match="does not apply"):
        definitions.parse({"count": "births", "where": {"registered_within_days": 30}})
    with pytest.raises(ValidationError, match="0 to 366"):
        definitions.parse({"count": "inflow", "where": {"registered_within_days": 400}})
    with pytest.raises(ValidationError, match="no mean"):
        definitions.parse({"count": "notices", "at": "mean"})


def test_a_county_indicator_form_writes_the_registration_filter(villages):
    from liudong.stats.forms import IndicatorForm

    form = IndicatorForm(
        data={
            "code": "inflow_registered_7d",
            "name_zh": "流入人口7日内登记数",
            "name_en": "inflow registered within 7 days",
            "kind": "count",
            "direction": "higher",
            "population": "inflow",
            "registered_within_days": "7",
        }
    )
    assert form.is_valid(), form.errors
    assert form.definition() == {"count": "inflow", "where": {"registered_within_days": 7}}
