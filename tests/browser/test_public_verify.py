"""The public check page /verify/ in a browser, without signing in: paste the code of a
certificate's QR and see valid with the masked name and ID number only; a tampered code is
invalid; the QR's link /verify/#CODE works on a phone without the code ever reaching the
server in a URL. Screenshots go to
/tmp/shots/verify-*.png for review."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from liudong.actors import OPERATOR
from liudong.people.idnumbers import mask
from tests.browser.pages import shot

pytestmark = pytest.mark.usefixtures("node_keys")


@pytest.fixture(autouse=True)
def fresh_counts():
    """The live server runs in this process: start the per-address limit at zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def certificate(zhejiang, live_server):
    """王丽芳, 30, registered in 北山街道; issued by the operator (command line)."""
    import datetime

    from liudong.certificates import issuing
    from liudong.people.idnumbers import make
    from liudong.people.models import Person

    born = datetime.date(1996, 4, 12)
    person = Person.objects.create(
        id_number=make("330106", born, 8, "2"),
        name="王丽芳",
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region_id="330106002001",
    )
    return issuing.issue(person, acting_user=OPERATOR)


def tampered(payload: str) -> str:
    position = payload.rindex(".") + 5
    return payload[:position] + ("B" if payload[position] != "B" else "C") + payload[position + 1 :]


def paste_and_check(page, code: str) -> None:
    form = page.get_by_test_id("verify-form")
    form.locator("textarea[name=payload]").fill(code)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_paste_a_code_and_see_the_answer(page, certificate):
    page.goto("/verify/")
    expect(page.get_by_test_id("current-user")).to_have_count(0)  # nobody signed in
    shot(page, "verify-desktop-empty.png")

    paste_and_check(page, certificate.payload)
    result = page.get_by_test_id("verify-result")
    expect(result).to_be_visible()
    expect(page.get_by_test_id("verify-status")).to_have_text("✓ 有效")
    expect(page.get_by_test_id("verify-name")).to_have_text("王**")
    expect(page.get_by_test_id("verify-id-number")).to_have_text(mask(certificate.id_number))
    html = page.content()
    assert "王丽芳" not in html and certificate.id_number not in html
    shot(page, "verify-desktop-valid.png")

    paste_and_check(page, tampered(certificate.payload))
    expect(page.get_by_test_id("verify-status")).to_contain_text("✗")
    expect(page.get_by_test_id("verify-reason")).to_contain_text("签名不符")
    expect(page.get_by_test_id("verify-name")).to_have_count(0)
    shot(page, "verify-desktop-invalid.png")


def test_the_qr_link_on_a_phone(phone_page, certificate):
    from liudong.certificates.payload import PUBLIC_CHECK_PATH

    page = phone_page
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    # What the phone camera opens: the QR's link, the code in the fragment.
    page.goto(f"{PUBLIC_CHECK_PATH}#{certificate.payload}")
    expect(page.get_by_test_id("verify-status")).to_have_text("✓ 有效")
    # The code went by POST: no address the browser asked for carries it (proxy and server
    # logs see none), and the address bar no longer shows it.
    assert urls and not [url for url in urls if certificate.payload[:40] in url]
    assert certificate.payload[:40] not in page.url
    expect(page.get_by_test_id("verify-name")).to_have_text("王**")
    # Nothing spills sideways on a 375 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "verify-phone-valid.png")

    paste_and_check(page, "LD1.NOTACODE.AAAA")
    expect(page.get_by_test_id("verify-status")).to_contain_text("✗")
    shot(page, "verify-phone-invalid.png")


@pytest.mark.console_errors("status of 429")  # the throttled check answers 429
def test_too_many_checks_get_a_clear_page(page, certificate, monkeypatch):
    from liudong.certificates import throttle

    monkeypatch.setattr(throttle, "LIMIT", 1)
    page.goto(f"/verify/#{certificate.payload}")
    expect(page.get_by_test_id("verify-status")).to_have_text("✓ 有效")
    paste_and_check(page, certificate.payload)
    expect(page.get_by_test_id("verify-throttled")).to_be_visible()
    expect(page.get_by_test_id("verify-result")).to_have_count(0)
    page.set_viewport_size({"width": 375, "height": 740})
    shot(page, "verify-phone-throttled.png")
