"""The notices a change here owes the other place (DESIGN.md §6), queued in the change's
own transaction: the residence tells the registration place of an arrival, a departure, a
verification, a birth and a service given; the registration place tells the residence of a
certificate issued or revoked.

A notice goes only to a place this node does not serve (inside its region both places
share one database), and only from a node that has an identity (`liudong node init`): a
county running on its own exchanges nothing. What each notice carries is fixed by its type
(``messages.PAYLOADS``); nothing else of her file leaves this node.
"""

from __future__ import annotations

import datetime

from liudong.people.models import Child, Person, ResidenceEpisode

from .models import NodeIdentity


def _served() -> str | None:
    """The region this node serves; None when it exchanges nothing (no identity)."""
    me = NodeIdentity.objects.only("region_id").first()
    return me.region_id if me else None


def _outside(code: str | None, served: str | None) -> bool:
    """A place another node serves: one a notice goes to."""
    return bool(served and code and not code.startswith(served))


def _inside(code: str | None, served: str | None) -> bool:
    """A place this node serves: where a change reported must have happened."""
    return bool(served and code and code.startswith(served))


def _queue(message_type: str, to_region: str, payload: dict, *, here: str) -> None:
    from .services import queue

    queue(message_type, to_region=to_region, payload=payload, region=here)


def _day(day: datetime.date) -> str:
    return day.isoformat()


def _arrival_payload(*, id_number, name, sex, birth_date, residence_region, arrival_date) -> dict:
    return {
        "id_number": id_number,
        "name": name,
        "sex": sex,
        "birth_date": _day(birth_date),
        "residence_region": residence_region,
        "arrival_date": _day(arrival_date),
    }


def arrival(person: Person, episode: ResidenceEpisode) -> None:
    """She was registered as living here: her registration place learns where and since
    when (only while she is floating: a return home is her registration's own record)."""
    served = _served()
    if _outside(person.household_region_id, served) and person.is_floating:
        _queue(
            "arrival",
            person.household_region_id,
            _arrival_payload(
                id_number=person.id_number,
                name=person.name,
                sex=person.sex,
                birth_date=person.birth_date,
                residence_region=episode.region_id,
                arrival_date=episode.arrival_date,
            ),
            here=episode.region_id,
        )


def arrivals_imported(rows) -> int:
    """The arrivals an import of the person template registered (its rows, each with
    ``id_number``, ``name``, ``sex``, ``birth_date``, ``household_region``,
    ``residence_region`` and ``arrival_date``): one notice each to her registration place,
    as :func:`arrival` sends for one registered on a page. Returns how many were queued."""
    from liudong.people.services import floating

    served = _served()
    items = [
        (
            "arrival",
            row.household_region,
            _arrival_payload(
                id_number=row.id_number,
                name=row.name,
                sex=row.sex,
                birth_date=row.birth_date,
                residence_region=row.residence_region,
                arrival_date=row.arrival_date,
            ),
            row.residence_region,
        )
        for row in rows
        if _outside(row.household_region, served)
        and _inside(row.residence_region, served)
        and floating(row.household_region, row.residence_region)
    ]
    if items:
        from .services import queue_many

        queue_many(items)
    return len(items)


def departure(person: Person, episode: ResidenceEpisode) -> None:
    served = _served()
    if (
        _outside(person.household_region_id, served)
        and _inside(episode.region_id, served)
        and episode.departure_date is not None
    ):
        _queue(
            "departure",
            person.household_region_id,
            {
                "id_number": person.id_number,
                "residence_region": episode.region_id,
                "departure_date": _day(episode.departure_date),
            },
            here=episode.region_id,
        )


def certificate_issued(certificate) -> None:
    residence = certificate.person.residence_region_id
    if _outside(residence, _served()):
        _queue(
            "certificate_issued",
            residence,
            {
                "id_number": certificate.id_number,
                "number": certificate.number,
                "issued_on": _day(certificate.issued_on),
                "valid_until": _day(certificate.valid_until),
            },
            here=certificate.issuing_region_id,
        )


def certificate_revoked(certificate, revoked_on: datetime.date) -> None:
    residence = certificate.person.residence_region_id
    if _outside(residence, _served()):
        _queue(
            "certificate_revoked",
            residence,
            {
                "id_number": certificate.id_number,
                "number": certificate.number,
                "revoked_on": _day(revoked_on),
            },
            here=certificate.issuing_region_id,
        )


def verification(verification) -> None:
    """The residence checked her certificate: the place that issued it learns it (a check
    of the record exchanged without a number tells it nothing it can mark)."""
    person = verification.person
    if _outside(person.household_region_id, _served()) and verification.number:
        _queue(
            "verification",
            person.household_region_id,
            {
                "id_number": person.id_number,
                "number": verification.number,
                "residence_region": verification.region_id,
                "verified_on": _day(verification.verified_on),
            },
            here=verification.region_id,
        )


def birth(child: Child) -> None:
    """A child born to a resident here registered elsewhere (vital statistics only)."""
    parent = child.parent
    served = _served()
    residence = parent.residence_region_id
    if residence and _outside(parent.household_region_id, served) and _inside(residence, served):
        _queue(
            "birth",
            parent.household_region_id,
            {
                "parent_id_number": parent.id_number,
                "birth_date": _day(child.birth_date),
                "sex": child.sex,
            },
            here=residence,
        )


def service(record) -> None:
    """A service given here to a person registered elsewhere: type and date only (what was
    found, chosen or prescribed stays here)."""
    person = record.person
    served = _served()
    if _outside(person.household_region_id, served) and _inside(record.region_id, served):
        _queue(
            "service",
            person.household_region_id,
            {
                "id_number": person.id_number,
                "service_type": record.service_type,
                "date": _day(record.date),
            },
            here=record.region_id,
        )
