"""What a collector's phone keeps for working offline (``GET /api/field/bundle/``).

Only the account's own grid(s) (``liudong.web.worklist.my_grids``), read through
``in_scope``: the people living there now, the to-dos of the grid's worklist, its rental
houses, the pick lists of the online forms and the public keys a certificate QR may be
signed with. ID numbers are masked (the phone never holds a full number it did not type).
The read is audited once, as an export: the data leaves the server for a device.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import (
    CHANGE_PEOPLE,
    MANAGE_PLACES,
    RECORD_SERVICES,
    VERIFY_CERTIFICATES,
    can,
)
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.certificates.models import SigningKey
from liudong.crypto import ED25519
from liudong.people.idnumbers import mask
from liudong.people.models import ResidenceEpisode
from liudong.people.template import REASON_CHOICES, SEX_CHOICES
from liudong.places import services as places
from liudong.places.models import RentalHouse
from liudong.regions.codes import Level
from liudong.regions.models import Grid, Region
from liudong.services.models import ServiceType
from liudong.services.records import services as record_services
from liudong.web import worklist

from .models import Kind

if TYPE_CHECKING:
    from liudong.accounts.models import User

# Which capability each kind of action needs: the same as its online page.
KIND_CAPABILITY: dict[str, str] = {
    Kind.ARRIVAL: CHANGE_PEOPLE,
    Kind.DEPARTURE: CHANGE_PEOPLE,
    Kind.VERIFICATION: VERIFY_CERTIFICATES,
    Kind.SERVICE: RECORD_SERVICES,
    Kind.HAZARD: MANAGE_PLACES,
    Kind.RECTIFICATION: MANAGE_PLACES,
}


def allowed_kinds(user: User) -> list[str]:
    """The kinds of action this account may do, from its capabilities (never a role list)."""
    return [kind for kind, capability in KIND_CAPABILITY.items() if can(user, capability)]


def field_grids(user: User) -> list[Grid]:
    """The grids the phone works in: the account's own (``worklist.my_grids``); a village or
    group account in none works its own village or group (the village specialist keeps the
    village's files, DESIGN.md §1), as an unsaved grid of that one area (``id`` None)."""
    grids = list(worklist.my_grids(user).prefetch_related("areas").order_by("name", "pk"))
    region = user.region
    if grids or region is None or region.level not in (Level.VILLAGE, Level.GROUP):
        return grids
    own = Grid(name=region.name, region=region)
    own._prefetched_objects_cache = {"areas": [region]}  # type: ignore[attr-defined]
    return [own]


def areas_q(grids: list[Grid], field: str) -> Q:
    """Records whose region ``field`` lies in one of the grids' areas (none without grids)."""
    condition = Q(pk__in=[])
    for grid in grids:
        condition |= grid.area_q(field)
    return condition


def person_entry(episode: ResidenceEpisode) -> dict[str, Any]:
    """One person as the phone keeps her: her open stay (``episode``, with ``person``,
    ``region`` and ``person__household_region`` selected) and a masked ID number."""
    person = episode.person
    return {
        "id": person.pk,
        "version": person.version,
        "name": person.name,
        "masked_id": mask(person.id_number),
        "sex": person.sex,
        "birth_year": person.birth_date.year,
        "region": episode.region_id,
        "region_name": episode.region.name,
        "address": episode.address or person.residence_address,
        "arrival_date": episode.arrival_date.isoformat(),
        "reason": episode.reason,
        "verified_on": episode.verified_on.isoformat() if episode.verified_on else None,
        "household_region_name": person.household_region.name,
    }


def open_stays(user: User) -> Any:
    """Open stays of files in ``user``'s scope (not merged away), with what the phone's
    shape of a person needs."""
    return (
        ResidenceEpisode.objects.in_scope(user)
        .filter(departure_date__isnull=True, person__merged_into__isnull=True)
        .select_related("person", "region", "person__household_region")
    )


def person_for_phone(user: User, person_id: int) -> dict[str, Any] | None:
    """The file ``person_id`` in the phone's shape, when ``user`` may see it (else None)."""
    episode = open_stays(user).filter(person_id=person_id).first()
    return person_entry(episode) if episode is not None else None


def _keys() -> list[dict[str, str]]:
    """The public keys ``verify_payload`` accepts for an Ed25519 QR (current and retired,
    this node's and the peers' it registered): the phone checks a QR with them offline."""
    rows = SigningKey.objects.filter(algorithm=ED25519).order_by("created", "pk")
    return [
        {
            "key_id": row.key_id,
            "algorithm": row.algorithm,
            "public_key": row.public_key,
            "issuer": _("this node") if row.own else _("another node"),
        }
        for row in rows
    ]


def bundle_for(user: User, today: datetime.date | None = None) -> dict[str, Any]:
    """Everything the phone caches for ``user``'s grid(s), in the field API's shape
    (``csrf_token`` is the view's)."""
    today = today or timezone.localdate()
    grids = field_grids(user)
    area_codes = sorted({code for grid in grids for code in grid.area_codes()})
    stays = list(
        open_stays(user).filter(areas_q(grids, "region_id")).order_by("person__name", "pk")
    )
    people = [person_entry(episode) for episode in stays]
    late_day = today - datetime.timedelta(days=worklist.VERIFY_WITHIN_DAYS)
    unverified: dict[int, dict[str, Any]] = {}
    follow_ups: dict[int, dict[str, Any]] = {}
    hazards: dict[int, dict[str, Any]] = {}
    for grid in grids:
        for episode in worklist.unverified_arrivals(user, grid, today):
            unverified[episode.person_id] = {
                "person": episode.person_id,
                "arrival_date": episode.arrival_date.isoformat(),
                "overdue": episode.arrival_date < late_day,
            }
        for follow_up in record_services.followups_due(user, today=today, grid=grid):
            follow_ups[follow_up.pk] = {
                "id": follow_up.pk,
                "person": follow_up.service.person_id,
                "due_on": follow_up.due_on.isoformat(),
                "what": follow_up.service.get_service_type_display(),
            }
        open_issues = places.open_rectifications(user, today).filter(
            grid.area_q("rental_house__region_id")
        )
        for issue in open_issues:
            hazards[issue.pk] = {
                "id": issue.pk,
                "rental_house": issue.rental_house_id,
                "house": issue.rental_house.address,
                "description": issue.hazard,
                "deadline": issue.deadline.isoformat(),
                "overdue": issue.deadline < today,
            }
    houses = (
        RentalHouse.objects.in_scope(user)
        .filter(areas_q(grids, "region_id"))
        .order_by("region_id", "address", "pk")
    )
    regions = Region.objects.filter(areas_q(grids, "code")).order_by("code")
    region = user.region
    bundle = {
        "user": {
            "id": user.pk,
            "username": user.username,
            "name": user.get_full_name() or user.username,
            "role": user.role,
            "region": user.region_id,
            "region_name": region.name if region is not None else "",
        },
        "generated_at": timezone.localtime().isoformat(),
        "actions": allowed_kinds(user),
        "grids": [{"id": grid.pk, "name": grid.name, "areas": grid.area_codes()} for grid in grids],
        "people": people,
        "todos": {
            "unverified": list(unverified.values()),
            "follow_ups": list(follow_ups.values()),
            "hazards": list(hazards.values()),
        },
        "rental_houses": [
            {
                "id": house.pk,
                "address": house.address,
                "landlord": house.landlord_name,
                "region": house.region_id,
            }
            for house in houses
        ],
        "picklists": {
            "regions": [{"code": r.code, "name": r.name} for r in regions],
            "reasons": [{"value": v, "label": str(label)} for v, label in REASON_CHOICES],
            "service_types": (
                [{"value": v, "label": str(label)} for v, label in ServiceType.choices]
                if can(user, RECORD_SERVICES)
                else []
            ),
            "sexes": [{"value": v, "label": str(label)} for v, label in SEX_CHOICES],
        },
        "keys": _keys(),
    }
    audit.record(
        Action.EXPORT,
        acting_user=user,
        object_type="people.person",
        region=user.region_id or "",
        detail={
            "format": "field bundle",
            "what": "people of the grid",
            "grids": [grid.pk for grid in grids],
            "areas": area_codes,
            "rows": len(people),
        },
    )
    return bundle
