"""Certificates in the browser: the township of her registration issues one from her file
and opens it (QR drawn on the page); the residence pastes the QR's text on the
verification page, sees it valid within 30 days of her arrival and records the check;
then gives another woman the notice and prints it. On a desktop and on a phone; the
screenshots go to /tmp/shots/cert-*.png for review."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from conftest import make_user
from liudong.actors import OPERATOR
from tests.browser.pages import shot, sign_in

pytestmark = pytest.mark.usefixtures("node_keys")

BEISHAN = "330106002001"  # 北山社区, township A: where she is registered
MISHIXIANG = "330105001"  # 米市巷街道 (拱墅区, county B): where she lives now


@pytest.fixture
def county_b(zhejiang, live_server):
    """The county bureau of 拱墅区 (330105): where she lives, it verifies."""
    return make_user("county_b", "county", "330105", "拱墅区专干")


def woman(name: str, sequence: int, arrived_days_ago: int):
    from django.utils import timezone

    from liudong.people.idnumbers import make
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    born = datetime.date(1994, 4, 18)
    person = Person(
        id_number=make("330106", born, sequence, "2"),
        name=name,
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region_id=BEISHAN,
    )
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code=MISHIXIANG),
        arrival_date=timezone.localdate() - datetime.timedelta(days=arrived_days_ago),
    )
    return person


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_issue_open_verify_and_give_a_notice(request, device, township_a, county_b):
    from liudong.certificates.models import Certificate, Notice, Verification

    page = request.getfixturevalue(device)
    label = "desktop" if device == "page" else "phone"
    her = woman("周敏", 22, arrived_days_ago=12)
    other = woman("陈静", 42, arrived_days_ago=20)

    # The township of her registration issues it from her file.
    sign_in(page, "township_a")
    page.goto(f"/people/{her.pk}/")
    section = page.get_by_test_id("certificate-section")
    expect(section.get_by_test_id("no-certificate")).to_be_visible()
    section.get_by_test_id("issue-form").scroll_into_view_if_needed()
    shot(page, f"cert-person-{label}.png")
    with page.expect_navigation():
        section.get_by_test_id("issue-certificate").click()
    certificate = Certificate.objects.get(person=her)
    expect(page).to_have_url(re.compile(rf"/certificates/{certificate.number}/$"))
    qr = page.get_by_test_id("certificate-qr").locator("svg.qr")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 150, box
    expect(page.get_by_test_id("certificate-status")).to_have_class(re.compile("status-valid"))
    expect(page.get_by_test_id("download-pdf")).to_be_visible()
    shot(page, f"cert-detail-{label}.png")

    # The residence pastes the QR's text and records the check.
    sign_in(page, "county_b")
    page.get_by_test_id("nav-certificates").click()
    expect(page).to_have_url(re.compile(r"/certificates/verify/$"))
    page.get_by_test_id("verify-code").fill(certificate.payload)
    with page.expect_navigation():
        page.get_by_test_id("verify-code").press("Enter")  # as a handheld scanner does
    result = page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result.get_by_test_id("within-30")).to_be_visible()
    shot(page, f"cert-verify-{label}.png")
    with page.expect_navigation():
        page.get_by_test_id("record-verification").click()
    expect(page.locator(".flash.success")).to_contain_text("周敏")
    verification = Verification.objects.get()
    assert verification.person_id == her.pk and verification.days_after_arrival == 12
    shot(page, f"cert-verified-{label}.png")

    # Another woman has none yet: the notice, printed for her.
    page.goto(f"/people/{other.pk}/")
    with page.expect_navigation():
        page.get_by_test_id("give-notice").click()
    sheet = page.get_by_test_id("notice-sheet")
    expect(sheet).to_contain_text("限期办理通知书")
    expect(sheet).to_contain_text("不收取任何费用")
    expect(page.get_by_test_id("notice-id")).to_have_text(re.compile(r"^\d{6}\*{8}\d{3}[\dX]$"))
    assert Notice.objects.filter(person=other).exists()
    shot(page, f"cert-notice-{label}.png")
    page.emulate_media(media="print")
    shot(page, f"cert-notice-print-{label}.png")
    page.emulate_media(media="screen")

    page.goto("/certificates/notices/")
    expect(page.get_by_test_id("notice-row")).to_have_count(1)
    shot(page, f"cert-notices-{label}.png")
    if label == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, width
