"""Nodes, peers and signed messages (DESIGN.md §6, issue 7 parts 1-2): routing by the
longest prefix, every refusal with its logged reason, idempotent receiving, and the
outbox written in the transaction of the change it reports."""

from __future__ import annotations

import base64
import datetime
import io
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from liudong.actors import OPERATOR
from liudong.exchange.messaging import messages
from liudong.exchange.messaging import services as messaging
from liudong.exchange.messaging.messages import Refused
from liudong.exchange.models import InboxMessage, OutboxMessage, RefusedMessage
from liudong.exchange.tests.conftest import public_text
from liudong.people.idnumbers import make

NOW = datetime.datetime(2026, 11, 22, 9, 0, tzinfo=datetime.UTC)
HER = make("411326", datetime.date(1995, 3, 8), 21, "2")
ARRIVAL = {
    "id_number": HER,
    "name": "王芳",
    "sex": "2",
    "birth_date": "1995-03-08",
    "residence_region": "410105001",  # she arrived in 河南, the sender's region
    "arrival_date": "2026-11-20",
}


def _from_henan(henan, payload=None, *, to="330106", message_type="arrival", now=NOW):
    return messages.build(
        message_type,
        sender="41",
        to=to,
        payload=dict(ARRIVAL) if payload is None else payload,
        sign=henan.sign,
        now=now,
    )


def _refusal(envelope) -> str:
    with pytest.raises(Refused) as caught:
        messaging.receive(envelope, now=NOW)
    logged = RefusedMessage.objects.order_by("-id").first()
    assert logged is not None and logged.reason == caught.value.reason
    return caught.value.reason


def test_a_peer_is_chosen_by_the_longest_prefix(node, henan):
    other = Ed25519PrivateKey.generate()
    messaging.trust_peer(
        acting_user=OPERATOR,
        region_code="4113",
        url="https://nanyang.example/",
        key=public_text(other),
    )
    assert messaging.peer_for("411326").region_prefix == "4113"
    assert messaging.peer_for("410105").region_prefix == "41"
    assert messaging.peer_for("440100") is None


def test_a_peer_key_that_is_not_a_key_is_refused(node):
    with pytest.raises(ValidationError):
        messaging.trust_peer(
            acting_user=OPERATOR, region_code="44", url="https://gd.example/", key="not-a-key"
        )


def test_a_signed_message_is_accepted_once(node, henan):
    envelope = _from_henan(henan)
    message, new = messaging.receive(envelope, now=NOW)
    assert new and message.type == "arrival" and message.from_region == "41"
    again, new_again = messaging.receive(json.loads(json.dumps(envelope)), now=NOW)
    assert again.pk == message.pk and not new_again
    assert InboxMessage.objects.count() == 1


def test_each_refusal_is_logged_with_its_reason(node, henan):
    good = _from_henan(henan)
    tampered = {**good, "payload": {**good["payload"], "arrival_date": "2026-11-01"}}
    assert _refusal(tampered) == "bad_signature"
    stranger = Ed25519PrivateKey.generate()
    unknown = messages.build(
        "arrival", sender="44", to="330106", payload=ARRIVAL, sign=stranger.sign, now=NOW
    )
    assert _refusal(unknown) == "unknown_sender"
    old = _from_henan(henan, now=NOW - datetime.timedelta(hours=25))
    assert _refusal(old) == "stale"
    assert _refusal(_from_henan(henan, to="330105")) == "not_ours"
    missing_field = {k: v for k, v in good.items() if k != "deadline"}
    assert _refusal(missing_field) == "malformed"
    messaging.receive(good, now=NOW)
    # Another message signed under an id already received: not the same message.
    replay = {**good, "payload": {**good["payload"], "arrival_date": "2026-11-21"}}
    replay["signature"] = base64.b64encode(henan.sign(messages.canonical(replay))).decode()
    assert _refusal(replay) == "replayed"
    assert InboxMessage.objects.count() == 1


def test_a_payload_carries_exactly_what_its_type_needs(henan):
    with pytest.raises(Refused, match="missing arrival_date"):
        messages.check_payload("arrival", {k: v for k, v in ARRIVAL.items() if k != "arrival_date"})
    with pytest.raises(Refused, match="not carried by this type: services"):
        messages.check_payload("arrival", {**ARRIVAL, "services": ["reproductive_health"]})
    with pytest.raises(Refused, match="id_number"):
        messages.check_payload("arrival", {**ARRIVAL, "id_number": "12345"})
    with pytest.raises(Refused) as caught:
        messages.check_payload("gossip", {})
    assert caught.value.reason == "unknown_type"


def test_a_payload_out_of_schema_is_refused_on_arrival_too(node, henan):
    bad = dict(ARRIVAL)
    del bad["name"]
    envelope = {
        "id": "7d3f1b6e-0c1a-4e55-9b5e-2f7f1c9a0001",
        "type": "arrival",
        "from": "41",
        "to": "330106",
        "sent_at": NOW.isoformat(),
        "deadline": None,
        "payload": bad,
    }
    envelope["signature"] = base64.b64encode(
        henan.sign(messages.canonical({**envelope, "signature": ""}))
    ).decode()
    assert _refusal(envelope) == "bad_payload"


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=8)
        ),
        max_leaves=20,
    )
)
def test_any_json_is_refused_by_reason_or_accepted_never_crashes(value):
    try:
        messages.check_envelope(value, sender_key=lambda region: None, now=NOW)
    except Refused as exc:
        assert exc.reason in {"malformed", "unknown_sender"}


def test_the_outbox_is_written_in_the_changes_transaction(node):
    with transaction.atomic():
        queued = messaging.queue("arrival", to_region="411326", payload=ARRIVAL)
        assert OutboxMessage.objects.filter(pk=queued.pk).exists()
        transaction.set_rollback(True)  # the change failed: its notice goes with it
    assert not OutboxMessage.objects.exists()
    kept = messaging.queue("arrival", to_region="411326", payload=ARRIVAL)
    assert kept.envelope["from"] == "330106" and kept.envelope["signature"]


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_node_commands(node_keys, villages, henan):
    printed = json.loads(
        _run(
            "node_init", "--region", "330106", "--url", "https://xihu.example/", "--format", "json"
        )
    )
    assert printed["region"] == "330106" and len(base64.b64decode(printed["key"])) == 32
    _run(
        "node_trust",
        "--region",
        "41",
        "--url",
        "https://henan.example/",
        "--key",
        public_text(henan),
    )
    listed = json.loads(_run("node_list", "--format", "json"))
    assert listed["node"]["region"] == "330106"
    assert [p["region"] for p in listed["peers"]] == ["41"]
    messaging.receive(_from_henan(henan, now=timezone.now()))
    messaging.queue(
        "departure",
        to_region="41",
        payload={"id_number": HER, "residence_region": "330106002", "departure_date": "2026-11-21"},
    )
    inbox = json.loads(_run("exchange_inbox", "--format", "json"))["messages"]
    outbox = json.loads(_run("exchange_outbox", "--format", "json"))["messages"]
    assert [m["state"] for m in inbox] == ["applied"]
    assert [(m["type"], m["state"]) for m in outbox] == [("departure", "waiting")]


def test_trusting_a_peer_is_audited_and_its_key_verifies_its_certificates(node, henan):
    from liudong.audit.models import AuditEntry
    from liudong.certificates import keys

    entry = AuditEntry.objects.filter(detail__action="trust_peer").get()
    assert entry.after["region_prefix"] == "41"
    assert keys.public_key(keys.key_id_of(henan.public_key())) is not None
