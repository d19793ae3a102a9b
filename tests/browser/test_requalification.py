"""The yearly re-qualification in Chromium, at an office PC and on a phone: the township
finds her in its worklist of re-qualifications due, opens her and confirms her; the county
opens a round and reads its progress per township."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.pages import shot, sign_in


@pytest.fixture
def round_open(national_programmes, township_a, county_admin):
    """A reward beneficiary of 北山社区 and the county's round of this year, due in 30 days."""
    from liudong.regions.models import Region
    from liudong.services.programmes import requalification
    from liudong.services.programmes.tests import factories

    benefit = factories.benefit()
    today = timezone.localdate()
    requalification.open_round(
        acting_user=county_admin,
        county=Region.objects.get(code="330106"),
        year=today.year,
        deadline=today + datetime.timedelta(days=30),
    )
    return benefit


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_township_confirms_a_beneficiary_from_its_worklist(request, device, round_open):
    page = request.getfixturevalue(device)
    sign_in(page, "township_a")
    page.goto("/programmes/requalification/")
    due = page.get_by_test_id("due-table")
    expect(due).to_contain_text(round_open.name)
    expect(due.get_by_test_id("residence-state")).to_have_count(1)
    shot(page, f"requalification-worklist-{device}.png", first_screen=True)

    due.get_by_test_id("open-requalification").click()
    expect(page.get_by_test_id("confirm-form")).to_be_visible()
    shot(page, f"requalification-detail-{device}.png", first_screen=True)
    page.get_by_test_id("confirm").click()
    expect(page).to_have_url(re.compile(r"/programmes/requalification/$"))
    expect(page.get_by_test_id("nothing-due")).to_be_visible()


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_county_reads_the_progress_of_its_round(request, device, round_open):
    page = request.getfixturevalue(device)
    sign_in(page, "county_admin")
    page.goto("/programmes/requalification/")
    rounds = page.get_by_test_id("rounds-table")
    expect(rounds).to_contain_text(str(timezone.localdate().year))
    rounds.get_by_role("link").first.click()
    expect(page.get_by_test_id("progress-330106002")).to_contain_text("1")
    expect(page.get_by_test_id("closes-after")).to_be_visible()  # the deadline is ahead
    shot(page, f"requalification-round-{device}.png", first_screen=True)
