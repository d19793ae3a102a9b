"""Assessment: weighted indicators scored against targets (full marks at or above,
proportional below), deductions for late and returned monthly reports, a ranked table."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from liudong.stats import services
from liudong.stats.engine import Period
from liudong.stats.models import Indicator, ReportEvent

from .conftest import resident

TODAY = datetime.date(2026, 11, 22)
YEAR = 2027  # October 2026 is its first month
ITEMS = [
    {"indicator": "inflow_verification_rate", "weight": 60},
    {"indicator": "free_service_rate", "weight": 40},
]


@pytest.fixture
def scheme(county_admin):
    rate = Indicator.objects.get(code="inflow_verification_rate")
    services.set_target(
        acting_user=county_admin, indicator=rate, region_code="330106", year=YEAR, value=80
    )
    return services.create_scheme(
        acting_user=county_admin, name="2027年度流动人口工作考核", year=YEAR, items=ITEMS
    )


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "at least one"),
        ([{"indicator": "no_such_rate", "weight": 10}], "no_such_rate"),
        ([{"indicator": "free_service_rate", "weight": 0}], "above 0"),
        ([{"indicator": "free_service_rate", "weight": 5}] * 2, "twice"),
        ([{"indicator": "free_service_rate"}], "POINTS"),
    ],
)
def test_a_scheme_is_checked_before_it_is_saved(county_admin, items, message):
    with pytest.raises(ValidationError, match=message):
        services.create_scheme(acting_user=county_admin, name="x", year=YEAR, items=items)


def test_item_scores_are_full_at_target_and_proportional_below():
    higher = Indicator(code="a_rate", direction="higher", unit="percent")
    lower = Indicator(code="b_rate", direction="lower", unit="percent")
    assert services.item_score(higher, 60, 85.0, 80) == 60
    assert services.item_score(higher, 60, 40.0, 80) == 30
    assert services.item_score(higher, 60, None, 80) is None  # nothing to count: unscored
    assert services.item_score(higher, 60, 10.0, None) == 6  # no target: against 100%
    count = Indicator(code="c_count", direction="higher", unit="count")
    assert services.item_score(count, 60, 10, None) == 60  # a count without one: unjudged
    assert services.item_score(lower, 10, 2.0, 4) == 10
    assert services.item_score(lower, 10, 8.0, 4) == 5


def test_units_are_scored_ranked_and_docked_for_late_and_returned_reports(
    scheme, township_a, township_b, county_admin, settings
):
    settings.RANKING_MIN_DENOMINATOR = 1  # units of one or two women ranked here
    resident(verified=datetime.date(2026, 4, 1))  # 北山街道: 1 of 2 verified = 50%
    resident()
    resident(lives_in="330106004001", verified=datetime.date(2026, 4, 1))  # 西溪街道: 100%
    # 北山 submits October on time (by 5 November); 西溪 is returned once, then resubmits late.
    on_time = services.submit_report(acting_user=township_a, period=Period(2026, 10), today=TODAY)
    ReportEvent.objects.filter(report=on_time).update(
        at=timezone.make_aware(datetime.datetime(2026, 11, 3, 9))
    )
    late = services.submit_report(acting_user=township_b, period=Period(2026, 10), today=TODAY)
    services.return_report(acting_user=county_admin, report=late, reason="请核实")
    services.submit_report(acting_user=township_b, period=Period(2026, 10), today=TODAY)

    table = services.assess(scheme, acting_user=county_admin, today=TODAY)
    rows = {row["region"]: row for row in table["rows"]}
    beishan, xixi = rows["330106002"], rows["330106004"]
    assert table["full_marks"] == 100 and table["period"] == "2026-10"
    # 50% of an 80% target: 37.5 of 60 points; no free service given and no target set:
    # measured against 100%, 0 of 40.
    assert beishan["items"][0]["score"] == 37.5
    assert beishan["items"][1]["score"] == 0.0
    assert beishan["late"] == 0 and beishan["returned"] == 0
    assert xixi["items"][0]["score"] == 60.0
    assert xixi["late"] == 1 and xixi["returned"] == 1
    assert xixi["deductions"] == 3.0  # 2 for the late month, 1 for the return
    assert xixi["score"] == round(60.0 + xixi["items"][1]["score"] - 3.0, 2)
    assert [row["rank"] for row in table["rows"]][:2] == [1, 2]
    never = rows["330106005"]  # submitted nothing: late for October
    assert never["late"] == 1


def test_a_township_sees_the_schemes_it_is_scored_by(scheme, township_a, county_b_admin):
    assert list(services.schemes_in_scope(township_a)) == [scheme]
    assert not services.schemes_in_scope(county_b_admin).exists()


def test_a_county_sets_up_a_scheme_and_reads_the_ranked_table(county_admin, client_for, settings):
    settings.RANKING_MIN_DENOMINATOR = 1  # one woman is enough to be ranked here
    import io

    from openpyxl import load_workbook

    resident(verified=datetime.date(2026, 4, 1))
    client = client_for(county_admin)
    response = client.post(
        "/stats/assessments/",
        {
            "name": "年度考核",
            "year": YEAR,
            "due_day": 5,
            "late_deduction": "2",
            "return_deduction": "1",
            "weight_inflow_verification_rate": "100",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response.url).content.decode()
    assert "北山街道" in page and "assessment-table" in page
    workbook = load_workbook(io.BytesIO(client.get(response.url.rstrip("/") + ".xlsx").content))
    rows = [[c.value for c in row] for row in workbook.active.iter_rows()]
    assert rows[0][:3] == ["名次", "区划代码", "单位名称"] and rows[0][-1] == "总分"
    assert rows[1][1] == "330106002"  # 100% verified: first


def test_a_scheme_without_weights_is_refused_on_the_page(county_admin, client_for):
    response = client_for(county_admin).post(
        "/stats/assessments/",
        {"name": "空", "year": YEAR, "due_day": 5, "late_deduction": "2", "return_deduction": "1"},
    )
    assert response.status_code == 200
    assert "请至少列出一项考核指标" in response.content.decode()  # the page speaks Chinese
