"""Exchange messages signed with SM2 (LIUDONG_CRYPTO=sm): accepted from a peer trusted with
its SM2 key, refused when tampered or when the algorithm is misnamed; a peer's changeover
from Ed25519 to SM2 (both keys accepted until the old one is retired); and this node
signing with SM2 after rotating, its queued messages included."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from liudong import crypto
from liudong.actors import OPERATOR
from liudong.certificates import keys
from liudong.exchange.messaging import messages
from liudong.exchange.messaging import services as messaging
from liudong.exchange.messaging.messages import Refused
from liudong.exchange.models import InboxMessage, Peer, RefusedMessage
from liudong.exchange.tests.conftest import public_text
from liudong.exchange.tests.test_nodes_and_messages import ARRIVAL, NOW

pytestmark = pytest.mark.django_db


def _signed(key: crypto.PrivateKey, *, algorithm: str | None = None, now=NOW) -> dict:
    return messages.build(
        "arrival",
        sender="41",
        to="330106",
        payload=dict(ARRIVAL),
        sign=key.sign,
        now=now,
        algorithm=algorithm or key.algorithm,
    )


def _refused(envelope) -> str:
    with pytest.raises(Refused) as caught:
        messaging.receive(envelope, now=NOW)
    assert RefusedMessage.objects.order_by("-id").first().reason == caught.value.reason
    return caught.value.reason


@pytest.fixture
def henan_sm2(node):
    """河南's node after its changeover: trusted with its SM2 key."""
    key = crypto.generate(crypto.SM2)
    messaging.trust_peer(
        acting_user=OPERATOR, region_code="41", url="https://henan.example/", key=key.public.text()
    )
    return key


def test_an_sm2_message_from_a_peer_trusted_with_that_key_is_accepted(henan_sm2):
    envelope = _signed(henan_sm2)
    assert envelope["alg"] == "sm2"
    message, new = messaging.receive(json.loads(json.dumps(envelope)), now=NOW)
    assert new and message.type == "arrival" and InboxMessage.objects.count() == 1


def test_a_tampered_sm2_message_is_refused(henan_sm2):
    good = _signed(henan_sm2)
    tampered = {**good, "payload": {**good["payload"], "arrival_date": "2026-11-01"}}
    assert _refused(tampered) == "bad_signature"
    assert InboxMessage.objects.count() == 0


def test_a_misnamed_algorithm_is_refused(henan_sm2):
    """The algorithm is signed: an SM2 signature offered as Ed25519 (its ``alg`` dropped),
    or an unknown algorithm, is refused."""
    good = _signed(henan_sm2)
    unnamed = {k: v for k, v in good.items() if k != "alg"}
    assert _refused(unnamed) == "bad_signature"
    assert _refused({**good, "alg": "rsa"}) == "malformed"
    assert InboxMessage.objects.count() == 0


def test_a_peer_changing_over_is_accepted_with_both_keys_until_the_old_is_retired(node, henan):
    """``henan`` (Ed25519) is trusted; it switches to SM2. A message it stamped with the old
    key just before is still accepted, and so are the new ones, until the old key is
    retired at `node trust --retire-previous`."""
    new_key = crypto.generate(crypto.SM2)
    before_switch = messages.build(
        "arrival", sender="41", to="330106", payload=dict(ARRIVAL), sign=henan.sign, now=NOW
    )
    out = io.StringIO()
    call_command(
        "node_trust",
        "--region=41",
        "--url=https://henan.example/",
        f"--key={new_key.public.text()}",
        stdout=out,
    )
    peer = Peer.objects.get(region_prefix="41")
    assert (peer.algorithm, peer.previous_algorithm) == ("sm2", "ed25519")
    assert "still accepting" in out.getvalue()
    listed = io.StringIO()
    call_command("node_list", "--format", "json", stdout=listed)
    [shown] = json.loads(listed.getvalue())["peers"]
    assert (shown["algorithm"], shown["previous_key_id"]) == ("sm2", peer.previous_key_id)
    messaging.receive(before_switch, now=NOW)
    after_switch = {**_signed(new_key), "payload": {**ARRIVAL, "arrival_date": "2026-11-21"}}
    after_switch = messages.stamp(after_switch, sign=new_key.sign, now=NOW, algorithm="sm2")
    messaging.receive(after_switch, now=NOW)
    assert InboxMessage.objects.count() == 2

    call_command(
        "node_trust",
        "--region=41",
        "--url=https://henan.example/",
        f"--key={new_key.public.text()}",
        "--retire-previous",
        stdout=io.StringIO(),
    )
    late = messages.build(
        "departure",
        sender="41",
        to="330106",
        payload={"id_number": ARRIVAL["id_number"], "residence_region": "410105001",
                 "departure_date": "2026-11-21"},
        sign=henan.sign,
        now=NOW,
    )  # fmt: skip
    assert _refused(late) == "bad_signature"


def test_a_new_ed25519_key_for_a_peer_keeps_the_old_one_for_the_changeover(node, henan):
    """Any key change is a changeover, Ed25519 to Ed25519 too."""
    other = crypto.generate(crypto.ED25519)
    messaging.trust_peer(
        acting_user=OPERATOR,
        region_code="41",
        url="https://henan.example/",
        key=other.public.text(),
    )
    messaging.receive(
        messages.build(
            "arrival", sender="41", to="330106", payload=dict(ARRIVAL), sign=henan.sign, now=NOW
        ),
        now=NOW,
    )
    assert InboxMessage.objects.count() == 1


PEER_URL = "https://xihu.example/"


def through_view():
    client = Client()

    def post(url, envelope):
        response = client.post("/exchange/inbox/", json.dumps(envelope), "application/json")
        return response.status_code, response.json()

    return post


def test_this_node_signs_with_sm2_after_rotating_its_queued_messages_too(
    node_keys, villages, monkeypatch
):
    """A message queued under the Ed25519 key and delivered after the node rotated to
    SM2 is stamped with the SM2 key (and names it); the node trusting the new key (here:
    itself) takes it, once."""
    from liudong.exchange.tests.test_delivery import (
        queue,  # sent as 河南's node: a peer speaks for its regions
    )

    messaging.init_node(region_code="330106", url=PEER_URL)
    old_key = keys.current_key()
    for prefix in ("330106", "41"):
        messaging.trust_peer(
            acting_user=OPERATOR,
            region_code=prefix,
            url=PEER_URL,
            key=messaging.public_key_text(old_key.public),
        )
    queued = queue("arrival", to_region="330106002", payload=ARRIVAL)
    assert "alg" not in queued.envelope

    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    out = io.StringIO()
    call_command("certificate_rotate_key", "--format", "json", stdout=out)
    new_public = json.loads(out.getvalue())["public_key"]
    for prefix in ("330106", "41"):
        messaging.trust_peer(
            acting_user=OPERATOR,
            region_code=prefix,
            url=PEER_URL,
            key=new_public,
            retire_previous=True,
        )
    sent: list[dict] = []
    view = through_view()

    def post(url, envelope):
        sent.append(envelope)
        return view(url, envelope)

    assert messaging.flush(post=post) == {"delivered": 1, "failed": 0}
    assert sent[0]["alg"] == "sm2"
    assert InboxMessage.objects.get().id == queued.id

    # node init prints the SM2 key now (the text peers give `node trust`).
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "node_init", "--region=330106", f"--url={PEER_URL}", "--format=json", stdout=out, stderr=err
    )
    answer = json.loads(out.getvalue())
    assert (answer["key"], answer["algorithm"]) == (new_public, "sm2") and not err.getvalue()


def test_node_init_under_sm_makes_an_sm2_key_or_says_to_rotate(node_keys, villages, monkeypatch):
    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    out, err = io.StringIO(), io.StringIO()
    args = ["node_init", "--region=330106", f"--url={PEER_URL}", "--format=json"]
    call_command(*args, stdout=out, stderr=err)
    assert json.loads(out.getvalue())["key"].startswith("sm2:") and not err.getvalue()
    # A node whose key is Ed25519 keeps it at init, and is told to rotate.
    monkeypatch.setenv("LIUDONG_CRYPTO", "")
    call_command("certificate_rotate_key", stdout=io.StringIO())
    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    assert json.loads(out.getvalue())["algorithm"] == "ed25519"
    assert "rotate-key" in err.getvalue()


def test_an_ed25519_message_is_byte_for_byte_what_it_was(node, henan):
    """Nodes that predate SM2 still read what an Ed25519 node sends: no ``alg`` field."""
    envelope = messages.build(
        "arrival", sender="41", to="330106", payload=dict(ARRIVAL), sign=henan.sign, now=NOW
    )
    assert set(envelope) == set(messages.ENVELOPE_FIELDS)
    assert public_text(henan) == crypto.public_key_from_text(public_text(henan)).text()


def test_a_message_restamped_by_another_algorithm_is_the_same_message(node, henan):
    """Sent under the old Ed25519 key, unanswered, delivered again after the peer's
    changeover under its SM2 key: the same message (one effect), not a replay."""
    new_key = crypto.generate(crypto.SM2)
    first = messages.build(
        "arrival", sender="41", to="330106", payload=dict(ARRIVAL), sign=henan.sign, now=NOW
    )
    messaging.trust_peer(
        acting_user=OPERATOR,
        region_code="41",
        url="https://henan.example/",
        key=new_key.public.text(),
    )
    later = messages.stamp(
        first, sign=new_key.sign, now=NOW + datetime.timedelta(minutes=5), algorithm="sm2"
    )
    assert later["alg"] == "sm2" and messages.content_digest(first) == messages.content_digest(
        later
    )
    messaging.receive(first, now=NOW)
    _message, new = messaging.receive(later, now=NOW)
    assert not new and InboxMessage.objects.count() == 1
