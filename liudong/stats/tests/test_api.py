"""The statistics API: the report's figures (the same as the command's), indicators,
and submission and approval; scoped, in the one error shape."""

from __future__ import annotations

import pytest

from liudong.accounts.services import issue_token
from liudong.actors import OPERATOR
from liudong.api.tests import schemathesis_harness as harness
from liudong.api.tests.schemathesis_harness import keep_the_test_transaction
from liudong.stats.models import Indicator, MonthlyReport, ReportStatus

from .conftest import PERIOD, resident

__all__ = ["keep_the_test_transaction"]


def test_figures_are_the_monthly_report(villages, township_a, api_for):
    resident()
    answer = api_for(township_a).get(f"/api/monthly-reports/figures/?period={PERIOD}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["region"] == "330106002" and body["status"] == "live"
    assert body["indicators"]["inflow_total"] == 1
    assert [row["region"] for row in body["rows"]] == ["330106002001", "330106002002"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("period=2026-13", "period"), ("period=2099-01", "period"), ("", "period")],
)
def test_a_bad_period_is_a_400_naming_it(villages, township_a, api_for, query, field):
    answer = api_for(township_a).get(f"/api/monthly-reports/figures/?{query}")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == field


def test_a_region_outside_the_callers_is_403(villages, township_a, api_for):
    answer = api_for(township_a).get(
        f"/api/monthly-reports/figures/?region=330106004&period={PERIOD}"
    )
    assert answer.status_code == 403


def test_submit_approve_and_the_frozen_figures(villages, township_a, county_admin, api_for):
    resident()
    submitted = api_for(township_a).post("/api/monthly-reports/submit/", {"period": PERIOD})
    assert submitted.status_code == 201, submitted.json()
    pk = submitted.json()["id"]
    county = api_for(county_admin)
    assert county.post(f"/api/monthly-reports/{pk}/return/", {}).status_code == 400  # no reason
    approved = county.post(f"/api/monthly-reports/{pk}/approve/", {"version": 1})
    assert approved.json()["status"] == ReportStatus.APPROVED
    resident()
    body = county.get(f"/api/monthly-reports/figures/?region=330106002&period={PERIOD}").json()
    assert body["status"] == "approved" and body["indicators"]["inflow_total"] == 1
    again = api_for(township_a).post("/api/monthly-reports/submit/", {"period": PERIOD})
    assert again.status_code == 400
    stale = county.post(f"/api/monthly-reports/{pk}/reopen/", {"version": 1, "reason": "核对"})
    assert stale.status_code == 409


def test_a_township_cannot_approve(villages, township_a, api_for):
    resident()
    api_for(township_a).post("/api/monthly-reports/submit/", {"period": PERIOD})
    pk = MonthlyReport.objects.get().pk
    assert api_for(township_a).post(f"/api/monthly-reports/{pk}/approve/").status_code == 403


def test_a_county_adds_an_indicator_and_a_bad_definition_names_the_filter(
    villages, county_admin, township_a, api_for
):
    county = api_for(county_admin)
    bad = county.post(
        "/api/indicators/",
        {
            "code": "inflow_tall",
            "name_zh": "高个",
            "name_en": "tall",
            "unit": "count",
            "direction": "neutral",
            "definition": {"count": "inflow", "where": {"height": [180, 250]}},
        },
        format="json",
    )
    assert bad.status_code == 400 and "height" in bad.json()["errors"][0]["message"]
    good = county.post(
        "/api/indicators/",
        {
            "code": "inflow_men",
            "name_zh": "流入男性",
            "name_en": "inflow men",
            "unit": "count",
            "direction": "neutral",
            "definition": {"count": "inflow", "where": {"sex": "1"}},
        },
        format="json",
    )
    assert good.status_code == 201
    assert Indicator.objects.filter(code="inflow_men", standard=False).exists()
    listed = api_for(township_a).get("/api/indicators/").json()
    assert "inflow_men" in [i["code"] for i in listed]
    denied = api_for(township_a).post("/api/indicators/", {"code": "x_y"}, format="json")
    assert denied.status_code == 403


schema = harness.app_schema("stats")


@pytest.fixture
def bearer(county_admin):
    return {"Authorization": f"Bearer {issue_token(acting_user=OPERATOR, user=county_admin).key}"}


@schema.parametrize()
@harness.depth(ci_examples=8)
def test_stats_operations(case, bearer):
    harness.call_and_validate(case, bearer)


def test_targets_and_assessment_scores_through_the_api(
    villages, county_admin, township_a, api_for, settings
):
    import datetime

    settings.RANKING_MIN_DENOMINATOR = 1  # one woman is enough to be ranked here

    resident(verified=datetime.date(2026, 4, 1))
    county = api_for(county_admin)
    made = county.post(
        "/api/targets/",
        {"indicator": "inflow_verification_rate", "region": "330106", "year": 2027, "value": "85"},
    )
    assert made.status_code == 201, made.json()
    too_high = county.post(
        "/api/targets/",
        {"indicator": "inflow_verification_rate", "region": "330106", "year": 2027, "value": "101"},
    )
    assert too_high.status_code == 400 and too_high.json()["errors"][0]["field"] == "value"
    inherited = api_for(township_a).get("/api/targets/?year=2027").json()
    assert inherited == [
        {
            "indicator": "inflow_verification_rate",
            "region": "330106002",
            "year": 2027,
            "value": "85.00",
            "own": False,
        }
    ]
    from liudong.stats import services

    scheme = services.create_scheme(
        acting_user=county_admin,
        name="考核",
        year=2027,
        items=[{"indicator": "inflow_verification_rate", "weight": 100}],
    )
    table = api_for(township_a).get(f"/api/assessments/{scheme.pk}/scores/").json()
    first = table["rows"][0]
    assert first["region"] == "330106002" and first["items"][0]["score"] == 100.0


@pytest.mark.parametrize(
    "url",
    [
        "/api/monthly-reports/figures/?period=2026-10&region=33%00",
        "/api/monthly-reports/figures/?period=2026-1%00",
        "/api/targets/?year=2027&region=%00",
        "/api/quality/?region=%00",
        "/api/indicators/a%00b/",
    ],
)
def test_a_nul_byte_in_a_parameter_is_a_4xx_not_a_500(villages, county_admin, api_for, url):
    assert 400 <= api_for(county_admin).get(url).status_code < 500
