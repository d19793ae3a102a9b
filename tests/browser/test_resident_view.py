"""Her own view on a phone (issue 19): she signs in with the code her township gave her,
sees her file with her ID number masked, her certificate valid with its QR, the station
where she may ask for free services, and on "who looked at my file" the station that
opened her file yesterday, by office and role, not by name; she downloads her copy."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from conftest import make_user
from liudong.people.idnumbers import mask

from .pages import shot, shots

TOWNSHIP_VILLAGE = "330106002001"


@pytest.fixture
def her_on_file(township_a, node_keys, monkeypatch):
    from liudong.audit import services as audit_services
    from liudong.certificates import issuing
    from liudong.certificates.tests.conftest import make_person
    from liudong.people.services import view_person
    from liudong.places import services as places
    from liudong.residents.services import issue_code
    from liudong.services.records import services as records

    her = make_person(household=TOWNSHIP_VILLAGE, residence=TOWNSHIP_VILLAGE, name="周敏")
    other = make_person(household=TOWNSHIP_VILLAGE, residence=TOWNSHIP_VILLAGE, name="李娟")
    station = places.create_site(
        acting_user=township_a,
        kind="service_station",
        name="北山街道计生服务站",
        region="330106002",
        address="北山路12号",
        phone="0571-87000000",
    )
    today = timezone.localdate()
    issuing.issue(her, acting_user=township_a, today=today)
    records.create_service_record(
        acting_user=township_a,
        person=her,
        date=today - datetime.timedelta(days=5),
        service_type="reproductive_health",
        consent_recorded=True,
        provider=station,
    )
    provider = make_user("provider_a", "provider", "330106002", "张技术员")
    yesterday = timezone.now() - datetime.timedelta(days=1)

    class Clock:
        @staticmethod
        def now():
            return yesterday

    monkeypatch.setattr(audit_services, "timezone", Clock)
    view_person(acting_user=provider, person=her, via="person detail")
    monkeypatch.undo()
    code, _access = issue_code(acting_user=township_a, person=her)
    return her, other, code, yesterday


def test_she_signs_in_on_her_phone_and_sees_her_file_and_who_read_it(phone_page, her_on_file):
    her, other, code, yesterday = her_on_file
    page = phone_page
    page.goto("/me/sign-in/")
    form = page.get_by_test_id("resident-sign-in-form")
    form.locator("input[name=id_number]").fill(her.id_number)
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=birth_date]").fill(her.birth_date.isoformat())
    with page.expect_navigation():
        page.get_by_test_id("resident-sign-in-submit").click()

    home = page.get_by_test_id("resident-home")
    home.wait_for()
    assert page.get_by_test_id("my-name").inner_text() == her.name
    assert page.get_by_test_id("my-id-number").inner_text() == mask(her.id_number)
    body = page.locator("body").inner_text()
    assert her.id_number not in body and other.name not in body
    # Her certificate is valid, its QR drawn; the station where she lives, with its phone.
    assert "ok" in (page.get_by_test_id("certificate-state").get_attribute("class") or "")
    assert page.get_by_test_id("certificate-qr").locator("svg").count() == 1
    assert "北山街道计生服务站" in page.get_by_test_id("stations").inner_text()
    # Nothing wider than her phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "resident-home-375.png", first_screen=True)
    shots(page, "resident-home")

    with page.expect_navigation():
        page.get_by_test_id("who-read-link").click()
    entries = page.get_by_test_id("read-entry")
    day = timezone.localtime(yesterday).strftime("%Y-%m-%d")
    station_rows = [t for t in entries.all_inner_texts() if day in t]
    assert len(station_rows) == 1, entries.all_inner_texts()
    assert "北山街道" in station_rows[0] and "服务站技术员" in station_rows[0]
    assert "张技术员" not in page.locator("body").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "resident-who-read-375.png", first_screen=True)
    shots(page, "resident-who-read")

    # Her copy downloads.
    page.goto("/me/")
    with page.expect_download() as download:
        page.get_by_test_id("copy-pdf").click()
    assert download.value.suggested_filename == "my-data.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
