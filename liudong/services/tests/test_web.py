"""The services pages: campaigns with activities (summary, xlsx, import), help requests
(worklist, outcome when resolving, export), association branches with members (export,
import); scope, permissions and stale edits.

Township A is 北山街道 330106002 (villages 330106002001/002), township B 西溪街道 330106004.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from liudong.audit.models import AuditEntry
from liudong.people import idnumbers
from liudong.services.associations import services as association_services
from liudong.services.campaigns import services as campaign_services
from liudong.services.help_requests import services as help_services
from liudong.services.models import (
    Activity,
    AssociationBranch,
    Campaign,
    HelpRequest,
    Membership,
)

pytestmark = pytest.mark.django_db

BEISHAN = "330106002001"
SHUGUANG = "330106002002"
TODAY = timezone.localdate()


def sheet_rows(response) -> list[tuple]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    workbook = load_workbook(io.BytesIO(content))
    return [tuple(row) for row in workbook.active.iter_rows(values_only=True)]


def upload(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture(autouse=True)
def upload_folder(settings, tmp_path):
    """Uploads waiting for confirmation go to a temporary var/ folder."""
    settings.VAR_DIR = tmp_path


@pytest.fixture
def own_campaign(township_a):
    from liudong.regions.models import Region

    return campaign_services.create_campaign(
        acting_user=township_a,
        name="温暖冬春行动",
        kind="warm_winter",
        starts_on=TODAY - datetime.timedelta(days=30),
        ends_on=TODAY + datetime.timedelta(days=30),
        regions=Region.objects.filter(code__in=[BEISHAN, SHUGUANG]),
    )


@pytest.fixture
def branch_a(township_a):
    from liudong.regions.models import Region

    return association_services.create_branch(
        acting_user=township_a,
        name="北山流动人口计生协会",
        region=Region.objects.get(code=BEISHAN),
        founded_on=datetime.date(2020, 5, 1),
    )


# --- campaigns -----------------------------------------------------------------------------


def test_campaign_create_find_change_with_activities_summary_and_export(client_for, township_a):
    client = client_for(township_a)
    page = client.get(reverse("services:campaign_create"))
    assert page.status_code == 200
    assert BEISHAN in page.content.decode()
    starts = TODAY - datetime.timedelta(days=10)
    response = client.post(
        reverse("services:campaign_create"),
        {
            "name": "温暖冬春行动",
            "kind": "warm_winter",
            "starts_on": starts.isoformat(),
            "ends_on": (TODAY + datetime.timedelta(days=20)).isoformat(),
            "regions": [BEISHAN, SHUGUANG],
        },
    )
    campaign = Campaign.objects.get(name="温暖冬春行动")
    assert response.status_code == 302
    assert response["Location"] == reverse("services:campaign", args=[campaign.pk])
    assert campaign.region_codes() == [BEISHAN, SHUGUANG]

    listing = client.get(reverse("services:campaigns"))
    assert "温暖冬春行动" in listing.content.decode()
    assert (
        "温暖冬春行动"
        not in client.get(reverse("services:campaigns") + "?when=past").content.decode()
    )

    for place, region, people in (("北山社区广场", BEISHAN, 120), ("曙光社区", SHUGUANG, 80)):
        response = client.post(
            reverse("services:activity_create", args=[campaign.pk]),
            {
                "date": TODAY.isoformat(),
                "place": place,
                "region": region,
                "participants_count": people,
                "materials_count": 300,
                "free_contraceptives_count": 40,
            },
        )
        assert response.status_code == 302, response.content.decode()
    detail = client.get(reverse("services:campaign", args=[campaign.pk])).content.decode()
    assert "北山社区广场" in detail and "200" in detail  # the total of participants

    # An activity outside the campaign's period is refused on the date field.
    response = client.post(
        reverse("services:activity_create", args=[campaign.pk]),
        {
            "date": (starts - datetime.timedelta(days=1)).isoformat(),
            "region": BEISHAN,
            "participants_count": 1,
            "materials_count": 0,
            "free_contraceptives_count": 0,
        },
    )
    assert response.status_code == 200
    assert "date" in response.context["form"].errors

    response = client.post(
        reverse("services:campaign_edit", args=[campaign.pk]),
        {
            "name": "2026年温暖冬春行动",
            "kind": "warm_winter",
            "starts_on": starts.isoformat(),
            "ends_on": (TODAY + datetime.timedelta(days=20)).isoformat(),
            "regions": [BEISHAN, SHUGUANG],
            "version": campaign.version,
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "2026年温暖冬春行动"

    activity = Activity.objects.get(place="曙光社区")
    response = client.post(
        reverse("services:activity_edit", args=[activity.pk]),
        {
            "date": TODAY.isoformat(),
            "place": "曙光社区",
            "region": SHUGUANG,
            "participants_count": 90,
            "materials_count": 300,
            "free_contraceptives_count": 40,
            "version": activity.version,
        },
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.participants_count == 90

    export = client.get(reverse("services:campaign_xlsx", args=[campaign.pk]))
    assert export.status_code == 200
    rows = sheet_rows(export)
    assert rows[-1][0] == "合计" and rows[-1][3] == 210
    assert AuditEntry.objects.filter(action="export", object_id=str(campaign.pk)).exists()


def test_activities_import_preview_then_confirm(client_for, township_a, own_campaign):
    client = client_for(township_a)
    url = reverse("services:activity_import", args=[own_campaign.pk])
    day = TODAY.isoformat()
    text = (
        "日期,地点,区划代码,参加人数,宣传品,避孕药具\n"
        f"{day},北山社区广场,{BEISHAN},50,100,20\n"
        f"{day},西溪,330106004001,10,0,0\n"
        f"not a date,曙光,{SHUGUANG},5,0,0\n"
    )
    preview = client.post(url, {"file": upload("activities.csv", text)})
    assert preview.status_code == 200
    summary = preview.context["summary"]
    assert summary.imported == 1
    assert {(p["row"], p["field"]) for p in summary.rejected} == {(3, "region"), (4, "date")}
    assert not Activity.objects.exists()  # the preview saves nothing
    confirm = client.post(url, {"confirm": "1"})
    assert confirm.status_code == 302
    assert Activity.objects.get().participants_count == 50
    # The same file again changes nothing.
    client.post(url, {"file": upload("activities.csv", text)})
    client.post(url, {"confirm": "1"})
    assert Activity.objects.count() == 1


# --- help requests -------------------------------------------------------------------------


def test_help_request_create_work_resolve_and_export(client_for, township_a, resident_a):
    client = client_for(township_a)
    lookup = client.get(reverse("services:person_lookup"), {"id_number": resident_a.id_number})
    assert resident_a.name in lookup.content.decode()

    # No category: refused on the category field.
    response = client.post(
        reverse("services:help_create"),
        {"id_number": resident_a.id_number, "received_on": TODAY.isoformat()},
    )
    assert response.status_code == 200
    assert "category" in response.context["form"].errors
    response = client.post(
        reverse("services:help_create"),
        {
            "id_number": resident_a.id_number,
            "category": "wages",
            "description": "工地拖欠三个月工资",
            "received_on": TODAY.isoformat(),
        },
    )
    item = HelpRequest.objects.get()
    assert response.status_code == 302
    assert item.deadline == TODAY + datetime.timedelta(days=15)
    assert item.region_id == BEISHAN

    # An overdue one is listed first and marked.
    late = help_services.create_help_request(
        acting_user=township_a,
        person=resident_a,
        category="schooling",
        received_on=TODAY - datetime.timedelta(days=30),
    )
    worklist = client.get(reverse("services:help_list"))
    assert [r.pk for r in worklist.context["requests"]] == [late.pk, item.pk]
    assert 'data-testid="overdue"' in worklist.content.decode()
    filtered = client.get(reverse("services:help_list"), {"category": "wages"})
    assert [r.pk for r in filtered.context["requests"]] == [item.pk]
    assert worklist.context["counts"]["overdue"] == 1

    url = reverse("services:help", args=[item.pk])
    form = {
        "status": "resolved",
        "category": "wages",
        "deadline": item.deadline.isoformat(),
        "handler": township_a.pk,
        "version": item.version,
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "outcome" in response.context["form"].errors  # outcome required when resolving
    response = client.post(url, {**form, "outcome": "协调劳动监察大队，工资已追回"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "resolved" and item.resolved_on == TODAY
    assert item.handler == township_a

    done = client.get(reverse("services:help_list"), {"status": "resolved"})
    assert [r.pk for r in done.context["requests"]] == [item.pk]
    export = client.get(reverse("services:help_export"), {"status": "resolved"})
    rows = sheet_rows(export)
    assert rows[1][0] == idnumbers.mask(resident_a.id_number)
    assert resident_a.id_number not in str(rows)
    assert AuditEntry.objects.filter(action="export", object_type="services.helprequest").exists()


def test_stale_help_request_edit_is_refused(client_for, township_a, resident_a):
    item = help_services.create_help_request(
        acting_user=township_a, person=resident_a, category="health"
    )
    seen = item.version
    help_services.update_help_request(
        acting_user=township_a, help_request=item, status="in_progress"
    )
    response = client_for(township_a).post(
        reverse("services:help", args=[item.pk]),
        {
            "status": "closed",
            "category": "health",
            "deadline": item.deadline.isoformat(),
            "version": seen,
        },
    )
    assert response.status_code == 200
    assert "版本 2" in " ".join(response.context["form"].non_field_errors())
    item.refresh_from_db()
    assert item.status == "in_progress"


# --- associations --------------------------------------------------------------------------


def test_branch_members_and_activities(client_for, township_a, resident_a):
    client = client_for(township_a)
    response = client.post(
        reverse("services:branch_create"),
        {"name": "北山流动人口计生协会", "region": BEISHAN, "founded_on": "2020-05-01"},
    )
    branch = AssociationBranch.objects.get()
    assert response.status_code == 302
    assert "北山流动人口计生协会" in client.get(reverse("services:branches")).content.decode()
    response = client.post(
        reverse("services:branch_edit", args=[branch.pk]),
        {"name": "北山协会", "region": BEISHAN, "place": "北山市场", "version": branch.version},
    )
    assert response.status_code == 302
    branch.refresh_from_db()
    assert (branch.name, branch.place) == ("北山协会", "北山市场")

    response = client.post(
        reverse("services:member_add", args=[branch.pk]),
        {"id_number": resident_a.id_number, "role": "volunteer", "joined_on": "2025-04-01"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get()
    # Added twice: refused on the form.
    again = client.post(
        reverse("services:member_add", args=[branch.pk]),
        {"id_number": resident_a.id_number, "role": "member", "joined_on": "2025-04-01"},
    )
    assert again.status_code == 200 and again.context["form"].errors

    export = client.get(reverse("services:member_export", args=[branch.pk]))
    rows = sheet_rows(export)
    assert rows[1][0] == idnumbers.mask(resident_a.id_number)

    response = client.post(
        reverse("services:branch_activity_create", args=[branch.pk]),
        {"date": TODAY.isoformat(), "title": "优生优育讲座", "participants_count": 35},
    )
    assert response.status_code == 302
    detail = client.get(reverse("services:branch", args=[branch.pk])).content.decode()
    assert "优生优育讲座" in detail and resident_a.name in detail

    response = client.post(
        reverse("services:member_leave", args=[membership.pk]), {"version": membership.version}
    )
    membership.refresh_from_db()
    assert membership.left_on == TODAY


def _wrong_check_digit(id_number: str) -> str:
    """The number with a check character that is not its own (X is right for 1 in 11)."""
    return id_number[:17] + ("1" if id_number[17] == "X" else "X")


def test_members_import_preview_then_confirm(client_for, township_a, resident_a, branch_a):
    client = client_for(township_a)
    url = reverse("services:member_import", args=[branch_a.pk])
    text = (
        "公民身份号码,角色,入会日期\n"
        f"{resident_a.id_number},志愿者,2025-04-01\n"
        "110105199001010011,会员,2025-04-01\n"
        f"{_wrong_check_digit(resident_a.id_number)},会员,2025-04-01\n"
    )
    preview = client.post(url, {"file": upload("members.csv", text)})
    summary = preview.context["summary"]
    assert summary.imported == 1
    assert {(p["row"], p["field"]) for p in summary.rejected} == {
        (3, "id_number"),
        (4, "id_number"),
    }
    assert not Membership.objects.exists()
    assert 'data-testid="preview-problems"' in preview.content.decode()
    client.post(url, {"confirm": "1"})
    assert Membership.objects.get().role == "volunteer"

    bad = client.post(url, {"file": upload("members.csv", "姓名\n张三\n")})
    assert "missing required column" in " ".join(bad.context["form"].errors["file"])


# --- scope and permissions -----------------------------------------------------------------


def test_another_township_gets_404(
    client_for, township_a, township_b, resident_a, branch_a, own_campaign
):
    item = help_services.create_help_request(
        acting_user=township_a, person=resident_a, category="health"
    )
    membership = association_services.create_membership(
        acting_user=township_a,
        branch=branch_a,
        person=resident_a,
        joined_on=datetime.date(2025, 4, 1),
    )
    client = client_for(township_b)
    for url in (
        reverse("services:help", args=[item.pk]),
        reverse("services:branch", args=[branch_a.pk]),
        reverse("services:branch_edit", args=[branch_a.pk]),
        reverse("services:member_export", args=[branch_a.pk]),
        reverse("services:member_edit", args=[membership.pk]),
        reverse("services:campaign", args=[own_campaign.pk]),
        reverse("services:activity_import", args=[own_campaign.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert item.pk not in [
        r.pk for r in client.get(reverse("services:help_list")).context["requests"]
    ]
    # Her ID number is not offered to township B.
    response = client.post(
        reverse("services:help_create"),
        {"id_number": resident_a.id_number, "category": "wages", "received_on": TODAY.isoformat()},
    )
    assert "id_number" in response.context["form"].errors


def test_inspector_may_not_change(client_for, inspector, township_a, own_campaign, branch_a):
    client = client_for(inspector)
    for url in (
        reverse("services:campaign_create"),
        reverse("services:campaign_edit", args=[own_campaign.pk]),
        reverse("services:activity_create", args=[own_campaign.pk]),
        reverse("services:help_create"),
        reverse("services:help_list"),
        reverse("services:branch_create"),
        reverse("services:member_add", args=[branch_a.pk]),
    ):
        assert client.get(url).status_code == 403, url
    # Campaigns are statistics: the inspector reads them.
    assert client.get(reverse("services:campaign", args=[own_campaign.pk])).status_code == 200


def test_township_cannot_change_the_county_campaign(client_for, township_a, campaign):
    client = client_for(township_a)
    detail = client.get(reverse("services:campaign", args=[campaign.pk]))
    assert detail.status_code == 200
    assert 'data-testid="edit-campaign"' not in detail.content.decode()
    response = client.post(
        reverse("services:campaign_edit", args=[campaign.pk]),
        {
            "name": "改名",
            "kind": "warm_winter",
            "starts_on": "2025-01-10",
            "ends_on": "2025-02-28",
            "regions": ["330106002"],
            "version": campaign.version,
        },
    )
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.name == "2025年温暖冬春行动"


def test_stale_campaign_edit_is_refused(client_for, township_a, own_campaign):
    seen = own_campaign.version
    campaign_services.update_campaign(
        acting_user=township_a, campaign=own_campaign, description="x"
    )
    response = client_for(township_a).post(
        reverse("services:campaign_edit", args=[own_campaign.pk]),
        {
            "name": "另一个名字",
            "kind": "warm_winter",
            "starts_on": own_campaign.starts_on.isoformat(),
            "ends_on": own_campaign.ends_on.isoformat(),
            "regions": [BEISHAN],
            "version": seen,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    own_campaign.refresh_from_db()
    assert own_campaign.name == "温暖冬春行动"
