"""Issue 19, done when: a browser journey at 375 px. The township prints her code, she signs
in, sees her certificate, sees that a station viewed her file yesterday, asks to correct her
address, the township accepts, and she sees the new address."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import make_user

from .pages import chinese, shot, shots

pytestmark = pytest.mark.usefixtures("node_keys")

NEW_ADDRESS = "保俶路 12 号 3 单元 502 室"


@pytest.fixture
def her(township_a):
    """王秀英 from 河南, living in 北山社区 since March, with a certificate, whose file a
    service station's technician opened yesterday."""
    from liudong.actors import OPERATOR
    from liudong.audit import services as audit_services
    from liudong.certificates import issuing
    from liudong.people import idnumbers
    from liudong.people.models import Person
    from liudong.people.services import register_arrival, view_person
    from liudong.regions.models import Region
    from liudong.regions.services import load_divisions

    load_divisions(prefixes=("41",))
    number = idnumbers.make("411522", datetime.date(1992, 5, 17), 24, "2")
    person = Person(
        id_number=number,
        name="王秀英",
        sex="2",
        birth_date=datetime.date(1992, 5, 17),
        marital_status="20",
        household_region=Region.objects.get(code="411522001"),  # 弦山街道, 光山县
    )
    register_arrival(
        acting_user=township_a,
        person=person,
        region=Region.objects.get(code="330106002001"),
        arrival_date=datetime.date(2026, 3, 2),
        address="曙光路 8 号",
    )
    # Issued by the township of her registration in 河南 (not on this test's node).
    issuing.issue(person, acting_user=OPERATOR, today=timezone.localdate())
    station = make_user("provider_a", "provider", "330106002", "张技术员")
    yesterday = timezone.now() - datetime.timedelta(days=1)

    class Clock:  # the log's own clock, set back a day for this one entry
        @staticmethod
        def now():
            return yesterday

    real = audit_services.timezone
    audit_services.timezone = Clock  # type: ignore[assignment]
    try:
        view_person(acting_user=station, person=person, via="person detail")
    finally:
        audit_services.timezone = real
    return person


def staff_sign_in(page, sign_in, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    sign_in(page, username)


def her_sign_in(page, person, code: str) -> None:
    page.context.clear_cookies()
    page.goto("/me/sign-in/")
    form = page.get_by_test_id("resident-sign-in-form")
    form.locator("input[name=id_number]").fill(person.id_number)
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=birth_date]").fill(person.birth_date.isoformat())
    with page.expect_navigation():
        page.get_by_test_id("resident-sign-in-submit").click()
    expect(page.get_by_test_id("resident-home")).to_be_visible()


def test_her_journey_from_the_code_to_her_corrected_address(page, phone_page, sign_in, her):
    """The township's PC (``office``) and her phone (``page``), two browsers side by side:
    her code opens one session, which lasts while the township answers."""
    office, page = page, phone_page
    from liudong.people.models import CorrectionRequest, Person

    # The township prints her code on her file's page.
    staff_sign_in(office, sign_in, "township_a")
    office.goto(f"/people/{her.pk}/")
    with office.expect_navigation():
        office.get_by_test_id("issue-access-code").locator("button").click()
    code = office.get_by_test_id("slip-code").inner_text().strip()
    assert code and code not in office.url
    shot(office, "resident-journey-1-slip-1366.png", first_screen=True)

    # She signs in on her phone and sees her certificate, valid.
    her_sign_in(page, her, code)
    expect(page.get_by_test_id("certificate-state")).to_have_class("state ok")
    expect(page.get_by_test_id("my-residence")).to_contain_text("曙光路 8 号")
    shot(page, "resident-journey-2-home-375.png", first_screen=True)

    # A station viewed her file yesterday: the office and the role, not the person.
    page.get_by_test_id("who-read-link").click()
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    seen = page.get_by_test_id("read-entry").filter(has_text=yesterday)
    expect(seen).to_have_count(1)
    expect(seen).to_contain_text("北山街道")
    expect(page.get_by_test_id("who-read")).not_to_contain_text("张技术员")
    shot(page, "resident-journey-3-who-read-375.png", first_screen=True)

    # She asks to correct her address.
    page.goto("/me/")
    page.get_by_test_id("correct-my-file").click()
    expect(page.get_by_test_id("correction-current")).to_have_text("曙光路 8 号")
    page.get_by_test_id("correction-value").fill(NEW_ADDRESS)
    page.get_by_test_id("correction-note").fill("门牌号登记错了，租房合同上是 12 号")
    shots(page, "resident-journey-4-ask")
    with page.expect_navigation():
        page.get_by_test_id("correction-submit").click()
    expect(page.get_by_test_id("correction-status")).to_have_text(
        chinese(CorrectionRequest.Status.OPEN.label)
    )
    shot(page, "resident-journey-5-asked-375.png", first_screen=True)
    asked = CorrectionRequest.objects.get()

    # The township finds it in its to-dos and accepts.
    office.goto("/")
    todo = office.get_by_test_id("todo-corrections")
    expect(todo.get_by_test_id("todo-count")).to_have_text("1")
    todo.get_by_role("link").click()
    office.get_by_test_id(f"correction-row-{asked.pk}").get_by_role("link").click()
    expect(office.get_by_test_id("correction-requested")).to_have_text(NEW_ADDRESS)
    shots(office, "resident-journey-6-office")
    with office.expect_navigation():
        office.get_by_test_id("correction-accept").click()
    expect(office.get_by_test_id("correction-status")).to_contain_text(
        chinese(CorrectionRequest.Status.ACCEPTED.label)
    )
    assert Person.objects.get(pk=her.pk).residence_address == NEW_ADDRESS

    # On her phone, still signed in, she sees the new address.
    page.goto("/me/")
    expect(page.get_by_test_id("my-residence")).to_contain_text(NEW_ADDRESS)
    page.get_by_test_id("my-corrections").click()
    expect(page.get_by_test_id("correction-status")).to_have_text(
        chinese(CorrectionRequest.Status.ACCEPTED.label)
    )
    shot(page, "resident-journey-7-corrected-375.png", first_screen=True)
