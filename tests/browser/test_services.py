"""The services pages in the browser: a township specialist runs the Warm Winter Action
with two activities, sees the summary and downloads it as xlsx; records a help request for
a person and resolves it with an outcome; adds an association branch and a member. On a
desktop and on a phone; screenshots go to /tmp/shots/services-*.png for review. And she
imports help requests from a spreadsheet (checked, then confirmed) and downloads the
follow-up worklist as xlsx."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from liudong.actors import OPERATOR
from tests.browser.pages import shot, sign_in

BEISHAN = "330106002001"  # 北山社区, township A
HOUSEHOLD = "330105001"  # 米市巷街道


def resident(name: str, sequence: int):
    from liudong.people.idnumbers import make
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    born = datetime.date(1992, 6, 3)
    person = Person(
        id_number=make("330105", born, sequence, "2"),
        name=name,
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region_id=HOUSEHOLD,
    )
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code=BEISHAN),
        arrival_date=datetime.date(2025, 3, 1),
    )
    return person


def add_activity(page, place: str, participants: int, day: str) -> None:
    page.get_by_test_id("add-activity").click()
    form = page.get_by_test_id("service-form")
    form.locator("input[name=date]").fill(day)
    form.locator("input[name=place]").fill(place)
    form.locator("select[name=region]").select_option(BEISHAN)
    form.locator("input[name=participants_count]").fill(str(participants))
    form.locator("input[name=materials_count]").fill("200")
    form.locator("input[name=free_contraceptives_count]").fill("30")
    with page.expect_navigation():
        page.get_by_test_id("save").click()


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_campaign_help_request_and_association(request, device, township_a, tmp_path):
    from django.utils import timezone

    from liudong.services.models import Campaign, HelpRequest, Membership

    page = request.getfixturevalue(device)
    label = "desktop" if device == "page" else "phone"
    her = resident("王丽", 31)
    today = timezone.localdate()

    sign_in(page, "township_a")
    page.get_by_test_id("nav-services").click()
    expect(page.get_by_test_id("services-tabs")).to_be_visible()
    expect(page.get_by_test_id("tab-campaigns")).to_have_attribute("aria-current", "page")

    # A campaign over the village, with two activities.
    page.get_by_test_id("new-campaign").click()
    form = page.get_by_test_id("service-form")
    form.locator("input[name=name]").fill("Warm Winter Action")
    form.locator("select[name=kind]").select_option("warm_winter")
    form.locator("input[name=starts_on]").fill((today - datetime.timedelta(days=10)).isoformat())
    form.locator("input[name=ends_on]").fill((today + datetime.timedelta(days=20)).isoformat())
    form.locator(f"input[name=regions][value='{BEISHAN}']").check()
    shot(page, f"services-campaign-form-{label}.png")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("campaign-name")).to_have_text("Warm Winter Action")
    campaign = Campaign.objects.get(name="Warm Winter Action")

    add_activity(page, "北山社区广场", 120, today.isoformat())
    add_activity(page, "北山农贸市场", 80, (today - datetime.timedelta(days=2)).isoformat())
    expect(page.get_by_test_id("activity-table").locator("tbody tr")).to_have_count(2)
    total = page.get_by_test_id("summary-total")
    expect(total).to_contain_text("200")
    shot(page, f"services-campaign-{label}.png", first_screen=True)

    with page.expect_download() as download_info:
        page.get_by_test_id("export-summary").click()
    download = download_info.value
    target = tmp_path / "summary.xlsx"
    download.save_as(target)
    from openpyxl import load_workbook

    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[-1][0] == "合计" and rows[-1][3] == 200
    assert campaign.activities.count() == 2

    # A help request for her, resolved with an outcome.
    page.get_by_test_id("tab-help").click()
    page.get_by_test_id("new-help").click()
    form = page.get_by_test_id("service-form")
    form.locator("input[name=id_number]").fill(her.id_number)
    expect(page.get_by_test_id("person-lookup")).to_contain_text("王丽")
    form.locator("select[name=category]").select_option("wages")
    form.locator("textarea[name=description]").fill("工地拖欠两个月工资")
    shot(page, f"services-help-form-{label}.png")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    item = HelpRequest.objects.get(person=her)
    expect(page).to_have_url(re.compile(rf"/services/help/{item.pk}/$"))

    form = page.get_by_test_id("service-form")
    form.locator("select[name=status]").select_option("resolved")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("field-error-outcome")).to_be_visible()
    shot(page, f"services-help-outcome-required-{label}.png", first_screen=True)
    form = page.get_by_test_id("service-form")
    form.locator("select[name=status]").select_option("resolved")
    form.locator("textarea[name=outcome]").fill("协调劳动监察部门，工资已全额追回")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("help-outcome")).to_contain_text("工资已全额追回")
    item.refresh_from_db()
    assert item.status == "resolved"
    shot(page, f"services-help-resolved-{label}.png")
    page.get_by_test_id("tab-help").click()
    expect(page.get_by_test_id("no-help")).to_be_visible()
    shot(page, f"services-help-list-{label}.png")

    # An association branch and a member.
    page.get_by_test_id("tab-associations").click()
    page.get_by_test_id("new-branch").click()
    form = page.get_by_test_id("service-form")
    form.locator("input[name=name]").fill("北山社区流动人口计生协会")
    form.locator("select[name=region]").select_option(BEISHAN)
    form.locator("input[name=founded_on]").fill("2021-03-08")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("branch-name")).to_have_text("北山社区流动人口计生协会")
    page.get_by_test_id("add-member").click()
    form = page.get_by_test_id("service-form")
    form.locator("input[name=id_number]").fill(her.id_number)
    expect(page.get_by_test_id("person-lookup")).to_contain_text("王丽")
    form.locator("select[name=role]").select_option("volunteer")
    form.locator("input[name=joined_on]").fill("2025-04-01")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("member-table")).to_contain_text("王丽")
    assert Membership.objects.get().person == her
    shot(page, f"services-branch-{label}.png")


def test_help_requests_import_and_follow_up_export(page, township_a, tmp_path):
    """A township specialist imports help requests from a spreadsheet (checked first, the
    refused row named, then confirmed) and downloads the follow-up worklist as xlsx."""
    from django.utils import timezone
    from openpyxl import Workbook, load_workbook

    from liudong.people.idnumbers import mask
    from liudong.services.models import HelpRequest
    from liudong.services.records import services as record_services

    today = timezone.localdate()
    her = resident("王丽", 31)
    him = resident("陈芳", 33)
    given = {"service_type": "postnatal", "consent_recorded": True, "result": "恢复良好"}
    ten_days_ago = today - datetime.timedelta(days=10)
    record = record_services.create_service_record(
        acting_user=OPERATOR, person=her, date=ten_days_ago, **given
    )
    record_services.schedule_follow_up(
        acting_user=OPERATOR, service=record, due_on=today + datetime.timedelta(days=2)
    )
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["公民身份号码", "类别", "受理日期", "情况说明"])
    sheet.append([her.id_number, "欠薪", today.isoformat(), "工地拖欠两个月工资"])
    sheet.append([him.id_number, "子女入学", today.isoformat(), "孩子转学"])
    sheet.append([him.id_number, "", today.isoformat(), "没有类别"])
    upload = tmp_path / "help.xlsx"
    workbook.save(upload)

    sign_in(page, "township_a")
    page.goto("/services/help/")
    page.get_by_test_id("import-help").click()
    page.get_by_test_id("upload-form").locator("input[type=file]").set_input_files(upload)
    with page.expect_navigation():
        page.get_by_test_id("check-file").click()
    expect(page.get_by_test_id("preview-counts")).to_contain_text("2")
    problems = page.get_by_test_id("preview-problems")
    expect(problems).to_contain_text("category")
    expect(problems.locator("tbody tr")).to_have_count(1)
    assert not HelpRequest.objects.exists()  # the preview saves nothing
    shot(page, "services-help-import-preview.png")
    with page.expect_navigation():
        page.get_by_test_id("confirm-import").click()
    table = page.get_by_test_id("help-table")
    expect(table).to_contain_text("王丽")
    expect(table).to_contain_text("陈芳")
    assert HelpRequest.objects.count() == 2

    page.get_by_test_id("tab-followups").click()
    expect(page.get_by_test_id("followup-table")).to_contain_text("王丽")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-followups").click()
    target = tmp_path / "follow-ups.xlsx"
    download_info.value.save_as(target)
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("公民身份号码", "姓名", "服务类型", "服务日期", "随访日期")
    assert rows[1][0] == mask(her.id_number) and rows[1][1] == "王丽"
    assert her.id_number not in str(rows) and "恢复良好" not in str(rows)
