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
def test_the_dashboard_draws_and_drills_down(request, device, month_with_residents):
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
