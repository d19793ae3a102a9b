"""Delivery from the outbox to a peer's /exchange/inbox/: delivered once, a peer that is
down makes messages wait with growing pauses (nothing lost), a second delivery of the same
message is one message at the peer, and the endpoint's refusals in the one error shape.

The peer here is this same node answering through Django's test client (its real view and
receive rules); the HTTP transport itself is exercised against a closed port below."""

from __future__ import annotations

import datetime
import json
import socket

import pytest
from django.test import Client
from django.utils import timezone

from liudong.actors import OPERATOR
from liudong.certificates import keys
from liudong.exchange.messaging import services as messaging
from liudong.exchange.models import InboxMessage, NodeIdentity, OutboxMessage, RefusedMessage
from liudong.exchange.tests.test_nodes_and_messages import ARRIVAL

PEER_URL = "https://xihu.example/"


@pytest.fixture
def self_peer(node_keys, villages):
    """This node (西湖区) trusts its own key for 330106 and for 河南 (41), so a message it
    queues as 河南's node (:func:`queue`) is delivered to its own inbox through the view."""
    messaging.init_node(region_code="330106", url=PEER_URL)
    key = messaging.public_key_text(keys.current_key().public)
    for prefix in ("330106", "41"):
        messaging.trust_peer(acting_user=OPERATOR, region_code=prefix, url=PEER_URL, key=key)


def queue(message_type: str, *, to_region: str, payload: dict) -> OutboxMessage:
    """Queue a message as 河南's node (410105) sends it: a peer asserts only what happens in
    its own regions, so what this node says of its own townships it never accepts."""
    NodeIdentity.objects.update(region_id="410105")
    try:
        return messaging.queue(message_type, to_region=to_region, payload=payload)
    finally:
        NodeIdentity.objects.update(region_id="330106")


def leaving(to_region: str = "330106002") -> OutboxMessage:
    """Her departure from 河南, after :data:`ARRIVAL`."""
    return queue("departure", to_region=to_region, payload={
        "id_number": ARRIVAL["id_number"], "residence_region": ARRIVAL["residence_region"],
        "departure_date": "2026-11-21"})  # fmt: skip


def through_view(up: dict):
    """A transport answering through the inbox view while ``up["yes"]``, else refusing the
    connection the way a stopped peer does."""
    client = Client()

    def post(url, envelope):
        if not up["yes"]:
            raise ConnectionRefusedError(111, "Connection refused")
        assert url == PEER_URL + "exchange/inbox/"
        response = client.post("/exchange/inbox/", json.dumps(envelope), "application/json")
        return response.status_code, response.json()

    return post


def test_a_queued_message_is_delivered_once(self_peer):
    queued = queue("arrival", to_region="330106002", payload=ARRIVAL)
    post = through_view({"yes": True})
    assert messaging.flush(post=post) == {"delivered": 1, "failed": 0}
    assert InboxMessage.objects.get().id == queued.id
    assert messaging.flush(post=post) == {"delivered": 0, "failed": 0}  # nothing due


def test_a_peer_that_is_down_makes_messages_wait_and_nothing_is_lost_or_doubled(self_peer):
    up = {"yes": False}
    post = through_view(up)
    start = timezone.now()
    queue("arrival", to_region="330106002", payload=ARRIVAL)
    leaving(to_region="330106004")
    waits = []
    for minutes in (0, 1, 3, 7, 15, 31, 63):  # an hour down: tried as each wait runs out
        now = start + datetime.timedelta(minutes=minutes)
        assert messaging.flush(now=now, post=post)["delivered"] == 0
        waits.append(OutboxMessage.objects.order_by("created").first().next_attempt_at - now)
    assert waits[:4] == [datetime.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) <= datetime.timedelta(hours=1)
    first = OutboxMessage.objects.order_by("created").first()
    assert first.attempts == 7 and "refused" in first.last_error.lower()
    up["yes"] = True
    later = start + datetime.timedelta(hours=3)
    assert messaging.flush(now=later, post=post) == {"delivered": 2, "failed": 0}
    assert InboxMessage.objects.count() == 2
    # Delivered again (an acknowledgement lost on the way): still one message each.
    OutboxMessage.objects.update(delivered_at=None, next_attempt_at=None)
    assert messaging.flush(now=later, post=post) == {"delivered": 2, "failed": 0}
    assert InboxMessage.objects.count() == 2


def test_a_refusal_is_kept_with_its_reason(self_peer):
    queue("arrival", to_region="330106002", payload=ARRIVAL)
    OutboxMessage.objects.update(
        envelope={**OutboxMessage.objects.get().envelope, "to": "330105"}  # not the peer's
    )
    assert messaging.flush(post=through_view({"yes": True}))["failed"] == 1
    assert OutboxMessage.objects.get().last_error.startswith("400 ")
    assert RefusedMessage.objects.get().reason in ("bad_signature", "not_ours")


def test_the_inbox_endpoint_answers_in_the_one_error_shape(self_peer, client):
    garbage = client.post("/exchange/inbox/", "{not json", "application/json")
    assert garbage.status_code == 400 and garbage.json()["errors"][0]["code"] == "malformed"
    queued = queue("arrival", to_region="330106002", payload=ARRIVAL)
    forged = {**queued.envelope, "payload": {**ARRIVAL, "name": "李四"}}
    refused = client.post("/exchange/inbox/", json.dumps(forged), "application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "bad_signature"
    assert client.get("/exchange/inbox/").status_code == 405


def test_the_http_transport_reports_a_closed_port_as_an_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError):
        messaging._post(f"http://127.0.0.1:{port}/exchange/inbox/", {"id": "x"})
    with pytest.raises(ValueError):
        messaging._post("file:///etc/passwd", {})


def test_messages_queued_while_a_peer_is_down_wait_behind_the_first(self_peer):
    """An arrival and then the departure that ends it arrive in that order, even when the
    departure is queued after the peer came back but before the arrival's wait ran out."""
    up = {"yes": False}
    post = through_view(up)
    start = timezone.now()
    first = queue("arrival", to_region="330106002", payload=ARRIVAL)
    assert messaging.flush(now=start, post=post) == {"delivered": 0, "failed": 1}
    up["yes"] = True
    leaving()
    soon = start + datetime.timedelta(seconds=10)  # the arrival's wait is not over
    assert messaging.flush(now=soon, post=post) == {"delivered": 0, "failed": 0}
    later = start + datetime.timedelta(minutes=2)
    assert messaging.flush(now=later, post=post) == {"delivered": 2, "failed": 0}
    received = list(InboxMessage.objects.order_by("received_at").values_list("id", flat=True))
    assert received[0] == first.id and len(received) == 2


def test_an_address_sending_refused_messages_is_held_off(self_peer, client, monkeypatch):
    from liudong.certificates import throttle
    from liudong.exchange.messaging import views

    monkeypatch.setattr(throttle.time, "time", lambda: 1_900_000_000.0)
    monkeypatch.setattr(views, "REFUSALS_ALLOWED", 3)
    for _n in range(3):
        assert client.post("/exchange/inbox/", "{x", "application/json").status_code == 400
    held = client.post("/exchange/inbox/", "{x", "application/json")
    assert held.status_code == 429 and held.json()["errors"][0]["code"] == "too_many_refusals"
    assert int(held["Retry-After"]) > 0
    queued = queue("arrival", to_region="330106002", payload=ARRIVAL)
    assert (
        client.post("/exchange/inbox/", json.dumps(queued.envelope), "application/json").status_code
        == 429
    )
    monkeypatch.setattr(throttle.time, "time", lambda: 1_900_000_000.0 + views.REFUSAL_WINDOW)
    accepted = client.post("/exchange/inbox/", json.dumps(queued.envelope), "application/json")
    assert accepted.status_code == 200  # the next window: a good message is taken
