"""Targets (set per year, inherited from above), and the dashboard built on the report:
key indicators against targets, a twelve-month trend using frozen months, a ranking."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from liudong.stats import services
from liudong.stats.engine import Period
from liudong.stats.models import Indicator, statistical_year_of

from .conftest import PERIOD, resident

OCTOBER = Period(2026, 10)
YEAR = 2027  # 1 October 2026 to 30 September 2027


def _indicator(code: str) -> Indicator:
    return Indicator.objects.get(code=code)


def test_the_statistical_year_is_named_by_the_year_it_ends_in():
    assert statistical_year_of(datetime.date(2026, 9, 30)) == 2026
    assert statistical_year_of(datetime.date(2026, 10, 1)) == 2027


def test_a_target_is_inherited_unless_the_unit_has_its_own(county_admin):
    rate = _indicator("inflow_verification_rate")
    services.set_target(
        acting_user=county_admin, indicator=rate, region_code="330106", year=YEAR, value="85"
    )
    assert services.targets_for("330106002", YEAR)[rate.code] == Decimal("85")
    services.set_target(
        acting_user=county_admin, indicator=rate, region_code="330106002", year=YEAR, value=90
    )
    assert services.targets_for("330106002", YEAR)[rate.code] == Decimal("90")
    assert services.targets_for("330106004", YEAR)[rate.code] == Decimal("85")
    assert services.targets_for("330106004", YEAR - 1) == {}


@pytest.mark.parametrize("value", ["100.01", "-1", "120"])
def test_a_rate_target_outside_0_to_100_is_refused(county_admin, value):
    with pytest.raises(ValidationError) as caught:
        services.set_target(
            acting_user=county_admin,
            indicator=_indicator("free_service_rate"),
            region_code="330106",
            year=YEAR,
            value=value,
        )
    assert "value" in caught.value.message_dict


def test_only_a_county_sets_targets_and_only_in_its_region(county_admin, township_a):
    rate = _indicator("free_service_rate")
    with pytest.raises(PermissionDenied):
        services.set_target(
            acting_user=township_a, indicator=rate, region_code="330106002", year=YEAR, value=80
        )
    with pytest.raises(PermissionDenied):
        services.set_target(
            acting_user=county_admin, indicator=rate, region_code="330105", year=YEAR, value=80
        )


def test_the_dashboard_compares_with_targets_and_ranks_units(county_admin, settings):
    settings.RANKING_MIN_DENOMINATOR = 1  # one woman is enough to be ranked here
    resident(verified=datetime.date(2026, 4, 1))  # township A: 1 of 1 verified
    resident(lives_in="330106004001")  # township B: 0 of 1
    services.set_target(
        acting_user=county_admin,
        indicator=_indicator("inflow_verification_rate"),
        region_code="330106",
        year=YEAR,
        value=85,
    )
    board = services.dashboard(
        "330106", OCTOBER, acting_user=county_admin, indicator_code="inflow_verification_rate"
    )
    card = next(c for c in board["cards"] if c["indicator"].code == "inflow_verification_rate")
    assert card["value"] == 50.0 and card["met"] is False
    assert [r["region"] for r in board["ranking"][:2]] == ["330106002", "330106004"]
    assert board["ranking"][-1]["value"] is None  # units with no one to count come last
    assert len(board["trend"]) == 12 and board["trend"][-1]["period"] == PERIOD
    assert board["trend"][-1]["value"] == 50.0
    assert board["trend"][0]["period"] == "2025-11"


def test_the_trend_uses_an_approved_months_frozen_figure(township_a, county_admin):
    resident(verified=datetime.date(2026, 4, 1))
    report = services.submit_report(
        acting_user=township_a, period=OCTOBER, today=datetime.date(2026, 11, 22)
    )
    services.approve_report(acting_user=county_admin, report=report)
    resident()  # after approval: October stays 100 on the trend
    board = services.dashboard(
        "330106002", OCTOBER, acting_user=township_a, indicator_code="inflow_verification_rate"
    )
    assert board["trend"][-1] == {"period": PERIOD, "value": 100.0, "frozen": True}


def test_each_chart_downloads_as_xlsx(township_a, client_for, settings):
    settings.RANKING_MIN_DENOMINATOR = 1  # one woman is enough to be ranked here
    resident(verified=datetime.date(2026, 4, 1))
    client = client_for(township_a)
    base = f"/stats/dashboard.xlsx?period={PERIOD}&indicator=inflow_verification_rate"
    ranking = load_workbook(io.BytesIO(client.get(base + "&chart=ranking").content)).active
    rows = [[c.value for c in row] for row in ranking.iter_rows()]
    assert rows[0] == ["名次", "区划代码", "单位名称", "流入育龄妇女验证率"]
    assert rows[1] == [1, "330106002001", "北山社区", 100.0]
    trend = load_workbook(io.BytesIO(client.get(base + "&chart=trend").content)).active
    assert trend.max_row == 13


def test_the_targets_page_saves_and_refuses_with_the_rule(county_admin, client_for):
    client = client_for(county_admin)
    client.post(
        f"/stats/targets/?year={YEAR}",
        {"target_inflow_verification_rate": "85", "target_free_service_rate": "150"},
    )
    own = services.targets_for("330106", YEAR)
    assert own == {"inflow_verification_rate": Decimal("85.00")}
    page = client.get(f"/stats/targets/?year={YEAR}").content.decode()
    assert 'value="85.00"' in page
