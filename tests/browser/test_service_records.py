"""Service records in the browser: a township specialist records a contraceptive supply
with the method she chose and a follow-up, finds it in the list, sees the follow-up on the
worklist and marks it done. On a desktop and on a phone; screenshots go to
/tmp/shots/service-records-*.png for review."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from tests.browser.pages import shot, sign_in
from tests.browser.test_services import resident


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_record_a_contraceptive_supply_and_its_follow_up(request, device, township_a):
    from django.utils import timezone

    from liudong.places import services as places
    from liudong.services.models import FollowUp, ServiceRecord

    page = request.getfixturevalue(device)
    label = "desktop" if device == "page" else "phone"
    her = resident("陈静", 41)
    station = places.create_site(
        acting_user=township_a,
        kind="service_station",
        name="北山街道计生服务站",
        region="330106002",
    )
    today = timezone.localdate()
    due = today + datetime.timedelta(days=3)

    sign_in(page, "township_a")
    page.get_by_test_id("nav-services").click()
    page.get_by_test_id("tab-records").click()
    expect(page.get_by_test_id("tab-records")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("no-records")).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id("new-record").click()
    page.wait_for_load_state("networkidle")

    form = page.get_by_test_id("service-form")
    form.locator("input[name=id_number]").fill(her.id_number)
    expect(page.get_by_test_id("person-lookup")).to_contain_text("陈静")
    # The method fields show only for a contraceptive supply.
    expect(page.get_by_test_id("method-fields")).to_be_hidden()
    form.locator("select[name=service_type]").select_option("contraceptive")
    expect(page.get_by_test_id("method-fields")).to_be_visible()
    form.locator("select[name=provider]").select_option(str(station.pk))
    form.locator("input[name=follow_up_on]").fill(due.isoformat())
    # Saved without her consent, then without her method: each refused on its field.
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("field-error-consent_recorded")).to_be_visible()
    shot(page, f"service-records-consent-error-{label}.png", first_screen=True)
    form = page.get_by_test_id("service-form")
    form.locator("input[name=consent_recorded]").check()
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("field-error-contraceptive_method")).to_be_visible()
    form = page.get_by_test_id("service-form")
    expect(form.locator("input[name=consent_recorded]")).to_be_checked()
    form.locator("select[name=contraceptive_method]").select_option("oral")
    shot(page, f"service-records-form-{label}.png")
    with page.expect_navigation():
        page.get_by_test_id("save").click()

    record = ServiceRecord.objects.get(person=her)
    assert record.contraceptive_method == "oral" and record.consent_recorded
    expect(page.get_by_test_id("record-method")).to_be_visible()
    expect(page.get_by_test_id("follow-up-row")).to_have_count(1)
    shot(page, f"service-records-detail-{label}.png")

    page.get_by_test_id("tab-records").click()
    expect(page.get_by_test_id("record-table").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("record-table")).to_contain_text("陈静")
    shot(page, f"service-records-list-{label}.png")

    page.get_by_test_id("tab-followups").click()
    table = page.get_by_test_id("followup-table")
    expect(table).to_contain_text("陈静")
    expect(table).to_contain_text(due.isoformat())
    shot(page, f"service-records-followups-{label}.png")
    with page.expect_navigation():
        table.get_by_test_id("mark-done").click()
    expect(page.get_by_test_id("no-followups")).to_be_visible()
    follow_up = FollowUp.objects.get()
    # Marked done today, or tomorrow when the test ran across midnight (Beijing time).
    assert today <= follow_up.done_on <= timezone.localdate()
    assert follow_up.done_by == township_a
    shot(page, f"service-records-followups-done-{label}.png")
