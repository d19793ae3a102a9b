"""The signed message of DESIGN.md §6 and what each type may carry.

A message is JSON: ``id`` (UUID), ``type``, ``from`` and ``to`` (region codes), ``sent_at``,
``deadline`` (or null), ``payload`` and ``signature``: over the canonical JSON of every other
field (keys sorted, no spaces, UTF-8), Ed25519 unless the message carries ``alg`` naming
another algorithm (``"alg": "sm2"`` under ``LIUDONG_CRYPTO=sm``; signed like the rest). An
Ed25519 message has no ``alg``, so a node that predates SM2 still reads it.

Each type's payload names exactly the fields its purpose needs (minimum necessary): an
arrival notice says who arrived where and when, never her services; a payload missing a
field or carrying another is refused.

Each type is declared once, in ``TYPES``: its payload, and where its sender acted with the
file it may change (``ActedAt``, ``FileSide``; ``boundary`` holds the rules), so a type
cannot be added without saying what a peer may assert with it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import enum
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from liudong import crypto
from liudong.people.idnumbers import IdNumberError, parse

ENVELOPE_FIELDS = ("id", "type", "from", "to", "sent_at", "deadline", "payload", "signature")
# Present only when the signature is not Ed25519 (names the algorithm, liudong.crypto).
ALGORITHM_FIELD = "alg"
REGION = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3}(\d{3})?)?)?)?)?$")
# A message older (or further ahead) than this is stale: refused, so a captured message
# cannot be played back later.
FRESH_FOR = datetime.timedelta(hours=24)


class Refused(Exception):
    """Why a message is not accepted: ``reason`` is a code, ``detail`` says more."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def _id_number(value: Any) -> str:
    try:
        return parse(value).value
    except (IdNumberError, TypeError) as exc:
        raise ValueError("not an ID number") from exc


def _region(value: Any) -> str:
    if not isinstance(value, str) or not REGION.match(value):
        raise ValueError("not a region code")
    return value


def _day(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a date")
    datetime.date.fromisoformat(value)
    return value


def _text(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise ValueError(f"text of 1 to {limit} characters")
        return value

    return check


def _choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError("one of " + ", ".join(allowed))
        return value

    return check


_SEX = _choice("1", "2")
_SERVICE = _choice(
    "reproductive_health", "pre_pregnancy", "prenatal", "postnatal", "contraceptive",
    "counselling", "gynaecological", "vaccination_referral", "follow_up", "return_home", "other",
)  # fmt: skip


class ActedAt(enum.Enum):
    """The place in a message where its sender acted: what a peer asserts happened there.
    A peer is believed only about its own regions (DESIGN.md §6), so this place must lie
    under the prefix the sender is trusted for (``boundary`` resolves and checks it)."""

    RESIDENCE_NAMED = "the residence the message names (residence_region)"
    RESIDENCE_ON_FILE = "her residence as this node's file shows it (the arrival notice's)"
    ISSUING_TOWNSHIP = "the township that issued the certificate (its number's first part)"
    HER_REGION_THERE = "her registration or residence on this node's file, the sender's one"
    PLACE_ASKED = "the place this node's request asked (the request's other place)"


class FileSide(enum.Enum):
    """Which file the message may change: the one on this node's side of her move."""

    REGISTERED_HERE = "her file is registered on this node (an arrival may make one)"
    REGISTERED_HERE_STAYING_THERE = (
        "her file is registered on this node and its current stay, if any, is the sender's"
    )
    LIVES_HERE_NOT_OURS = (
        "she lives on this node, is registered elsewhere, and the certificate is not one this "
        "node issued"
    )
    HOLDS_IT_HERE_NOT_OURS = (
        "she lives on this node or her file here holds the certificate, and it is not one "
        "this node issued"
    )
    OTHER_SIDE_HERE = "the other of her registration and residence is on this node"
    ASKED_BY_THIS_NODE = "the request answered is one this node sent"


@dataclasses.dataclass(frozen=True)
class MessageType:
    """One type of message: what its payload carries (every field required, nothing else
    allowed) and where its sender acted, with the file it may change. Every field is
    required, so a type cannot be added without saying where its sender acts."""

    payload: dict[str, Callable[[Any], Any]]
    acted_at: ActedAt
    file_side: FileSide


TYPES: dict[str, MessageType] = {
    # The residence reports: she arrived there, left there, her certificate was checked
    # there, she gave birth there, she was served there. Her file is at her registration.
    "arrival": MessageType(
        payload={
            "id_number": _id_number,
            "name": _text(50),
            "sex": _SEX,
            "birth_date": _day,
            "residence_region": _region,
            "arrival_date": _day,
        },
        acted_at=ActedAt.RESIDENCE_NAMED,
        file_side=FileSide.REGISTERED_HERE,
    ),
    "departure": MessageType(
        payload={"id_number": _id_number, "residence_region": _region, "departure_date": _day},
        acted_at=ActedAt.RESIDENCE_NAMED,
        file_side=FileSide.REGISTERED_HERE,
    ),
    "verification": MessageType(
        payload={
            "id_number": _id_number,
            "number": _text(40),
            "residence_region": _region,
            "verified_on": _day,
        },
        acted_at=ActedAt.RESIDENCE_NAMED,
        file_side=FileSide.REGISTERED_HERE_STAYING_THERE,
    ),
    "birth": MessageType(
        payload={"parent_id_number": _id_number, "birth_date": _day, "sex": _SEX},
        acted_at=ActedAt.RESIDENCE_ON_FILE,
        file_side=FileSide.REGISTERED_HERE,
    ),
    "service": MessageType(
        payload={"id_number": _id_number, "service_type": _SERVICE, "date": _day},
        acted_at=ActedAt.RESIDENCE_ON_FILE,
        file_side=FileSide.REGISTERED_HERE,
    ),
    # The registration place reports its own certificates to her residence.
    "certificate_issued": MessageType(
        payload={
            "id_number": _id_number,
            "number": _text(40),
            "issued_on": _day,
            "valid_until": _day,
        },
        acted_at=ActedAt.ISSUING_TOWNSHIP,
        file_side=FileSide.LIVES_HERE_NOT_OURS,
    ),
    "certificate_revoked": MessageType(
        payload={"id_number": _id_number, "number": _text(40), "revoked_on": _day},
        acted_at=ActedAt.ISSUING_TOWNSHIP,
        file_side=FileSide.HOLDS_IT_HERE_NOT_OURS,
    ),
    # Either place asks the other about someone it serves.
    "assistance_request": MessageType(
        payload={
            "request_id": _text(36),
            "id_number": _id_number,
            "question": _choice("marital_status", "children", "certificate", "whereabouts"),
            "urgency": _choice("urgent", "normal"),
        },
        acted_at=ActedAt.HER_REGION_THERE,
        file_side=FileSide.OTHER_SIDE_HERE,
    ),
    # The finding is the verification itself (as on file / differs / not known here); the
    # answer says what was found, nothing beyond the question asked.
    "assistance_answer": MessageType(
        payload={
            "request_id": _text(36),
            "finding": _choice("confirmed", "differs", "not_known"),
            "answer": _text(500),
            "answered_on": _day,
        },
        acted_at=ActedAt.PLACE_ASKED,
        file_side=FileSide.ASKED_BY_THIS_NODE,
    ),
}
# type -> the payload's fields and their checks (all required, nothing else allowed)
PAYLOADS: dict[str, dict[str, Callable[[Any], Any]]] = {
    name: declared.payload for name, declared in TYPES.items()
}


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
    fields = PAYLOADS.get(message_type)
    if fields is None:
        raise Refused("unknown_type", f"no message type “{message_type}”")
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
        "from": _region(sender),
        "to": _region(to),
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
        _region(envelope["from"])
        _region(envelope["to"])
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
