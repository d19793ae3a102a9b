"""Business rules for person files: the four residence actions (arrival, departure, move
within the jurisdiction, return home), edits with optimistic locking, and the derived
fields (pinyin initials, floating). Web, API, importer and CLI call these functions.
"""

from __future__ import annotations

import dataclasses
import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong import events
from liudong.accounts.models import User
from liudong.accounts.roles import CAPABILITIES, CHANGE_PEOPLE
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.regions.models import Region
from liudong.regions.services import is_floating

from .models import Child, Person, ResidenceEpisode

if TYPE_CHECKING:
    from liudong.actors import Actor, Caller


PERSON_AUDIT_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "marital_status",
    "phone",
    "education",
    "household_region_id",
    "household_address",
    "residence_region_id",
    "residence_address",
    "is_floating",
    "spouse_id_number",
    "children_count",
    "version",
]
# The file's own fields an edit may change (its residence changes through the actions).
EDITABLE_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "marital_status",
    "phone",
    "education",
    "household_region",
    "household_address",
    "spouse_id_number",
    "children_count",
)
# The file's own fields an arrival form carries (the rest describe the stay).
ARRIVAL_PERSONAL_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "marital_status",
    "phone",
    "household_region",
    "household_address",
)
EPISODE_AUDIT_FIELDS = [
    "region_id",
    "address",
    "arrival_date",
    "reason",
    "employer",
    "housing",
    "departure_date",
    "verified_on",
    "destination_region_id",
    "destination_place",
]


@lru_cache(maxsize=20000)
def _initial(character: str) -> str:
    from pypinyin import Style, lazy_pinyin

    if character.isascii():
        return character.lower() if character.isalnum() else ""
    letters = lazy_pinyin(character, style=Style.FIRST_LETTER, errors="ignore")
    return letters[0][:1].lower() if letters and letters[0] else ""


def name_initials(name: str) -> str:
    """Pinyin initials for search (张伟 -> zw), a character at a time (cached): an import
    of a million names asks pypinyin only about the few thousand characters they use.
    Latin letters in a name are kept, lower-cased."""
    return "".join(_initial(character) for character in name)[:50]


def floating(household_region: str, residence_region: str | None) -> bool:
    """Floating by DESIGN.md §5; unknown whereabouts count as not floating here."""
    return (
        residence_region is not None
        and residence_region != ""
        and is_floating(household_region, residence_region)
    )


def refresh_derived(person: Person) -> None:
    """Recompute what is derived from other fields (call before every save)."""
    person.name_initials = name_initials(person.name)
    person.is_floating = floating(person.household_region_id, person.residence_region_id)


# A file is the caller's to change when one of its regions (registration, residence, the
# stay's) lies in the caller's region: authorize(actor, CHANGE_PEOPLE, *codes, outside=…).
FILE_OUTSIDE = gettext_lazy("This file lies outside your region %(region)s.")


def open_episode(person: Person) -> ResidenceEpisode | None:
    return person.episodes.filter(departure_date__isnull=True).first()


def _check_dates(person: Person, day: datetime.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date %(day)s is in the future.") % {"day": day}})
    if day < person.birth_date:
        raise ValidationError(
            {field: _("The date %(day)s is before the birth date.") % {"day": day}}
        )


def _record(
    action: str,
    person: Person,
    before: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    *,
    acting_user: Actor,
) -> None:
    audit.record(
        action,
        acting_user=acting_user,
        obj=person,
        region=person.residence_region_id or person.household_region_id,
        before=before,
        after=audit.snapshot(person, PERSON_AUDIT_FIELDS),
        detail=detail,
    )


@transaction.atomic
def register_arrival(
    *,
    acting_user: Actor,
    person: Person,
    region: Region,
    arrival_date: datetime.date,
    address: str = "",
    reason: str = "",
    employer: str = "",
    housing: str = "",
    verified_on: datetime.date | None = None,
    expected_version: int | None = None,
) -> ResidenceEpisode:
    """She arrived at ``region``: close the stay she had (departing the day she arrived)
    and open a new one. ``person`` may be unsaved (a first registration). With
    ``expected_version`` a file changed since the user saw it is refused (StaleWrite)."""
    authorize(acting_user, CHANGE_PEOPLE, region.code, outside=FILE_OUTSIDE)
    _check_dates(person, arrival_date, "arrival_date")
    if verified_on and verified_on < arrival_date:
        raise ValidationError({"verified_on": _("The verification date is before the arrival.")})
    creating = person.pk is None
    before = None if creating else audit.snapshot(person, PERSON_AUDIT_FIELDS)
    if not creating:
        current = open_episode(person)
        if current is not None:
            if arrival_date < current.arrival_date:
                raise ValidationError(
                    {
                        "arrival_date": _("The person's current stay began later, on %(day)s.")
                        % {"day": current.arrival_date}
                    }
                )
            current.departure_date = arrival_date
            current.save_versioned()
    person.residence_region = region
    person.residence_address = address
    refresh_derived(person)
    if creating:
        person.save()
    else:
        person.save_versioned(expected_version=expected_version)
    episode = ResidenceEpisode.objects.create(
        person=person,
        region=region,
        address=address,
        arrival_date=arrival_date,
        reason=reason,
        employer=employer,
        housing=housing,
        verified_on=verified_on,
    )
    _record(
        Action.CREATE if creating else Action.UPDATE,
        person,
        before,
        {"action": "arrival", "episode": episode.pk},
        acting_user=acting_user,
    )
    _publish_arrival(person, episode)
    return episode


def _publish_arrival(person: Person, episode: ResidenceEpisode) -> None:
    """Tell the subscribers (the exchange notifies her household registration place) that she
    lives somewhere new."""
    events.publish(
        events.ArrivalRegistered(
            id_number=person.id_number,
            name=person.name,
            sex=person.sex,
            birth_date=person.birth_date,
            household_region=person.household_region_id,
            residence_region=episode.region_id,
            arrival_date=episode.arrival_date,
            floating=person.is_floating,
        )
    )


@transaction.atomic
def register_departure(
    *,
    acting_user: Actor,
    person: Person,
    departure_date: datetime.date,
    destination_region: Region | None = None,
    destination_place: str = "",
    expected_version: int | None = None,
) -> ResidenceEpisode:
    """She left her current residence, for a place not known here or, when the office was
    told, for ``destination_region`` (any level) and/or ``destination_place`` (in words).
    The destination is kept on the ended stay; no file opens there (her arrival does)."""
    current = open_episode(person)
    if current is None:
        raise ValidationError(_("This person has no current residence to depart from."))
    authorize(acting_user, CHANGE_PEOPLE, current.region_id, outside=FILE_OUTSIDE)
    _check_dates(person, departure_date, "departure_date")
    if departure_date < current.arrival_date:
        raise ValidationError({"departure_date": _("The departure is before the arrival.")})
    if destination_region is not None and destination_region.code.startswith(current.region_id):
        # A place inside the one she leaves is no departure (a move within the
        # jurisdiction opens the new stay instead).
        raise ValidationError(
            {"destination_region": _("The destination lies inside the place she is leaving.")}
        )
    before = audit.snapshot(person, PERSON_AUDIT_FIELDS)
    current.departure_date = departure_date
    current.destination_region = destination_region
    current.destination_place = destination_place.strip()
    current.save_versioned()
    person.residence_region = None
    person.residence_address = ""
    refresh_derived(person)
    person.save_versioned(expected_version=expected_version)
    _record(
        Action.UPDATE,
        person,
        before,
        {
            "action": "departure",
            "episode": current.pk,
            "destination_region": current.destination_region_id,
            "destination_place": current.destination_place,
        },
        acting_user=acting_user,
    )
    events.publish(
        events.DepartureRecorded(
            id_number=person.id_number,
            household_region=person.household_region_id,
            residence_region=current.region_id,
            departure_date=current.departure_date,
        )
    )
    return current


# The roles that keep files (they register arrivals): the offices a destination falls to.
FILE_ROLES = tuple(
    role for role, capabilities in CAPABILITIES.items() if CHANGE_PEOPLE in capabilities
)


@dataclasses.dataclass(frozen=True)
class DestinationOffice:
    """What this system's offices at her destination see of her file once she left (no
    message is sent to them: a file follows her when her arrival there is registered).

    ``office``: the region of the office nearest the destination that uses this system
    (None: none does, the destination is served elsewhere or not at all); ``sees_file``:
    that office sees her file (she is registered in its region); ``over_both``: the nearest
    office whose region holds both the destination and her registration, which can
    register her arrival there when the destination office cannot see her file."""

    destination: Region
    office: Region | None
    sees_file: bool
    over_both: Region | None


def destination_office(person: Person, destination: Region) -> DestinationOffice:
    code = destination.code
    prefixes = [code[:n] for n in (2, 4, 6, 9, 12, 15) if n <= len(code)]
    # Only which regions have offices: no account is named or shown.
    offices = set(
        User.objects.filter(region_id__in=prefixes, role__in=FILE_ROLES, is_active=True)
        .values_list("region_id", flat=True)
        .distinct()
    )
    nearest = max(offices, key=len, default=None)
    over_both = max(
        (office for office in offices if person.household_region_id.startswith(office)),
        key=len,
        default=None,
    )
    regions = Region.objects.in_bulk([c for c in (nearest, over_both) if c])
    return DestinationOffice(
        destination=destination,
        office=regions.get(nearest) if nearest else None,
        sees_file=bool(nearest and person.household_region_id.startswith(nearest)),
        over_both=regions.get(over_both) if over_both else None,
    )


def move_within(
    *,
    acting_user: Actor,
    person: Person,
    region: Region,
    moved_on: datetime.date,
    address: str = "",
    expected_version: int | None = None,
) -> ResidenceEpisode:
    """She moved to another place inside the same jurisdiction (county)."""
    current = open_episode(person)
    if current is None or current.region_id[:6] != region.code[:6]:
        raise ValidationError(
            {
                "region": _(
                    "A move within the jurisdiction stays in the county of the current residence."
                )
            }
        )
    return register_arrival(
        acting_user=acting_user,
        person=person,
        region=region,
        arrival_date=moved_on,
        address=address,
        reason=current.reason,
        employer=current.employer,
        housing=current.housing,
        verified_on=current.verified_on,
        expected_version=expected_version,
    )


def return_home(
    *,
    acting_user: Actor,
    person: Person,
    returned_on: datetime.date,
    expected_version: int | None = None,
) -> ResidenceEpisode:
    """She came back to live at her household registration: no longer floating."""
    return register_arrival(
        acting_user=acting_user,
        person=person,
        region=person.household_region,
        arrival_date=returned_on,
        address=person.household_address,
        reason="other",
        expected_version=expected_version,
    )


@transaction.atomic
def correct_stay(
    *,
    acting_user: Actor,
    person: Person,
    address: str | None = None,
    employer: str | None = None,
    detail: dict | None = None,
) -> ResidenceEpisode:
    """Her current stay corrected in place: the same place, another address or employer
    (a correction, not a move: a move changes the region and opens a new stay)."""
    stay = open_episode(person)
    if stay is None:
        raise ValidationError(_("This person has no current residence to correct."))
    authorize(acting_user, CHANGE_PEOPLE, stay.region_id, outside=FILE_OUTSIDE)
    before = audit.snapshot(person, PERSON_AUDIT_FIELDS)
    stay_before = audit.snapshot(stay, EPISODE_AUDIT_FIELDS)
    if address is not None:
        stay.address = person.residence_address = address
        refresh_derived(person)
        person.save_versioned()
    if employer is not None:
        stay.employer = employer
    stay.save_versioned()
    _record(
        Action.UPDATE,
        person,
        before,
        {
            "action": "stay corrected",
            "episode": stay.pk,
            "episode_before": stay_before,
            "episode_after": audit.snapshot(stay, EPISODE_AUDIT_FIELDS),
            **(detail or {}),
        },
        acting_user=acting_user,
    )
    return stay


@transaction.atomic
def update_person(
    *, acting_user: Actor, person: Person, expected_version: int | None = None, **changes: Any
) -> Person:
    """Change a file's own fields (not its residence: that is what the actions are for)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    authorize(
        acting_user,
        CHANGE_PEOPLE,
        person.household_region_id,
        person.residence_region_id,
        outside=FILE_OUTSIDE,
    )
    before = audit.snapshot(person, PERSON_AUDIT_FIELDS)
    moved_from = person.household_region_id
    for name, value in changes.items():
        setattr(person, name, value)
    refresh_derived(person)
    person.save_versioned(expected_version=expected_version)
    _record(Action.UPDATE, person, before, acting_user=acting_user)
    if person.household_region_id != moved_from:
        # Her household registration moved (户口迁移): what she receives there may end
        # (the programmes listen); where she lives is the residence actions' business.
        events.publish(
            events.HouseholdMoved(
                id_number=person.id_number,
                from_region=moved_from,
                to_region=person.household_region_id,
                moved_on=timezone.localdate(),
            )
        )
    return person


def view_person(*, acting_user: Actor, person: Person, via: str) -> None:
    """Opening a file shows the full ID number: every such view is logged."""
    audit.record_view(
        acting_user=acting_user,
        obj=person,
        region=person.residence_region_id or person.household_region_id,
        via=via,
    )


def find_for_arrival(user: Caller, id_number: str) -> Person | None:
    """The file an arrival with this ID number belongs to: one in the user's scope (a merged
    file leads to the file it was merged into), None for a new person. A number on file
    outside the scope is refused without saying whose it is or where."""
    scoped = Person.objects.in_scope(user)
    person = scoped.filter(id_number=id_number).select_related("merged_into").first()
    if person is not None and person.merged_into_id:
        person = scoped.filter(pk=person.merged_into_id).first()
        if person is None:
            raise ValidationError(
                _("This ID number belongs to a file merged into another one."), code="merged"
            )
    if person is None and Person.objects.filter(id_number=id_number).exists():
        raise ValidationError(
            _(
                "This ID number is on file outside your region; it cannot be registered "
                "here. Ask the county office to hand the file over."
            ),
            code="elsewhere",
        )
    return person


@transaction.atomic
def save_arrival(*, acting_user: Actor, data: dict, person: Person | None) -> ResidenceEpisode:
    """Register the arrival of a new person, or of one on file (updating the file's own
    fields first where the form differs: all of them when it was filled in from the file,
    only those given otherwise)."""
    personal = {name: data[name] for name in ARRIVAL_PERSONAL_FIELDS}
    if person is None:
        person = Person(
            id_number=data["id_number"], id_check_failed=data["id_check_failed"], **personal
        )
    else:
        prefilled = data.get("person_version") is not None
        changes = {
            name: value
            for name, value in personal.items()
            if (prefilled or value not in ("", None)) and getattr(person, name) != value
        }
        if changes:
            update_person(
                acting_user=acting_user,
                person=person,
                expected_version=data.get("person_version") or person.version,
                **changes,
            )
    return register_arrival(
        acting_user=acting_user,
        person=person,
        region=data["residence_region"],
        arrival_date=data["arrival_date"],
        address=data["residence_address"],
        reason=data["reason"],
        employer=data["employer"],
    )


@transaction.atomic
def open_outflow_file(*, acting_user: Actor, data: dict) -> Person:
    """Open the file of someone registered in the caller's region who lives elsewhere
    (``data["residence_region"]`` anywhere, or None when not known), as the registration
    township does by hand. With a place she has a stay there from ``arrival_date`` and is
    floating, so outflow counts her (PersonQuerySet.outflow, the statistics' stays); where
    she lives unknown, the file is kept but no floating figure counts her (DESIGN.md §5:
    floating is a residence in another county)."""
    household: Region = data["household_region"]
    authorize(acting_user, CHANGE_PEOPLE, household.code, outside=FILE_OUTSIDE)
    if Person.objects.filter(id_number=data["id_number"]).exists():
        raise ValidationError({"id_number": _("This ID number is already on file.")})
    region: Region | None = data.get("residence_region")
    person = Person(
        id_number=data["id_number"],
        id_check_failed=data["id_check_failed"],
        **{name: data[name] for name in ARRIVAL_PERSONAL_FIELDS},
    )
    if region is None:
        refresh_derived(person)
        person.save()
        _record(Action.CREATE, person, None, {"action": "outflow opened"}, acting_user=acting_user)
        return person
    if not floating(household.code, region.code):
        raise ValidationError(
            {
                "residence_region": _(
                    "She lives in the county of her registration, so she is not floating: "
                    "register an arrival instead."
                )
            }
        )
    if data.get("arrival_date") is None:
        raise ValidationError({"arrival_date": _("Give the day she began to live there.")})
    _check_dates(person, data["arrival_date"], "arrival_date")
    person.residence_region = region
    person.residence_address = data.get("residence_address", "")
    refresh_derived(person)
    person.save()
    episode = ResidenceEpisode.objects.create(
        person=person,
        region=region,
        address=person.residence_address,
        arrival_date=data["arrival_date"],
        reason=data.get("reason", ""),
        employer=data.get("employer", ""),
    )
    _record(
        Action.CREATE,
        person,
        None,
        {"action": "outflow opened", "episode": episode.pk},
        acting_user=acting_user,
    )
    _publish_arrival(person, episode)
    return person


CHILD_AUDIT_FIELDS = ["parent_id", "name", "sex", "birth_date", "birth_order", "birth_place"]


@transaction.atomic
def add_child(*, acting_user: Actor, parent: Person, **values: Any) -> Child:
    """Record a child of a person on file: vital statistics only (DESIGN.md §2.1)."""
    authorize(
        acting_user,
        CHANGE_PEOPLE,
        parent.household_region_id,
        parent.residence_region_id,
        outside=FILE_OUTSIDE,
    )
    child = Child.objects.create(parent=parent, **values)
    audit.record(
        Action.CREATE,
        acting_user=acting_user,
        obj=child,
        region=parent.residence_region_id or parent.household_region_id,
        after=audit.snapshot(child, CHILD_AUDIT_FIELDS),
    )
    events.publish(
        events.ChildRecorded(
            parent_id_number=parent.id_number,
            parent_household_region=parent.household_region_id,
            parent_residence_region=parent.residence_region_id,
            birth_date=child.birth_date,
            sex=child.sex,
        )
    )
    return child
