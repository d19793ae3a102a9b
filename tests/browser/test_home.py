"""The home page's to-dos on a desk and on a phone: what waits, how much is late, and a
link that opens the list."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.pages import shot, sign_in


@pytest.fixture
def work_waiting(township_a):
    from liudong.certificates.models import Notice
    from liudong.places import services as places
    from liudong.places.models import RentalHouse, SafetyIssue
    from liudong.regions.services import load_divisions
    from liudong.web.tests.test_worklist import woman

    load_divisions(prefixes=("41",))  # where the newcomer is registered (河南)
    waiting = woman("王芳", "330106002001", 40, 2)
    today = timezone.localdate()
    Notice.objects.create(
        person=waiting,
        episode=waiting.episodes.get(departure_date__isnull=True),
        region_id="330106002001",
        issued_on=today - datetime.timedelta(days=100),
        deadline=today - datetime.timedelta(days=8),
    )
    house = places.create(
        RentalHouse,
        acting_user=township_a,
        address="北山路8号",
        region="330106002001",
        landlord_name="周先生",
    )
    places.create(
        SafetyIssue,
        acting_user=township_a,
        rental_house=house,
        hazard="楼道堆放电动车",
        found_on=today - datetime.timedelta(days=20),
        deadline=today - datetime.timedelta(days=3),
    )


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_township_specialist_opens_a_to_do_from_the_home_page(request, device, work_waiting):
    page = request.getfixturevalue(device)
    sign_in(page, "township_a")
    page.goto("/")
    todos = page.get_by_test_id("home-todos")
    expect(todos).to_be_visible()
    notices = page.get_by_test_id("todo-notices")
    expect(notices.get_by_test_id("todo-count")).to_have_text("1")
    expect(page.get_by_test_id("todo-hazards").get_by_test_id("todo-count")).to_have_text("1")
    expect(page.get_by_test_id("todo-reports_to_submit")).to_be_visible()
    expect(page.get_by_test_id("todo-assistance-none")).to_be_attached()  # named, quietly
    shot(page, f"home-todos-{device}.png", first_screen=True)

    notices.get_by_role("link").click()
    page.wait_for_url("**/certificates/notices/")
    expect(page.locator("main")).to_contain_text("王芳")
