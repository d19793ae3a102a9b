"""Spot checks in Chromium: an inspector draws a sample of 北山街道's files, ticks what
she found on one visit field by field, sees the accuracy so far, and opens the field
sheets to print."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import make_user
from tests.browser.pages import shot, sign_in

FIELDS = ("name", "sex", "birth_date", "marital_status", "residence_address", "phone")


@pytest.fixture
def three_residents(zhejiang, live_server):
    from django.apps import apps

    from liudong.regions.services import load_divisions
    from liudong.stats import standard
    from liudong.stats.tests.conftest import resident

    standard.install(apps)  # a browser test's database is emptied between tests
    load_divisions(prefixes=("41",))  # where the residents are registered (河南)
    make_user("inspector_a", "inspector", "330106002", "北山考核员")
    for name in ("王芳", "李娜", "张敏"):
        person = resident()
        person.name = name
        person.save()


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_an_inspector_draws_records_and_sees_the_accuracy(request, device, three_residents):
    page = request.getfixturevalue(device)
    sign_in(page, "inspector_a")
    page.goto("/stats/")
    page.get_by_test_id("tab-spot-checks").click()
    form = page.get_by_test_id("spot-draw")
    expect(form.locator("input[name=region]")).to_have_value("330106002")
    form.locator("input[name=per_village]").fill("2")
    form.locator("input[name=seed]").fill("1234")
    form.get_by_test_id("spot-draw-submit").click()

    expect(page.get_by_test_id("seed")).to_have_text("1234")
    entries = page.get_by_test_id("entry")
    expect(entries).to_have_count(2)
    expect(page.get_by_test_id("accuracy-rate")).to_have_text("—")
    entry = entries.first
    entry.locator("summary").click()
    for field in FIELDS:
        entry.get_by_test_id(f"field-{field}").locator("span.correct").click()
    entry.get_by_test_id("field-phone").locator("span.incorrect").click()  # changed her number
    entry.get_by_test_id("field-employer").locator("span.correct").click()
    # The certificate is left "not verified": it does not count.
    shot(page, f"spotcheck-results-{device}.png", first_screen=device == "phone_page")
    entry.get_by_test_id("save-results").click()

    expect(page.get_by_test_id("accuracy-rate")).to_have_text("85.71%")  # 6 of 7
    expect(page.get_by_test_id("entry").first.get_by_test_id("visited")).to_be_visible()
    shot(page, f"spotcheck-accuracy-{device}.png")

    page.get_by_test_id("print-sheets").click()
    expect(page.get_by_test_id("sheet")).to_have_count(2)
    expect(page.locator("body")).not_to_contain_text("411326199")  # ID numbers masked
    shot(page, f"spotcheck-sheets-{device}.png")
