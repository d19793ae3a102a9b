"""The controls that submit their form when changed (``data-autosubmit``, web/controls.js):
the month of the monthly report, the indicator and month of the dashboard, the year of the
targets and the status filter of the duplicate queue. Each test changes the control as a
person does and checks that the page then shows what was chosen, on a desktop (1366 px)
and a phone (375 px). With inline ``onchange=`` handlers the CSP blocked them and the
page stayed as it was (and the suite's watcher now fails any such page)."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from tests.browser.pages import shot, sign_in

DEVICES = ["page", "phone_page"]
BEFORE_ARRIVALS = "2026-02"  # the residents arrived on 1 March 2026


def _choose_month(page, control, month: str) -> None:
    """Pick a month in an ``<input type=month>`` as Chromium's picker does (it sets the
    value and fires ``change``), and wait for the page it submits to."""
    with page.expect_navigation():
        control.fill(month)


@pytest.mark.parametrize("device", DEVICES)
def test_the_report_month_shows_that_month(request, device, month_with_residents):
    page = request.getfixturevalue(device)
    sign_in(page, "township_a")
    page.goto("/stats/report/")
    expect(page.get_by_test_id("period")).to_have_value(month_with_residents)
    expect(page.get_by_test_id("value-inflow_total")).to_have_text("2")

    _choose_month(page, page.get_by_test_id("period"), BEFORE_ARRIVALS)
    assert f"period={BEFORE_ARRIVALS}" in page.url
    expect(page.get_by_test_id("period")).to_have_value(BEFORE_ARRIVALS)
    expect(page.get_by_test_id("value-inflow_total")).to_have_text("0")
    shot(page, f"controls-report-month-{device}.png", first_screen=True)


@pytest.mark.parametrize("device", DEVICES)
def test_the_dashboard_indicator_and_month_change_the_board(request, device, month_with_residents):
    page = request.getfixturevalue(device)
    sign_in(page, "county_admin")
    page.goto("/stats/dashboard/?indicator=inflow_verification_rate")
    expect(page.get_by_test_id("dashboard-title")).to_contain_text(month_with_residents)
    expect(page.get_by_test_id("card-inflow_verification_rate")).to_contain_text("66.67")

    indicator = page.get_by_test_id("indicator")
    other = indicator.locator("option:not([selected])").first
    code, name = other.get_attribute("value"), other.inner_text()
    with page.expect_navigation():
        indicator.select_option(code)
    assert f"indicator={code}" in page.url
    expect(page.get_by_test_id("indicator")).to_have_value(code)
    expect(page.locator(".chart-head h3").first).to_contain_text(name)

    page.get_by_test_id("indicator").select_option("inflow_verification_rate")
    page.wait_for_url("**indicator=inflow_verification_rate**")
    _choose_month(page, page.get_by_test_id("period"), "2026-03")
    assert "period=2026-03" in page.url
    expect(page.get_by_test_id("dashboard-title")).to_contain_text("2026-03")
    # In March nobody had been verified yet (the verifications are of April).
    expect(page.get_by_test_id("card-inflow_verification_rate")).to_contain_text("0.00")
    shot(page, f"controls-dashboard-{device}.png", first_screen=True)


@pytest.mark.parametrize("device", DEVICES)
def test_the_targets_year_shows_that_years_targets(request, device, month_with_residents):
    from django.contrib.auth import get_user_model

    from liudong.stats.models import Indicator, statistical_year_of
    from liudong.stats.services import set_target

    page = request.getfixturevalue(device)
    this_year = statistical_year_of(datetime.date.today())
    county = get_user_model().objects.get(username="county_admin")
    set_target(
        acting_user=county,
        indicator=Indicator.objects.get(code="inflow_verification_rate"),
        region_code="330106",
        year=this_year - 1,
        value="95",
    )
    sign_in(page, "county_admin")
    page.goto("/stats/targets/")
    expect(page.get_by_test_id("year")).to_have_value(str(this_year))
    target = page.get_by_test_id("target-inflow_verification_rate")
    expect(target).to_have_value("")

    year = page.get_by_test_id("year")
    with page.expect_navigation():
        year.fill(str(this_year - 1))
        year.dispatch_event("change")  # as when the field loses focus or its arrows are used
    assert f"year={this_year - 1}" in page.url
    expect(page.locator("h2").first).to_contain_text(str(this_year - 1))
    expect(page.get_by_test_id("target-inflow_verification_rate")).to_have_value("95.00")
    shot(page, f"controls-targets-year-{device}.png", first_screen=True)


@pytest.fixture
def two_pairs(township_a):
    """Two possible duplicates in township A: one to decide, one decided as two people."""
    from liudong.people.models import PossibleDuplicate
    from liudong.regions.services import load_divisions
    from liudong.stats.tests.conftest import resident

    load_divisions(prefixes=("41",))  # where they are registered (河南)
    people = sorted((resident() for _ in range(4)), key=lambda p: p.pk)
    PossibleDuplicate.objects.create(
        first=people[0], second=people[1], reason=PossibleDuplicate.Reason.NAME_AND_BIRTH
    )
    PossibleDuplicate.objects.create(
        first=people[2],
        second=people[3],
        reason=PossibleDuplicate.Reason.NAME_AND_BIRTH,
        status=PossibleDuplicate.Status.DISMISSED,
    )


@pytest.mark.parametrize("device", DEVICES)
def test_the_duplicates_status_filter_shows_those_pairs(request, device, two_pairs):
    page = request.getfixturevalue(device)
    sign_in(page, "township_a")
    page.goto("/people/duplicates/")
    rows = page.get_by_test_id("pair-table").locator("tbody tr")
    expect(rows).to_have_count(2)

    with page.expect_navigation():
        page.get_by_test_id("filter-status").select_option("dismissed")
    assert "status=dismissed" in page.url
    expect(page.get_by_test_id("filter-status")).to_have_value("dismissed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("非同一人")
    shot(page, f"controls-duplicates-status-{device}.png", first_screen=True)

    with page.expect_navigation():
        page.get_by_test_id("filter-status").select_option("open")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge.warn")).to_be_visible()
