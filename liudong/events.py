"""Domain events: what happened to a file that other parts of the system may act on.

An app that changes a file publishes the fact (``publish(ArrivalRegistered(...))``); a
subscriber registered at start-up (``AppConfig.ready()``) acts on it. The exchange
subscribes to queue its notices to the other place (DESIGN.md §6), so people,
certificates and services do not import the exchange: the dependency points one way.

Subscribers run synchronously, in the order registered, inside the publisher's
transaction: the outbox row a subscriber writes is saved with the change or not at all,
and an exception from a subscriber propagates to the publisher and rolls its change back.

An event carries plain values (codes, dates, ID numbers), not model objects, so this
module imports no app and a subscriber cannot reach more of her file than the event
states. This module owns the event types and the subscriber list; it must not import any
``liudong`` app (tests/test_layering.py and the import-linter contract hold it so).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar


@dataclasses.dataclass(frozen=True)
class Event:
    """Base of every domain event (a frozen dataclass of plain values)."""


@dataclasses.dataclass(frozen=True)
class ArrivalRegistered(Event):
    """She was registered as living at ``residence_region`` since ``arrival_date``.
    ``floating``: her residence county differs from her registration county (DESIGN.md §5);
    ``imported``: registered by a person import rather than one at a time."""

    id_number: str
    name: str
    sex: str
    birth_date: datetime.date
    household_region: str
    residence_region: str
    arrival_date: datetime.date
    floating: bool
    imported: bool = False


@dataclasses.dataclass(frozen=True)
class DepartureRecorded(Event):
    """She left her stay at ``residence_region`` on ``departure_date``."""

    id_number: str
    household_region: str
    residence_region: str
    departure_date: datetime.date | None


@dataclasses.dataclass(frozen=True)
class ChildRecorded(Event):
    """A child of a person on file was recorded (vital statistics only)."""

    parent_id_number: str
    parent_household_region: str
    parent_residence_region: str | None
    birth_date: datetime.date
    sex: str


@dataclasses.dataclass(frozen=True)
class CertificateIssued(Event):
    """The township ``issuing_region`` issued her certificate ``number``."""

    id_number: str
    number: str
    issuing_region: str
    residence_region: str | None
    issued_on: datetime.date
    valid_until: datetime.date


@dataclasses.dataclass(frozen=True)
class CertificateRevoked(Event):
    id_number: str
    number: str
    issuing_region: str
    residence_region: str | None
    revoked_on: datetime.date


@dataclasses.dataclass(frozen=True)
class CertificateVerified(Event):
    """Her certificate (``number``, empty for an exchanged record) was checked at
    ``verifying_region`` on ``verified_on``."""

    id_number: str
    household_region: str
    number: str
    verifying_region: str
    verified_on: datetime.date


@dataclasses.dataclass(frozen=True)
class ServiceGiven(Event):
    """A service of ``service_type`` (a ``liudong.servicetypes.ServiceType`` value) was
    given at ``region`` on ``date``; what was found or chosen is not part of the event."""

    id_number: str
    household_region: str
    region: str
    service_type: str
    date: datetime.date


@dataclasses.dataclass(frozen=True)
class HouseholdMoved(Event):
    """Her household registration (户口) moved from ``from_region`` to ``to_region``,
    recorded on ``moved_on``: a change of her file, not of where she lives."""

    id_number: str
    from_region: str
    to_region: str
    moved_on: datetime.date


@dataclasses.dataclass(frozen=True)
class LivingConfirmationAsked(Event):
    """A benefit's yearly re-qualification (``requalification``, its id) asks her
    residence whether she is alive and living there, because she lives in another county
    than her household registration: the place of registration must not ask her to come
    home (2009 Regulations, art. 13). ``asked_by``: the account that opened the round
    (None: the operator); the answer is due within ``urgency``'s days."""

    requalification: int
    id_number: str
    household_region: str
    residence_region: str
    urgency: str  # "urgent" (15 days) or "normal" (30 days)
    asked_on: datetime.date
    asked_by: int | None = None


E = TypeVar("E", bound=Event)
# A subscriber receives the events of one publish call of its type, so a batch (an
# import's arrivals) can be handled in one go.
Subscriber = Callable[[Sequence[Any]], None]

_subscribers: defaultdict[type[Event], list[Subscriber]] = defaultdict(list)


def subscribe(event_type: type[E], subscriber: Callable[[Sequence[E]], None]) -> None:
    """Run ``subscriber`` on every publication of ``event_type`` (once: registering the
    same subscriber again, as a second ``ready()`` in tests does, changes nothing)."""
    if subscriber not in _subscribers[event_type]:
        _subscribers[event_type].append(subscriber)


def unsubscribe(event_type: type[E], subscriber: Callable[[Sequence[E]], None]) -> None:
    if subscriber in _subscribers[event_type]:
        _subscribers[event_type].remove(subscriber)


def subscribers(event_type: type[Event]) -> list[Subscriber]:
    return list(_subscribers.get(event_type, ()))


def publish(event: Event) -> None:
    """Tell the subscribers of this event's type, now, in the caller's transaction."""
    publish_all([event])


def publish_all(events: Sequence[Event]) -> None:
    """Tell the subscribers of many events at once, grouped by type in first-seen order
    (one call per subscriber and type: an import's batch is queued in one insert)."""
    by_type: dict[type[Event], list[Event]] = {}
    for event in events:
        by_type.setdefault(type(event), []).append(event)
    for event_type, batch in by_type.items():
        for subscriber in subscribers(event_type):
            subscriber(batch)
