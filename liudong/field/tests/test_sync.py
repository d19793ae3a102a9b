"""POST /api/field/sync/: each action done offline applied once, with the online rules.

collector_a1 works in group 330106002001001 (grid_a covers its village); village_a1 is
grid_a's responsible and may also verify certificates and record services.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.certificates import issuing
from liudong.certificates.models import Verification
from liudong.field import sync as field_sync
from liudong.field.models import FieldAction
from liudong.people.models import Person, ResidenceEpisode
from liudong.places import services as places
from liudong.places.models import SafetyIssue
from liudong.regions.models import Region
from liudong.services.models import ServiceRecord

from .factories import (
    GRID_VILLAGE,
    GROUP,
    OTHER_VILLAGE_IN_GRID,
    TOWNSHIP_B_VILLAGE,
    action,
    arrival_data,
    days_ago,
    envelope,
    resident,
)

SYNC = "/api/field/sync/"
pytestmark = pytest.mark.django_db


def post(client, body) -> dict:
    answer = client.post(SYNC, body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def one(client, kind: str, data: dict, **options) -> dict:
    return post(client, envelope(action(kind, data, **options)))["results"][0]


def stay(person) -> ResidenceEpisode:
    return ResidenceEpisode.objects.get(person=person, departure_date__isnull=True)


# --- each kind, applied as online ------------------------------------------------------------


def test_an_arrival_opens_a_file_as_the_online_form_does(grid_a, collector_a1, client_for):
    data = arrival_data()
    result = one(client_for(collector_a1), "arrival", data)
    assert result["status"] == "applied" and result["repeat"] is False, result
    person = Person.objects.get(id_number=data["id_number"])
    assert result["object"] == {"type": "person", "id": person.pk, "version": person.version}
    # Taken from the ID number when left empty, as the online form does.
    assert person.sex == "2" and person.birth_date == datetime.date(1995, 3, 4)
    assert stay(person).region_id == GROUP and stay(person).reason == "work"
    assert person.is_floating and person.residence_address == "北山路2号"
    assert FieldAction.objects.get(client_id=result["client_id"]).status == "applied"


def test_an_arrival_on_a_file_the_phone_had(grid_a, collector_a1, client_for):
    her = resident(GROUP, arrived=days_ago(90))
    data = arrival_data(
        person=her.pk,
        person_version=her.version,
        id_number="",
        arrival_date=days_ago(1).isoformat(),
    )
    result = one(client_for(collector_a1), "arrival", data)
    assert result["status"] == "applied", result
    assert her.episodes.count() == 2 and stay(her).arrival_date == days_ago(1)


def test_a_departure_closes_her_stay(grid_a, collector_a1, client_for):
    her = resident(GROUP)
    data = {
        "person": her.pk,
        "person_version": her.version,
        "departure_date": days_ago(1).isoformat(),
        "destination_region": None,
        "destination_place": "广州",
    }
    result = one(client_for(collector_a1), "departure", data)
    assert result["status"] == "applied", result
    her.refresh_from_db()
    assert her.residence_region_id is None
    ended = her.episodes.get()
    assert ended.departure_date == days_ago(1) and ended.destination_place == "广州"
    assert result["object"]["version"] == her.version


def test_a_departure_before_her_arrival_is_refused_as_online(grid_a, collector_a1, client_for):
    her = resident(GROUP, arrived=days_ago(10))
    data = {
        "person": her.pk,
        "person_version": her.version,
        "departure_date": days_ago(20).isoformat(),
        "destination_place": "",
    }
    result = one(client_for(collector_a1), "departure", data)
    assert result["status"] == "refused" and "departure_date" in result["errors"], result
    assert stay(her).departure_date is None


@pytest.fixture
def certified(node_keys, grid_a):
    """A woman living in grid_a's village, her certificate issued by her home township."""
    her = resident(GRID_VILLAGE, arrived=days_ago(20))
    return her, issuing.issue(her, acting_user=OPERATOR)


def test_a_verification_by_qr_is_recorded_on_the_day_done(certified, village_a1, client_for):
    her, certificate = certified
    data = {
        "person": her.pk,
        "method": "qr",
        "payload": certificate.payload,
        "number": "",
        "offline_result": "valid",
    }
    done_at = timezone.localtime() - datetime.timedelta(days=2)
    result = one(client_for(village_a1), "verification", data, done_at=done_at)
    assert result["status"] == "applied", result
    recorded = Verification.objects.get()
    assert recorded.person == her and recorded.certificate == certificate
    assert (
        recorded.verified_on == timezone.localdate(done_at) and recorded.verified_by == village_a1
    )
    assert stay(her).verified_on == timezone.localdate(done_at)


def test_a_qr_the_server_does_not_accept_is_refused(certified, village_a1, client_for):
    her, certificate = certified
    tampered = (
        certificate.payload[:-6]
        + ("A" if certificate.payload[-6] != "A" else "B")
        + certificate.payload[-5:]
    )
    data = {"person": her.pk, "method": "qr", "payload": tampered, "offline_result": "valid"}
    result = one(client_for(village_a1), "verification", data)
    assert result["status"] == "refused" and "payload" in result["errors"], result
    assert not Verification.objects.exists()


def test_a_collector_may_not_record_a_verification(certified, collector_a1, client_for):
    _her, certificate = certified
    data = {"person": None, "method": "number", "number": certificate.number}
    result = one(client_for(collector_a1), "verification", data)
    assert result["status"] == "refused", result
    assert not Verification.objects.exists()


def test_a_service_with_her_consent(grid_a, village_a1, client_for):
    her = resident(GRID_VILLAGE)
    data = {
        "person": her.pk,
        "service_type": "reproductive_health",
        "given_on": days_ago(1).isoformat(),
        "consent": True,
        "note": "",
    }
    result = one(client_for(village_a1), "service", data)
    assert result["status"] == "applied", result
    record = ServiceRecord.objects.get()
    assert record.person == her and record.consent_recorded and record.date == days_ago(1)
    assert record.recorded_by == village_a1


@pytest.mark.parametrize("consent", [False, None, "true", 1])
def test_a_service_without_her_consent_is_refused(grid_a, village_a1, client_for, consent):
    her = resident(GRID_VILLAGE)
    data = {
        "person": her.pk,
        "service_type": "reproductive_health",
        "given_on": days_ago(1).isoformat(),
        "consent": consent,
    }
    result = one(client_for(village_a1), "service", data)
    assert result["status"] == "refused" and "consent" in result["errors"], result
    assert not ServiceRecord.objects.exists()


@pytest.fixture
def house(grid_a, township_a):
    return places.create_rental_house(
        acting_user=township_a,
        address="北山路9号",
        region=Region.objects.get(code=GROUP),
        landlord_name="房东",
    )


def test_a_hazard_found_and_then_rectified(house, collector_a1, client_for):
    client = client_for(collector_a1)
    found = {
        "rental_house": house.pk,
        "found_on": days_ago(2).isoformat(),
        "description": "电线私拉乱接",
        "deadline": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        "note": "",
    }
    result = one(client, "hazard", found)
    assert result["status"] == "applied", result
    issue = SafetyIssue.objects.get()
    assert issue.rental_house == house and issue.hazard == "电线私拉乱接"
    fixed = {"safety_issue": issue.pk, "rectified_on": days_ago(0).isoformat(), "note": "已整改"}
    result = one(client, "rectification", fixed)
    assert result["status"] == "applied", result
    issue.refresh_from_db()
    assert issue.rectified_on == timezone.localdate() and "已整改" in issue.notes


def test_a_hazard_with_its_deadline_before_it_was_found_is_refused(house, collector_a1, client_for):
    found = {
        "rental_house": house.pk,
        "found_on": days_ago(2).isoformat(),
        "description": "x",
        "deadline": days_ago(5).isoformat(),
    }
    result = one(client_for(collector_a1), "hazard", found)
    assert result["status"] == "refused" and result["errors"], result
    assert not SafetyIssue.objects.exists()


# --- outside the grid, outside the scope --------------------------------------------------------


def test_a_person_outside_the_scope_is_refused_revealing_nothing(
    grid_a, grid_b, collector_a1, client_for
):
    elsewhere = resident(TOWNSHIP_B_VILLAGE, name="王五")
    client = client_for(collector_a1)
    data = {
        "person": elsewhere.pk,
        "person_version": elsewhere.version,
        "departure_date": days_ago(1).isoformat(),
    }
    result = one(client, "departure", data)
    assert result["status"] == "refused" and result["server"] is None
    # The same words as for a file that does not exist: nothing is learnt.
    missing = one(client, "departure", {**data, "person": elsewhere.pk + 1000})
    assert missing["errors"] == result["errors"] and missing["message"] == result["message"]
    assert "王五" not in str(result) and TOWNSHIP_B_VILLAGE not in str(result)
    assert stay(elsewhere).departure_date is None


def test_a_person_in_the_scope_but_outside_the_grid_is_refused(township_a, village_a1, client_for):
    from liudong.regions.services import save_grid

    save_grid(
        acting_user=township_a,
        name="小组网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code=GROUP),
        responsible=village_a1,
    )
    outside = resident(GRID_VILLAGE)  # her village, not the grid's group
    data = {
        "person": outside.pk,
        "person_version": outside.version,
        "departure_date": days_ago(1).isoformat(),
    }
    result = one(client_for(village_a1), "departure", data)
    assert result["status"] == "refused", result
    assert stay(outside).departure_date is None


def test_an_arrival_in_a_region_outside_the_scope_is_refused(grid_a, collector_a1, client_for):
    data = arrival_data(residence_region=TOWNSHIP_B_VILLAGE)
    result = one(client_for(collector_a1), "arrival", data)
    assert result["status"] == "refused" and "residence_region" in result["errors"], result
    assert not Person.objects.filter(id_number=data["id_number"]).exists()


# --- conflicts ------------------------------------------------------------------------------


def test_she_was_registered_meanwhile_in_scope(grid_a, collector_a1, client_for):
    her = resident(GROUP)
    data = arrival_data(id_number=her.id_number)
    result = one(client_for(collector_a1), "arrival", data)
    assert result["status"] == "conflict", result
    assert result["server"]["id"] == her.pk and result["server"]["version"] == her.version
    assert her.id_number not in str(result)  # masked only
    assert her.episodes.count() == 1
    # "Apply mine to the current file": the same client id, based on the server's version.
    again = {**data, "person": her.pk, "person_version": her.version, "id_number": ""}
    result = one(client_for(collector_a1), "arrival", again, client_id=result["client_id"])
    assert result["status"] == "applied", result
    assert her.episodes.count() == 2


def test_she_was_registered_meanwhile_by_another_regions_office(
    grid_a, grid_b, collector_a1, client_for
):
    elsewhere = resident(TOWNSHIP_B_VILLAGE, name="王五")
    data = arrival_data(id_number=elsewhere.id_number, name="王五")
    result = one(client_for(collector_a1), "arrival", data)
    assert result["status"] == "conflict" and result["server"] is None, result
    assert "西溪" not in result["message"] and TOWNSHIP_B_VILLAGE not in str(result)
    assert elsewhere.episodes.count() == 1


def test_a_file_changed_since_the_bundle_is_a_conflict(grid_a, collector_a1, client_for):
    from liudong.people.services import update_person

    her = resident(GROUP)
    seen = her.version
    update_person(acting_user=OPERATOR, person=her, phone="13800000000")
    data = {"person": her.pk, "person_version": seen, "departure_date": days_ago(1).isoformat()}
    result = one(client_for(collector_a1), "departure", data)
    assert result["status"] == "conflict", result
    assert result["server"]["version"] == seen + 1
    assert stay(her).departure_date is None


# --- once and only once -------------------------------------------------------------------------


def test_the_same_action_synced_twice_is_applied_once(grid_a, collector_a1, client_for):
    client = client_for(collector_a1)
    queued = action("arrival", arrival_data())
    first = post(client, envelope(queued))["results"][0]
    # The answer was lost: the phone sends the same action again.
    second = post(client, envelope(queued))["results"][0]
    assert first["status"] == second["status"] == "applied"
    assert first["repeat"] is False and second["repeat"] is True
    assert second["object"] == first["object"]
    assert Person.objects.filter(id_number=queued["data"]["id_number"]).count() == 1
    assert ResidenceEpisode.objects.filter(person_id=first["object"]["id"]).count() == 1
    assert FieldAction.objects.get(client_id=queued["client_id"]).attempts == 2


def test_a_lost_answer_through_a_new_session_is_still_one_record(grid_a, collector_a1):
    """The phone signed in again before resending: same account, same client id."""
    queued = action("arrival", arrival_data())
    for _attempt in range(2):
        client = Client()
        client.force_login(collector_a1)
        post(client, envelope(queued))
    assert Person.objects.filter(id_number=queued["data"]["id_number"]).count() == 1


def test_a_tampered_action_is_refused(grid_a, collector_a1, client_for):
    client = client_for(collector_a1)
    queued = action("arrival", arrival_data())
    post(client, envelope(queued))
    changed = {**queued, "data": {**queued["data"], "residence_address": "别处"}}
    result = post(client, envelope(changed))["results"][0]
    assert result["status"] == "refused", result
    person = Person.objects.get(id_number=queued["data"]["id_number"])
    assert person.residence_address == "北山路2号"
    entry = AuditEntry.objects.get(object_id=queued["client_id"], action="import")
    assert entry.detail["tampered"] is True


def test_a_refused_action_fixed_and_sent_again_is_applied(grid_a, collector_a1, client_for):
    client = client_for(collector_a1)
    queued = action(
        "arrival",
        arrival_data(arrival_date=(timezone.localdate() + datetime.timedelta(days=3)).isoformat()),
    )
    result = post(client, envelope(queued))["results"][0]
    assert result["status"] == "refused" and "arrival_date" in result["errors"], result
    fixed = {**queued, "data": {**queued["data"], "arrival_date": days_ago(1).isoformat()}}
    result = post(client, envelope(fixed))["results"][0]
    assert result["status"] == "applied", result
    row = FieldAction.objects.get(client_id=queued["client_id"])
    assert row.status == "applied" and row.attempts == 2


def test_one_refused_action_among_applied_ones(grid_a, collector_a1, client_for):
    bad = arrival_data(id_number="123")
    body = envelope(
        action("arrival", arrival_data()), action("arrival", bad), action("arrival", arrival_data())
    )
    results = post(client_for(collector_a1), body)["results"]
    assert [r["status"] for r in results] == ["applied", "refused", "applied"]
    assert "id_number" in results[1]["errors"]
    assert Person.objects.count() == 2


def test_an_action_is_rolled_back_when_its_row_cannot_be_saved(grid_a, collector_a1, monkeypatch):
    """The business change and the FieldAction row are one transaction."""
    save = FieldAction.save

    def failing(self, *args, **kwargs):
        if self.status == "applied":
            raise RuntimeError("disk full")
        return save(self, *args, **kwargs)

    monkeypatch.setattr(FieldAction, "save", failing)
    data = arrival_data()
    with pytest.raises(RuntimeError):
        field_sync.sync(collector_a1, envelope(action("arrival", data)))
    assert not Person.objects.filter(id_number=data["id_number"]).exists()
    assert not FieldAction.objects.exists()


def test_a_request_that_waited_for_another_finds_the_action_applied(
    grid_a, collector_a1, monkeypatch
):
    """Two requests with one client id: the second, having passed the first look before the
    first committed, finds the row applied once it holds it, and answers a repeat."""
    queued = action("arrival", arrival_data())
    field_sync.sync(collector_a1, envelope(queued))
    real = field_sync._answer_applied
    calls = []

    def first_look_missed(*args):
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(field_sync, "_answer_applied", first_look_missed)
    result = field_sync.sync(collector_a1, envelope(queued))["results"][0]
    assert result["status"] == "applied" and result["repeat"] is True
    assert Person.objects.filter(id_number=queued["data"]["id_number"]).count() == 1


# --- the envelope, the session, the clock ------------------------------------------------


def test_an_expired_session_is_403_and_applies_nothing(grid_a, collector_a1):
    data = arrival_data()
    answer = Client().post(SYNC, envelope(action("arrival", data)), content_type="application/json")
    assert answer.status_code == 403
    assert answer.json()["errors"]
    assert not Person.objects.filter(id_number=data["id_number"]).exists()
    assert not FieldAction.objects.exists()


def test_without_the_csrf_header_a_session_post_is_refused(grid_a, collector_a1):
    client = Client(enforce_csrf_checks=True)
    client.force_login(collector_a1)
    answer = client.post(
        SYNC, envelope(action("arrival", arrival_data())), content_type="application/json"
    )
    assert answer.status_code == 403 and not Person.objects.filter(name="李四").exists()


def test_the_bundles_csrf_token_lets_the_phone_sync(grid_a, collector_a1):
    client = Client(enforce_csrf_checks=True)
    client.force_login(collector_a1)
    token = client.get("/api/field/bundle/").json()["csrf_token"]
    answer = client.post(
        SYNC,
        envelope(action("arrival", arrival_data())),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "applied"


@pytest.mark.parametrize("who", ["auditor", "node_account", "inspector"])
def test_roles_without_field_work_are_refused(request, grid_a, client_for, who):
    user = request.getfixturevalue(who)
    answer = client_for(user).post(
        SYNC, envelope(action("arrival", arrival_data())), content_type="application/json"
    )
    assert answer.status_code == 403 and not FieldAction.objects.exists()


def test_101_actions_are_refused_whole(grid_a, collector_a1, client_for):
    body = envelope(*(action("arrival", arrival_data()) for _ in range(101)))
    answer = client_for(collector_a1).post(SYNC, body, content_type="application/json")
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["actions"]
    assert not Person.objects.filter(name="李四").exists() and not FieldAction.objects.exists()


@pytest.mark.parametrize(
    "broken, field",
    [
        ({"client_id": "not-a-uuid"}, "actions.1"),
        ({"kind": "burglary"}, "actions.1"),
        ({"done_at": "yesterday"}, "actions.1"),
        ({"data": [1, 2]}, "actions.1"),
    ],
)
def test_a_malformed_action_refuses_the_whole_envelope(
    grid_a, collector_a1, client_for, broken, field
):
    good = action("arrival", arrival_data())
    bad = {**action("arrival", arrival_data()), **broken}
    answer = client_for(collector_a1).post(
        SYNC, envelope(good, bad), content_type="application/json"
    )
    assert answer.status_code == 400
    assert {e["field"] for e in answer.json()["errors"]} == {field}
    assert not Person.objects.filter(id_number=good["data"]["id_number"]).exists()


def test_a_phone_clock_far_off_is_recorded_beside_the_servers(grid_a, collector_a1, client_for):
    off = timezone.localtime() - datetime.timedelta(days=400, hours=3)
    queued = action("arrival", arrival_data(), done_at=off - datetime.timedelta(hours=1))
    answer = post(client_for(collector_a1), envelope(queued, device_time=off))
    skew = answer["clock_skew_seconds"]
    assert abs(skew - (400 * 86400 + 3 * 3600)) < 30
    row = FieldAction.objects.get(client_id=queued["client_id"])
    assert row.device_clock == off.replace(microsecond=off.microsecond)
    assert abs((row.received_at - timezone.now()).total_seconds()) < 60
    entry = AuditEntry.objects.get(action="create", object_type="people.person")
    offline = entry.detail["offline"]
    assert offline["client_id"] == queued["client_id"] and offline["kind"] == "arrival"
    assert offline["done_at"] == queued["done_at"] and offline["device_time"] == off.isoformat()
    assert offline["clock_skew_seconds"] == skew
    assert datetime.datetime.fromisoformat(offline["received_at"]) > off + datetime.timedelta(
        days=399
    )


def test_every_entry_of_an_applied_action_carries_its_offline_times(
    grid_a, collector_a1, client_for
):
    her = resident(GROUP)
    since = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    queued = action(
        "departure",
        {
            "person": her.pk,
            "person_version": her.version,
            "departure_date": days_ago(1).isoformat(),
        },
    )
    post(client_for(collector_a1), envelope(queued))
    entries = list(AuditEntry.objects.filter(seq__gt=since))
    assert entries and all(e.detail["offline"]["client_id"] == queued["client_id"] for e in entries)
    assert {e.actor_username for e in entries} == {"collector_a1"}


def test_a_refused_attempt_is_audited_with_its_times(grid_a, collector_a1, client_for):
    queued = action("arrival", arrival_data(id_number="123"))
    post(client_for(collector_a1), envelope(queued))
    entry = AuditEntry.objects.get(object_id=queued["client_id"])
    assert entry.action == "import" and entry.detail["field_sync"] == "refused"
    assert entry.detail["offline"]["done_at"] == queued["done_at"]
    assert "id_number" in entry.detail["errors"]


def test_duplicate_client_ids_in_one_request_are_refused(grid_a, collector_a1, client_for):
    queued = action("arrival", arrival_data())
    answer = client_for(collector_a1).post(
        SYNC, envelope(queued, queued), content_type="application/json"
    )
    assert answer.status_code == 400 and not Person.objects.exists()


def test_the_client_id_is_the_accounts_own(grid_a, collector_a1, village_a1, client_for):
    """Another account's id is another action: no answer of someone else's is replayed."""
    shared = str(uuid.uuid4())
    first = one(client_for(collector_a1), "arrival", arrival_data(), client_id=shared)
    second = one(
        client_for(village_a1),
        "arrival",
        arrival_data(residence_region=GRID_VILLAGE),
        client_id=shared,
    )
    assert first["status"] == second["status"] == "applied" and second["repeat"] is False
    assert first["object"]["id"] != second["object"]["id"]


def valid_data(kind: str, township_a) -> dict:
    """A valid action of ``kind`` for village_a1 in grid_a."""
    today = timezone.localdate().isoformat()
    if kind == "arrival":
        return arrival_data(residence_region=GRID_VILLAGE)
    if kind in ("hazard", "rectification"):
        house = places.create_rental_house(
            acting_user=township_a,
            address="北山路9号",
            region=Region.objects.get(code=GROUP),
            landlord_name="房东",
        )
        if kind == "hazard":
            return {
                "rental_house": house.pk,
                "found_on": today,
                "description": "x",
                "deadline": today,
                "note": "",
            }
        issue = places.create_safety_issue(
            acting_user=township_a,
            rental_house=house,
            hazard="x",
            found_on=days_ago(3),
            deadline=days_ago(1),
        )
        return {"safety_issue": issue.pk, "rectified_on": today, "note": "", "version": 1}
    her = resident(GRID_VILLAGE)
    if kind == "departure":
        return {
            "person": her.pk,
            "person_version": her.version,
            "departure_date": today,
            "destination_region": None,
            "destination_place": "",
        }
    if kind == "verification":
        return {"person": her.pk, "method": "number", "payload": "", "number": "9"}
    return {
        "person": her.pk,
        "service_type": "reproductive_health",
        "given_on": today,
        "consent": True,
        "provider_name": "",
    }


KINDS = ["arrival", "departure", "verification", "service", "hazard", "rectification"]
JUNK = [[1, 2], {"a": 1}, 10**30, -1, True, "x" * 3000]
FREE_TEXT = {"name", "residence_address", "employer", "destination_place", "provider_name"}
FREE_TEXT |= {"note", "description"}


@pytest.mark.parametrize("kind", KINDS)
def test_junk_in_any_field_is_refused_never_a_server_error(
    grid_a, village_a1, township_a, client_for, kind
):
    """A tampered queue holds anything: each field of a valid action in turn replaced by
    junk is answered (refused or, for a version, a conflict), never a server error."""
    client = client_for(village_a1)
    base = valid_data(kind, township_a)
    for field in base:
        if kind == "arrival" and field == "person_version":
            continue  # read only with a person (a new file has no version)
        for junk in JUNK:
            result = one(client, kind, {**base, field: junk})
            # Free text takes any text (as typed online); consent true is her consent.
            may_pass = field in FREE_TEXT or (field == "consent" and junk is True)
            assert result["status"] in ("refused", "conflict") or may_pass, (field, junk, result)


def test_after_signing_in_again_the_kept_action_is_applied_once(grid_a, collector_a1):
    queued = action("arrival", arrival_data())
    expired = Client().post(SYNC, envelope(queued), content_type="application/json")
    assert expired.status_code == 403
    client = Client()
    client.force_login(collector_a1)
    result = post(client, envelope(queued))["results"][0]
    assert result["status"] == "applied" and result["repeat"] is False
    assert Person.objects.filter(id_number=queued["data"]["id_number"]).count() == 1


def test_a_conflict_is_audited_naming_the_file_shown(grid_a, collector_a1, client_for):
    her = resident(GROUP)
    queued = action("arrival", arrival_data(id_number=her.id_number))
    post(client_for(collector_a1), envelope(queued))
    entry = AuditEntry.objects.get(object_id=queued["client_id"])
    assert entry.action == "import" and entry.detail["field_sync"] == "conflict"
    assert entry.detail["shown_person"] == her.pk
    assert entry.detail["offline"]["client_id"] == queued["client_id"]
    assert FieldAction.objects.get(client_id=queued["client_id"]).status == "conflict"


def test_a_village_account_in_no_grid_works_its_own_village(village_a1, client_for):
    """A village specialist no grid names keeps her village's files (DESIGN.md §1): the
    phone gets the village's people, and a departure of one of them is applied; a person of
    the next village, in no grid of hers and outside her scope, stays out of reach."""
    client = client_for(village_a1)
    own = resident(GRID_VILLAGE, name="本村")
    other = resident(OTHER_VILLAGE_IN_GRID, name="邻村")
    body = client.get("/api/field/bundle/").json()
    assert [p["id"] for p in body["people"]] == [own.pk]
    assert [g["areas"] for g in body["grids"]] == [[GRID_VILLAGE]]
    departure = {"departure_date": days_ago(1).isoformat(), "destination_region": None}
    done = one(client, "departure", {**departure, "person": own.pk, "person_version": own.version})
    assert done["status"] == "applied", done
    refused = one(
        client, "departure", {**departure, "person": other.pk, "person_version": other.version}
    )
    assert refused["status"] == "refused"
    assert not ResidenceEpisode.objects.filter(person=own, departure_date__isnull=True).exists()
