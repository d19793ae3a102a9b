"""Data quality: a township worker opens the list, sees a file that needs correcting in
her grid, and follows the link to the page where it is corrected."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import make_user
from tests.browser.pages import shot, sign_in


@pytest.fixture
def grid_with_a_file_to_correct(township_a):
    from django.apps import apps

    from liudong.regions.models import Region
    from liudong.regions.services import load_divisions, save_grid
    from liudong.stats.quality import install_rules
    from liudong.stats.tests.conftest import resident

    load_divisions(prefixes=("41",))  # where the residents are registered (河南)
    install_rules(apps)  # the live server's database was emptied after the last test
    worker = make_user("grid_worker", "village", "330106002001", "北山网格员")
    save_grid(
        acting_user=township_a,
        name="北山一网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code="330106002001"),
        responsible=worker,
    )
    married = resident()  # married, with no spouse ID number on file
    married.name = "王芳"
    married.save()
    return married


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_a_township_worker_follows_a_fix_link(request, device, grid_with_a_file_to_correct):
    page = request.getfixturevalue(device)
    person = grid_with_a_file_to_correct
    sign_in(page, "township_a")
    page.goto("/stats/quality/")
    expect(page.get_by_test_id("rule-married_without_spouse")).to_contain_text("1")
    grid = page.get_by_test_id("quality-grid").filter(has_text="北山一网格")
    violation = grid.get_by_test_id("violation").filter(has_text="王芳")
    expect(violation).to_contain_text(person.id_number[:6] + "********")
    expect(page.locator("body")).not_to_contain_text(person.id_number)
    shot(page, f"stats-quality-{device}.png", first_screen=device == "phone_page")
    violation.get_by_test_id("fix-link").click()
    expect(page).to_have_url(re.compile(rf"/people/{person.pk}/edit/$"))
    expect(page.locator("input[name=spouse_id_number]")).to_be_visible()
    shot(page, f"stats-quality-fix-{device}.png")
