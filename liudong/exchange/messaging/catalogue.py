"""The message types of the exchange (DESIGN.md §6), one row each: what a type's payload
carries, what a peer asserts with it (where it acted, which file it may change), what it
does here when received (its handler), and which domain event sends it (and how its
payload is built from that event).

One table, so a type cannot be added with a payload and no handler (it would once have
been accepted and silently marked applied), nor without saying where its sender acts:
every field of ``MessageType`` is required, and ``check()``, run by the exchange's
``ready()``, refuses a start-up with a row whose handler or builders are not callable.

This module owns the table only. It sits above the handlers (``effects``) and the notice
builders (``notify``) and below what sends and receives (``messages``, ``boundary``,
``services``), which look types up here; it must not import those.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from liudong import events

from ..models import InboxMessage
from . import effects, notify
from .payloads import SERVICE, SEX, ActedAt, FileSide, choice, day, id_number, region, text

# What a received message does here, in the transaction that accepts it.
Handler = Callable[[InboxMessage], None]
# The notice an event owes a peer, given the region this node serves (None: none owed).
NoticeBuilder = Callable[[Any, str], "notify.Notice | None"]


@dataclasses.dataclass(frozen=True)
class MessageType:
    """One type of message. ``payload``: its fields and their checks (every field required,
    nothing else allowed); ``acted_at`` and ``file_side``: where its sender acted and the
    file it may change (``boundary`` holds the rules); ``handler``: its effect here;
    ``sent_on``: the domain events that send it, each with the function building its
    notice (empty for a type a service function sends itself). Every field is required."""

    payload: dict[str, Callable[[Any], Any]]
    acted_at: ActedAt
    file_side: FileSide
    handler: Handler
    sent_on: Mapping[type[events.Event], NoticeBuilder]


TYPES: dict[str, MessageType] = {
    # The residence reports: she arrived there, left there, her certificate was checked
    # there, she gave birth there, she was served there. Her file is at her registration.
    "arrival": MessageType(
        payload={
            "id_number": id_number,
            "name": text(50),
            "sex": SEX,
            "birth_date": day,
            "residence_region": region,
            "arrival_date": day,
        },
        acted_at=ActedAt.RESIDENCE_NAMED,
        file_side=FileSide.REGISTERED_HERE,
        handler=effects.on_arrival,
        sent_on={events.ArrivalRegistered: notify.arrival},
    ),
    "departure": MessageType(
        payload={"id_number": id_number, "residence_region": region, "departure_date": day},
        acted_at=ActedAt.RESIDENCE_NAMED,
        file_side=FileSide.REGISTERED_HERE,
        handler=effects.on_departure,
        sent_on={events.DepartureRecorded: notify.departure},
    ),
    "verification": MessageType(
        payload={
            "id_number": id_number,
            "number": text(40),
            "residence_region": region,
            "verified_on": day,
        },
        acted_at=ActedAt.RESIDENCE_NAMED,
        file_side=FileSide.REGISTERED_HERE_STAYING_THERE,
        handler=effects.on_verification,
        sent_on={events.CertificateVerified: notify.verification},
    ),
    "birth": MessageType(
        payload={"parent_id_number": id_number, "birth_date": day, "sex": SEX},
        acted_at=ActedAt.RESIDENCE_ON_FILE,
        file_side=FileSide.REGISTERED_HERE,
        handler=effects.on_birth,
        sent_on={events.ChildRecorded: notify.birth},
    ),
    "service": MessageType(
        payload={"id_number": id_number, "service_type": SERVICE, "date": day},
        acted_at=ActedAt.RESIDENCE_ON_FILE,
        file_side=FileSide.REGISTERED_HERE,
        handler=effects.on_service,
        sent_on={events.ServiceGiven: notify.service},
    ),
    # The registration place reports its own certificates to her residence.
    "certificate_issued": MessageType(
        payload={
            "id_number": id_number,
            "number": text(40),
            "issued_on": day,
            "valid_until": day,
        },
        acted_at=ActedAt.ISSUING_TOWNSHIP,
        file_side=FileSide.LIVES_HERE_NOT_OURS,
        handler=effects.on_certificate_issued,
        sent_on={events.CertificateIssued: notify.certificate_issued},
    ),
    "certificate_revoked": MessageType(
        payload={"id_number": id_number, "number": text(40), "revoked_on": day},
        acted_at=ActedAt.ISSUING_TOWNSHIP,
        file_side=FileSide.HOLDS_IT_HERE_NOT_OURS,
        handler=effects.on_certificate_revoked,
        sent_on={events.CertificateRevoked: notify.certificate_revoked},
    ),
    # Either place asks the other about someone it serves.
    "assistance_request": MessageType(
        payload={
            "request_id": text(36),
            "id_number": id_number,
            "question": choice(
                "marital_status", "children", "certificate", "whereabouts", "living"
            ),
            "urgency": choice("urgent", "normal"),
        },
        acted_at=ActedAt.HER_REGION_THERE,
        file_side=FileSide.OTHER_SIDE_HERE,
        handler=effects.on_assistance_request,
        sent_on={},  # sent by assistance.ask
    ),
    # The finding is the verification itself (as on file / differs / not known here); the
    # answer says what was found, nothing beyond the question asked.
    "assistance_answer": MessageType(
        payload={
            "request_id": text(36),
            "finding": choice("confirmed", "differs", "not_known"),
            "answer": text(500),
            "answered_on": day,
        },
        acted_at=ActedAt.PLACE_ASKED,
        file_side=FileSide.ASKED_BY_THIS_NODE,
        handler=effects.on_assistance_answer,
        sent_on={},  # sent by assistance.answer
    ),
}


def sent_on(event_type: type[events.Event]) -> list[tuple[str, NoticeBuilder]]:
    """The message types an event of this type may send, with their builders."""
    return [
        (name, builders[event_type])
        for name, declared in TYPES.items()
        if event_type in (builders := declared.sent_on)
    ]


def check(types: Mapping[str, MessageType] | None = None) -> None:
    """Refuse to start (``ImproperlyConfigured``) with a type that has no callable handler,
    a builder that is not callable or an event that is not a domain event. (Every place and
    side has a rule: ``boundary`` refuses to load otherwise.)"""
    problems: list[str] = []
    for name, declared in (TYPES if types is None else types).items():
        if not callable(declared.handler):
            problems.append(f"{name}: no handler")
        for event_type, builder in declared.sent_on.items():
            if not (isinstance(event_type, type) and issubclass(event_type, events.Event)):
                problems.append(f"{name}: {event_type!r} is not a domain event")
            if not callable(builder):
                problems.append(f"{name}: no notice builder for {event_type.__name__}")
    if problems:
        raise ImproperlyConfigured("exchange message types: " + "; ".join(problems))
