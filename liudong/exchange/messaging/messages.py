"""The signed message of DESIGN.md §6 and what each type may carry.

A message is JSON: ``id`` (UUID), ``type``, ``from`` and ``to`` (region codes), ``sent_at``,
``deadline`` (or null), ``payload`` and ``signature``: over the canonical JSON of every other
field (keys sorted, no spaces, UTF-8), Ed25519 unless the message carries ``alg`` naming
another algorithm (``"alg": "sm2"`` under ``LIUDONG_CRYPTO=sm``; signed like the rest). An
Ed25519 message has no ``alg``, so a node that predates SM2 still reads it.

Each type's payload names exactly the fields its purpose needs (minimum necessary): an
arrival notice says who arrived where and when, never her services; a payload missing a
field or carrying another is refused.

Each type is declared once, in ``catalogue.TYPES`` (payload, what a peer asserts with it,
its handler and the event that sends it); this module owns the envelope: building,
signing, stamping and checking a message, and checking its payload against that row.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from liudong import crypto

from .catalogue import TYPES
from .payloads import Refused, region

ENVELOPE_FIELDS = ("id", "type", "from", "to", "sent_at", "deadline", "payload", "signature")
# Present only when the signature is not Ed25519 (names the algorithm, liudong.crypto).
ALGORITHM_FIELD = "alg"
# A message older (or further ahead) than this is stale: refused, so a captured message
# cannot be played back later.
FRESH_FOR = datetime.timedelta(hours=24)


def canonical(envelope: dict) -> bytes:
    """The bytes that are signed: every field but the signature, in one spelling."""
    unsigned = {k: envelope[k] for k in ENVELOPE_FIELDS if k != "signature"}
    if ALGORITHM_FIELD in envelope:
        unsigned[ALGORITHM_FIELD] = envelope[ALGORITHM_FIELD]
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(envelope: dict) -> str:
    return hashlib.sha256(
        json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def content_digest(envelope: dict) -> str:
    """What the message says, whenever it was sent: every field but ``sent_at`` and the
    signature (and its algorithm). A delivery after a lost acknowledgement is stamped and
    signed anew (so it is fresh), perhaps by a key of the other algorithm after a
    changeover, and is still recognised as the same message."""
    transport = ("sent_at", "signature", ALGORITHM_FIELD)
    return digest({k: v for k, v in envelope.items() if k not in transport})


def check_payload(message_type: str, payload: Any) -> dict:
    """The payload's fields, each checked; refused when one is missing, extra or wrong."""
    declared = TYPES.get(message_type)
    if declared is None:
        raise Refused("unknown_type", f"no message type “{message_type}”")
    fields = declared.payload
    if not isinstance(payload, dict):
        raise Refused("bad_payload", "the payload is not an object")
    missing = sorted(set(fields) - set(payload))
    extra = sorted(set(payload) - set(fields))
    if missing:
        raise Refused("bad_payload", "missing " + ", ".join(missing))
    if extra:
        raise Refused("bad_payload", "not carried by this type: " + ", ".join(extra))
    for name, check in fields.items():
        try:
            check(payload[name])
        except ValueError as exc:
            raise Refused("bad_payload", f"{name}: {exc}") from exc
    return payload


def build(
    message_type: str,
    *,
    sender: str,
    to: str,
    payload: dict,
    sign: Callable[[bytes], bytes],
    now: datetime.datetime,
    deadline: datetime.date | None = None,
    algorithm: str = crypto.ED25519,
) -> dict:
    """A new signed message (its payload checked like a received one); ``algorithm`` is
    that of the key behind ``sign``."""
    check_payload(message_type, payload)
    envelope: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": message_type,
        "from": region(sender),
        "to": region(to),
        "sent_at": "",
        "deadline": deadline.isoformat() if deadline else None,
        "payload": payload,
    }
    return stamp(envelope, sign=sign, now=now, algorithm=algorithm)


def stamp(
    envelope: dict,
    *,
    sign: Callable[[bytes], bytes],
    now: datetime.datetime,
    algorithm: str = crypto.ED25519,
) -> dict:
    """The message as sent now: ``sent_at`` set and the whole signed again (by the key
    that signs now, naming its algorithm). The outbox stamps each delivery attempt, so a
    message that waited a day for its peer is not refused as stale; its id and contents
    stay what they were."""
    stamped = {k: v for k, v in envelope.items() if k not in ("signature", ALGORITHM_FIELD)}
    if algorithm != crypto.ED25519:
        stamped[ALGORITHM_FIELD] = algorithm
    stamped["sent_at"] = now.isoformat(timespec="seconds")
    signature = sign(canonical({**stamped, "signature": ""}))
    stamped["signature"] = base64.b64encode(signature).decode()
    return stamped


def check_envelope(
    envelope: Any,
    *,
    sender_key: Callable[[str], list[crypto.PublicKey]],
    now: datetime.datetime,
) -> dict:
    """A received message checked in order: shape, sender, signature, freshness, payload.
    ``sender_key(region)`` lists the public keys of the peer trusted for that region (more
    than one during its changeover); the signature must verify under one of them of the
    message's algorithm."""
    if not isinstance(envelope, dict) or set(envelope) - {ALGORITHM_FIELD} != set(ENVELOPE_FIELDS):
        raise Refused("malformed", "the fields are " + ", ".join(ENVELOPE_FIELDS))
    algorithm = envelope.get(ALGORITHM_FIELD, crypto.ED25519)
    if algorithm not in crypto.ALGORITHMS:
        raise Refused("malformed", "alg is one of " + ", ".join(crypto.ALGORITHMS))
    try:
        uuid.UUID(str(envelope["id"]))
        region(envelope["from"])
        region(envelope["to"])
        sent_at = datetime.datetime.fromisoformat(str(envelope["sent_at"]))
        signature = base64.b64decode(str(envelope["signature"]), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise Refused("malformed", str(exc)) from exc
    if sent_at.tzinfo is None:
        raise Refused("malformed", "sent_at has no time zone")
    publics = sender_key(envelope["from"])
    if not publics:
        raise Refused("unknown_sender", f"no trusted peer for {envelope['from']}")
    signed = canonical(envelope)
    if not any(p.verify(signature, signed) for p in publics if p.algorithm == algorithm):
        raise Refused("bad_signature")
    if abs(now - sent_at) > FRESH_FOR:
        raise Refused("stale", f"sent at {envelope['sent_at']}")
    check_payload(str(envelope["type"]), envelope["payload"])
    return envelope
