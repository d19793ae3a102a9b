"""Re-qualification rounds and re-qualifications in the API: the same rules as the pages,
in the one error shape."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from liudong.services.programmes.models import Benefit, Requalification, RequalificationRound
from liudong.services.programmes.tests import factories

pytestmark = pytest.mark.django_db


def _deadline(days: int = 60) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def test_the_county_opens_a_round_once(county_admin, api_for):
    factories.benefit()
    api = api_for(county_admin)
    body = {"county": "330106", "year": timezone.localdate().year, "deadline": _deadline()}

    first = api.post("/api/requalification-rounds/", body, format="json")
    again = api.post("/api/requalification-rounds/", body, format="json")

    assert first.status_code == 201 and first.json()["region"] == "330106"
    assert again.status_code == 400
    assert again.json()["errors"][0] == {
        "field": "year",
        "code": "duplicate",
        "message": again.json()["errors"][0]["message"],
    }
    assert RequalificationRound.objects.count() == 1


def test_a_township_may_not_open_a_round(township_a, api_for):
    body = {"county": "330106", "year": timezone.localdate().year, "deadline": _deadline()}
    response = api_for(township_a).post("/api/requalification-rounds/", body, format="json")
    assert response.status_code == 403
    assert not RequalificationRound.objects.exists()


def test_closing_before_the_deadline_is_refused(county_admin, api_for):
    api = api_for(county_admin)
    made = api.post(
        "/api/requalification-rounds/",
        {"county": "330106", "year": 2026, "deadline": _deadline()},
        format="json",
    ).json()
    response = api.post(f"/api/requalification-rounds/{made['id']}/close/")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "before_deadline"


def test_the_township_lists_confirms_and_ends(county_admin, township_a, township_b, api_for):
    first, second = factories.benefit(), factories.benefit()
    api_for(county_admin).post(
        "/api/requalification-rounds/",
        {"county": "330106", "year": 2026, "deadline": _deadline()},
        format="json",
    )
    api = api_for(township_a)

    listed = api.get("/api/requalifications/?outcome=pending").json()["results"]
    assert {row["benefit"] for row in listed} == {first.pk, second.pk}
    assert all("********" in row["id_number"] for row in listed)
    assert api_for(township_b).get("/api/requalifications/").json()["results"] == []

    one = Requalification.objects.get(benefit=first)
    confirmed = api.post(f"/api/requalifications/{one.pk}/confirm/", {}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["outcome"] == "confirmed"

    other = Requalification.objects.get(benefit=second)
    died = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()
    ended = api.post(
        f"/api/requalifications/{other.pk}/end/", {"cause": "death", "on": died}, format="json"
    )
    assert ended.status_code == 200 and ended.json()["outcome"] == "ended"
    assert Benefit.objects.get(pk=second.pk).status == "ended"

    refused = api_for(township_b).post(f"/api/requalifications/{other.pk}/confirm/", {})
    assert refused.status_code == 404


def test_an_end_without_a_cause_names_the_field(county_admin, township_a, api_for):
    benefit = factories.benefit()
    api_for(county_admin).post(
        "/api/requalification-rounds/",
        {"county": "330106", "year": 2026, "deadline": _deadline()},
        format="json",
    )
    item = Requalification.objects.get(benefit=benefit)
    response = api_for(township_a).post(
        f"/api/requalifications/{item.pk}/end/",
        {"on": timezone.localdate().isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cause"
    assert Benefit.objects.get(pk=benefit.pk).status == "active"
