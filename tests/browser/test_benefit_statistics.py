"""The benefit statistics on the dashboard (issue 17 item 5), on a desktop and a phone: the
unit's beneficiaries and the year's amounts, shown as figures, never ranked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.pages import shot, sign_in


@pytest.fixture
def benefits(national_programmes, month_with_residents):
    """Two reward benefits and one special_death in 北山社区, and 2026's amounts in
    province 33."""
    from liudong.services.programmes.models import Programme, ProgrammeAmount
    from liudong.stats.tests.test_benefit_indicators import benefit

    for code, yuan in (("reward", "960"), ("special_death", "5400")):
        ProgrammeAmount.objects.create(
            programme=Programme.objects.get(code=code),
            year=int(month_with_residents[:4]),
            province="33",
            yuan_per_year=Decimal(yuan),
        )
    benefit("330106002001")
    benefit("330106002001")
    benefit("330106002001", "special_death")
    return month_with_residents


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_dashboard_shows_the_benefit_statistics(request, device, benefits):
    page = request.getfixturevalue(device)
    sign_in(page, "township_a")
    page.goto(f"/stats/dashboard/?period={benefits}")
    section = page.get_by_test_id("benefit-statistics")
    expect(section.get_by_test_id("benefit-beneficiaries_reward")).to_contain_text("2")
    expect(section.get_by_test_id("benefit-beneficiaries_special")).to_contain_text("1")
    expect(section.get_by_test_id("benefit-benefit_amount_yuan")).to_contain_text("7320")
    section.scroll_into_view_if_needed()
    shot(page, f"stats-benefits-{device}.png", first_screen=True)
