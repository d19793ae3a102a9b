"""The services endpoints: create, PATCH, scope (another region's record is 404), a person
outside the scope is 403, errors in the one shape, the summary as json and xlsx."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from liudong.services.campaigns import services as campaign_services

pytestmark = pytest.mark.django_db


def test_campaign_activity_and_summary(api_for, county_admin, township_a, township_b, campaign):
    api = api_for(township_a)
    made = api.post(
        "/api/activities/",
        {
            "campaign": campaign.pk,
            "date": "2025-01-20",
            "region": "330106002001",
            "place": "北山社区广场",
            "participants_count": 40,
            "materials_count": 200,
            "free_contraceptives_count": 15,
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    changed = api.patch(
        f"/api/activities/{pk}/", {"participants_count": 45, "version": 1}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["participants_count"] == 45
    stale = api.patch(f"/api/activities/{pk}/", {"notes": "x", "version": 1}, format="json")
    assert stale.status_code == 409

    # Township B sees the county's campaign but not township A's activity.
    other = api_for(township_b)
    assert other.get(f"/api/campaigns/{campaign.pk}/").status_code == 200
    assert other.get(f"/api/activities/{pk}/").status_code == 404
    assert other.patch(f"/api/activities/{pk}/", {"notes": "x"}, format="json").status_code == 404

    summary = api_for(county_admin).get(f"/api/campaigns/{campaign.pk}/summary/").json()
    assert summary["total"]["participants"] == 45
    assert {row["region"] for row in summary["rows"]} == {"330106002", "330106004"}

    xlsx = api_for(county_admin).get(f"/api/campaigns/{campaign.pk}/summary/?format=xlsx")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert "宣传服务活动汇总表" in sheet["A1"].value


def test_activity_outside_the_period_names_the_field(api_for, township_a, campaign):
    answer = api_for(township_a).post(
        "/api/activities/",
        {"campaign": campaign.pk, "date": "2025-06-01", "region": "330106002001"},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "date"


def test_campaign_end_before_start(api_for, township_a):
    answer = api_for(township_a).post(
        "/api/campaigns/",
        {
            "name": "7·11",
            "kind": "population_day",
            "starts_on": "2025-07-11",
            "ends_on": "2025-07-01",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "ends_on"


def test_help_request_rules_in_the_api(api_for, township_a, township_b, resident_a, resident_b):
    api = api_for(township_a)
    missing = api.post(
        "/api/help-requests/", {"person": resident_a.pk, "received_on": "2026-01-05"}, format="json"
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "category"

    outside = api.post(
        "/api/help-requests/",
        {"person": resident_b.pk, "category": "wages", "received_on": "2026-01-05"},
        format="json",
    )
    assert outside.status_code == 403
    assert outside.json()["errors"][0]["message"].startswith("个案：")  # the field, named

    made = api.post(
        "/api/help-requests/",
        {"person": resident_a.pk, "category": "wages", "received_on": "2026-01-05"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["deadline"] == "2026-01-20" and body["overdue"] is True
    assert "*" in body["id_number_masked"]
    pk = body["id"]

    no_outcome = api.patch(f"/api/help-requests/{pk}/", {"status": "resolved"}, format="json")
    assert no_outcome.status_code == 400
    assert no_outcome.json()["errors"][0]["field"] == "outcome"
    fixed = api.patch(f"/api/help-requests/{pk}/", {"person": resident_a.pk}, format="json")
    assert fixed.status_code == 400

    assert [r["id"] for r in api.get("/api/help-requests/?overdue=true").json()["results"]] == [pk]
    assert api.get("/api/help-requests/?status=resolved").json()["results"] == []
    assert api.get("/api/help-requests/?category=wages").json()["count"] == 1
    assert api.get("/api/help-requests/worklist/").json()["results"][0]["id"] == pk
    counts = api.get("/api/help-requests/counts/?received_after=2026-01-01").json()
    assert counts["by_category"]["wages"] == 1 and counts["overdue"] == 1

    resolved = api.patch(
        f"/api/help-requests/{pk}/",
        {"status": "resolved", "outcome": "已追回工资"},
        format="json",
    )
    assert resolved.status_code == 200 and resolved.json()["resolved_on"]

    other = api_for(township_b)
    assert other.get(f"/api/help-requests/{pk}/").status_code == 404
    assert other.get("/api/help-requests/").json()["count"] == 0


def test_association_endpoints(api_for, township_a, township_b, resident_a, resident_b):
    api = api_for(township_a)
    branch = api.post(
        "/api/association-branches/",
        {"name": "北山协会", "region": "330106002001", "founded_on": "2020-01-01"},
        format="json",
    )
    assert branch.status_code == 201, branch.json()
    branch_id = branch.json()["id"]
    member = api.post(
        "/api/memberships/",
        {"branch": branch_id, "person": resident_a.pk, "joined_on": "2025-05-01", "role": "chair"},
        format="json",
    )
    assert member.status_code == 201, member.json()
    outside = api.post(
        "/api/memberships/",
        {"branch": branch_id, "person": resident_b.pk, "joined_on": "2025-05-01"},
        format="json",
    )
    assert outside.status_code == 403
    again = api.post(
        "/api/memberships/",
        {"branch": branch_id, "person": resident_a.pk, "joined_on": "2025-06-01"},
        format="json",
    )
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "person"
    activity = api.post(
        "/api/association-activities/",
        {
            "branch": branch_id,
            "date": "2025-07-11",
            "title": "优生优育讲座",
            "participants_count": 30,
        },
        format="json",
    )
    assert activity.status_code == 201, activity.json()

    other = api_for(township_b)
    assert other.get(f"/api/association-branches/{branch_id}/").status_code == 404
    assert other.get("/api/memberships/").json()["count"] == 0
    # Another township cannot name the branch: it does not exist for them.
    assert (
        other.post(
            "/api/association-activities/",
            {"branch": branch_id, "date": "2025-07-11", "title": "x"},
            format="json",
        ).status_code
        == 400
    )


def test_inspector_reads_but_does_not_write(api_for, inspector, campaign):
    api = api_for(inspector)
    assert api.get("/api/campaigns/").status_code == 200
    answer = api.post(
        "/api/association-branches/", {"name": "x", "region": "330106"}, format="json"
    )
    assert answer.status_code == 403


def test_export_campaign_command(tmp_path, county_admin, township_a, campaign):
    from openpyxl import load_workbook

    campaign_services.create_activity(
        acting_user=township_a,
        campaign=campaign,
        date=datetime.date(2025, 2, 1),
        region=township_a.region,
        participants_count=9,
    )
    out = tmp_path / "campaign.xlsx"
    call_command(
        "export_campaign", "--id", str(campaign.pk), "--out", str(out), "--user", "county_admin"
    )
    sheet = load_workbook(out).active
    assert sheet["A1"].value.startswith("2025年温暖冬春行动")
    assert [c.value for c in sheet[sheet.max_row]][:4] == ["合计", None, 1, 9]
