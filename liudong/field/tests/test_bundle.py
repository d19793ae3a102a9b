"""GET /api/field/bundle/: the account's own grid only, masked ID numbers, one audit entry,
a bounded number of queries."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from liudong.audit.models import AuditEntry
from liudong.certificates import keys
from liudong.certificates.models import SigningKey
from liudong.people.idnumbers import mask
from liudong.people.services import register_departure
from liudong.places import services as places
from liudong.regions.models import Region
from liudong.regions.services import save_grid

from .factories import GRID_VILLAGE, GROUP, TOWNSHIP_B_VILLAGE, days_ago, resident

BUNDLE = "/api/field/bundle/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def group_grid(township_a, village_a1):
    """village_a1's own grid: the group only, a part of the village it may see."""
    return save_grid(
        acting_user=township_a,
        name="小组网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code=GROUP),
        responsible=village_a1,
    )


def bundle(client) -> dict:
    answer = client.get(BUNDLE)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_only_the_grids_people_masked(group_grid, grid_b, village_a1, client_for):
    inside = resident(GROUP, name="网格内")
    outside_grid = resident(GRID_VILLAGE, name="网格外")  # in village_a1's scope
    outside_scope = resident(TOWNSHIP_B_VILLAGE, name="辖区外")
    gone = resident(GROUP, name="已离开")
    register_departure(acting_user=village_a1, person=gone, departure_date=days_ago(1))
    answer = client_for(village_a1).get(BUNDLE)
    body = answer.json()
    assert [p["id"] for p in body["people"]] == [inside.pk]
    entry = body["people"][0]
    assert entry["masked_id"] == mask(inside.id_number) and entry["version"] == inside.version
    assert entry["region"] == GROUP and entry["birth_year"] == 1995
    text = answer.content.decode()
    for person in (inside, outside_grid, outside_scope, gone):
        assert person.id_number not in text
    assert "网格外" not in text and "辖区外" not in text and "已离开" not in text
    assert body["grids"] == [{"id": group_grid.pk, "name": "小组网格", "areas": [GROUP]}]
    assert [r["code"] for r in body["picklists"]["regions"]] == [GROUP]


def test_the_read_is_audited_once_with_the_count(group_grid, village_a1, client_for):
    resident(GROUP)
    resident(GROUP)
    bundle(client_for(village_a1))
    entry = AuditEntry.objects.get(action="export", actor_username="village_a1")
    assert entry.detail["format"] == "field bundle" and entry.detail["rows"] == 2
    assert entry.detail["grids"] == [group_grid.pk]


def test_the_actions_follow_the_roles_capabilities(grid_a, collector_a1, village_a1, client_for):
    assert bundle(client_for(collector_a1))["actions"] == [
        "arrival",
        "departure",
        "hazard",
        "rectification",
    ]
    village = bundle(client_for(village_a1))
    assert village["actions"] == [
        "arrival",
        "departure",
        "verification",
        "service",
        "hazard",
        "rectification",
    ]
    assert village["picklists"]["service_types"]
    assert not bundle(client_for(collector_a1))["picklists"]["service_types"]


def test_the_keys_a_qr_may_be_signed_with(grid_a, node_keys, collector_a1, client_for):
    first = keys.current_key()
    second = keys.rotate()
    found = {k["key_id"]: k for k in bundle(client_for(collector_a1))["keys"]}
    # Exactly the Ed25519 keys on record (the node's key ring may hold one from an earlier
    # test of this process beside the two made here).
    on_record = SigningKey.objects.filter(algorithm="ed25519").values_list("key_id", flat=True)
    assert set(found) == set(on_record) >= {first.key_id, second.key_id}
    for key in (first, second):
        assert base64.b64decode(found[key.key_id]["public_key"]) == key.private.public.raw
        assert found[key.key_id]["algorithm"] == "ed25519"


def test_the_to_dos_of_the_grid(grid_a, village_a1, township_a, client_for):
    waiting = resident(GROUP, arrived=days_ago(45))  # a woman of 31, not verified
    house = places.create_rental_house(
        acting_user=township_a,
        address="北山路9号",
        region=Region.objects.get(code=GROUP),
        landlord_name="房东",
    )
    issue = places.create_safety_issue(
        acting_user=township_a,
        rental_house=house,
        hazard="电线私拉乱接",
        found_on=days_ago(20),
        deadline=days_ago(2),
    )
    body = bundle(client_for(village_a1))
    assert body["todos"]["unverified"] == [
        {"person": waiting.pk, "arrival_date": days_ago(45).isoformat(), "overdue": True}
    ]
    assert body["todos"]["hazards"] == [
        {
            "id": issue.pk,
            "rental_house": house.pk,
            "house": "北山路9号",
            "description": "电线私拉乱接",
            "deadline": days_ago(2).isoformat(),
            "overdue": True,
        }
    ]
    assert body["rental_houses"] == [
        {"id": house.pk, "address": "北山路9号", "landlord": "房东", "region": GROUP}
    ]


def test_the_csrf_token_and_the_user(grid_a, collector_a1, client_for):
    body = bundle(client_for(collector_a1))
    assert body["csrf_token"]
    assert body["user"]["id"] == collector_a1.pk and body["user"]["role"] == "collector"
    assert body["user"]["region"] == GROUP and body["user"]["region_name"] == "第一村民小组"
    generated = datetime.datetime.fromisoformat(body["generated_at"])
    assert abs((generated - timezone.now()).total_seconds()) < 60


def test_not_signed_in_is_403_json(grid_a):
    answer = Client().get(BUNDLE)
    assert answer.status_code == 403 and json.loads(answer.content)["errors"]
    assert not AuditEntry.objects.filter(action="export").exists()


@pytest.mark.parametrize("who", ["auditor", "node_account", "inspector"])
def test_roles_without_field_work_get_nothing(request, grid_a, client_for, who):
    resident(GROUP)
    answer = client_for(request.getfixturevalue(who)).get(BUNDLE)
    assert answer.status_code == 403 and b"people" not in answer.content


def test_the_number_of_queries_does_not_grow_with_the_grid(grid_a, village_a1, client_for):
    client = client_for(village_a1)

    def counted() -> int:
        with CaptureQueriesContext(connection) as captured:
            bundle(client)
        return len(captured)

    for _ in range(3):
        resident(GROUP, arrived=days_ago(45))
    few = counted()
    for _ in range(12):
        resident(GRID_VILLAGE, arrived=days_ago(45))
    many = counted()
    assert many == few, (few, many)
    # Session, account, grids and their areas, people, three to-do lists per grid, houses,
    # regions, keys, the audit entry (with its chain head): 18 on both databases.
    assert few <= 18
