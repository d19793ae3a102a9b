"""What messages do (issue 7, part 3) and which changes queue them.

This node serves 西湖区 (330106); the peer is 河南's node (41). For notices coming in,
河南 is her residence and 西湖区 her registration place (arrival, departure,
verification, birth, service) or the other way round (certificate issued or revoked);
for notices going out, the change is made here and the outbox is read.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from liudong.actors import OPERATOR
from liudong.certificates import issuing, verification
from liudong.certificates.models import Method, Verification
from liudong.exchange.messaging import messages
from liudong.exchange.messaging import services as messaging
from liudong.exchange.models import InboxMessage, OutboxMessage, ReportedService
from liudong.people import services as people
from liudong.people.idnumbers import make
from liudong.people.models import Child, HeldCertificate, Person
from liudong.regions.models import Region

TODAY = timezone.localdate()
BIRTH = datetime.date(1995, 3, 8)
# Registered in 北山街道's 北山社区 (here), living in 郑州 经八路街道 (河南).
OURS = make("330106", BIRTH, 21, "2")
# Registered in 河南, living here.
THEIRS = make("410105", BIRTH, 23, "2")
ZHENGZHOU = "410105001"


@pytest.fixture
def henan():
    return Ed25519PrivateKey.generate()


def send(henan, message_type: str, payload: dict, *, to: str = "330106002001") -> InboxMessage:
    envelope = messages.build(
        message_type, sender="41", to=to, payload=payload, sign=henan.sign, now=timezone.now()
    )
    message, new = messaging.receive(envelope)
    assert new
    message.refresh_from_db()
    return message


def arrival_of(id_number=OURS, *, arrived: datetime.date, region=ZHENGZHOU) -> dict:
    return {
        "id_number": id_number,
        "name": "王芳",
        "sex": "2",
        "birth_date": BIRTH.isoformat(),
        "residence_region": region,
        "arrival_date": arrived.isoformat(),
    }


def her_file(household="330106002001", residence: str | None = None, id_number=OURS) -> Person:
    person = Person(
        id_number=id_number,
        name="王芳",
        sex="2",
        birth_date=BIRTH,
        marital_status="20",
        household_region_id=household,
    )
    if residence is None:
        people.refresh_derived(person)
        person.save()
    else:
        people.register_arrival(
            acting_user=OPERATOR,
            person=person,
            region=Region.objects.get(code=residence),
            arrival_date=TODAY - datetime.timedelta(days=40),
        )
    return person


# --- arriving ----------------------------------------------------------------------------


def test_an_arrival_notice_makes_her_outflow_file_here(node, henan):
    arrived = TODAY - datetime.timedelta(days=3)
    message = send(henan, "arrival", arrival_of(arrived=arrived))
    person = Person.objects.get(id_number=OURS)
    assert message.state == InboxMessage.State.APPLIED and message.person == person
    assert person.household_region_id == "330106002001"
    assert person.residence_region_id == ZHENGZHOU and person.is_floating
    assert person.marital_status == "90"  # not stated until the office learns it
    assert Person.objects.outflow("330106").filter(pk=person.pk).exists()
    assert people.open_episode(person).arrival_date == arrived
    # Received here, nothing goes back (the change concerns a file of this region).
    assert not OutboxMessage.objects.exists()


def test_an_arrival_notice_moves_the_file_kept_here(node, henan):
    person = her_file(residence="330106002001")  # she lived at home
    send(henan, "arrival", arrival_of(arrived=TODAY - datetime.timedelta(days=1)))
    person.refresh_from_db()
    assert person.residence_region_id == ZHENGZHOU
    assert person.episodes.count() == 2 and person.marital_status == "20"


def test_a_village_code_unknown_here_is_placed_in_its_township(node, henan):
    send(henan, "arrival", arrival_of(arrived=TODAY, region="410105001203"))
    assert Person.objects.get(id_number=OURS).residence_region_id == ZHENGZHOU


def test_an_arrival_that_cannot_apply_is_kept_with_its_problem(node, henan):
    future = TODAY + datetime.timedelta(days=5)
    message = send(henan, "arrival", arrival_of(arrived=future))
    assert message.state == InboxMessage.State.PROBLEM
    assert "future" in message.problem
    assert message.person is None and not Person.objects.exists()


def test_the_same_notice_twice_is_one_effect(node, henan):
    envelope = messages.build(
        "arrival",
        sender="41",
        to="330106002001",
        payload=arrival_of(arrived=TODAY),
        sign=henan.sign,
        now=timezone.now(),
    )
    messaging.receive(envelope)
    again = messages.stamp(envelope, sign=henan.sign, now=timezone.now())  # a re-delivery
    _message, new = messaging.receive(again)
    assert not new
    assert Person.objects.get(id_number=OURS).episodes.count() == 1


def test_a_departure_closes_her_stay_there(node, henan):
    her_file(residence=ZHENGZHOU)
    left = TODAY - datetime.timedelta(days=2)
    payload = {"id_number": OURS, "residence_region": ZHENGZHOU, "departure_date": left.isoformat()}
    assert send(henan, "departure", payload).state == InboxMessage.State.APPLIED
    person = Person.objects.get(id_number=OURS)
    assert person.residence_region_id is None
    assert person.episodes.get().departure_date == left


def test_a_departure_from_a_place_she_already_left_changes_nothing(node, henan):
    her_file(residence="410105002")
    payload = {
        "id_number": OURS,
        "residence_region": ZHENGZHOU,
        "departure_date": TODAY.isoformat(),
    }
    send(henan, "departure", payload)
    assert Person.objects.get(id_number=OURS).residence_region_id == "410105002"


def test_a_notice_about_no_file_here_is_a_problem(node, henan):
    payload = {
        "id_number": OURS,
        "residence_region": ZHENGZHOU,
        "departure_date": TODAY.isoformat(),
    }
    message = send(henan, "departure", payload)
    assert message.state == InboxMessage.State.PROBLEM and "No file" in message.problem


# --- verification, birth, service at the registration place -----------------------------


def test_a_verification_notice_marks_her_certificate_verified(node, henan):
    person = her_file(household="330106002001", residence=ZHENGZHOU)
    certificate = issuing.issue(person, acting_user=OPERATOR)
    # Issued while she lives in 河南: the residence learns of it.
    queued = OutboxMessage.objects.get(type="certificate_issued")
    assert queued.to_region == ZHENGZHOU
    assert queued.envelope["payload"]["number"] == certificate.number
    payload = {
        "id_number": OURS,
        "number": certificate.number,
        "residence_region": ZHENGZHOU,
        "verified_on": TODAY.isoformat(),
    }
    send(henan, "verification", payload)
    verification = Verification.objects.get(certificate=certificate)
    assert verification.method == Method.NOTIFIED and verification.region_id == ZHENGZHOU
    assert verification.days_after_arrival == 40
    assert people.open_episode(person).verified_on == TODAY


def test_a_verification_of_a_certificate_not_issued_here_is_a_problem(node, henan):
    her_file(residence=ZHENGZHOU)
    payload = {
        "id_number": OURS,
        "number": "330106002-2026-000009",
        "residence_region": ZHENGZHOU,
        "verified_on": TODAY.isoformat(),
    }
    assert send(henan, "verification", payload).state == InboxMessage.State.PROBLEM
    assert not Verification.objects.exists()


def test_a_birth_notice_records_the_child_once(node, henan):
    person = her_file(residence=ZHENGZHOU)
    payload = {"parent_id_number": OURS, "birth_date": TODAY.isoformat(), "sex": "1"}
    send(henan, "birth", payload)
    send(henan, "birth", payload)  # the same birth reported again (another message)
    assert list(Child.objects.filter(parent=person).values_list("sex", "birth_date")) == [
        ("1", TODAY)
    ]


def test_a_service_notice_records_type_and_date_only(node, henan):
    person = her_file(residence=ZHENGZHOU)
    payload = {"id_number": OURS, "service_type": "pre_pregnancy", "date": TODAY.isoformat()}
    message = send(henan, "service", payload)
    reported = ReportedService.objects.get(person=person)
    assert (reported.service_type, reported.date, reported.reported_by) == (
        "pre_pregnancy",
        TODAY,
        "41",
    )
    assert reported.message == message


# --- certificates issued elsewhere, at the residence ---------------------------------------


def test_a_certificate_issued_there_is_kept_and_its_revocation_refuses_it(node, henan):
    person = her_file(household="410105001", residence="330106002001", id_number=THEIRS)
    number = "410105001-2026-000001"
    issued = {
        "id_number": THEIRS,
        "number": number,
        "issued_on": "2026-01-05",
        "valid_until": "2045-03-07",
    }
    send(henan, "certificate_issued", issued, to="330106")
    held = HeldCertificate.objects.get(person=person)
    assert (held.number, held.issuer, held.revoked_on) == (number, "41", None)
    revoked = {"id_number": THEIRS, "number": number, "revoked_on": TODAY.isoformat()}
    send(henan, "certificate_revoked", revoked, to="330106")
    held.refresh_from_db()
    assert held.revoked_on == TODAY
    with pytest.raises(Exception, match="revoked"):
        verification.verify_at_residence(acting_user=OPERATOR, method="number", number=number)


# --- what changes here send ---------------------------------------------------------------


def test_an_arrival_here_of_someone_registered_there_notifies_her_registration(node):
    person = her_file(household="410105001", residence="330106002001", id_number=THEIRS)
    message = OutboxMessage.objects.get()
    assert (message.type, message.to_region) == ("arrival", "410105001")
    assert message.envelope["payload"] == {
        "id_number": THEIRS,
        "name": "王芳",
        "sex": "2",
        "birth_date": BIRTH.isoformat(),
        "residence_region": "330106002001",
        "arrival_date": (TODAY - datetime.timedelta(days=40)).isoformat(),
    }
    people.add_child(acting_user=OPERATOR, parent=person, sex="2", birth_date=TODAY)
    people.register_departure(acting_user=OPERATOR, person=person, departure_date=TODAY)
    assert list(OutboxMessage.objects.values_list("type", flat=True)) == [
        "arrival",
        "birth",
        "departure",
    ]


def test_a_move_inside_this_nodes_region_sends_nothing(node):
    her_file(household="330106002001", residence="330106004001")
    assert not OutboxMessage.objects.exists()


def test_a_node_without_identity_sends_nothing(node_keys, villages):
    her_file(household="410105001", residence="330106002001", id_number=THEIRS)
    assert not OutboxMessage.objects.exists()


def test_a_verification_here_notifies_the_issuing_place(node):
    person = her_file(household="410105001", residence="330106002001", id_number=THEIRS)
    HeldCertificate.objects.create(person=person, number="410105001-2026-000001", issuer="41")
    verification.verify_at_residence(
        acting_user=OPERATOR, method="number", number="410105001-2026-000001"
    )
    message = OutboxMessage.objects.get(type="verification")
    assert message.to_region == "410105001"
    assert message.envelope["payload"]["verified_on"] == TODAY.isoformat()


def test_an_imported_register_notifies_each_arrival_once(node, tmp_path):
    """The residence imports its register: each floating newcomer registered elsewhere is
    an arrival notice to her registration place; importing the file again sends nothing."""
    from liudong.people import importing
    from liudong.people.tests.test_import import LI, WANG, person, write_csv

    rows = [
        person(),  # registered in 河南, living in 北山社区
        person(
            id_number=LI,
            name="李强",
            sex="男",
            household_region="330106004",
            certificate_no="",
            certificate_issuer="",
            certificate_issued="",
        ),
    ]
    path = write_csv(tmp_path / "register.csv", rows)
    importing.import_persons(path, acting_user=OPERATOR)
    queued = OutboxMessage.objects.get()
    assert (queued.type, queued.to_region, queued.region) == (
        "arrival",
        "411522101",
        "330106002001",
    )
    assert queued.envelope["payload"]["id_number"] == WANG
    importing.import_persons(path, acting_user=OPERATOR)
    assert OutboxMessage.objects.count() == 1


def test_a_birth_to_a_parent_whose_whereabouts_are_unknown_sends_nothing(node):
    """The birth notice comes from where she lives: a file here with no current residence
    (she left for a place not known) is not the residence's to report."""
    person = her_file(household="410105001", residence="330106002001", id_number=THEIRS)
    people.register_departure(acting_user=OPERATOR, person=person, departure_date=TODAY)
    person.refresh_from_db()
    OutboxMessage.objects.all().delete()
    people.add_child(acting_user=OPERATOR, parent=person, sex="1", birth_date=TODAY)
    assert not OutboxMessage.objects.exists()
