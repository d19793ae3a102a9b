"""Import and export of help requests, follow-ups, campaigns, campaign activities,
association branches and association activities: each import creates, updates or leaves
unchanged through the services; an export re-imports unchanged; a bad row is refused
naming its row, field and rule and saves nothing; scope, permissions and the audit log.

Township A is 北山街道 330106002 (villages 330106002001/002), township B 西溪街道 330106004.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from liudong.audit.models import AuditEntry
from liudong.people import idnumbers
from liudong.regions.models import Region
from liudong.services import spreadsheets
from liudong.services.associations import spreadsheets as association_sheets
from liudong.services.campaigns import services as campaign_services
from liudong.services.campaigns import spreadsheets as campaign_sheets
from liudong.services.help_requests import services as help_services
from liudong.services.help_requests import spreadsheets as help_sheets
from liudong.services.models import AssociationBranch, Campaign, FollowUp, HelpRequest
from liudong.services.records import services as record_services
from liudong.services.records import spreadsheets as record_sheets
from liudong.services.tests import test_web
from liudong.tabular import read_table

pytestmark = pytest.mark.django_db

# The pages' fixtures: uploads in a temporary folder, township A's campaign and branch.
upload_folder = test_web.upload_folder
own_campaign = test_web.own_campaign
branch_a = test_web.branch_a


@pytest.fixture(autouse=True)
def own_id_numbers(monkeypatch):
    """This module's residents take their ID numbers from a sequence of their own, so
    these tests leave the numbers other modules' residents get as they were (some tests
    write a deliberately wrong check digit, which is right for one number in eleven)."""
    from liudong.certificates.tests.conftest import make_person

    monkeypatch.setitem(make_person.__globals__, "_sequence", iter(range(500, 1000, 2)))


BEISHAN = "330106002001"
SHUGUANG = "330106002002"
TODAY = timezone.localdate()
DAY = TODAY - datetime.timedelta(days=20)


def table(tmp_path: Path, header: list[str], *rows, name: str = "file.xlsx") -> Path:
    """An xlsx file with this header and rows, as an office would upload it."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    path = tmp_path / name
    workbook.save(path)
    return path


# Each list export by the name the tests use.
SHEETS = {
    "help_requests": help_sheets.HELP_SHEET,
    "follow_ups": record_sheets.FOLLOW_UP_SHEET,
    "campaigns": campaign_sheets.CAMPAIGN_SHEET,
    "campaign_activities": campaign_sheets.ACTIVITY_SHEET,
    "branches": association_sheets.BRANCH_SHEET,
    "association_activities": association_sheets.ASSOCIATION_ACTIVITY_SHEET,
}


def export(tmp_path: Path, sheet: str, records, user, **kwargs) -> Path:
    path = tmp_path / f"{sheet}.xlsx"
    spreadsheets.write_sheet(
        SHEETS[sheet], records, path, acting_user=user, region=user.region_id, **kwargs
    )
    return path


def as_cell(day: datetime.date) -> datetime.datetime:
    """A date as openpyxl reads a date cell back."""
    return datetime.datetime.combine(day, datetime.time())


def rows_of(path_or_bytes) -> list[tuple]:
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return [tuple(row) for row in load_workbook(source).active.iter_rows(values_only=True)]


def counts(summary) -> tuple[int, int, int]:
    return summary.imported, summary.updated, summary.unchanged


def problems(summary) -> str:
    """The refused rows and fields, as "2:category 3:date"."""
    return " ".join(sorted(f"{p['row']}:{p['field']}" for p in summary.rejected))


@pytest.mark.parametrize(
    ("sheet", "columns"),
    [
        ("help_requests", help_sheets.HELP_COLUMNS),
        ("follow_ups", record_sheets.FOLLOW_UP_COLUMNS),
        ("campaigns", campaign_sheets.CAMPAIGN_COLUMNS),
        ("campaign_activities", campaign_sheets.ACTIVITY_COLUMNS),
        ("branches", association_sheets.BRANCH_COLUMNS),
        ("association_activities", association_sheets.ASSOCIATION_ACTIVITY_COLUMNS),
    ],
)
def test_every_import_reads_every_column_its_export_writes(sheet, columns):
    header = SHEETS[sheet].header
    aliases = {alias for names in columns.values() for alias in names}
    # Only the person's name and the handler are shown for reading, not imported.
    assert set(header) - aliases <= {"姓名", "经办人"}


# --- help requests -------------------------------------------------------------------------

HELP = ["公民身份号码", "类别", "受理日期", "办结期限", "情况说明", "状态", "办理结果", "办结日期"]


def test_help_requests_import_creates_then_unchanged_then_updates(tmp_path, township_a, resident_a):
    day = DAY.isoformat()
    new = table(tmp_path, HELP, (resident_a.id_number, "欠薪", day, "", "工地拖欠工资", "", "", ""))
    assert counts(help_sheets.import_help_requests(new, acting_user=township_a)) == (1, 0, 0)
    item = HelpRequest.objects.get()
    assert item.category == "wages" and item.status == "open"
    assert item.deadline == DAY + datetime.timedelta(days=15)  # the service's default
    assert item.region_id == BEISHAN and item.description == "工地拖欠工资"
    assert counts(help_sheets.import_help_requests(new, acting_user=township_a)) == (0, 0, 1)

    resolved = table(
        tmp_path,
        HELP,
        (resident_a.id_number, "wages", day, "", "", "已解决", "工资已追回", TODAY.isoformat()),
        name="resolved.xlsx",
    )
    assert counts(help_sheets.import_help_requests(resolved, acting_user=township_a)) == (0, 1, 0)
    item.refresh_from_db()
    assert (item.status, item.outcome, item.resolved_on) == ("resolved", "工资已追回", TODAY)
    assert item.description == "工地拖欠工资"  # a blank cell leaves it
    assert AuditEntry.objects.filter(action="update", object_id=str(item.pk)).exists()


def test_help_request_refusals_name_row_field_and_rule(
    tmp_path, township_a, resident_a, resident_b
):
    day = DAY.isoformat()
    masked = idnumbers.mask(resident_a.id_number)
    path = table(
        tmp_path,
        HELP,
        (resident_a.id_number, "", day, "", "", "", "", ""),  # no category
        (resident_a.id_number, "欠债", day, "", "", "", "", ""),  # no such category
        (resident_a.id_number, "住房", "yesterday", "", "", "", "", ""),
        (resident_a.id_number, "健康", day, "", "", "已解决", "", ""),  # outcome missing
        (masked, "健康", day, "", "", "", "", ""),  # a masked number names no one
        (resident_b.id_number, "健康", day, "", "", "", "", ""),  # township B's file
        (resident_a.id_number, "健康", (TODAY + datetime.timedelta(days=3)).isoformat()),
    )
    summary = help_sheets.import_help_requests(path, acting_user=township_a)
    assert counts(summary) == (0, 0, 0)
    assert (
        problems(summary)
        == "2:category 3:category 4:received_on 5:outcome 6:id_number 7:id_number 8:received_on"
    )
    messages = {p["row"]: p["message"] for p in summary.rejected}
    assert "Category is required" in messages[2]
    assert "欠债" in messages[3] and "欠薪" in messages[3]
    assert "masked" in messages[6]
    assert "in the future" in messages[8]
    assert not HelpRequest.objects.exists()


def test_help_export_reimports_unchanged_and_its_number_matches(
    tmp_path, township_a, resident_a, resident_b
):
    first = help_services.create_help_request(
        acting_user=township_a,
        person=resident_a,
        category="schooling",
        received_on=DAY,
        description="孩子入学材料",
    )
    help_services.update_help_request(
        acting_user=township_a,
        help_request=first,
        status="referred",
        outcome="转教育局",
        handler=township_a,
    )
    help_services.create_help_request(
        acting_user=township_a, person=resident_a, category="housing", received_on=DAY
    )
    path = export(tmp_path, "help_requests", HelpRequest.objects.in_scope(township_a), township_a)
    rows = rows_of(path)
    assert rows[0] == tuple(help_sheets.HELP_HEADER)
    assert resident_a.id_number not in str(rows)
    assert {row[3] for row in rows[1:]} == {"子女入学", "住房"}
    assert AuditEntry.objects.filter(action="export", object_type="services.helprequest").exists()
    before = AuditEntry.objects.count()
    summary = help_sheets.import_help_requests(path, acting_user=township_a)
    assert counts(summary) == (0, 0, 2) and not summary.rejected
    assert AuditEntry.objects.count() == before  # nothing changed, nothing logged

    # The exported file, edited: the 编号 names the request, the masked number must be hers.
    wrong = table(
        tmp_path,
        [*HELP, "编号"],
        (
            idnumbers.mask(resident_b.id_number),
            "住房",
            DAY.isoformat(),
            "",
            "",
            "",
            "",
            "",
            first.pk,
        ),
        (
            idnumbers.mask(resident_a.id_number),
            "子女入学",
            DAY.isoformat(),
            "",
            "",
            "已关闭",
            "",
            "",
            first.pk,
        ),
        (resident_a.id_number, "健康", DAY.isoformat(), "", "", "", "", "", 99999),
        (resident_a.id_number, "健康", DAY.isoformat(), "", "", "", "", "", "1e999"),
        name="edited.xlsx",
    )
    summary = help_sheets.import_help_requests(wrong, acting_user=township_a)
    assert problems(summary) == "2:id_number 4:number 5:number"
    assert counts(summary) == (0, 1, 0)
    first.refresh_from_db()
    assert first.status == "closed"


def test_help_import_needs_a_role_that_sees_personal_affairs(tmp_path, provider_a, resident_a):
    path = table(tmp_path, HELP, (resident_a.id_number, "欠薪", DAY.isoformat()))
    with pytest.raises(PermissionDenied):
        help_sheets.import_help_requests(path, acting_user=provider_a)


# --- follow-ups ----------------------------------------------------------------------------


@pytest.fixture
def service(township_a, resident_a):
    given = {"service_type": "postnatal", "date": DAY, "consent_recorded": True}
    return record_services.create_service_record(
        acting_user=township_a, person=resident_a, result="恢复良好", **given
    )


FOLLOW = ["公民身份号码", "服务类型", "服务日期", "随访日期", "完成日期", "备注"]


def test_follow_ups_import_creates_unchanged_updates_and_refuses(
    tmp_path, township_a, resident_a, resident_b, service
):
    due = (DAY + datetime.timedelta(days=14)).isoformat()
    number = resident_a.id_number
    path = table(tmp_path, FOLLOW, (number, "产后访视", DAY.isoformat(), due, "", "电话随访"))
    assert counts(record_sheets.import_follow_ups(path, acting_user=township_a)) == (1, 0, 0)
    assert counts(record_sheets.import_follow_ups(path, acting_user=township_a)) == (0, 0, 1)
    done = table(
        tmp_path,
        FOLLOW,
        (number, "postnatal", DAY.isoformat(), due, TODAY.isoformat(), ""),
        name="done.xlsx",
    )
    assert counts(record_sheets.import_follow_ups(done, acting_user=township_a)) == (0, 1, 0)
    follow_up = FollowUp.objects.get()
    assert (follow_up.done_on, follow_up.done_by, follow_up.notes) == (
        TODAY,
        township_a,
        "电话随访",
    )

    bad = table(
        tmp_path,
        FOLLOW,
        (number, "产后访视", (DAY - datetime.timedelta(days=1)).isoformat(), due),  # no service
        (number, "产后访视", DAY.isoformat(), DAY.isoformat()),  # due on the service day
        (number, "美容", DAY.isoformat(), due),
        (resident_b.id_number, "产后访视", DAY.isoformat(), due),
        (number, "产后访视", DAY.isoformat(), due, "2099-01-01"),
        name="bad.xlsx",
    )
    summary = record_sheets.import_follow_ups(bad, acting_user=township_a)
    assert counts(summary) == (0, 0, 0)
    assert problems(summary) == "2:service_date 3:due_on 4:service_type 5:id_number 6:done_on"
    assert FollowUp.objects.count() == 1


def test_follow_up_worklist_export_filled_in_and_imported_back(
    client_for, tmp_path, township_a, resident_a, service
):
    due = record_services.schedule_follow_up(
        acting_user=township_a, service=service, due_on=TODAY + datetime.timedelta(days=2)
    )
    record_services.schedule_follow_up(
        acting_user=township_a, service=service, due_on=TODAY + datetime.timedelta(days=60)
    )  # not due yet: not on the worklist
    response = client_for(township_a).get(reverse("services:followup_export"))
    assert response.status_code == 200
    rows = rows_of(response.content)
    assert rows[0] == tuple(record_sheets.FOLLOW_UP_HEADER)
    assert len(rows) == 2
    assert rows[1][0] == idnumbers.mask(resident_a.id_number)
    # Dates are date cells (issue 16 item 5), read back by openpyxl as datetimes.
    assert rows[1][2:5] == ("产后访视", as_cell(DAY), as_cell(due.due_on))
    assert rows[1][5] in (None, "")  # 完成日期, to fill in
    assert "恢复良好" not in str(rows)  # never the service's result
    assert AuditEntry.objects.filter(action="export", object_type="services.followup").exists()

    path = tmp_path / "worklist.xlsx"
    path.write_bytes(response.content)
    assert counts(record_sheets.import_follow_ups(path, acting_user=township_a)) == (0, 0, 1)
    workbook = load_workbook(path)
    workbook.active["F2"] = TODAY.isoformat()  # 完成日期 filled in after the visit
    workbook.save(path)
    assert counts(record_sheets.import_follow_ups(path, acting_user=township_a)) == (0, 1, 0)
    due.refresh_from_db()
    assert due.done_on == TODAY
    # The 编号 names one follow-up of that service; another service's number is refused.
    workbook.active["D2"] = "2000-01-01"
    workbook.save(path)
    summary = record_sheets.import_follow_ups(path, acting_user=township_a)
    assert problems(summary) == "2:service_date"


# --- campaigns and their activities --------------------------------------------------------

CAMPAIGN = ["名称", "类型", "开始日期", "结束日期", "区划代码", "说明"]


def test_campaigns_import_creates_unchanged_updates_and_refuses(tmp_path, township_a):
    start, end = DAY.isoformat(), (DAY + datetime.timedelta(days=40)).isoformat()
    path = table(
        tmp_path,
        CAMPAIGN,
        ("协会活动日", "协会活动日", start, end, f"{SHUGUANG}、{BEISHAN}", "会员大会"),
        ("温暖冬春", "温暖冬春行动", start, end, "", ""),
    )
    assert counts(campaign_sheets.import_campaigns(path, acting_user=township_a)) == (2, 0, 0)
    day = Campaign.objects.get(name="协会活动日")
    assert (day.kind, day.organiser_region_id) == ("association_day", "330106002")
    assert day.region_codes() == [BEISHAN, SHUGUANG]
    assert Campaign.objects.get(name="温暖冬春").region_codes() == ["330106002"]
    assert counts(campaign_sheets.import_campaigns(path, acting_user=township_a)) == (0, 0, 2)

    changed = table(
        tmp_path,
        CAMPAIGN,
        ("协会活动日", "association_day", start, TODAY.isoformat(), BEISHAN, ""),
        ("坏的", "打扫卫生", start, end),
        ("越界", "其他", start, end, "330106004001"),
        ("倒过来", "其他", end, start),
        ("", "其他", start, end),
        name="changed.xlsx",
    )
    summary = campaign_sheets.import_campaigns(changed, acting_user=township_a)
    assert counts(summary) == (0, 1, 0)
    assert problems(summary) == "3:kind 4:regions 5:ends_on 6:name"
    day.refresh_from_db()
    assert day.ends_on == TODAY and day.region_codes() == [BEISHAN]
    assert day.description == "会员大会"


def test_campaign_export_reimports_unchanged_and_the_county_campaign_is_not_changed(
    client_for, tmp_path, township_a, campaign, own_campaign
):
    client = client_for(township_a)
    response = client.get(reverse("services:campaign_export"), {"when": "all"})
    rows = rows_of(response.content)
    assert rows[0] == tuple(campaign_sheets.CAMPAIGN_HEADER)
    assert {row[0] for row in rows[1:]} == {campaign.name, own_campaign.name}
    assert AuditEntry.objects.filter(action="export", object_type="services.campaign").exists()
    path = tmp_path / "campaigns.xlsx"
    path.write_bytes(response.content)
    assert counts(campaign_sheets.import_campaigns(path, acting_user=township_a)) == (0, 0, 2)

    # The county's campaign is changed only by the county.
    workbook = load_workbook(path)
    sheet = workbook.active
    for row in range(2, 4):
        sheet.cell(row, 7).value = "改过的说明"
    workbook.save(path)
    summary = campaign_sheets.import_campaigns(path, acting_user=township_a)
    assert counts(summary) == (0, 1, 0)
    assert [p["field"] for p in summary.rejected] == ["organiser_region"]
    campaign.refresh_from_db()
    assert campaign.description == ""


def test_campaign_activities_export_reimports_unchanged(
    client_for, tmp_path, township_a, own_campaign
):
    for place, people in (("北山社区广场", 50), ("", 12)):
        campaign_services.create_activity(
            acting_user=township_a,
            campaign=own_campaign,
            date=DAY,
            place=place,
            region=Region.objects.get(code=BEISHAN),
            participants_count=people,
            materials_count=100,
        )
    response = client_for(township_a).get(
        reverse("services:activity_export", args=[own_campaign.pk])
    )
    rows = rows_of(response.content)
    assert rows[0] == ("日期", "地点", "区划代码", "参加人数", "宣传品", "避孕药具")
    assert len(rows) == 3
    entry = AuditEntry.objects.filter(action="export", object_type="services.campaign").get()
    assert entry.detail["what"] == "campaign activities"
    path = tmp_path / "activities.xlsx"
    path.write_bytes(response.content)
    summary = campaign_sheets.import_activities(path, campaign=own_campaign, acting_user=township_a)
    assert counts(summary) == (0, 0, 2)
    assert own_campaign.activities.count() == 2


# --- association branches and their activities ---------------------------------------------

BRANCH = ["名称", "区划代码", "地点", "成立日期"]


def test_branches_import_export_round_trip_and_refusals(client_for, tmp_path, township_a, branch_a):
    path = table(
        tmp_path,
        BRANCH,
        ("曙光社区计生协会", SHUGUANG, "曙光社区服务中心", "2022-01-01"),
        (branch_a.name, BEISHAN, "北山农贸市场", ""),
        ("西溪协会", "330106004001", "", ""),
        ("", BEISHAN, "", ""),
        ("未来协会", BEISHAN, "", "2099-01-01"),
        ("无名区划", "999999", "", ""),
    )
    summary = association_sheets.import_branches(path, acting_user=township_a)
    assert counts(summary) == (1, 1, 0)
    assert problems(summary) == "4:region 5:name 6:founded_on 7:region"
    branch_a.refresh_from_db()
    assert branch_a.place == "北山农贸市场"
    assert branch_a.founded_on == datetime.date(2020, 5, 1)  # blank: left as it was

    response = client_for(township_a).get(reverse("services:branch_export"))
    rows = rows_of(response.content)
    assert rows[0] == tuple(BRANCH) and len(rows) == 3
    assert AuditEntry.objects.filter(
        action="export", object_type="services.associationbranch"
    ).exists()
    exported = tmp_path / "branches.xlsx"
    exported.write_bytes(response.content)
    assert counts(association_sheets.import_branches(exported, acting_user=township_a)) == (0, 0, 2)
    assert AssociationBranch.objects.count() == 2


def test_association_activities_import_export_round_trip(
    client_for, tmp_path, township_a, branch_a
):
    path = table(
        tmp_path,
        ["日期", "主题", "参加人数", "备注"],
        (DAY.isoformat(), "会员座谈会", 25, "在社区活动室"),
        (DAY.isoformat(), "", 10, ""),
        ("2019-01-01", "成立之前", 5, ""),
        (DAY.isoformat(), "义诊", -3, ""),
    )
    summary = association_sheets.import_association_activities(
        path, branch=branch_a, acting_user=township_a
    )
    assert counts(summary) == (1, 0, 0)
    assert problems(summary) == "3:title 4:date 5:participants_count"
    assert counts(
        association_sheets.import_association_activities(
            path, branch=branch_a, acting_user=township_a
        )
    ) == (0, 0, 1)

    response = client_for(township_a).get(
        reverse("services:branch_activity_export", args=[branch_a.pk])
    )
    rows = rows_of(response.content)
    assert rows[1] == (as_cell(DAY), "会员座谈会", 25, "在社区活动室")
    entry = AuditEntry.objects.get(action="export", object_id=str(branch_a.pk))
    assert entry.region == BEISHAN and entry.detail["rows"] == 1
    exported = tmp_path / "activities.xlsx"
    exported.write_bytes(response.content)
    workbook = load_workbook(exported)
    workbook.active["C2"] = 30
    workbook.save(exported)
    summary = association_sheets.import_association_activities(
        exported, branch=branch_a, acting_user=township_a
    )
    assert counts(summary) == (0, 1, 0)
    assert branch_a.activities.get().participants_count == 30


# --- the pages: preview, confirm, scope ----------------------------------------------------


def upload(path: Path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(path.name, path.read_bytes())


@pytest.mark.parametrize(
    ("url_name", "header", "row", "model"),
    [
        ("services:help_import", HELP, ("{id}", "欠薪", "{day}"), HelpRequest),
        ("services:campaign_import", CAMPAIGN, ("宣传月", "其他", "{day}", "{day}"), Campaign),
        ("services:branch_import", BRANCH, ("新协会", BEISHAN), AssociationBranch),
    ],
)
def test_list_import_pages_preview_then_confirm(
    client_for, tmp_path, township_a, resident_a, url_name, header, row, model
):
    client = client_for(township_a)
    values = {"id": resident_a.id_number, "day": DAY.isoformat()}
    path = table(tmp_path, header, [cell.format(**values) for cell in row])
    url = reverse(url_name)
    preview = client.post(url, {"file": upload(path)})
    assert preview.status_code == 200
    assert counts(preview.context["summary"]) == (1, 0, 0)
    assert not model.objects.exists()  # the preview saves nothing
    confirm = client.post(url, {"confirm": "1"})
    assert confirm.status_code == 302
    assert model.objects.count() == 1
    client.post(url, {"file": upload(path)})
    client.post(url, {"confirm": "1"})
    assert model.objects.count() == 1  # the same file again changes nothing


def test_follow_up_and_branch_activity_import_pages(
    client_for, tmp_path, township_a, resident_a, service, branch_a
):
    client = client_for(township_a)
    due = (DAY + datetime.timedelta(days=7)).isoformat()
    path = table(tmp_path, FOLLOW, (resident_a.id_number, "产后访视", DAY.isoformat(), due))
    url = reverse("services:followup_import")
    page = client.get(url).content.decode()
    assert "随访日期" in page and 'data-testid="import-note"' in page
    client.post(url, {"file": upload(path)})
    assert client.post(url, {"confirm": "1"}).status_code == 302
    assert FollowUp.objects.get().due_on.isoformat() == due

    path = table(tmp_path, ["日期", "主题"], (DAY.isoformat(), "健康讲座"), name="a.xlsx")
    url = reverse("services:branch_activity_import", args=[branch_a.pk])
    client.post(url, {"file": upload(path)})
    assert client.post(url, {"confirm": "1"}).status_code == 302
    assert branch_a.activities.get().title == "健康讲座"


def test_list_pages_offer_the_buttons(client_for, township_a, own_campaign, branch_a):
    client = client_for(township_a)
    for name, args, ids in (
        ("services:help_list", [], ("export-help", "import-help")),
        ("services:followups", [], ("export-followups", "import-followups")),
        ("services:campaigns", [], ("export-campaigns", "import-campaigns")),
        ("services:campaign", [own_campaign.pk], ("export-activities", "import-activities")),
        ("services:branches", [], ("export-branches", "import-branches")),
        (
            "services:branch",
            [branch_a.pk],
            ("export-branch-activities", "import-branch-activities"),
        ),
    ):
        page = client.get(reverse(name, args=args)).content.decode()
        for test_id in ids:
            assert f'data-testid="{test_id}"' in page, (name, test_id)


def test_scope_and_permissions(
    client_for, tmp_path, township_a, township_b, provider_a, inspector, branch_a, own_campaign
):
    other = client_for(township_b)
    for url in (
        reverse("services:branch_activity_export", args=[branch_a.pk]),
        reverse("services:branch_activity_import", args=[branch_a.pk]),
        reverse("services:activity_export", args=[own_campaign.pk]),
    ):
        assert other.get(url).status_code == 404, url
    assert len(rows_of(other.get(reverse("services:branch_export")).content)) == 1
    assert len(rows_of(other.get(reverse("services:campaign_export")).content)) == 1

    # A station records services but keeps no person files: no help requests for it.
    assert client_for(provider_a).get(reverse("services:help_import")).status_code == 403
    assert (
        "import-help"
        not in client_for(provider_a).get(reverse("services:help_list")).content.decode()
    )
    # An inspector sees campaigns but changes nothing.
    viewer = client_for(inspector)
    assert viewer.get(reverse("services:campaign_import")).status_code == 403
    assert viewer.get(reverse("services:followup_export")).status_code == 403

    # Rows of another township's region are refused by the services.
    path = table(tmp_path, BRANCH, ("西溪协会", "330106004001"))
    with translation.override("en"):
        summary = association_sheets.import_branches(path, acting_user=township_a)
    assert problems(summary) == "2:region"
    assert "outside your region" in summary.rejected[0]["message"]


def test_headers_from_the_export_are_read_by_read_table(tmp_path):
    path = table(tmp_path, help_sheets.HELP_HEADER, ["x"] * len(help_sheets.HELP_HEADER))
    ((_row, values),) = read_table(path, help_sheets.HELP_COLUMNS)
    assert values["number"] == "x" and values["description"] is None
