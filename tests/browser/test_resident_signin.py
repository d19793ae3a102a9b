"""Issue 19 at 375 px: the township makes her access code from her file's page (a slip shown
once, to print), and she signs in with her ID number, the code and her birth date on her
phone. A wrong code first: one message, no hint which detail was wrong."""

from __future__ import annotations

import datetime

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from liudong.people.idnumbers import mask
from tests.browser.pages import shot, shots


@pytest.fixture
def her_file(township_a):
    from liudong.people.idnumbers import make
    from liudong.people.models import Person

    born = datetime.date(1994, 8, 21)
    return Person.objects.create(
        id_number=make("411522", born, 30, "2"),
        name="刘桂兰",
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region_id="330106002001",
    )


def _her_home_is_built() -> bool:
    try:
        reverse("residents:home")
    except NoReverseMatch:
        return False
    return True


# Her home page is the VIEW part's (residents:home); until it is merged, /me/ answers 404
# after her sign-in, which is all this test may be told about it.
NO_HOME_YET = [] if _her_home_is_built() else [pytest.mark.console_errors("/me/)")]


@pytest.mark.parametrize("_home", [pytest.param(0, marks=NO_HOME_YET)])
def test_the_township_prints_her_code_and_she_signs_in(phone_page, sign_in, her_file, _home):
    from liudong.audit.models import Action, AuditEntry
    from liudong.residents.models import AccessCode

    page = phone_page
    sign_in(page, "township_a")
    page.goto(f"/people/{her_file.pk}/")
    with page.expect_navigation():
        page.get_by_test_id("issue-access-code").locator("button").click()
    slip = page.get_by_test_id("code-slip")
    expect(slip).to_be_visible()
    code = page.get_by_test_id("slip-code").inner_text().strip()
    assert len(code.replace("-", "")) == 10
    expect(page.get_by_test_id("slip-id")).to_have_text(mask(her_file.id_number))
    expect(page.get_by_test_id("slip-address")).to_contain_text("/me/sign-in/")
    assert code not in page.url and her_file.id_number not in page.url
    shot(page, "resident-code-slip-375.png", first_screen=True)
    shots(page, "resident-code-slip")
    assert AccessCode.objects.filter(person=her_file, revoked_at__isnull=True).count() == 1

    # Her phone: nobody signed in.
    page.context.clear_cookies()
    page.goto("/me/sign-in/")
    form = page.get_by_test_id("resident-sign-in-form")
    form.locator("input[name=id_number]").fill(her_file.id_number)
    form.locator("input[name=code]").fill("ACDEF-HJKMN" if code != "ACDEF-HJKMN" else "ACDEF-HJKMP")
    form.locator("input[name=birth_date]").fill(her_file.birth_date.isoformat())
    with page.expect_navigation():
        page.get_by_test_id("resident-sign-in-submit").click()
    from django.utils import translation

    from liudong.residents.signin import refused_message

    with translation.override("zh-hans"):
        refused = refused_message()
    expect(page.get_by_test_id("form-error")).to_have_text(refused)
    shot(page, "resident-sign-in-refused-375.png", first_screen=True)

    form.locator("input[name=code]").fill(code.lower())
    form.locator("input[name=birth_date]").fill(her_file.birth_date.isoformat())
    shots(page, "resident-sign-in")
    with page.expect_navigation():
        page.get_by_test_id("resident-sign-in-submit").click()
    assert page.url.rstrip("/").endswith("/me")
    entry = AuditEntry.objects.filter(action=Action.LOGIN, actor_role="resident").get()
    assert entry.actor_username == f"resident:{her_file.pk}"
    assert AuditEntry.objects.filter(
        action=Action.FAILED_LOGIN, object_type="residents.signin"
    ).exists()
