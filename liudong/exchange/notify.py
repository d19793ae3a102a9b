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


def _other_place(code: str | None) -> str | None:
    """``code`` when it lies outside the region this node serves, else None (also when
    this node exchanges nothing)."""
    if not code:
        return None
    me = NodeIdentity.objects.only("region_id").first()
    if me is None or code.startswith(me.region_id):
        return None
    return code


def _queue(message_type: str, to_region: str, payload: dict, *, here: str) -> None:
    from .services import queue

    queue(message_type, to_region=to_region, payload=payload, region=here)


def _day(day: datetime.date) -> str:
    return day.isoformat()


def arrival(person: Person, episode: ResidenceEpisode) -> None:
    """She was registered as living here: her registration place learns where and since
    when (only while she is floating: a return home is her registration's own record)."""
    to = _other_place(person.household_region_id)
    if to and person.is_floating:
        _queue(
            "arrival",
            to,
            {
                "id_number": person.id_number,
                "name": person.name,
                "sex": person.sex,
                "birth_date": _day(person.birth_date),
                "residence_region": episode.region_id,
                "arrival_date": _day(episode.arrival_date),
            },
            here=episode.region_id,
        )


def arrivals_imported(rows) -> int:
    """The arrivals an import of the person template registered (its rows, each with
    ``id_number``, ``name``, ``sex``, ``birth_date``, ``household_region``,
    ``residence_region`` and ``arrival_date``): one notice each to her registration place,
    as :func:`arrival` sends for one registered on a page. Returns how many were queued."""
    from liudong.people.services import floating

    me = NodeIdentity.objects.only("region_id").first()
    if me is None:
        return 0
    items = [
        (
            "arrival",
            row.household_region,
            {
                "id_number": row.id_number,
                "name": row.name,
                "sex": row.sex,
                "birth_date": _day(row.birth_date),
                "residence_region": row.residence_region,
                "arrival_date": _day(row.arrival_date),
            },
            row.residence_region,
        )
        for row in rows
        if not row.household_region.startswith(me.region_id)
        and row.residence_region.startswith(me.region_id)
        and floating(row.household_region, row.residence_region)
    ]
    if items:
        from .services import queue_many

        queue_many(items)
    return len(items)


def departure(person: Person, episode: ResidenceEpisode) -> None:
    to = _other_place(person.household_region_id)
    if to and episode.departure_date is not None and _other_place(episode.region_id) is None:
        _queue(
            "departure",
            to,
            {
                "id_number": person.id_number,
                "residence_region": episode.region_id,
                "departure_date": _day(episode.departure_date),
            },
            here=episode.region_id,
        )


def certificate_issued(certificate) -> None:
    to = _other_place(certificate.person.residence_region_id)
    if to:
        _queue(
            "certificate_issued",
            to,
            {
                "id_number": certificate.id_number,
                "number": certificate.number,
                "issued_on": _day(certificate.issued_on),
                "valid_until": _day(certificate.valid_until),
            },
            here=certificate.issuing_region_id,
        )


def certificate_revoked(certificate, revoked_on: datetime.date) -> None:
    to = _other_place(certificate.person.residence_region_id)
    if to:
        _queue(
            "certificate_revoked",
            to,
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
    to = _other_place(person.household_region_id)
    if to and verification.number:
        _queue(
            "verification",
            to,
            {
                "id_number": person.id_number,
                "number": verification.number,
                "residence_region": verification.region_id,
                "verified_on": _day(verification.verified_on),
            },
            here=verification.region_id,
        )


def birth(child: Child) -> None:
    parent = child.parent
    to = _other_place(parent.household_region_id)
    if to and _other_place(parent.residence_region_id) is None:
        _queue(
            "birth",
            to,
            {
                "parent_id_number": parent.id_number,
                "birth_date": _day(child.birth_date),
                "sex": child.sex,
            },
            here=parent.residence_region_id or "",
        )


def service(record) -> None:
    """A service given here to a person registered elsewhere: type and date only (what was
    found, chosen or prescribed stays here)."""
    person = record.person
    to = _other_place(person.household_region_id)
    if to and _other_place(record.region_id) is None:
        _queue(
            "service",
            to,
            {
                "id_number": person.id_number,
                "service_type": record.service_type,
                "date": _day(record.date),
            },
            here=record.region_id,
        )
