"""The notices a change here owes the other place (DESIGN.md §6), built from the domain
event the change published: the residence tells the registration place of an arrival, a
departure, a verification, a birth and a service given; the registration place tells the
residence of a certificate issued or revoked.

A notice goes only to a place this node does not serve (inside its region both places
share one database), and only from a node that has an identity (`liudong node init`): a
county running on its own exchanges nothing. What each notice carries is fixed by its type
(``catalogue.TYPES``); nothing else of her file leaves this node.

Each function here is pure: given the event and the region this node serves, it returns
the notice to queue or None. ``catalogue.TYPES`` names which function builds which type
from which event; ``services.send_notices`` queues them in the publisher's transaction.
This module must not touch the database or import an app.
"""

from __future__ import annotations

import dataclasses
import datetime

from liudong import events


@dataclasses.dataclass(frozen=True)
class Notice:
    """One message to queue: its payload, the region it goes to, and ``region``, the region
    here whose change it reports (its offices see the message in the outbox)."""

    to_region: str
    payload: dict
    region: str


def _outside(code: str | None, served: str) -> bool:
    """A place another node serves: one a notice goes to."""
    return bool(code and not code.startswith(served))


def _inside(code: str | None, served: str) -> bool:
    """A place this node serves: where a change reported must have happened."""
    return bool(code and code.startswith(served))


def _day(day: datetime.date) -> str:
    return day.isoformat()


def arrival(event: events.ArrivalRegistered, served: str) -> Notice | None:
    """She was registered as living here: her registration place learns where and since
    when (only while she is floating: a return home is her registration's own record). An
    imported row tells only of an arrival in a place this node serves."""
    if not (_outside(event.household_region, served) and event.floating):
        return None
    if event.imported and not _inside(event.residence_region, served):
        return None
    return Notice(
        event.household_region,
        {
            "id_number": event.id_number,
            "name": event.name,
            "sex": event.sex,
            "birth_date": _day(event.birth_date),
            "residence_region": event.residence_region,
            "arrival_date": _day(event.arrival_date),
        },
        event.residence_region,
    )


def departure(event: events.DepartureRecorded, served: str) -> Notice | None:
    if not (
        _outside(event.household_region, served)
        and _inside(event.residence_region, served)
        and event.departure_date is not None
    ):
        return None
    return Notice(
        event.household_region,
        {
            "id_number": event.id_number,
            "residence_region": event.residence_region,
            "departure_date": _day(event.departure_date),
        },
        event.residence_region,
    )


def certificate_issued(event: events.CertificateIssued, served: str) -> Notice | None:
    if not (event.residence_region and _outside(event.residence_region, served)):
        return None
    return Notice(
        event.residence_region,
        {
            "id_number": event.id_number,
            "number": event.number,
            "issued_on": _day(event.issued_on),
            "valid_until": _day(event.valid_until),
        },
        event.issuing_region,
    )


def certificate_revoked(event: events.CertificateRevoked, served: str) -> Notice | None:
    if not (event.residence_region and _outside(event.residence_region, served)):
        return None
    return Notice(
        event.residence_region,
        {
            "id_number": event.id_number,
            "number": event.number,
            "revoked_on": _day(event.revoked_on),
        },
        event.issuing_region,
    )


def verification(event: events.CertificateVerified, served: str) -> Notice | None:
    """The residence checked her certificate: the place that issued it learns it (a check
    of the record exchanged without a number tells it nothing it can mark)."""
    if not (_outside(event.household_region, served) and event.number):
        return None
    return Notice(
        event.household_region,
        {
            "id_number": event.id_number,
            "number": event.number,
            "residence_region": event.verifying_region,
            "verified_on": _day(event.verified_on),
        },
        event.verifying_region,
    )


def birth(event: events.ChildRecorded, served: str) -> Notice | None:
    """A child born to a resident here registered elsewhere (vital statistics only)."""
    residence = event.parent_residence_region
    if not (
        residence and _outside(event.parent_household_region, served) and _inside(residence, served)
    ):
        return None
    return Notice(
        event.parent_household_region,
        {
            "parent_id_number": event.parent_id_number,
            "birth_date": _day(event.birth_date),
            "sex": event.sex,
        },
        residence,
    )


def service(event: events.ServiceGiven, served: str) -> Notice | None:
    """A service given here to a person registered elsewhere: type and date only (what was
    found, chosen or prescribed stays here)."""
    if not (_outside(event.household_region, served) and _inside(event.region, served)):
        return None
    return Notice(
        event.household_region,
        {
            "id_number": event.id_number,
            "service_type": event.service_type,
            "date": _day(event.date),
        },
        event.region,
    )
