"""Switching the interface between Chinese (the default) and English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

LOGIN_PATH = "/accounts/login/"


def html(page):
    return page.locator("html")


def switch_language(page) -> None:
    """Click the header's language button (a POST to set_language) and wait for the page."""
    with page.expect_navigation():
        page.get_by_test_id("lang-switch").click()


def assert_chinese(page) -> None:
    expect(html(page)).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_test_id("lang-switch")).to_have_text("English")


def assert_english(page) -> None:
    expect(html(page)).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("lang-switch")).to_have_text("中文")


def test_chinese_is_the_default(page, zhejiang):
    page.goto(LOGIN_PATH)

    assert_chinese(page)
    expect(page.get_by_test_id("login-form").locator("button[type=submit]")).to_contain_text(
        re.compile(r"[\u4e00-\u9fff]")
    )


def test_switch_to_english_and_back_on_the_login_page(page, zhejiang):
    page.goto(LOGIN_PATH)
    chinese_button = page.get_by_test_id("login-form").locator("button[type=submit]").inner_text()

    switch_language(page)

    assert_english(page)
    expect(page).to_have_url(page.base_url + LOGIN_PATH)
    submit = page.get_by_test_id("login-form").locator("button[type=submit]")
    expect(submit).not_to_have_text(chinese_button)
    expect(submit).not_to_contain_text(re.compile(r"[\u4e00-\u9fff]"))

    # The choice persists on the next page load.
    page.reload()
    assert_english(page)
    page.goto(LOGIN_PATH)
    assert_english(page)

    switch_language(page)

    assert_chinese(page)
    expect(submit).to_have_text(chinese_button)
    page.reload()
    assert_chinese(page)


def test_english_choice_is_kept_after_signing_in(page, township_a, sign_in):
    page.goto(LOGIN_PATH)
    switch_language(page)
    assert_english(page)

    sign_in(page, "township_a")

    expect(page).to_have_url(page.base_url + "/")
    assert_english(page)
    # Data stays as entered: region names are not translated.
    expect(page.get_by_test_id("home-scope")).to_contain_text("浙江省杭州市西湖区北山街道")
    page.goto("/regions/")
    assert_english(page)


@pytest.mark.parametrize("path", ["/", "/regions/"], ids=["home", "regions"])
def test_switching_while_signed_in_stays_on_the_page(page, township_a, sign_in, path):
    sign_in(page, "township_a")
    page.goto(path)
    assert_chinese(page)

    switch_language(page)

    assert_english(page)
    expect(page).to_have_url(page.base_url + path)
    expect(page.get_by_test_id("current-user")).to_have_text("北山专干")

    switch_language(page)

    assert_chinese(page)
    expect(page).to_have_url(page.base_url + path)
