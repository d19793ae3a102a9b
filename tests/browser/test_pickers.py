"""The region picker on the arrival form (issue 16 item 3) on an office PC: a township
specialist types Chinese place names, never a code, picks with the keyboard (household) and
with a click (residence), and saves. The picker open at 1366 px is saved as
var/screenshots/review/picker-open-1366.png with LIUDONG_SCREENSHOTS=1. The same on a phone,
picked by taps, is part of the township journey (test_township_journey.py)."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from liudong.people.idnumbers import make
from tests.browser.pages import shot, sign_in

WANG = make("411522", datetime.date(1995, 6, 1), 12, "2")  # registered in 光山县, 河南


@pytest.fixture
def henan(zhejiang):
    from liudong.regions.services import load_divisions

    load_divisions(prefixes=("41",))


def register_by_names(page) -> None:
    sign_in(page, "township_a")
    page.goto("/people/arrive/")
    form = page.get_by_test_id("arrival-form")
    form.locator("input[name=id_number]").fill(WANG)
    form.locator("input[name=name]").fill("王芳")
    form.locator("select[name=marital_status]").select_option("20")
    form.locator("input[name=arrival_date]").fill("2026-03-01")

    # Household: typed by name, picked with the keyboard (the county comes first).
    household = form.get_by_test_id("picker-household_region")
    household.click()
    household.press_sequentially("光山", delay=30)
    options = form.locator("#id_household_region-options [role=option]")
    expect(options.first).to_contain_text("光山县")
    expect(options.first).to_contain_text("河南省 › 信阳市 › 光山县")
    household.press("ArrowDown")
    household.press("ArrowUp")
    household.press("Enter")  # picks; does not submit the half-filled form
    expect(form.locator("input[name=household_region]")).to_have_value("411522")
    expect(household).to_have_value("光山县")
    expect(form.get_by_test_id("picker-household_region-chosen")).to_contain_text("411522")

    # Residence: only the user's own township is offered; picked with a tap or a click.
    residence = form.get_by_test_id("picker-residence_region")
    residence.click()
    residence.press_sequentially("北山社区", delay=30)
    option = form.locator("#id_residence_region-options [role=option]", has_text="北山社区")
    expect(option.first).to_be_visible()
    shot(page, "picker-open-1366.png", first_screen=True)
    option.first.click()
    expect(form.locator("input[name=residence_region]")).to_have_value("330106002001")

    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/people/\d+/$"))


def saved() -> tuple[str, str]:
    from liudong.people.models import Person

    person = Person.objects.get(id_number=WANG)
    episode = person.episodes.get()
    return person.household_region_id, episode.region_id


def test_arrival_by_names_on_a_desktop(page, township_a, henan):
    register_by_names(page)
    assert saved() == ("411522", "330106002001")
