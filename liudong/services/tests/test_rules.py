"""The rules of campaigns, associations and help requests, each refused with its field
named, and the audit entries every change writes."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from liudong.audit.models import AuditEntry
from liudong.regions.models import Region
from liudong.services.associations import services as association_services
from liudong.services.campaigns import services as campaign_services
from liudong.services.help_requests import services as help_services
from liudong.services.models import Activity, HelpRequest, HelpStatus

pytestmark = pytest.mark.django_db
D = datetime.date


def region(code):
    return Region.objects.get(code=code)


def activity(user, campaign, code="330106002001", day=None, **counts):
    return campaign_services.create_activity(
        acting_user=user,
        campaign=campaign,
        date=day or D(2025, 1, 20),
        region=region(code),
        place="北山社区",
        **counts,
    )


def test_campaign_ending_before_it_starts_is_refused(county_admin):
    with pytest.raises(ValidationError) as refused:
        campaign_services.create_campaign(
            acting_user=county_admin,
            name="7·11",
            kind="population_day",
            starts_on=D(2025, 7, 11),
            ends_on=D(2025, 7, 10),
        )
    assert "ends_on" in refused.value.message_dict
    assert "before the start" in refused.value.message_dict["ends_on"][0]


def test_campaign_regions_outside_the_organiser_are_refused(township_a):
    with translation.override("en"), pytest.raises(PermissionDenied) as outside:
        campaign_services.create_campaign(
            acting_user=township_a,
            name="x",
            kind="other",
            starts_on=D(2025, 1, 1),
            ends_on=D(2025, 1, 2),
            organiser_region=region("330106004"),
        )
    # named as the page labels the field, not by its code `organiser_region`
    assert str(outside.value).startswith("Organised by: region 330106004 lies outside")
    with pytest.raises(ValidationError) as refused:
        campaign_services.create_campaign(
            acting_user=township_a,
            name="x",
            kind="other",
            starts_on=D(2025, 1, 1),
            ends_on=D(2025, 1, 2),
            regions=[region("330106004")],
        )
    assert "regions" in refused.value.message_dict


def test_campaign_without_regions_covers_the_organiser(township_a):
    campaign = campaign_services.create_campaign(
        acting_user=township_a,
        name="协会活动日",
        kind="association_day",
        starts_on=D(2025, 5, 1),
        ends_on=D(2025, 5, 31),
    )
    assert campaign.region_codes() == ["330106002"]
    assert campaign.organiser_region_id == "330106002"


def test_activity_outside_the_period_is_refused(township_a, campaign):
    with pytest.raises(ValidationError) as refused:
        activity(township_a, campaign, day=D(2025, 3, 1))
    assert "outside the campaign's period" in refused.value.message_dict["date"][0]
    activity(township_a, campaign, day=D(2025, 2, 28))  # the last day is in


def test_activity_outside_the_campaign_regions_is_refused(county_b_admin, county_admin):
    campaign = campaign_services.create_campaign(
        acting_user=county_admin,
        name="x",
        kind="other",
        starts_on=D(2025, 1, 1),
        ends_on=D(2025, 1, 31),
        regions=[region("330106002")],
    )
    with pytest.raises(ValidationError) as refused:
        activity(county_admin, campaign, code="330106004001", day=D(2025, 1, 5))
    assert "outside the campaign's regions" in refused.value.message_dict["region"][0]


def test_activity_outside_the_callers_region_is_refused(township_b, campaign):
    with pytest.raises(PermissionDenied, match="region"):
        activity(township_b, campaign, code="330106002001")


def test_negative_counts_are_refused(township_a, campaign):
    with pytest.raises(ValidationError) as refused:
        activity(township_a, campaign, free_contraceptives_count=-1)
    assert "free_contraceptives_count" in refused.value.message_dict


def test_a_campaign_cannot_shrink_away_from_its_activities(county_admin, township_a, campaign):
    activity(township_a, campaign, day=D(2025, 2, 20))
    with pytest.raises(ValidationError) as refused:
        campaign_services.update_campaign(
            acting_user=county_admin, campaign=campaign, ends_on=D(2025, 2, 10)
        )
    assert "ends_on" in refused.value.message_dict
    with pytest.raises(ValidationError):
        campaign_services.update_campaign(
            acting_user=county_admin, campaign=campaign, regions=[region("330106004")]
        )


def test_only_the_organiser_changes_a_campaign(township_a, campaign):
    with pytest.raises(PermissionDenied):
        campaign_services.update_campaign(acting_user=township_a, campaign=campaign, name="改名")


def test_summary_adds_up_over_child_regions(county_admin, township_a, township_b, campaign):
    activity(township_a, campaign, "330106002001", participants_count=30, materials_count=100)
    activity(township_a, campaign, "330106002001001", participants_count=5, materials_count=10)
    activity(township_a, campaign, "330106002", participants_count=7, free_contraceptives_count=4)
    activity(township_b, campaign, "330106004002", participants_count=12, materials_count=40)

    county = campaign_services.campaign_summary(campaign, user=county_admin)
    rows = {row.region: row for row in county.rows}
    assert set(rows) == {"330106002", "330106004"}
    assert (rows["330106002"].activities, rows["330106002"].participants) == (3, 42)
    assert (rows["330106002"].materials, rows["330106002"].contraceptives) == (110, 4)
    assert (rows["330106004"].activities, rows["330106004"].participants) == (1, 12)
    total = county.total
    assert (total.activities, total.participants, total.materials, total.contraceptives) == (
        4,
        54,
        150,
        4,
    )

    # Township A sees its own part, by village, with its own office's row.
    mine = campaign_services.campaign_summary(campaign, user=township_a)
    rows = {row.region: row for row in mine.rows}
    assert mine.region.code == "330106002"
    assert rows["330106002001"].participants == 35  # the group counts with its village
    assert rows["330106002002"].activities == 0  # a covered village with nothing yet
    assert rows["330106002"].participants == 7
    assert mine.total.participants == 42


def test_summary_xlsx_has_the_chinese_title(tmp_path, county_admin, township_a, campaign):
    from openpyxl import load_workbook

    activity(township_a, campaign, participants_count=3)
    out = tmp_path / "summary.xlsx"
    summary = campaign_services.campaign_summary(campaign, user=county_admin)
    campaign_services.write_summary_xlsx(summary, out, acting_user=county_admin)
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "2025年温暖冬春行动 宣传服务活动汇总表"
    assert "2025-01-10 至 2025-02-28" in sheet["A2"].value
    assert [c.value for c in sheet[3]][:3] == ["行政区划代码", "行政区划", "活动次数"]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合计" and last[3] == 3
    # Printable (issue 16 item 5): title and header rows on every page, one page wide.
    assert sheet.print_title_rows == "$1:$3" and sheet.freeze_panes == "A4"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet["A1"].font.name == "宋体" and sheet["A1"].font.b
    assert AuditEntry.objects.filter(action="export", object_id=str(campaign.pk)).exists()


# --- associations ------------------------------------------------------------------------


@pytest.fixture
def branch(township_a):
    return association_services.create_branch(
        acting_user=township_a,
        name="北山街道流动人口计生协会",
        region=region("330106002001"),
        founded_on=D(2020, 6, 1),
    )


def test_membership_of_a_person_outside_the_scope_is_refused(township_a, branch, resident_b):
    with pytest.raises(PermissionDenied, match="person"):
        association_services.create_membership(
            acting_user=township_a, branch=branch, person=resident_b, joined_on=D(2025, 1, 1)
        )


def test_one_open_membership_per_person_and_branch(township_a, branch, resident_a):
    first = association_services.create_membership(
        acting_user=township_a, branch=branch, person=resident_a, joined_on=D(2025, 1, 1)
    )
    with pytest.raises(ValidationError) as refused:
        association_services.create_membership(
            acting_user=township_a, branch=branch, person=resident_a, joined_on=D(2025, 2, 1)
        )
    assert "already a member" in refused.value.message_dict["person"][0]
    with pytest.raises(ValidationError) as refused:
        association_services.update_membership(
            acting_user=township_a, membership=first, left_on=D(2024, 1, 1)
        )
    assert "left_on" in refused.value.message_dict
    association_services.update_membership(
        acting_user=township_a, membership=first, left_on=D(2025, 3, 1)
    )
    association_services.create_membership(
        acting_user=township_a, branch=branch, person=resident_a, joined_on=D(2025, 4, 1)
    )


def test_association_activity_before_the_branch_was_founded_is_refused(township_a, branch):
    with pytest.raises(ValidationError) as refused:
        association_services.create_association_activity(
            acting_user=township_a, branch=branch, date=D(2019, 1, 1), title="讲座"
        )
    assert "founded" in refused.value.message_dict["date"][0]


# --- help requests -----------------------------------------------------------------------


def help_request(user, person, **values):
    values = {"category": "wages", "received_on": D(2026, 1, 5), **values}
    return help_services.create_help_request(acting_user=user, person=person, **values)


def test_help_request_without_a_category_is_refused(township_a, resident_a):
    for category in ("", None):
        with pytest.raises(ValidationError) as refused:
            help_request(township_a, resident_a, category=category)
        assert refused.value.message_dict == {"category": ["Category is required."]}
    with pytest.raises(ValidationError) as refused:
        help_request(township_a, resident_a, category="fines")
    assert "category" in refused.value.message_dict
    assert not HelpRequest.objects.exists()


def test_help_request_for_a_person_outside_the_scope_is_refused(township_a, resident_b):
    with pytest.raises(PermissionDenied, match="person"):
        help_request(township_a, resident_b)


def test_help_request_defaults(township_a, resident_a):
    made = help_request(township_a, resident_a)
    assert made.deadline == D(2026, 1, 20)
    assert made.region_id == "330106002001"  # where she lives, inside the caller's region
    assert made.status == HelpStatus.OPEN


def test_resolution_without_an_outcome_is_refused(township_a, resident_a):
    made = help_request(township_a, resident_a)
    for status in ("resolved", "referred"):
        with pytest.raises(ValidationError) as refused:
            help_services.update_help_request(
                acting_user=township_a, help_request=made, status=status
            )
        assert "outcome" in refused.value.message_dict
    made.refresh_from_db()
    help_services.update_help_request(
        acting_user=township_a,
        help_request=made,
        status="resolved",
        outcome="协调用工单位补发工资",
        resolved_on=D(2026, 1, 12),
    )
    assert made.resolved_on == D(2026, 1, 12)
    help_services.update_help_request(acting_user=township_a, help_request=made, status="open")
    assert made.resolved_on is None


def test_handler_must_serve_the_region(township_a, township_b, village_a1, resident_a):
    with pytest.raises(ValidationError) as refused:
        help_request(township_a, resident_a, handler=township_b)
    assert "handler" in refused.value.message_dict
    assert help_request(township_a, resident_a, handler=village_a1).handler == village_a1


def test_deadline_before_receipt_is_refused(township_a, resident_a):
    with pytest.raises(ValidationError) as refused:
        help_request(township_a, resident_a, deadline=D(2026, 1, 1))
    assert "deadline" in refused.value.message_dict


def test_worklist_puts_overdue_first(township_a, township_b, resident_a, resident_b):
    today = D(2026, 2, 1)
    later = help_request(township_a, resident_a, received_on=D(2026, 1, 25))  # due 9 Feb
    late = help_request(township_a, resident_a, received_on=D(2026, 1, 10))  # due 25 Jan
    later_late = help_request(township_a, resident_a, received_on=D(2026, 1, 12))  # due 27 Jan
    done = help_request(township_a, resident_a, received_on=D(2026, 1, 1))
    help_services.update_help_request(
        acting_user=township_a, help_request=done, status="closed", outcome=""
    )
    help_request(township_b, resident_b)  # another township's
    worklist = list(help_services.help_worklist(township_a, today=today))
    assert worklist == [late, later_late, later]
    assert list(help_services.help_worklist(township_b, today=today)) != worklist


def test_counts_by_category_and_status(township_a, resident_a):
    help_request(township_a, resident_a, category="wages")
    help_request(township_a, resident_a, category="schooling", received_on=D(2025, 9, 1))
    made = help_request(township_a, resident_a, category="wages")
    help_services.update_help_request(
        acting_user=township_a, help_request=made, status="referred", outcome="转劳动监察大队"
    )
    counts = help_services.help_counts(township_a, received_from=D(2026, 1, 1), today=D(2026, 1, 6))
    assert counts["total"] == 2
    assert counts["by_category"]["wages"] == 2 and counts["by_category"]["schooling"] == 0
    assert counts["by_status"] == {
        "open": 1,
        "in_progress": 0,
        "resolved": 0,
        "referred": 1,
        "closed": 0,
    }
    assert help_services.help_counts(township_a)["total"] == 3


def test_every_change_is_audited(township_a, campaign, resident_a):
    made = activity(township_a, campaign, participants_count=10)
    campaign_services.update_activity(acting_user=township_a, activity=made, participants_count=12)
    entries = AuditEntry.objects.filter(object_type="services.activity", object_id=str(made.pk))
    update = entries.get(action="update")
    assert update.before["participants_count"] == 10
    assert update.after["participants_count"] == 12
    assert update.actor_username == "township_a"
    campaign_services.delete_activity(acting_user=township_a, activity=made)
    assert entries.filter(action="delete").get().before["participants_count"] == 12
    assert not Activity.objects.filter(pk=made.pk).exists()

    request = help_request(township_a, resident_a)
    help_services.update_help_request(
        acting_user=township_a, help_request=request, status="in_progress"
    )
    actions = set(
        AuditEntry.objects.filter(object_type="services.helprequest").values_list(
            "action", flat=True
        )
    )
    assert actions == {"create", "update"}
    assert AuditEntry.objects.filter(object_type="services.campaign", action="create").exists()


def test_stale_write_is_refused(township_a, campaign):
    from liudong.base import StaleWrite

    made = activity(township_a, campaign)
    campaign_services.update_activity(acting_user=township_a, activity=made, notes="a")
    with pytest.raises(StaleWrite):
        campaign_services.update_activity(
            acting_user=township_a, activity=made, expected_version=1, notes="b"
        )
