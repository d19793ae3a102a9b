"""Pickers in the remaining places (issue 16 item 3, rest), on a phone (375 px): a grid's
villages picked by name as chips, one removed again, saved; the person list filtered
by a township picked by name. Nobody types a code. The chips at 375 px are saved as
var/screenshots/review/grid-chips-375.png for review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import make_user
from tests.browser.pages import REVIEW_SCREENSHOTS, sign_in


@pytest.fixture
def county_admin(zhejiang, live_server):
    return make_user("county_admin", "county", "330106", "西湖区管理员")


@pytest.fixture
def two_residents(zhejiang):
    """One resident in 北山街道 (330106002) and one in 西溪街道 (330106004)."""
    from liudong.regions.services import load_divisions
    from liudong.stats.tests.conftest import resident

    load_divisions(prefixes=("41",))  # where they are registered (河南)
    resident(lives_in="330106002001")
    resident(lives_in="330106004")


def test_grid_villages_picked_as_chips_on_a_phone(phone_page, township_a, villages):
    from liudong.regions.models import Grid

    page = phone_page
    sign_in(page, "township_a")
    page.goto("/regions/grids/new/")
    page.locator("input[name=name]").fill("北山网格")
    areas = page.get_by_test_id("picker-areas")
    chips = page.get_by_test_id("chips-areas").locator(".region-chip")

    for name in ("北山社区", "曙光社区"):
        areas.click()
        areas.press_sequentially(name, delay=30)
        option = page.locator("#id_areas-options [role=option]", has_text=name)
        expect(option.first).to_be_visible()
        areas.press("Enter")  # picks the first offer; the form is not submitted
        expect(areas).to_have_value("")
    expect(chips).to_have_count(2)
    expect(chips.nth(0)).to_contain_text("北山社区")
    expect(chips.nth(1)).to_contain_text("曙光社区")
    expect(page.locator("textarea[name=areas]")).to_have_value("330106002001 330106002002")
    for i in range(2):
        box = chips.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    REVIEW_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(REVIEW_SCREENSHOTS / "grid-chips-375.png"))

    # Remove 北山社区 again with its chip's button (keyboard: Tab to it and press Enter).
    page.get_by_test_id("chip-remove-330106002001").focus()
    page.keyboard.press("Enter")
    expect(chips).to_have_count(1)
    expect(page.locator("textarea[name=areas]")).to_have_value("330106002002")

    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/regions/grids/\d+/$"))
    grid = Grid.objects.get(name="北山网格")
    assert list(grid.areas.values_list("code", flat=True)) == ["330106002002"]
    # The saved grid shows its area as a chip again.
    expect(page.get_by_test_id("chips-areas").locator(".region-chip")).to_have_count(1)
    expect(page.get_by_test_id("chips-areas")).to_contain_text("曙光社区")


def test_person_list_filtered_by_a_township_picked_by_name(phone_page, county_admin, two_residents):
    page = phone_page
    sign_in(page, "county_admin")
    page.goto("/people/")
    rows = page.get_by_test_id("person-table").locator("tbody tr")
    expect(rows).to_have_count(2)

    township = page.get_by_test_id("picker-within")
    township.click()
    township.press_sequentially("西溪", delay=30)
    option = page.locator("#id_within-options [role=option]", has_text="西溪街道")
    expect(option.first).to_be_visible()
    box = option.first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    option.first.click()  # the list asks again (htmx) with the township's code
    expect(page).to_have_url(re.compile(r"within=330106004"))
    expect(rows).to_have_count(1)
    expect(township).to_have_value("西溪街道")

    # Emptied, the box drops the filter: everyone in the county again.
    township.fill("")
    expect(rows).to_have_count(2)
