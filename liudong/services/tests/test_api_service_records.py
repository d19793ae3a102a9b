"""The service-record and follow-up endpoints: create and PATCH through the rules (errors
in the one shape, naming the field), the result shown only to a station and her township
specialist on one record, scope (another region's record is 404, a person outside it 403),
the filters and the follow-up worklist."""

from __future__ import annotations

import pytest

from liudong.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def body(person, **values):
    return {
        "person": person.pk,
        "service_type": "reproductive_health",
        "date": "2025-06-01",
        "consent_recorded": True,
        **values,
    }


def test_service_records_in_the_api(
    api_for, township_a, township_b, village_a1, provider_a, resident_a, resident_b, campaign
):
    station = api_for(provider_a)
    made = station.post("/api/service-records/", body(resident_a, result="未见异常"), format="json")
    assert made.status_code == 201, made.json()
    answer = made.json()
    assert answer["region"] == "330106002001" and answer["free_of_charge"] is True
    assert answer["result"] == "未见异常" and "*" in answer["id_number_masked"]
    pk = answer["id"]

    # Her township specialist sees the result on the record (logged); the list never shows it.
    office = api_for(township_a)
    one = office.get(f"/api/service-records/{pk}/").json()
    assert one["result"] == "未见异常"
    assert AuditEntry.objects.filter(
        action="view", object_type="services.servicerecord", actor_username="township_a"
    ).exists()
    assert "result" not in office.get("/api/service-records/").json()["results"][0]
    # The village specialist gets the record without it.
    village = api_for(village_a1).get(f"/api/service-records/{pk}/")
    assert village.status_code == 200 and "result" not in village.json()
    no_result = api_for(village_a1).patch(
        f"/api/service-records/{pk}/", {"result": "x"}, format="json"
    )
    assert no_result.status_code == 403
    assert no_result.json()["errors"][0]["message"].startswith("结果：")  # the field, named

    # Another township does not find it, and may not name her.
    other = api_for(township_b)
    assert other.get(f"/api/service-records/{pk}/").status_code == 404
    assert other.get("/api/service-records/").json()["count"] == 0
    outside = other.post("/api/service-records/", body(resident_a), format="json")
    assert outside.status_code == 403
    assert outside.json()["errors"][0]["message"].startswith("个案：")  # the field, named

    changed = office.patch(
        f"/api/service-records/{pk}/", {"free_of_charge": False, "version": 1}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = office.patch(
        f"/api/service-records/{pk}/", {"free_of_charge": True, "version": 1}, format="json"
    )
    assert stale.status_code == 409
    fixed = office.patch(f"/api/service-records/{pk}/", {"person": resident_a.pk}, format="json")
    assert fixed.status_code == 400

    office.post(
        "/api/service-records/",
        body(
            resident_a,
            service_type="return_home",
            date="2025-02-01",
            campaign=campaign.pk,
        ),
        format="json",
    )
    listed = office.get
    assert listed("/api/service-records/?type=return_home").json()["count"] == 1
    assert listed(f"/api/service-records/?campaign={campaign.pk}").json()["count"] == 1
    assert listed("/api/service-records/?free=false").json()["count"] == 1
    assert listed("/api/service-records/?date_after=2025-03-01").json()["count"] == 1
    assert listed("/api/service-records/?region=330106004").json()["count"] == 0
    assert listed(f"/api/service-records/?person={resident_a.pk}").json()["count"] == 2
    assert listed("/api/service-records/?region=33x").json()["count"] == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"consent_recorded": False}, "consent_recorded"),
        ({"date": "1990-01-01"}, "date"),
        ({"date": "2099-01-01"}, "date"),
        ({"service_type": "pre_pregnancy"}, "service_type"),
        ({"service_type": "contraceptive"}, "contraceptive_method"),
        ({"service_type": ""}, "service_type"),
    ],
)
def test_bad_input_names_the_field(api_for, township_a, resident_a, values, field):
    answer = api_for(township_a).post(
        "/api/service-records/", body(resident_a, **values), format="json"
    )
    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"][0]["field"] == field


def test_follow_ups_in_the_api(api_for, township_a, township_b, resident_a, grid_a, grid_b):
    api = api_for(township_a)
    service = api.post("/api/service-records/", body(resident_a), format="json").json()["id"]
    early = api.post(
        "/api/follow-ups/", {"service": service, "due_on": "2025-05-01"}, format="json"
    )
    assert early.status_code == 400 and early.json()["errors"][0]["field"] == "due_on"
    late = api.post("/api/follow-ups/", {"service": service, "due_on": "2025-07-01"}, format="json")
    assert late.status_code == 201, late.json()
    assert late.json()["overdue"] is True
    pk = late.json()["id"]
    later = api.post(
        "/api/follow-ups/", {"service": service, "due_on": "2025-08-01"}, format="json"
    ).json()["id"]

    due = api.get("/api/follow-ups/?due=true").json()["results"]
    assert [row["id"] for row in due] == [pk, later]
    assert [
        r["id"] for r in api.get(f"/api/follow-ups/?due=true&grid={grid_a.pk}").json()["results"]
    ] == [pk, later]
    assert api.get(f"/api/follow-ups/?grid={grid_b.pk}").json()["count"] == 0

    done = api.patch(f"/api/follow-ups/{pk}/", {"done_on": "2025-07-02"}, format="json")
    assert done.status_code == 200 and done.json()["done_by"] == "township_a"
    assert [r["id"] for r in api.get("/api/follow-ups/?due=true").json()["results"]] == [later]

    other = api_for(township_b)
    assert other.get(f"/api/follow-ups/{pk}/").status_code == 404
    refused = other.post(
        "/api/follow-ups/", {"service": service, "due_on": "2025-07-01"}, format="json"
    )
    assert refused.status_code == 400  # the service does not exist for them
