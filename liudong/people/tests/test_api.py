"""The person API: scoped lists with masked ID numbers, one file with the full number
(logged), arrivals and edits through the services (409 when stale), episodes and children,
filters, and malformed input answered in the one error shape, never with a 500."""

from __future__ import annotations

import datetime

import pytest

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.people import idnumbers, services
from liudong.people.filters import years_before
from liudong.people.models import Child, Person, ResidenceEpisode
from liudong.regions.models import Region

from .test_web import (
    ARRIVED,
    BEISHAN,
    HENAN,
    SHUGUANG,
    XIXI,
    arrival_data,
    id_for,
    register,
    wrong_check,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person_a(township_a):
    return register(township_a, "张伟", sequence=11, phone="13812345678")


@pytest.fixture
def person_b(township_b):
    return register(township_b, "李娜", sequence=22, sex="2", residence=XIXI)


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def assert_error_shape(response, status: int, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"errors"} and body["errors"]
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body


# --- persons -----------------------------------------------------------------------------


def test_the_list_carries_masked_numbers_only(person_a, township_a, api_for):
    response = api_for(township_a).get("/api/persons/")
    assert names(response) == ["张伟"]
    row = response.json()["results"][0]
    assert row["id_number_masked"] == idnumbers.mask(person_a.id_number)
    assert "id_number" not in row and "birth_date" not in row
    assert person_a.id_number not in response.content.decode()
    assert row["household_region"] == HENAN and row["household_region_name"] == "光山县"
    assert row["residence_region"] == BEISHAN and row["arrival_date"] == "2025-03-01"
    assert row["is_floating"] and row["age"] == person_a.age_on(datetime.date.today())


def test_one_file_carries_the_full_number_and_is_logged(person_a, township_a, api_for):
    response = api_for(township_a).get(f"/api/persons/{person_a.pk}/")
    assert response.status_code == 200
    assert response.json()["id_number"] == person_a.id_number
    entry = AuditEntry.objects.filter(
        action="view", object_type="people.person", object_id=str(person_a.pk)
    ).latest("seq")
    assert entry.detail == {"via": "api"} and entry.actor_username == "township_a"


def test_an_arrival_through_the_api(township_a, api_for):
    data = arrival_data()
    response = api_for(township_a).post("/api/persons/", data, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(pk=body["id"])
    assert body["id_number"] == data["id_number"] and body["warnings"] == []
    assert person.is_floating and person.residence_region_id == BEISHAN
    assert ResidenceEpisode.objects.get(person=person).arrival_date == ARRIVED
    assert Person.objects.inflow("330106002").filter(pk=person.pk).exists()


def test_an_arrival_with_a_wrong_check_digit_is_kept_with_a_warning(township_a, api_for):
    number = wrong_check(id_for(51, sex="2"))
    response = api_for(township_a).post(
        "/api/persons/", arrival_data(id_number=number), format="json"
    )
    assert response.status_code == 201
    assert response.json()["id_check_failed"] and response.json()["warnings"]
    assert Person.objects.get(id_number=number).id_check_failed


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id_number": "abc"}, "id_number"),
        ({"sex": "1"}, "sex"),
        ({"birth_date": "1990-03-08"}, "birth_date"),
        ({"household_region": "33\x00"}, "household_region"),
        ({"household_region": "abc"}, "household_region"),
        ({"residence_region": "999999999"}, "residence_region"),
        ({"arrival_date": "2999-01-01"}, "arrival_date"),
        ({"marital_status": "99"}, "marital_status"),
    ],
)
def test_an_arrival_is_refused_with_the_field_named(changes, field, township_a, api_for):
    response = api_for(township_a).post("/api/persons/", arrival_data(**changes), format="json")
    assert_error_shape(response, 400, field)
    assert not Person.objects.exists()


def test_an_arrival_with_a_number_on_file_elsewhere_reveals_nothing(person_b, township_a, api_for):
    response = api_for(township_a).post(
        "/api/persons/", arrival_data(id_number=person_b.id_number, sex="2"), format="json"
    )
    assert_error_shape(response, 400, "id_number")
    assert response.json()["errors"][0]["code"] == "elsewhere"
    assert "李娜" not in response.content.decode() and XIXI not in response.content.decode()
    assert Person.objects.get(pk=person_b.pk).episodes.count() == 1


def test_an_edit_with_the_current_version_saves_and_a_stale_one_is_a_conflict(
    person_a, township_a, api_for
):
    api = api_for(township_a)
    url = f"/api/persons/{person_a.pk}/"
    response = api.patch(url, {"phone": "13700000000", "version": 1}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "13700000000" and response.json()["version"] == 2
    stale = api.patch(url, {"name": "张伟民", "version": 1}, format="json")
    assert_error_shape(stale, 409)
    assert stale.json()["errors"][0]["code"] == "stale"
    assert Person.objects.get(pk=person_a.pk).name == "张伟"
    # A version is required: no blind overwrites.
    assert_error_shape(api.patch(url, {"name": "张伟民"}, format="json"), 400, "version")
    # The rules are the web form's: sex must agree with the ID number.
    assert_error_shape(api.patch(url, {"sex": "2", "version": 2}, format="json"), 400, "sex")


# --- filters -----------------------------------------------------------------------------


@pytest.fixture
def registry(township_a, person_a):
    """张伟 (inflow, man, married, 35), 王芳 (inflow, woman, single, 20, arrived 2024),
    陈静 (outflow to Beijing, woman, married)."""
    register(
        township_a,
        "王芳",
        sequence=32,
        sex="2",
        born=years_before(datetime.date.today(), 20) - datetime.timedelta(days=30),
        marital_status="10",
        residence=SHUGUANG,
        arrived=datetime.date(2024, 5, 1),
    )
    register(OPERATOR, "陈静", sequence=40, sex="2", household=BEISHAN, residence="110105")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["张伟", "王芳", "陈静"]),
        ({"flow": "inflow"}, ["张伟", "王芳"]),
        ({"flow": "outflow"}, ["陈静"]),
        ({"within": SHUGUANG}, ["王芳"]),
        ({"within": "110105"}, ["陈静"]),  # residence in the subtree
        ({"within": HENAN}, ["张伟", "王芳"]),  # household in the subtree
        ({"within": SHUGUANG, "flow": "inflow"}, ["王芳"]),
        ({"within": BEISHAN, "flow": "outflow"}, ["陈静"]),
        ({"within": HENAN, "flow": "outflow"}, ["张伟", "王芳"]),
        ({"sex": "2"}, ["王芳", "陈静"]),
        ({"marital_status": "10"}, ["王芳"]),
        ({"age_max": 25}, ["王芳"]),
        ({"age_min": 25}, ["张伟", "陈静"]),
        ({"age_min": 20, "age_max": 20}, ["王芳"]),
        ({"arrival_after": "2025-01-01"}, ["张伟", "陈静"]),
        ({"arrival_before": "2024-12-31"}, ["王芳"]),
        ({"q": "zw"}, ["张伟"]),
        ({"q": "王"}, ["王芳"]),
        ({"q": "13812345678"}, ["张伟"]),
    ],
)
def test_filters(params, expected, registry, township_a, api_for):
    response = api_for(township_a).get("/api/persons/", params)
    assert sorted(names(response)) == sorted(expected)


def test_the_q_filter_matches_a_whole_id_number(registry, person_a, township_a, api_for):
    value = person_a.id_number
    assert names(api_for(township_a).get("/api/persons/", {"q": value.lower()})) == ["张伟"]
    assert names(api_for(township_a).get("/api/persons/", {"q": value[:10]})) == ["张伟"]


@pytest.mark.parametrize(
    "params",
    [
        {"within": "abc"},
        {"within": "3" * 40},
        {"within": "３３０１０６"[:2] + "x"},
        {"within": "abc", "flow": "inflow"},
        {"within": "-1", "flow": "outflow"},
        {"q": "x" * 500},
        {"q": "%"},
        {"q": "_"},
    ],
)
def test_malformed_codes_and_queries_match_nothing(params, registry, township_a, api_for):
    assert names(api_for(township_a).get("/api/persons/", params)) == []


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        # NUL bytes are refused by every text filter before any query (PostgreSQL would
        # fail on them).
        ("/api/persons/", {"within": "33\x00"}, "within"),
        ("/api/persons/", {"within": "33\x00", "flow": "outflow"}, "within"),
        ("/api/persons/", {"q": "\x00"}, "q"),
        ("/api/persons/", {"q": "33\x00"}, "q"),
        ("/api/persons/", {"age_min": "abc"}, "age_min"),
        ("/api/persons/", {"age_max": "1000000000000"}, "age_max"),
        ("/api/persons/", {"age_min": "-1"}, "age_min"),
        ("/api/persons/", {"arrival_after": "2025-13-01"}, "arrival_after"),
        ("/api/persons/", {"flow": "sideways"}, "flow"),
        ("/api/persons/", {"sex": "\x00"}, "sex"),
        ("/api/episodes/", {"person": "abc"}, "person"),
        ("/api/episodes/", {"person": "99999999999999999999999"}, "person"),
        ("/api/children/", {"parent": "1e9"}, "parent"),
    ],
)
def test_malformed_filters_are_validation_errors(url, params, field, registry, township_a, api_for):
    assert_error_shape(api_for(township_a).get(url, params), 400, field)


def test_malformed_keys_are_not_found(township_a, api_for):
    api = api_for(township_a)
    for url in (
        "/api/persons/abc/",
        "/api/persons/99999999999999999/",
        "/api/persons/9999999999999999999999/",
        "/api/episodes/99999999999999999/",
        "/api/children/99999999999999999/",
    ):
        assert_error_shape(api.get(url), 404)


# --- episodes and children ---------------------------------------------------------------


def test_episodes_of_a_person(person_a, person_b, township_a, api_for):
    services.move_within(
        acting_user=township_a,
        person=person_a,
        region=Region.objects.get(code=SHUGUANG),
        moved_on=datetime.date(2025, 6, 1),
    )
    api = api_for(township_a)
    response = api.get("/api/episodes/", {"person": person_a.pk})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["region"] for r in rows] == [SHUGUANG, BEISHAN]  # newest first
    assert rows[0]["departure_date"] is None and rows[1]["departure_date"] == "2025-06-01"
    current = api.get("/api/episodes/", {"person": person_a.pk, "open": "true"}).json()
    assert [r["region"] for r in current["results"]] == [SHUGUANG]
    # Township B's person's stays are not township A's to read.
    assert api.get("/api/episodes/", {"person": person_b.pk}).json()["results"] == []
    other = person_b.episodes.get()
    assert_error_shape(api.get(f"/api/episodes/{other.pk}/"), 404)
    assert api.get(f"/api/episodes/{rows[0]['id']}/").status_code == 200


def test_children_are_added_listed_and_read(person_a, person_b, township_a, api_for):
    api = api_for(township_a)
    child_id = idnumbers.make("330106", datetime.date(2024, 2, 29), 3, "2")
    response = api.post(
        "/api/children/",
        {
            "parent": person_a.pk,
            "name": "张小梅",
            "sex": "2",
            "birth_date": "2024-02-29",
            "birth_order": 1,
            "id_number": child_id,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    child = Child.objects.get(pk=response.json()["id"])
    assert child.parent_id == person_a.pk and child.id_number == child_id
    assert AuditEntry.objects.filter(object_type="people.child", action="create").exists()
    listing = api.get("/api/children/", {"parent": person_a.pk})
    row = listing.json()["results"][0]
    assert row["id_number_masked"] == idnumbers.mask(child_id) and "id_number" not in row
    assert child_id not in listing.content.decode()
    assert api.get(f"/api/children/{child.pk}/").json()["id_number"] == child_id
    # Rules: the ID number agrees with the sex; not born before the parent; a parent in
    # another region is an unknown parent.
    bad = {"parent": person_a.pk, "sex": "1", "birth_date": "2024-02-29", "id_number": child_id}
    assert_error_shape(api.post("/api/children/", bad, format="json"), 400, "sex")
    early = {"parent": person_a.pk, "sex": "1", "birth_date": "1980-01-01"}
    assert_error_shape(api.post("/api/children/", early, format="json"), 400, "birth_date")
    foreign = {"parent": person_b.pk, "sex": "1", "birth_date": "2024-01-01"}
    assert_error_shape(api.post("/api/children/", foreign, format="json"), 400, "parent")
    assert Child.objects.count() == 1


# --- another township --------------------------------------------------------------------


def test_another_township_gets_nothing_of_township_a(person_a, person_b, township_b, api_for):
    api = api_for(township_b)
    assert names(api.get("/api/persons/")) == ["李娜"]
    assert names(api.get("/api/persons/", {"q": person_a.id_number})) == []
    assert names(api.get("/api/persons/", {"within": BEISHAN})) == []
    assert_error_shape(api.get(f"/api/persons/{person_a.pk}/"), 404)
    patch = api.patch(f"/api/persons/{person_a.pk}/", {"name": "x", "version": 1}, format="json")
    assert_error_shape(patch, 404)
    episode = person_a.episodes.get()
    assert_error_shape(api.get(f"/api/episodes/{episode.pk}/"), 404)
    assert str(person_a.pk) not in [
        str(r["person"]) for r in api.get("/api/episodes/").json()["results"]
    ]
    assert Person.objects.get(pk=person_a.pk).name == "张伟"
    assert not AuditEntry.objects.filter(
        action="view", object_id=str(person_a.pk), actor_username="township_b"
    ).exists()


def test_anonymous_callers_get_401(person_a, api_for):
    for url in (
        "/api/persons/",
        f"/api/persons/{person_a.pk}/",
        "/api/episodes/",
        "/api/children/",
    ):
        assert_error_shape(api_for().get(url), 401)
    assert_error_shape(api_for().post("/api/persons/", arrival_data(), format="json"), 401)
