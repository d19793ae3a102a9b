"""Assistance requests (协查, issue 7 part 4): asking the other place (deadline 15 or 30
days, in the envelope), where a request is refused, the request arriving at the place asked
(one row per request id, found by ID number), answering once in one's own region, and the
answer coming back (refused for a request this node never asked).

This node serves 西湖区 (330106) and trusts 河南's node (41); she is registered in 淅川县
(411326) and lives in 北山社区 (330106002001, township A)."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.exchange.assistance import services as assistance
from liudong.exchange.messaging import messages
from liudong.exchange.messaging import services as messaging
from liudong.exchange.models import AssistanceRequest, InboxMessage, OutboxMessage
from liudong.exchange.tests.conftest import public_text
from liudong.people.idnumbers import make
from liudong.people.models import Person, ResidenceEpisode

NOW = datetime.datetime(2026, 11, 22, 9, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 22)


@pytest.fixture
def henan():
    return Ed25519PrivateKey.generate()


_sequence = iter(range(11, 999, 2))


def person(*, household="411326", lives_in: str | None = "330106002001", name="王芳") -> Person:
    born = datetime.date(1995, 3, 8)
    her = Person.objects.create(
        id_number=make(household[:6], born, next(_sequence), "2"),
        name=name,
        name_initials="wf",
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region_id=household,
        residence_region_id=lives_in,
        is_floating=lives_in is not None and household[:6] != lives_in[:6],
    )
    if lives_in:
        ResidenceEpisode.objects.create(
            person=her, region_id=lives_in, arrival_date=datetime.date(2026, 3, 1)
        )
    return her


def _request_from_henan(henan, id_number: str, *, request_id=None, deadline=None, **payload):
    envelope = messages.build(
        "assistance_request",
        sender="41",
        to=payload.pop("to", "330106"),
        payload={
            "request_id": request_id or "7d5a7e4e-5b6c-4d2f-9a51-0c8f4f1d2b3a",
            "id_number": id_number,
            "question": payload.pop("question", "marital_status"),
            "urgency": payload.pop("urgency", "normal"),
        },
        sign=henan.sign,
        now=NOW,
        deadline=deadline or datetime.date(2026, 12, 22),
    )
    message, _new = messaging.receive(envelope, now=NOW)
    return message


def _answer_from_henan(henan, request_id, *, sender="41", **payload):
    envelope = messages.build(
        "assistance_answer",
        sender=sender,
        to="330106",
        payload={
            "request_id": str(request_id),
            "finding": payload.pop("finding", "confirmed"),
            "answer": payload.pop("answer", "户籍地登记为已婚,与档案一致"),
            "answered_on": payload.pop("answered_on", "2026-11-20"),
        },
        sign=henan.sign,
        now=NOW,
    )
    return InboxMessage(
        id=envelope["id"],
        type=envelope["type"],
        from_region=envelope["from"],
        to_region=envelope["to"],
        envelope=envelope,
        digest=messages.digest(envelope),
    )


# --- asking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urgency", "deadline"), [("urgent", "2026-11-16"), ("normal", "2026-12-01")]
)
def test_asking_queues_the_request_with_its_deadline(node, township_a, urgency, deadline):
    her = person()
    request = assistance.ask(
        acting_user=township_a,
        person=her,
        question="children",
        urgency=urgency,
        today=datetime.date(2026, 11, 1),
    )
    assert request.deadline.isoformat() == deadline  # 15 or 30 days from asking
    assert (request.direction, request.region_id, request.other_region) == (
        "outgoing",
        "330106002001",  # her file here: where she lives
        "411326",  # the place asked: her household registration
    )
    queued = OutboxMessage.objects.get()
    assert (queued.type, queued.to_region) == ("assistance_request", "411326")
    assert queued.envelope["deadline"] == deadline
    # Minimum necessary: who, what to verify, how urgent; not her name, address or phone.
    assert queued.envelope["payload"] == {
        "request_id": str(request.request_id),
        "id_number": her.id_number,
        "question": "children",
        "urgency": urgency,
    }
    logged = AuditEntry.objects.get(object_type="exchange.assistancerequest", action="create")
    assert logged.actor_username == "township_a" and logged.region == "330106002001"


def test_registered_here_and_living_elsewhere_asks_her_residence(node, township_a):
    her = person(household="330106002", lives_in="411326001")
    request = assistance.ask(
        acting_user=township_a, person=her, question="whereabouts", urgency="normal"
    )
    assert (request.region_id, request.other_region) == ("330106002", "411326001")
    assert OutboxMessage.objects.get().to_region == "411326001"


@pytest.mark.parametrize(
    ("household", "lives_in", "reason"),
    [
        ("330106002", "330106004001", "both served by this node"),  # both ends here
        ("330106002", None, "not known"),  # left for an unknown place
    ],
)
def test_asking_is_refused_without_another_place(node, township_a, household, lives_in, reason):
    her = person(household=household, lives_in=lives_in)
    with pytest.raises(ValidationError) as refused:
        assistance.ask(acting_user=township_a, person=her, question="children", urgency="normal")
    assert reason in " ".join(refused.value.messages)
    assert not AssistanceRequest.objects.exists() and not OutboxMessage.objects.exists()


def test_asking_is_bounded_by_region_and_role(node, township_b, village_a1):
    her = person()  # lives in township A
    with pytest.raises(PermissionDenied, match="outside your region"):
        assistance.ask(acting_user=township_b, person=her, question="children", urgency="normal")
    with pytest.raises(PermissionDenied, match="may not ask"):
        assistance.ask(acting_user=village_a1, person=her, question="children", urgency="normal")
    assert not AssistanceRequest.objects.exists() and not OutboxMessage.objects.exists()


def test_a_bad_choice_names_the_field(node, township_a):
    her = person()
    with pytest.raises(ValidationError) as refused:
        assistance.ask(acting_user=township_a, person=her, question="pregnancy", urgency="normal")
    assert list(refused.value.message_dict) == ["question"]
    with pytest.raises(ValidationError) as refused:
        assistance.ask(acting_user=township_a, person=her, question="children", urgency="asap")
    assert list(refused.value.message_dict) == ["urgency"]


def test_the_same_open_question_is_not_asked_twice(node, township_a):
    her = person()
    assistance.ask(acting_user=township_a, person=her, question="children", urgency="normal")
    with pytest.raises(ValidationError) as refused:
        assistance.ask(acting_user=township_a, person=her, question="children", urgency="urgent")
    assert "already asked" in refused.value.message_dict["question"][0]
    assistance.ask(acting_user=township_a, person=her, question="certificate", urgency="normal")
    assert AssistanceRequest.objects.count() == 2


# --- a request arrives ---------------------------------------------------------------------


def test_a_received_request_joins_the_worklist_of_her_file(node, henan):
    her = person()
    message = _request_from_henan(henan, her.id_number, urgency="urgent")
    request = assistance.on_request(message)
    assert (request.direction, request.person, request.region_id, request.other_region) == (
        "incoming",
        her,
        "330106002001",
        "41",
    )
    assert request.asked_on == TODAY and request.deadline == datetime.date(2026, 12, 22)
    # Applying it again (a retried dispatch) is the same row, not a second one.
    assert assistance.on_request(message) == request
    assert AssistanceRequest.objects.count() == 1
    assert AuditEntry.objects.filter(
        object_type="exchange.assistancerequest", actor_username="node 41"
    ).exists()


def test_a_request_about_someone_not_on_file_goes_to_the_addressed_region(node, henan):
    stranger = make("411326", datetime.date(1990, 1, 2), 33, "2")
    request = assistance.on_request(_request_from_henan(henan, stranger, to="330106004"))
    assert request.person is None and request.region_id == "330106004"


def test_a_request_for_an_unknown_region_is_not_applied(node, henan):
    stranger = make("411326", datetime.date(1990, 1, 2), 33, "2")
    with pytest.raises(ValidationError) as refused:
        assistance.on_request(_request_from_henan(henan, stranger, to="330106999"))
    assert "to" in refused.value.message_dict
    assert not AssistanceRequest.objects.exists()


# --- answering -----------------------------------------------------------------------------


def test_answering_once_queues_the_answer_to_the_asker(node, henan, township_a):
    her = person()
    request = assistance.on_request(_request_from_henan(henan, her.id_number))
    assistance.answer(
        acting_user=township_a, request=request, finding="differs", answer="现登记为离婚"
    )
    request.refresh_from_db()
    assert (request.finding, request.answered_by, request.answered_on) == (
        "differs",
        township_a,
        timezone.localdate(),
    )
    queued = OutboxMessage.objects.get()
    assert (queued.type, queued.to_region) == ("assistance_answer", "41")
    assert queued.envelope["payload"]["request_id"] == str(request.request_id)
    with pytest.raises(ValidationError, match="already answered"):
        assistance.answer(
            acting_user=township_a, request=request, finding="confirmed", answer="再答一次"
        )
    assert OutboxMessage.objects.count() == 1


def test_only_the_region_asked_answers(node, henan, township_b, county_admin):
    her = person()
    request = assistance.on_request(_request_from_henan(henan, her.id_number))
    with pytest.raises(PermissionDenied, match="outside your region"):
        assistance.answer(acting_user=township_b, request=request, finding="confirmed", answer="x")
    with pytest.raises(ValidationError) as refused:
        assistance.answer(acting_user=county_admin, request=request, finding="maybe", answer="x")
    assert list(refused.value.message_dict) == ["finding"]
    with pytest.raises(ValidationError) as refused:
        assistance.answer(
            acting_user=county_admin, request=request, finding="confirmed", answer=" "
        )
    assert list(refused.value.message_dict) == ["answer"]
    request.refresh_from_db()
    assert request.answered_on is None and not OutboxMessage.objects.exists()


def test_an_outgoing_request_is_not_answered_here(node, township_a):
    request = assistance.ask(
        acting_user=township_a, person=person(), question="children", urgency="normal"
    )
    with pytest.raises(ValidationError, match="other place answers"):
        assistance.answer(acting_user=township_a, request=request, finding="confirmed", answer="x")


# --- the answer comes back -----------------------------------------------------------------


def test_the_answer_fills_in_the_request(node, henan, township_a):
    request = assistance.ask(
        acting_user=township_a,
        person=person(),
        question="marital_status",
        urgency="urgent",
        today=datetime.date(2026, 11, 10),
    )
    message = _answer_from_henan(henan, request.request_id, answered_on="2026-11-20")
    assistance.on_answer(message)
    request.refresh_from_db()
    assert (request.finding, request.answered_on) == ("confirmed", datetime.date(2026, 11, 20))
    assert request.answer.startswith("户籍地") and request.answered_on_time
    assistance.on_answer(message)  # the same answer again changes nothing
    with pytest.raises(ValidationError, match="already answered"):
        assistance.on_answer(_answer_from_henan(henan, request.request_id, finding="differs"))


def test_an_answer_to_an_unknown_request_is_refused(node, henan):
    with pytest.raises(ValidationError) as refused:
        assistance.on_answer(_answer_from_henan(henan, "0b9e2b55-9a1c-4a0e-8f59-3c0d8a1e2f47"))
    assert "request_id" in refused.value.message_dict


def test_an_answer_from_a_node_not_asked_is_refused(node, henan, township_a):
    request = assistance.ask(
        acting_user=township_a, person=person(), question="children", urgency="normal"
    )
    other = Ed25519PrivateKey.generate()
    messaging.trust_peer(
        acting_user=OPERATOR, region_code="42", url="https://hubei.example/", key=public_text(other)
    )
    with pytest.raises(ValidationError) as refused:
        assistance.on_answer(_answer_from_henan(other, request.request_id, sender="42"))
    assert "from" in refused.value.message_dict
    request.refresh_from_db()
    assert request.answered_on is None


def test_overdue_and_on_time_at_the_deadline(node, henan):
    request = AssistanceRequest(deadline=datetime.date(2026, 11, 16))
    assert not request.is_overdue(datetime.date(2026, 11, 16))  # the deadline day itself
    assert request.is_overdue(datetime.date(2026, 11, 17))
    request.answered_on = datetime.date(2026, 11, 16)
    assert request.answered_on_time and not request.is_overdue(datetime.date(2027, 1, 1))
    request.answered_on = datetime.date(2026, 11, 17)
    assert not request.answered_on_time


def test_the_worklist_counts_overdue_requests_per_side(node, henan, township_a, township_b):
    her = person()
    incoming = assistance.on_request(_request_from_henan(henan, her.id_number))
    assistance.ask(
        acting_user=township_a,
        person=her,
        question="children",
        urgency="urgent",
        today=datetime.date(2026, 10, 1),
    )
    after = incoming.deadline + datetime.timedelta(days=1)
    assert assistance.overdue_counts(township_a, today=after) == {"incoming": 1, "outgoing": 1}
    assert assistance.overdue_counts(township_a, today=incoming.deadline) == {
        "incoming": 0,
        "outgoing": 1,
    }
    assert assistance.overdue_counts(township_b, today=after) == {"incoming": 0, "outgoing": 0}
    assert list(assistance.worklist(township_a, direction="incoming")) == [incoming]


def test_the_audit_log_keeps_only_her_masked_id_number(node, henan, township_a):
    """A request's audit images are what the log's readers see: her ID number masked (the
    request itself, and the message, carry it in full)."""
    her = person()
    assistance.ask(acting_user=township_a, person=her, question="children", urgency="normal")
    received = assistance.on_request(_request_from_henan(henan, her.id_number))
    assistance.answer(acting_user=township_a, request=received, finding="confirmed", answer="属实")
    logged = AuditEntry.objects.filter(object_type="exchange.assistancerequest")
    images = [image for entry in logged for image in (entry.before, entry.after) if image]
    assert len(images) >= 3
    masked = her.id_number[:6] + "********" + her.id_number[-4:]
    assert {image["id_number"] for image in images} == {masked}
