"""The programmes in the API: the same rules as the pages (the services'), in the one
error shape; a family outside the caller's region is not listed nor found."""

from __future__ import annotations

import pytest

from conftest import make_user
from liudong.audit.models import AuditEntry
from liudong.services.programmes.models import Application, Benefit, Family

from .conftest import VILLAGE_A1, VILLAGE_B1, D, id_number, make_family

pytestmark = pytest.mark.django_db
Status = Application.Status


def test_a_family_is_created_with_its_children_and_read_in_full_logged(api_for, township_a):
    api = api_for(township_a)
    father = id_number(D(1960, 5, 1), "1")
    response = api.post(
        "/api/programme-families/",
        {
            "applicant_name": "赵大山",
            "applicant_id_number": father,
            "household_type": "agricultural",
            "household_region": VILLAGE_A1,
            "children": [{"sex": "2", "birth_date": "1990-01-01"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["applicant_id_number"] == father and len(body["children"]) == 1
    listing = api.get("/api/programme-families/").json()["results"]
    assert listing[0]["applicant_id_number"] == father[:6] + "********" + father[-4:]
    api.get(f"/api/programme-families/{body['id']}/")
    assert AuditEntry.objects.filter(action="view", object_id=str(body["id"])).count() == 1


def test_a_family_with_a_wrong_child_is_not_kept_at_all(api_for, township_a):
    response = api_for(township_a).post(
        "/api/programme-families/",
        {
            "applicant_name": "赵大山",
            "applicant_id_number": id_number(D(1960, 5, 1), "1"),
            "household_type": "agricultural",
            "household_region": VILLAGE_A1,
            "children": [
                {
                    "sex": "2",
                    "birth_date": "1990-01-01",
                    "state": "dead",
                    "death_date": "1989-12-31",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "death_date"
    assert not Family.objects.exists()


def test_a_family_outside_the_region_is_neither_listed_nor_found(api_for, township_a, township_b):
    family = make_family(township_b, village=VILLAGE_B1)
    api = api_for(township_a)
    assert api.get("/api/programme-families/").json()["results"] == []
    assert api.get(f"/api/programme-families/{family.pk}/").status_code == 404
    response = api.post(
        "/api/programme-applications/",
        {"family": family.pk, "programme": "reward"},
        format="json",
    )
    assert response.status_code == 400 and not Application.objects.exists()


def test_an_application_goes_through_the_api_with_the_same_refusals(
    api_for, township_a, county_admin, reward
):
    family = make_family(township_a)
    township, county = api_for(township_a), api_for(county_admin)
    created = township.post(
        "/api/programme-applications/",
        {
            "family": family.pk,
            "programme": "reward",
            "applied_on": "2026-10-30",
            "bank_card": "6217000011112222",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    item = created.json()
    assert item["bank_card"] == "6217********2222" and "********" in item["id_number"]
    twice = township.post(
        "/api/programme-applications/",
        {"family": family.pk, "programme": "reward"},
        format="json",
    )
    assert twice.status_code == 400 and twice.json()["errors"][0]["field"] == "programme"
    six_days = township.post(
        "/api/programme-notices/",
        {"region": VILLAGE_A1, "posted_on": "2026-11-01", "ends_on": "2026-11-07"},
        format="json",
    )
    assert six_days.status_code == 400 and six_days.json()["errors"][0]["field"] == "ends_on"
    notice = township.post(
        "/api/programme-notices/",
        {"region": VILLAGE_A1, "posted_on": "2026-11-01", "ends_on": "2026-11-08"},
        format="json",
    )
    assert notice.status_code == 201 and len(notice.json()["applications"]) == 1
    url = f"/api/programme-applications/{item['id']}"
    early = township.post(f"{url}/review/", {"passed": True, "on": "2026-11-08"}, format="json")
    assert early.status_code == 400
    assert township.post(f"{url}/review/", {"passed": True}, format="json").status_code == 200
    assert township.post(f"{url}/approve/", {}, format="json").status_code == 403
    assert county.post(f"{url}/refuse/", {"reason": ""}, format="json").status_code == 400
    approved = county.post(f"{url}/approve/", {}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert Benefit.objects.filter(application_id=item["id"]).exists()


def test_the_reviewer_may_not_approve_through_the_api(api_for, township_a, county_admin, reward):
    from .test_services import applied, reviewed

    application = reviewed(applied(make_family(township_a), township_a, reward), county_admin)
    url = f"/api/programme-applications/{application.pk}/approve/"
    assert api_for(county_admin).post(url, {}, format="json").status_code == 403
    other = make_user("county_admin2", "county", "330106")
    assert api_for(other).post(url, {}, format="json").status_code == 200


def test_an_appeal_twice_is_refused(api_for, township_a, county_admin, reward):
    from .test_services import applied, reviewed

    application = reviewed(applied(make_family(township_a), township_a, reward), township_a)
    url = f"/api/programme-applications/{application.pk}"
    township, county = api_for(township_a), api_for(county_admin)
    assert county.post(f"{url}/refuse/", {"reason": "不符"}, format="json").status_code == 200
    assert township.post(f"{url}/appeal/", {"grounds": "申诉"}, format="json").status_code == 200
    decided = county.post(
        f"{url}/decide-appeal/", {"granted": False, "reason": "维持"}, format="json"
    )
    assert decided.json()["status"] == "refused"
    again = township.post(f"{url}/appeal/", {"grounds": "再申诉"}, format="json")
    assert again.status_code == 400
    application.refresh_from_db()
    assert application.status == Status.REFUSED and application.appeal_reason == "申诉"
