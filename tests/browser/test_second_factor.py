"""Signing in with a second factor, as a county administrator does: password, then enrol
with the QR page (the key typed from the page), keep the recovery codes; next time password
then code. On a desktop (1366 px) and a phone (375 px), with no console error (our CSP
refuses inline scripts, so a page that needed one would fail here)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, make_user
from tests.browser.pages import (
    REVIEW_SCREENSHOTS,
    PageProblems,
    key_from_page,
    totp_code,
    watch_context,
)

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 740}}


@pytest.fixture
def county_admin(zhejiang, live_server):
    return make_user("county_admin", "county", "330106", "西湖区管理员")


def _shot(page, name: str) -> None:
    REVIEW_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(REVIEW_SCREENSHOTS / name), full_page=True)


def _password_step(page) -> None:
    page.goto("/accounts/login/")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill("county_admin")
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_county_enrols_then_signs_in_with_password_and_code(
    device, browser, live_server, county_admin
):
    context = browser.new_context(
        locale="zh-CN", viewport=VIEWPORTS[device], base_url=live_server.url
    )
    # The suite's watcher (console errors, exceptions, CSP violations), and 4xx/5xx answers.
    watched = PageProblems()
    watch_context(context, watched)
    page = context.new_page()
    problems = watched.seen
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    try:
        # First sign-in: no device yet, so the enrolment page before anything else.
        _password_step(page)
        expect(page).to_have_url(re.compile(r"/accounts/second-factor/enrol/"))
        expect(page.get_by_test_id("enrol-required")).to_be_visible()
        qr = page.get_by_test_id("enrol-qr")
        expect(qr).to_be_visible()
        assert qr.evaluate("img => img.naturalWidth") > 0  # the QR really rendered
        box = qr.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[device]["width"]
        page.goto("/people/")  # any other page sends it back
        expect(page).to_have_url(re.compile(r"/accounts/second-factor/enrol/"))
        _shot(page, f"second-factor-enrol-{device}.png")

        key = key_from_page(page)
        wrong = page.get_by_test_id("enrol-form")
        wrong.locator("input[name=code]").fill("123456" if totp_code(key) != "123456" else "654321")
        with page.expect_navigation():
            wrong.locator("button").click()
        expect(page.get_by_test_id("field-error-code")).to_be_visible()
        # django-otp holds the device for a second after a wrong code.
        page.wait_for_timeout(1100)

        form = page.get_by_test_id("enrol-form")
        form.locator("input[name=code]").fill(totp_code(key))
        with page.expect_navigation():
            form.locator("button").click()
        codes = page.get_by_test_id("recovery-codes").locator("code")
        expect(codes).to_have_count(10)
        _shot(page, f"second-factor-recovery-codes-{device}.png")
        with page.expect_navigation():
            page.get_by_test_id("recovery-done").click()
        expect(page.get_by_test_id("current-user")).to_have_text("西湖区管理员")

        # Next time: password, then the code.
        context.clear_cookies()
        _password_step(page)
        expect(page).to_have_url(re.compile(r"/accounts/second-factor/"))
        expect(page.get_by_test_id("current-user")).to_have_count(1)
        expect(page.locator("ul.menu")).to_have_count(0)  # no menu of pages it cannot reach
        _shot(page, f"second-factor-code-{device}.png")
        form = page.get_by_test_id("code-form")
        # One period ahead: the enrolment spent this period's code (a code works once).
        form.locator("input[name=code]").fill(totp_code(key, at=time.time() + 30))
        with page.expect_navigation():
            form.locator("button").click()
        expect(page).to_have_url(live_server.url + "/")
        page.goto("/people/")
        expect(page).to_have_url(re.compile(r"/people/"))
        assert not problems, problems
    finally:
        context.close()
