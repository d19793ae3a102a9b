"""A township specialist on a phone (375 px) does the work issue 16 found missing on the
web: she adds a child on a woman's file, records the woman's departure with where she
went, and opens the outflow file of someone registered here who lives in another county.
Each step checks what the page then shows; LIUDONG_SCREENSHOTS=1 keeps the screens."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from liudong.actors import OPERATOR
from tests.browser.pages import shot, sign_in

NINGBO = "330203"  # 海曙区, 宁波: another city, so a stay in 西湖区 is floating


@pytest.fixture
def resident(township_a, township_b):
    """周敏 from 宁波, living in 北山社区 (township A) since 1 March 2025."""
    from liudong.people import idnumbers
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    her = Person(
        id_number=idnumbers.make(NINGBO, datetime.date(1993, 8, 9), 62, "2"),
        name="周敏",
        sex="2",
        birth_date=datetime.date(1993, 8, 9),
        marital_status="20",
        household_region=Region.objects.get(code=NINGBO),
    )
    register_arrival(
        acting_user=OPERATOR,
        person=her,
        region=Region.objects.get(code="330106002001"),
        arrival_date=datetime.date(2025, 3, 1),
    )
    return her


def test_a_township_adds_a_child_records_a_departure_and_opens_an_outflow_file(
    phone_page, resident
):
    from liudong.people import idnumbers
    from liudong.people.models import Child, Person

    page = phone_page
    sign_in(page, "township_a")

    # A child on her file.
    page.goto(f"/people/{resident.pk}/")
    with page.expect_navigation():
        page.get_by_test_id("add-child").click()
    page.locator("input[name=name]").fill("周小雨")
    page.locator("select[name=sex]").select_option("2")
    page.locator("input[name=birth_date]").fill("2025-10-12")
    page.locator("input[name=birth_order]").fill("1")
    shot(page, "township-forms-child-375.png")
    # (Tapping the button right after a full-page screenshot of this phone page was lost
    # in headless Chromium; Enter in the last field submits the form as a keyboard does.)
    page.locator("input[name=birth_order]").press("Enter")
    # Back on her file, at its children (a redirect to a fragment: poll the address).
    expect(page).to_have_url(re.compile(rf"/people/{resident.pk}/#children$"))
    children = page.get_by_test_id("children")
    expect(children).to_contain_text("周小雨")
    expect(children).to_contain_text("2025-10-12")
    assert Child.objects.get(parent=resident).birth_date == datetime.date(2025, 10, 12)
    shot(page, "township-forms-child-saved-375.png")

    # Her departure, to 西溪街道, whose office uses this system but does not see her file.
    with page.expect_navigation():
        page.get_by_test_id("depart").click()
    page.locator("input[name=departure_date]").fill("2025-11-20")
    page.locator("input[name=destination_region]").fill("330106004")
    page.locator("input[name=destination_place]").fill("西溪路8号")
    shot(page, "township-forms-departure-375.png")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    # Registered in 宁波 and gone from 北山: the file left township A's region.
    expect(page.locator(".flash.info").filter(has_text="西溪街道")).to_be_visible()
    stay = resident.episodes.get()
    assert (stay.departure_date, stay.destination_region_id, stay.destination_place) == (
        datetime.date(2025, 11, 20),
        "330106004",
        "西溪路8号",
    )
    shot(page, "township-forms-departed-375.png", first_screen=True)

    # Someone registered in 北山 who lives in 宁波: her outflow file, opened by hand.
    with page.expect_navigation():
        page.get_by_test_id("open-outflow").click()
    number = idnumbers.make("330106", datetime.date(1995, 2, 14), 72, "2")
    form = page.get_by_test_id("outflow-form")
    form.locator("input[name=id_number]").fill(number)
    form.locator("input[name=name]").fill("钱红")
    form.locator("select[name=marital_status]").select_option("20")
    form.locator("input[name=household_region]").fill("330106002001")
    form.locator("input[name=residence_region]").fill(NINGBO)
    form.locator("input[name=residence_address]").fill("中山西路1号")
    form.locator("input[name=arrival_date]").fill("2024-09-01")
    shot(page, "township-forms-outflow-375.png")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("person-name")).to_have_text("钱红")
    expect(page.get_by_test_id("person-id-number")).to_contain_text(number)
    expect(page.get_by_test_id("episodes")).to_contain_text("海曙区")
    her = Person.objects.get(id_number=number)
    assert her.is_floating and list(Person.objects.outflow("330106002")) == [her]
    shot(page, "township-forms-outflow-saved-375.png", first_screen=True)
    # Nothing on the pages is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
