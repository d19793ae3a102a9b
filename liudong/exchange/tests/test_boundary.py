"""A peer may assert only what happens in its own regions (issue 13, item 1).

This node serves 西湖区 (330106) and trusts 河南's node (41) and 广东's node (44). Every
message below is correctly signed by 广东; each type is sent once about something in
广东's regions, on a file on this node's side (accepted, its effect applied), and then
about something outside them (refused as ``outside_sender_region``, the database as it
was). The first three refusals are the ones a security review found: an arrival at one of
this node's townships moving a file, a departure closing a stay here, and the revocation of
a certificate this node issued.
"""

from __future__ import annotations

import datetime
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.certificates import issuing
from liudong.certificates import verification as verifying
from liudong.certificates.models import Certificate, Verification
from liudong.exchange.assistance import services as assistance
from liudong.exchange.messaging import boundary, catalogue, messages, payloads
from liudong.exchange.messaging import services as messaging
from liudong.exchange.messaging.messages import Refused
from liudong.exchange.models import (
    AssistanceRequest,
    InboxMessage,
    OutboxMessage,
    RefusedMessage,
    ReportedService,
)
from liudong.exchange.tests.conftest import public_text
from liudong.people import services as people
from liudong.people.idnumbers import make
from liudong.people.models import Child, HeldCertificate, Person, ResidenceEpisode
from liudong.regions.models import Region

TODAY = timezone.localdate()
BIRTH = datetime.date(1995, 3, 8)
HER = make("330106", BIRTH, 21, "2")
TIANHE = "440106001"  # 五山街道, 广州天河区: 广东's
TIANHE_2 = "440106002"  # 员村街道
ZHENGZHOU = "410105001"  # 经八路街道: 河南's, another peer
TOWNSHIP_A, TOWNSHIP_B = "330106002001", "330106004001"  # this node's own
OUTSIDE = "outside_sender_region"
# Everything a message could change here: compared whole before and after a refusal.
TABLES = (
    Person,
    ResidenceEpisode,
    HeldCertificate,
    Certificate,
    Verification,
    Child,
    ReportedService,
    AssistanceRequest,
    InboxMessage,
    OutboxMessage,
    AuditEntry,
)


@pytest.fixture
def guangdong(node):
    """广东's node (44), trusted here beside 河南's."""
    key = Ed25519PrivateKey.generate()
    messaging.trust_peer(
        acting_user=OPERATOR, region_code="44", url="https://gd.example/", key=public_text(key)
    )
    return key


def envelope(key, message_type: str, payload: dict, *, sender="44") -> dict:
    return messages.build(
        message_type, sender=sender, to="330106", payload=payload, sign=key.sign, now=timezone.now()
    )


def database() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in TABLES}


def refused(key, message_type: str, payload: dict, *, sender="44") -> str:
    """Send and expect a refusal for the sender's region; nothing may have changed."""
    before = database()
    with pytest.raises(Refused) as caught:
        messaging.receive(envelope(key, message_type, payload, sender=sender))
    assert caught.value.reason == OUTSIDE, caught.value
    assert database() == before
    logged = RefusedMessage.objects.order_by("-id").first()
    assert (logged.reason, logged.from_region) == (OUTSIDE, sender)
    return caught.value.detail


def accepted(key, message_type: str, payload: dict, *, sender="44") -> InboxMessage:
    message, new = messaging.receive(envelope(key, message_type, payload, sender=sender))
    assert new
    message.refresh_from_db()
    assert message.state == InboxMessage.State.APPLIED, message.problem
    return message


def her_file(
    *, household=TOWNSHIP_A, lives_in: str | None = TIANHE, id_number=HER, certificate=False
) -> Person:
    """Her file here, registered in ``household``, living in ``lives_in`` (a stay opened
    40 days ago), with a certificate issued here when ``certificate``."""
    person = Person(
        id_number=id_number,
        name="王芳",
        sex="2",
        birth_date=BIRTH,
        marital_status="20",
        household_region_id=household,
    )
    if lives_in is None:
        people.refresh_derived(person)
        person.save()
    else:
        people.register_arrival(
            acting_user=OPERATOR,
            person=person,
            region=Region.objects.get(code=lives_in),
            arrival_date=TODAY - datetime.timedelta(days=40),
        )
    if certificate:
        issuing.issue(person, acting_user=OPERATOR)
    OutboxMessage.objects.all().delete()  # what this node told others is not the question
    return person


def arrival(region: str) -> dict:
    return {
        "id_number": HER,
        "name": "王芳",
        "sex": "2",
        "birth_date": BIRTH.isoformat(),
        "residence_region": region,
        "arrival_date": TODAY.isoformat(),
    }


def departure(region: str) -> dict:
    return {"id_number": HER, "residence_region": region, "departure_date": TODAY.isoformat()}


def verification(region: str, number: str) -> dict:
    return {
        "id_number": HER,
        "number": number,
        "residence_region": region,
        "verified_on": TODAY.isoformat(),
    }


def birth() -> dict:
    return {"parent_id_number": HER, "birth_date": TODAY.isoformat(), "sex": "1"}


def service() -> dict:
    return {"id_number": HER, "service_type": "postnatal", "date": TODAY.isoformat()}


def issued(number: str) -> dict:
    return {
        "id_number": HER,
        "number": number,
        "issued_on": "2026-01-05",
        "valid_until": "2040-03-07",
    }


def revoked(number: str) -> dict:
    return {"id_number": HER, "number": number, "revoked_on": TODAY.isoformat()}


def request(request_id="7d5a7e4e-5b6c-4d2f-9a51-0c8f4f1d2b3a") -> dict:
    return {
        "request_id": request_id,
        "id_number": HER,
        "question": "marital_status",
        "urgency": "normal",
    }


def answer(request_id) -> dict:
    return {
        "request_id": str(request_id),
        "finding": "confirmed",
        "answer": "已婚，与户籍登记一致",
        "answered_on": TODAY.isoformat(),
    }


def asked(of: str) -> AssistanceRequest:
    """This node's request about her, asked of her household registration ``of``."""
    from liudong.accounts.models import User

    officer = User.objects.get(username="township_a")
    return assistance.ask(
        acting_user=officer, person=her_file(household=of, lives_in=TOWNSHIP_A),
        question="marital_status", urgency="normal",
    )  # fmt: skip


# --- the three cases found ------------------------------------------------------------------


def test_an_arrival_at_one_of_our_townships_moves_no_file(guangdong):
    person = her_file(lives_in=TIANHE)
    detail = refused(guangdong, "arrival", arrival(TOWNSHIP_B))
    assert TOWNSHIP_B in detail and "(44)" in detail
    person.refresh_from_db()
    assert person.residence_region_id == TIANHE


def test_a_departure_does_not_close_a_stay_at_one_of_our_townships(guangdong):
    her_file(lives_in=TOWNSHIP_A)
    refused(guangdong, "departure", departure(TOWNSHIP_A))
    assert people.open_episode(Person.objects.get()).region_id == TOWNSHIP_A


def test_a_certificate_this_node_issued_is_never_revoked_from_outside(guangdong):
    person = her_file(lives_in=TIANHE, certificate=True)
    certificate = Certificate.objects.get(person=person)
    detail = refused(guangdong, "certificate_revoked", revoked(certificate.number))
    assert "issued by this node" in detail
    assert verifying.verify_payload(certificate.payload).ok  # it still verifies
    # Nor marked issued again elsewhere (a held copy that a later revocation would follow).
    again = issued(certificate.number)
    assert "issued by this node" in refused(guangdong, "certificate_issued", again)


# --- every type, inside and outside --------------------------------------------------------


def _numbered(region: str) -> str:
    return f"{region}-2026-000001"


def _our_certificate() -> str:
    return Certificate.objects.get().number


def _received_request() -> AssistanceRequest:
    """A request 广东 itself asked this node about her (registered there, living here)."""
    return AssistanceRequest.objects.create(
        direction=AssistanceRequest.Direction.INCOMING,
        person=her_file(household=TIANHE, lives_in=TOWNSHIP_A),
        id_number=HER,
        question="children",
        urgency="normal",
        asked_on=TODAY,
        deadline=TODAY + datetime.timedelta(days=30),
        region_id=TOWNSHIP_A,
        other_region="44",
    )


# type -> (set up the files, the payload) for a message 广东 may send ...
INSIDE = {
    "arrival": (lambda: her_file(lives_in=TOWNSHIP_A), lambda: arrival(TIANHE)),
    "departure": (lambda: her_file(lives_in=TIANHE), lambda: departure(TIANHE)),
    "verification": (
        lambda: her_file(lives_in=TIANHE, certificate=True),
        lambda: verification(TIANHE, _our_certificate()),
    ),
    "birth": (lambda: her_file(lives_in=TIANHE), birth),
    "service": (lambda: her_file(lives_in=TIANHE), service),
    "certificate_issued": (
        lambda: her_file(household=TIANHE, lives_in=TOWNSHIP_A),
        lambda: issued(_numbered(TIANHE)),
    ),
    "certificate_revoked": (
        lambda: HeldCertificate.objects.create(
            person=her_file(household=TIANHE, lives_in=TOWNSHIP_A),
            number=_numbered(TIANHE),
            issuer="44",
        ),
        lambda: revoked(_numbered(TIANHE)),
    ),
    "assistance_request": (lambda: her_file(household=TIANHE, lives_in=TOWNSHIP_A), request),
    "assistance_answer": (
        lambda: asked(TIANHE),
        lambda: answer(AssistanceRequest.objects.get().request_id),
    ),
}

# ... and what it may not, each named by what is wrong with it.
OUTSIDE_CASES = {
    "arrival": {
        "at a township of this node": (
            lambda: her_file(lives_in=TIANHE),
            lambda: arrival(TOWNSHIP_B),
        ),
        "in another peer's regions": (
            lambda: her_file(lives_in=TIANHE),
            lambda: arrival(ZHENGZHOU),
        ),
        "of a file registered elsewhere": (
            lambda: her_file(household=ZHENGZHOU, lives_in=TOWNSHIP_A),
            lambda: arrival(TIANHE),
        ),
        "of someone unknown, at a township here": (lambda: None, lambda: arrival(TOWNSHIP_A)),
    },
    "departure": {
        "from a township of this node": (
            lambda: her_file(lives_in=TOWNSHIP_A),
            lambda: departure(TOWNSHIP_A),
        ),
        "from another peer's region": (
            lambda: her_file(lives_in=ZHENGZHOU),
            lambda: departure(ZHENGZHOU),
        ),
        "of a file registered elsewhere": (
            lambda: her_file(household=ZHENGZHOU, lives_in=TIANHE),
            lambda: departure(TIANHE),
        ),
    },
    "verification": {
        "at a township of this node": (
            lambda: her_file(lives_in=TIANHE, certificate=True),
            lambda: verification(TOWNSHIP_B, _our_certificate()),
        ),
        "of her stay at a township here": (
            lambda: her_file(lives_in=TOWNSHIP_B, certificate=True),
            lambda: verification(TIANHE, _our_certificate()),
        ),
        "of her stay in another peer's region": (
            lambda: her_file(lives_in=ZHENGZHOU, certificate=True),
            lambda: verification(TIANHE, _our_certificate()),
        ),
    },
    "birth": {
        "to a parent living at a township here": (lambda: her_file(lives_in=TOWNSHIP_A), birth),
        "to a parent living in another peer's region": (
            lambda: her_file(lives_in=ZHENGZHOU),
            birth,
        ),
        "to a parent whose residence is not known here": (lambda: her_file(lives_in=None), birth),
        "to a parent registered elsewhere": (
            lambda: her_file(household=ZHENGZHOU, lives_in=TIANHE),
            birth,
        ),
    },
    "service": {
        "to someone living at a township here": (lambda: her_file(lives_in=TOWNSHIP_A), service),
        "to someone living in another peer's region": (
            lambda: her_file(lives_in=ZHENGZHOU),
            service,
        ),
        "to someone registered elsewhere": (
            lambda: her_file(household=ZHENGZHOU, lives_in=TIANHE),
            service,
        ),
    },
    "certificate_issued": {
        "numbered by a township of this node": (
            lambda: her_file(household=TIANHE, lives_in=TOWNSHIP_A),
            lambda: issued(_numbered("330106002")),
        ),
        "numbered by another peer's township": (
            lambda: her_file(household=TIANHE, lives_in=TOWNSHIP_A),
            lambda: issued(_numbered("410105001")),
        ),
        "numbered by no township": (
            lambda: her_file(household=TIANHE, lives_in=TOWNSHIP_A),
            lambda: issued("GD-2026-000001"),
        ),
        "to someone registered here": (
            lambda: her_file(household=TOWNSHIP_A, lives_in=TOWNSHIP_B),
            lambda: issued(_numbered(TIANHE)),
        ),
        "to someone not living here": (
            lambda: her_file(household=TIANHE, lives_in=ZHENGZHOU),
            lambda: issued(_numbered(TIANHE)),
        ),
    },
    "certificate_revoked": {
        "issued by this node": (
            lambda: her_file(lives_in=TIANHE, certificate=True),
            lambda: revoked(_our_certificate()),
        ),
        "numbered by another peer's township": (
            lambda: HeldCertificate.objects.create(
                person=her_file(household=ZHENGZHOU, lives_in=TOWNSHIP_A),
                number=_numbered(ZHENGZHOU),
                issuer="41",
            ),
            lambda: revoked(_numbered(ZHENGZHOU)),
        ),
        "of someone neither living here nor holding it": (
            lambda: her_file(household=TIANHE, lives_in=TIANHE_2),
            lambda: revoked(_numbered(TIANHE)),
        ),
    },
    "assistance_request": {
        "about someone registered and living here": (
            lambda: her_file(household=TOWNSHIP_A, lives_in=TOWNSHIP_B),
            request,
        ),
        "about someone living in another peer's region": (
            lambda: her_file(household=TIANHE, lives_in=ZHENGZHOU),
            request,
        ),
        "about someone of another peer": (
            lambda: her_file(household=ZHENGZHOU, lives_in=TOWNSHIP_A),
            request,
        ),
    },
    "assistance_answer": {
        "to a request asked of another peer": (
            lambda: asked(ZHENGZHOU),
            lambda: answer(AssistanceRequest.objects.get().request_id),
        ),
        "to a request this node was asked": (
            _received_request,
            lambda: answer(AssistanceRequest.objects.get().request_id),
        ),
        "to a request never asked": (
            lambda: None,
            lambda: answer("0b9e2b55-9a1c-4a0e-8f59-3c0d8a1e2f47"),
        ),
    },
}


# What each accepted message did (its effect, as the tests of effects assert it in detail).
EFFECTS = {
    "arrival": lambda: Person.objects.get().residence_region_id == TIANHE,
    "departure": lambda: Person.objects.get().residence_region_id is None,
    "verification": lambda: Verification.objects.filter(region_id=TIANHE).exists(),
    "birth": lambda: Child.objects.filter(birth_date=TODAY).exists(),
    "service": lambda: ReportedService.objects.filter(reported_by="44").exists(),
    "certificate_issued": lambda: HeldCertificate.objects.filter(issuer="44").exists(),
    "certificate_revoked": lambda: HeldCertificate.objects.get().revoked_on == TODAY,
    "assistance_request": lambda: (
        AssistanceRequest.objects.incoming().filter(region_id=TOWNSHIP_A).exists()
    ),
    "assistance_answer": lambda: AssistanceRequest.objects.get().answered_on == TODAY,
}


def test_every_type_is_declared_and_tested():
    assert set(INSIDE) == set(OUTSIDE_CASES) == set(EFFECTS) == set(catalogue.TYPES)
    for declared in catalogue.TYPES.values():
        assert callable(declared.handler)
        assert declared.acted_at in boundary.PLACES and declared.file_side in boundary.SIDES


def test_a_type_cannot_be_declared_without_where_its_sender_acts():
    with pytest.raises(TypeError):
        catalogue.MessageType(payload={"id_number": str})  # type: ignore[call-arg]


@pytest.mark.parametrize("message_type", sorted(INSIDE))
def test_a_message_about_the_senders_regions_is_applied(guangdong, township_a, message_type):
    prepare, payload = INSIDE[message_type]
    prepare()
    accepted(guangdong, message_type, payload())
    assert EFFECTS[message_type]()
    assert not RefusedMessage.objects.exists()


@pytest.mark.parametrize(
    ("message_type", "case"),
    [(name, case) for name, cases in sorted(OUTSIDE_CASES.items()) for case in cases],
)
def test_a_message_outside_the_senders_regions_changes_nothing(
    guangdong, township_a, message_type, case
):
    prepare, payload = OUTSIDE_CASES[message_type][case]
    prepare()
    refused(guangdong, message_type, payload())


# --- around the rule ------------------------------------------------------------------------


def test_a_peer_trusted_more_narrowly_speaks_for_its_regions_alone(guangdong):
    """广州's node (4401) is trusted beside 广东's: a 广州 township is 广州's to report."""
    messaging.trust_peer(
        acting_user=OPERATOR,
        region_code="4401",
        url="https://gz.example/",
        key=public_text(Ed25519PrivateKey.generate()),
    )
    her_file(lives_in=TOWNSHIP_A)
    assert "(44)" in refused(guangdong, "arrival", arrival(TIANHE))


def test_a_peer_trusted_for_a_prefix_covering_this_node_still_speaks_only_for_its_own(node):
    """A node trusted for all of 浙江 (33) is still not believed about 西湖区's townships:
    what happens here is recorded here."""
    zhejiang = Ed25519PrivateKey.generate()
    messaging.trust_peer(
        acting_user=OPERATOR, region_code="33", url="https://zj.example/", key=public_text(zhejiang)
    )
    her_file(lives_in="330102001")  # 清波街道, 上城区: 浙江's, not this node's
    assert TOWNSHIP_B in refused(zhejiang, "arrival", arrival(TOWNSHIP_B), sender="33")
    accepted(zhejiang, "arrival", arrival("330102003"), sender="33")


def test_a_revocation_follows_a_certificate_her_file_holds_after_she_moved_on(guangdong):
    person = her_file(household=TIANHE, lives_in=TIANHE_2)  # she lived here, then left
    HeldCertificate.objects.create(person=person, number=_numbered(TIANHE), issuer="44")
    accepted(guangdong, "certificate_revoked", revoked(_numbered(TIANHE)))
    assert HeldCertificate.objects.get().revoked_on == TODAY


def test_a_message_about_no_file_here_waits_and_is_checked_again_when_applied(
    guangdong, county_admin
):
    message, _new = messaging.receive(envelope(guangdong, "service", service()))
    message.refresh_from_db()
    assert message.state == InboxMessage.State.PROBLEM and "No file" in message.problem
    her_file(household=ZHENGZHOU, lives_in=TIANHE)  # a file made since: registered in 河南
    with pytest.raises(ValidationError) as caught:
        messaging.apply_again(acting_user=county_admin, message=message)
    assert caught.value.code == OUTSIDE
    assert not ReportedService.objects.exists()


def test_a_message_accepted_stays_one_message_when_delivered_again(guangdong):
    """Idempotence comes first: a copy of an accepted message is that message, even once
    her file moved and the same assertion would now be refused."""
    her_file(lives_in=TOWNSHIP_A)
    sent = envelope(guangdong, "arrival", arrival(TIANHE))
    messaging.receive(sent)
    people.register_arrival(
        acting_user=OPERATOR,
        person=Person.objects.get(),
        region=Region.objects.get(code=TOWNSHIP_B),
        arrival_date=TODAY,
    )
    _message, new = messaging.receive(messages.stamp(sent, sign=guangdong.sign, now=timezone.now()))
    assert not new and not RefusedMessage.objects.exists()


def test_the_peer_is_answered_with_the_refusal_and_the_inbox_lists_it(guangdong, client):
    her_file(lives_in=TIANHE)
    answered = client.post(
        "/exchange/inbox/",
        json.dumps(envelope(guangdong, "arrival", arrival(TOWNSHIP_B))),
        "application/json",
    )
    assert answered.status_code == 400
    assert answered.json()["errors"][0]["code"] == OUTSIDE
    listed = io_of("exchange_inbox")["messages"]
    assert [m["state"] for m in listed] == [f"refused: {OUTSIDE}"]
    assert Person.objects.get().residence_region_id == TIANHE


def io_of(command: str) -> dict:
    import io

    out = io.StringIO()
    call_command(command, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


@given(st.text(max_size=40))
def test_any_certificate_number_gives_its_township_or_a_refusal(number):
    seen = boundary.Seen(
        type="certificate_issued", payload={"number": number}, sender="44", node="330106"
    )
    try:
        township = boundary.PLACES[payloads.ActedAt.ISSUING_TOWNSHIP](seen)
    except Refused as exc:
        assert exc.reason == OUTSIDE
    else:
        assert township and number.startswith(township + "-") and payloads.REGION.match(township)
