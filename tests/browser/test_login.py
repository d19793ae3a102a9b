"""Signing in and out, the login lock, and the login/home pages on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

LOGIN_PATH = "/accounts/login/"
PASSWORD = "Correct-Horse-42"  # every account the conftest creates has it
WRONG_PASSWORD = "Wrong-Horse-99"


def login_url(page, query: str = "") -> re.Pattern:
    return re.compile(re.escape(page.base_url + LOGIN_PATH) + re.escape(query) + r"$")


def home_url(page) -> str:
    return page.base_url + "/"


def test_sign_in_shows_home_with_own_region(page, township_a, sign_in):
    page.goto(LOGIN_PATH)
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)

    sign_in(page, "township_a", PASSWORD)

    expect(page).to_have_url(home_url(page))
    scope = page.get_by_test_id("home-scope")
    expect(scope).to_contain_text("浙江省杭州市西湖区北山街道")
    expect(scope).to_contain_text("330106002")
    expect(page.get_by_test_id("current-user")).to_have_text("北山专干")
    expect(page.get_by_test_id("form-error")).to_have_count(0)


def test_wrong_password_stays_on_login_page_with_error(page, township_a, sign_in):
    sign_in(page, "township_a", WRONG_PASSWORD)

    expect(page).to_have_url(login_url(page))
    expect(page.get_by_test_id("form-error")).to_be_visible()
    expect(page.get_by_test_id("form-error")).not_to_be_empty()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    # The typed user name is kept, the password is not sent back.
    form = page.get_by_test_id("login-form")
    expect(form.locator("input[name=username]")).to_have_value("township_a")
    expect(form.locator("input[name=password]")).to_have_value("")


def test_unknown_user_gets_the_same_error_as_a_wrong_password(page, township_a, sign_in):
    sign_in(page, "township_a", WRONG_PASSWORD)
    wrong_password = page.get_by_test_id("form-error").inner_text()

    sign_in(page, "nobody_here", WRONG_PASSWORD)

    expect(page).to_have_url(login_url(page))
    expect(page.get_by_test_id("form-error")).to_have_text(wrong_password)


@pytest.mark.console_errors("status of 429")  # the lockout page answers 429
def test_sixth_attempt_after_five_failures_is_locked_even_with_right_password(
    page, township_a, township_b, sign_in
):
    sign_in(page, "township_a", WRONG_PASSWORD)
    expect(page.get_by_test_id("form-error")).to_be_visible()
    wrong_password = page.get_by_test_id("form-error").inner_text()
    for _attempt in range(4):
        sign_in(page, "township_a", WRONG_PASSWORD)
        expect(page).to_have_url(login_url(page))
        expect(page.get_by_test_id("form-error")).to_be_visible()

    sign_in(page, "township_a", PASSWORD)

    expect(page).to_have_url(login_url(page))
    error = page.get_by_test_id("form-error")
    expect(error).to_be_visible()
    # Not the wrong-password text: the lock message (wording is the translator's).
    expect(error).not_to_have_text(wrong_password)
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(login_url(page, "?next=/"))

    # The lock is for that account at this address: a colleague still signs in here.
    sign_in(page, "township_b", PASSWORD)
    expect(page).to_have_url(home_url(page))
    expect(page.get_by_test_id("current-user")).to_have_text("西溪专干")


def test_sign_out_returns_to_login_and_closes_the_session(page, township_a, sign_in):
    sign_in(page, "township_a", PASSWORD)
    expect(page.get_by_test_id("current-user")).to_be_visible()

    sign_out = page.locator("header form[action$='/accounts/logout/'] button[type=submit]")
    expect(sign_out).to_be_visible()
    with page.expect_navigation():
        sign_out.click()

    expect(page).to_have_url(login_url(page))
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    page.goto("/regions/")
    expect(page).to_have_url(login_url(page, "?next=/regions/"))


def test_login_returns_to_the_page_first_asked_for(page, township_a, sign_in):
    page.goto("/regions/")
    expect(page).to_have_url(login_url(page, "?next=/regions/"))

    sign_in(page, "township_a", PASSWORD)

    expect(page).to_have_url(page.base_url + "/regions/")
    expect(page.get_by_test_id("region-tree")).to_be_visible()


def test_login_ignores_a_next_address_on_another_site(page, township_a, sign_in):
    page.goto(LOGIN_PATH + "?next=https://example.org/steal")

    sign_in(page, "township_a", PASSWORD)

    expect(page).to_have_url(home_url(page))


def _assert_no_horizontal_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    scroll_width, inner_width = widths
    assert scroll_width <= inner_width + 1, f"page scrolls sideways: {widths} on {page.url}"


def test_login_and_home_fit_a_phone_screen(phone_page, township_a, sign_in):
    page = phone_page
    page.goto(LOGIN_PATH)
    expect(page.get_by_test_id("login-form")).to_be_visible()
    assert page.viewport_size == {"width": 375, "height": 740}
    _assert_no_horizontal_scroll(page)

    sign_in(page, "township_a", PASSWORD)

    expect(page.get_by_test_id("home-scope")).to_contain_text("330106002")
    _assert_no_horizontal_scroll(page)
