"""Statistics in Chromium: a township submits its month, the county approves it (the
figures freeze), and the county's dashboard draws the trend and the ranking, whose bar
opens the township's own dashboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import shot, sign_in


def test_submit_approve_and_the_frozen_report(page, month_with_residents):
    period = month_with_residents
    sign_in(page, "township_a")
    page.goto(f"/stats/report/?period={period}")
    expect(page.get_by_test_id("value-inflow_total")).to_have_text("2")
    expect(page.get_by_test_id("value-inflow_verification_rate")).to_have_text("50.00")
    page.get_by_test_id("submit-report").click()
    expect(page.get_by_test_id("report-status")).to_contain_text("北山专干")
    shot(page, "stats-submitted.png")

    sign_in(page, "county_admin")
    page.goto("/stats/reports/")
    page.get_by_test_id("waiting").get_by_role("link").first.click()
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("report-status").locator(".badge.done")).to_be_visible()
    expect(page.get_by_test_id("submit-report")).to_have_count(0)
    shot(page, "stats-approved.png")


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_dashboard_draws_and_drills_down(request, device, month_with_residents, settings):
    settings.RANKING_MIN_DENOMINATOR = 1  # townships of one or two women drawn as bars here
    page = request.getfixturevalue(device)
    period = month_with_residents
    sign_in(page, "county_admin")
    page.goto(f"/stats/dashboard/?period={period}&indicator=inflow_verification_rate")
    expect(page.locator("body[data-charts-ready=yes]")).to_have_count(1)
    expect(page.locator("#chart-trend canvas")).to_have_count(1)
    expect(page.get_by_test_id("card-inflow_verification_rate")).to_contain_text("66.67")
    page.get_by_test_id("ranking-table-open").click()
    expect(page.get_by_test_id("ranking-table")).to_contain_text("北山街道")
    shot(page, f"stats-dashboard-{device}.png", first_screen=True)

    # A real click on the top bar (the best unit, 西溪街道 at 100%) of the ranking.
    box = page.locator("#chart-ranking").bounding_box()
    x, y = page.evaluate(
        """() => {
            const chart = echarts.getInstanceByDom(document.getElementById('chart-ranking'));
            const option = chart.getOption();
            const last = option.yAxis[0].data.length - 1;
            const value = option.series[0].data[last].value;
            return chart.convertToPixel({seriesIndex: 0}, [value / 2, last]);
        }"""
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page.get_by_test_id("dashboard-title")).to_contain_text("西溪街道")
    assert "region=330106004" in page.url


def test_statistics_are_shown_as_not_assessable_and_small_units_are_not_ranked(
    page, month_with_residents
):
    """Issue 16 item 8: birth rate, sex ratio and the health-check rate take no target and
    no points; a township of two women is listed as too few to rank, not first."""
    from liudong.stats.models import statistical_year_of
    from liudong.stats.services import last_full_month

    sign_in(page, "county_admin")
    page.goto("/stats/targets/")
    for code in ("birth_rate_permille", "sex_ratio_at_birth", "inflow_health_check_rate"):
        row = page.get_by_test_id(f"statistic-{code}")
        expect(row.locator(".badge")).to_be_visible()
        expect(row.locator("input")).to_have_count(0)
    expect(page.get_by_test_id("target-inflow_verification_rate")).to_be_editable()
    shot(page, "stats-targets-statistics.png")

    page.goto("/stats/assessments/")
    page.get_by_test_id("scheme-new").click()
    statistic = page.get_by_test_id("statistic-inflow_health_check_rate")
    expect(statistic.locator(".badge")).to_be_visible()
    expect(statistic.locator("input")).to_be_disabled()
    page.locator("input[name=name]").fill("年度工作考核")
    year = statistical_year_of(last_full_month().last)
    page.locator("input[name=year]").fill(str(year))
    page.locator("input[name=weight_inflow_verification_rate]").fill("100")
    page.get_by_test_id("save-scheme").click()
    expect(page.get_by_test_id("assessment-table")).to_be_visible()
    expect(page.get_by_test_id("unranked-330106002")).to_be_visible()  # two women
    expect(page.get_by_test_id("unit-330106002")).to_have_attribute("data-status", "too_few")
    shot(page, "stats-assessment-too-few.png")
