"""The place endpoints: scoping, filters, writes through the services, the error shape."""

from __future__ import annotations

import pytest

from liudong.places.models import Employer

from .conftest import CODE, VILLAGE_A1, days, make_agreement, make_issue

pytestmark = pytest.mark.django_db


def test_create_and_patch_an_employer(api_for, township_a, villages):
    api = api_for(township_a)
    made = api.post(
        "/api/employers/",
        {"credit_code": CODE.lower(), "name": "北山服装厂", "region": VILLAGE_A1},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["credit_code"] == CODE
    pk = made.json()["id"]
    changed = api.patch(
        f"/api/employers/{pk}/", {"version": 1, "phone": "13800000009"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(
        f"/api/employers/{pk}/", {"version": 1, "phone": "13800000008"}, format="json"
    )
    assert stale.status_code == 409


def test_a_wrong_check_character_is_a_400_naming_the_field(api_for, township_a, villages):
    answer = api_for(township_a).post(
        "/api/employers/",
        {"credit_code": "91350100M000100Y44", "name": "X", "region": VILLAGE_A1},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",  # the API answers in Chinese unless asked
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["field"] == "credit_code" and "check character" in error["message"]


def test_an_agreement_ending_before_it_starts_is_a_400(api_for, township_a, employer):
    answer = api_for(township_a).post(
        "/api/agreements/",
        {
            "employer": employer.pk,
            "kind": "service",
            "signed_on": "2026-03-01",
            "valid_until": "2026-02-01",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "valid_until"


def test_another_regions_user_cannot_see_or_change_a_place(api_for, township_b, employer, house):
    api = api_for(township_b)
    assert api.get("/api/employers/").json()["results"] == []
    assert api.get(f"/api/employers/{employer.pk}/").status_code == 404
    assert (
        api.patch(
            f"/api/employers/{employer.pk}/", {"version": 1, "name": "改"}, format="json"
        ).status_code
        == 404
    )
    assert api.get(f"/api/rental-houses/{house.pk}/").status_code == 404
    # Naming another region's place in a new agreement: "does not exist".
    answer = api.post(
        "/api/agreements/",
        {"employer": employer.pk, "kind": "service", "signed_on": "2026-03-01"},
        format="json",
    )
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "employer"
    assert Employer.objects.get().name == "北山服装厂"


def test_county_sees_and_filters_by_region_subtree(api_for, county_admin, employer, house, site):
    api = api_for(county_admin)
    assert [e["id"] for e in api.get("/api/employers/").json()["results"]] == [employer.pk]
    assert api.get("/api/employers/?region=330106004").json()["results"] == []
    assert len(api.get("/api/sites/?region=330106002&kind=market").json()["results"]) == 1
    assert api.get("/api/sites/?kind=construction").json()["results"] == []
    assert api.get("/api/rental-houses/?region=bad").json()["results"] == []


def test_provider_may_read_but_not_write(api_for, provider_a, villages):
    api = api_for(provider_a)
    assert api.get("/api/sites/").status_code == 200
    answer = api.post(
        "/api/sites/", {"kind": "market", "name": "X", "region": VILLAGE_A1}, format="json"
    )
    assert answer.status_code == 403


def test_worklist_filters(api_for, township_a, employer, house):
    soon = make_agreement(township_a, employer, signed_on=days(-100), valid_until=days(10))
    make_agreement(township_a, house, signed_on=days(-100), valid_until=days(100))
    api = api_for(township_a)
    listed = api.get("/api/agreements/?expiring_within=30").json()["results"]
    assert [a["id"] for a in listed] == [soon.pk]
    assert listed[0]["region"] == VILLAGE_A1
    overdue = make_issue(township_a, house, found_on=days(-20), deadline=days(-1))
    later = make_issue(township_a, house, found_on=days(-2), deadline=days(20))
    done = make_issue(
        township_a, house, found_on=days(-20), deadline=days(-10), rectified_on=days(-11)
    )
    listed = api.get("/api/safety-issues/?open=true").json()["results"]
    assert [i["id"] for i in listed] == [overdue.pk, later.pk]
    assert listed[0]["overdue"] is True
    assert [i["id"] for i in api.get("/api/safety-issues/?open=false").json()["results"]] == [
        done.pk
    ]
    rectify = api.patch(
        f"/api/safety-issues/{later.pk}/",
        {"version": 1, "rectified_on": days(-3).isoformat()},
        format="json",
    )
    assert rectify.status_code == 400 and rectify.json()["errors"][0]["field"] == "rectified_on"
