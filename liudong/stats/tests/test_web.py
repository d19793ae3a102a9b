"""The statistics pages: the same numbers as the command, submission and approval by
the right offices, the xlsx, and an indicator a county adds without a release."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from liudong.stats.models import Indicator, MonthlyReport, ReportStatus

from .conftest import PERIOD, resident

REPORT = f"/stats/report/?region=330106002&period={PERIOD}"


@pytest.fixture
def two_residents(villages):
    resident()
    resident(sex="1")


def test_the_page_shows_the_reports_numbers(two_residents, township_a, client_for):
    page = client_for(township_a).get(REPORT)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="value-inflow_total">2<' in html
    assert 'data-testid="value-inflow_verification_rate">0.00<' in html


def test_a_region_outside_the_users_is_not_shown(two_residents, township_a, client_for):
    page = client_for(township_a).get(f"/stats/report/?region=330106004&period={PERIOD}")
    assert page.status_code == 302 and "region=330106002" in page.url


def test_submit_then_approve_through_the_pages(two_residents, township_a, county_admin, client_for):
    township = client_for(township_a)
    assert township.post("/stats/report/submit/", {"period": PERIOD}).status_code == 302
    record = MonthlyReport.objects.get()
    assert record.status == ReportStatus.SUBMITTED
    county = client_for(county_admin)
    assert "北山街道" in county.get("/stats/reports/").content.decode()
    county.post(f"/stats/reports/{record.pk}/approve/", {"version": record.version})
    record.refresh_from_db()
    assert record.status == ReportStatus.APPROVED
    resident()  # after approval: the page keeps the approved figures
    html = township.get(REPORT).content.decode()
    assert 'data-testid="value-inflow_total">2<' in html
    assert "submit-report" not in html  # frozen: nothing to submit


def test_a_township_cannot_decide_and_an_unknown_decision_is_404(
    two_residents, township_a, county_admin, client_for
):
    township = client_for(township_a)
    township.post("/stats/report/submit/", {"period": PERIOD})
    record = MonthlyReport.objects.get()
    assert township.post(f"/stats/reports/{record.pk}/approve/").status_code == 403
    assert client_for(county_admin).post(f"/stats/reports/{record.pk}/delete/").status_code == 404


def test_the_xlsx_has_the_pages_numbers(two_residents, township_a, client_for):
    response = client_for(township_a).get(f"/stats/report.xlsx?region=330106002&period={PERIOD}")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[3]
    total = next(row for row in rows if row[1] == "合计")
    assert total[header.index("流入人口总数")] == 2


def test_a_county_adds_an_indicator_that_reports_count(two_residents, county_admin, client_for):
    county = client_for(county_admin)
    response = county.post(
        "/stats/indicators/new/",
        {
            "code": "inflow_men",
            "name_zh": "流入男性",
            "name_en": "inflow men",
            "kind": "count",
            "direction": "neutral",
            "population": "inflow",
            "sex": "1",
        },
    )
    assert response.status_code == 302
    indicator = Indicator.objects.get(code="inflow_men")
    assert indicator.definition == {"count": "inflow", "where": {"sex": "1"}}
    html = county.get(REPORT).content.decode()
    assert 'data-testid="value-inflow_men">1<' in html


def test_a_rate_without_its_counts_is_refused_and_nothing_saved(county_admin, client_for):
    response = client_for(county_admin).post(
        "/stats/indicators/new/",
        {
            "code": "half_rate",
            "name_zh": "半",
            "name_en": "half",
            "kind": "ratio",
            "direction": "higher",
            "numerator": "inflow_verified",
            "scale": "100",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "definition-error" in html and "比率需要分子和分母" in html
    assert not Indicator.objects.filter(code="half_rate").exists()


def test_only_a_county_adds_indicators(township_a, client_for):
    assert client_for(township_a).get("/stats/indicators/new/").status_code == 403
    assert client_for(township_a).get("/stats/indicators/").status_code == 200


def test_a_returned_report_shows_its_reason_for_returning(
    two_residents, township_a, county_admin, client_for
):
    township = client_for(township_a)
    township.post("/stats/report/submit/", {"period": PERIOD})
    record = MonthlyReport.objects.get()
    county = client_for(county_admin)
    county.post(
        f"/stats/reports/{record.pk}/return/", {"version": record.version, "reason": "数字有误"}
    )
    assert MonthlyReport.objects.get().status == ReportStatus.RETURNED
    html = township.get(REPORT).content.decode()
    assert "退回原因: 数字有误" in html and "流动原因" not in html
    listing = county.get("/stats/reports/").content.decode()
    assert "<th>统计月份</th>" in listing and "活动期" not in listing
