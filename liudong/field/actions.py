"""One handler per kind of field action: the phone's ``data`` through the same form and
the same service function the online page uses, so an action done offline meets no weaker
rule than one done online.

A handler returns what changed (``{"object": ..., "message": ...}``) or raises: a Django
``ValidationError`` / ``PermissionDenied`` (refused: a rule), ``Refused`` (refused with
the phone's field names), ``Conflict`` (the file changed since the phone's bundle, or she
was registered meanwhile) or ``StaleWrite`` (the same, found at the save). Beyond the
online rules, the phone works in its grid: a file or a house outside the account's grids
is refused with the same words as one that does not exist, so nothing is revealed.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.certificates import verification as certificates
from liudong.certificates.models import Method
from liudong.people import services as people
from liudong.people.forms import ArrivalForm, DepartureForm, person_initial
from liudong.people.models import Person
from liudong.places import services as places
from liudong.places.forms import RectifyForm, SafetyIssueForm
from liudong.places.models import RentalHouse, SafetyIssue
from liudong.regions.models import Grid
from liudong.services.forms import ServiceRecordForm
from liudong.services.records import services as record_services

from .bundle import areas_q, field_grids
from .models import Kind

if TYPE_CHECKING:
    from liudong.accounts.models import User


class Refused(Exception):
    """A rule refused the action: ``errors`` by the phone's field names."""

    def __init__(self, errors: dict[str, list[str]], message: str = "") -> None:
        self.errors = errors
        self.message = message or " ".join(m for ms in errors.values() for m in ms)
        super().__init__(self.message)


class Conflict(Exception):
    """The file changed since the phone's bundle, or she is on file already. ``person``:
    the current file, when the account may see it (None: say nothing of whose or where)."""

    def __init__(self, message: str, person: Person | None = None) -> None:
        self.message = message
        self.person = person
        super().__init__(message)


def _not_in_grid(field: str) -> Refused:
    return Refused({field: [_("Not found in your grid: it may not be recorded from the phone.")]})


def form_errors(form: forms.BaseForm, names: dict[str, str] | None = None) -> dict[str, list[str]]:
    """A form's errors by the phone's field names (``names``: form field → phone field)."""
    names = names or {}
    found: dict[str, list[str]] = {}
    for field, errors in form.errors.items():
        key = "non_field_errors" if field == "__all__" else names.get(field, field)
        found.setdefault(key, []).extend(str(error) for error in errors)
    return found


def _grids(user: User) -> list[Grid]:
    """The account's grids, read once per request (a sync of 100 actions asks for each)."""
    cached = getattr(user, "_field_grids", None)
    if cached is None:
        cached = field_grids(user)
        user._field_grids = cached  # type: ignore[attr-defined]
    return cached


def _person_in_grid(user: User, value: object, field: str = "person") -> Person:
    """The file ``value`` names, in the account's scope and living in its grid."""
    if value is None:
        raise Refused({field: [_("Choose the person from the list.")]})
    key = _key(value)
    if key is None:
        raise _not_in_grid(field)
    person = (
        Person.objects.in_scope(user)
        .filter(pk=key, merged_into__isnull=True)
        .filter(areas_q(_grids(user), "episodes__region_id"), episodes__departure_date__isnull=True)
        .first()
    )
    if person is None:
        raise _not_in_grid(field)
    return person


def _in_grid(user: User, code: str) -> bool:
    return any(code.startswith(area) for grid in _grids(user) for area in grid.area_codes())


def _check_version(person: Person, seen: object) -> None:
    if seen is not None and seen != person.version:
        raise Conflict(
            _(
                "The file was changed after your phone loaded it "
                "(version %(theirs)s, yours %(yours)s)."
            )
            % {"theirs": person.version, "yours": seen},
            person,
        )


def _as_form_value(value: object) -> object:
    """A JSON value as a form reads a posted one, as text: a number, a list or an object
    where a date or a choice is expected is then refused by the field, never an error."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _key(value: object) -> int | None:
    """A database key the phone sent: a positive JSON integer within the column's range
    (a larger number is not found, rather than an overflow), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    return None


# --- arrival -------------------------------------------------------------------------------

# The online arrival form's fields: the ID number, the file's own fields, then the stay's.
ARRIVAL_FIELDS = (
    "id_number",
    *people.ARRIVAL_PERSONAL_FIELDS,
    "residence_region",
    "residence_address",
    "arrival_date",
    "reason",
    "employer",
)


def arrival(user: User, data: dict[str, Any], done_on: datetime.date) -> dict[str, Any]:
    """A new file, or a new stay on a file the phone had (``person``, ``person_version``)."""
    values = {name: _as_form_value(data.get(name)) for name in ARRIVAL_FIELDS}
    known = data.get("person")
    if known is not None:
        person = _person_in_grid(user, known)
        _check_version(person, data.get("person_version"))
        # The phone holds a masked number only: the file's own fields fill what it left out.
        initial = {k: "" if v is None else v for k, v in person_initial(person).items()}
        values = {**initial, **{k: v for k, v in values.items() if v not in ("", None)}}
        values["id_number"] = person.id_number
        values["person_version"] = person.version
    form = ArrivalForm(values, user=user)
    valid = form.is_valid()
    codes = {error.code for error in form.errors.as_data().get("id_number", [])}
    if "elsewhere" in codes:
        # Never whose or where: another region's office holds her file.
        raise Conflict(
            _(
                "She was registered meanwhile by another region's office: her arrival here "
                "cannot be recorded from the phone. Ask the county office to hand the file over."
            )
        )
    if known is None and form.person is not None:
        raise Conflict(
            _(
                "She is on file already (registered meanwhile): check her file, "
                "then apply yours to it."
            ),
            form.person,
        )
    if not valid:
        raise Refused(form_errors(form))
    region = form.cleaned_data["residence_region"]
    if not _in_grid(user, region.code):
        raise _not_in_grid("residence_region")
    episode = form.save()
    person = Person.objects.in_scope(user).get(pk=episode.person_id)
    return {
        "object": {"type": "person", "id": person.pk, "version": person.version},
        "message": _("Arrival of %(name)s recorded.") % {"name": person.name},
    }


# --- departure -----------------------------------------------------------------------------


def departure(user: User, data: dict[str, Any], done_on: datetime.date) -> dict[str, Any]:
    person = _person_in_grid(user, data.get("person"))
    seen = data.get("person_version")
    if seen is None:
        raise Refused({"person_version": [_("The phone did not say which version it saw.")]})
    _check_version(person, seen)
    form = DepartureForm(
        {
            "version": seen,
            "departure_date": _as_form_value(data.get("departure_date")),
            "destination_region": _as_form_value(data.get("destination_region")),
            "destination_place": _as_form_value(data.get("destination_place")),
        },
        person=person,
    )
    if not form.is_valid():
        raise Refused(form_errors(form))
    cleaned = form.cleaned_data
    people.register_departure(
        acting_user=user,
        person=person,
        departure_date=cleaned["departure_date"],
        destination_region=cleaned["destination_region"],
        destination_place=cleaned["destination_place"],
        expected_version=cleaned["version"],
    )
    person.refresh_from_db()
    return {
        "object": {"type": "person", "id": person.pk, "version": person.version},
        "message": _("Departure of %(name)s recorded.") % {"name": person.name},
    }


# --- verification --------------------------------------------------------------------------


def verification(user: User, data: dict[str, Any], done_on: datetime.date) -> dict[str, Any]:
    """Her certificate checked at her residence, on the day the phone did it (checked again
    here: the phone's own conclusion is informative only)."""
    method = data.get("method")
    if method not in (Method.QR, Method.NUMBER):
        raise Refused({"method": [_("Choose QR code or certificate number.")]})
    person = None
    if data.get("person") is not None:
        person = _person_in_grid(user, data["person"])
    payload = str(data.get("payload") or "").strip()
    number = str(data.get("number") or "").strip()
    if method == Method.QR and not payload:
        raise Refused({"payload": [_("Scan or paste the QR code.")]})
    if method == Method.NUMBER and not number:
        raise Refused({"number": [_("Type the certificate number.")]})
    done = certificates.verify_at_residence(
        acting_user=user,
        method=method,
        person=person,
        payload=payload or None,
        number=number or None,
        today=done_on,
    )
    if not _in_grid(user, done.region_id):
        raise _not_in_grid("person")
    return {
        "object": {"type": "verification", "id": done.pk, "person": done.person_id},
        "message": _("Certificate %(number)s verified for %(name)s.")
        % {"number": done.number, "name": done.person.name},
    }


# --- service -------------------------------------------------------------------------------

SERVICE_NAMES = {"date": "given_on", "consent_recorded": "consent", "id_number": "person"}


def service(user: User, data: dict[str, Any], done_on: datetime.date) -> dict[str, Any]:
    """A service she asked for or accepted: the online form's rules, her consent first."""
    person = _person_in_grid(user, data.get("person"))
    form = ServiceRecordForm(
        {
            "id_number": person.id_number,
            "service_type": _as_form_value(data.get("service_type")),
            "date": _as_form_value(data.get("given_on")),
            "provider_name": _as_form_value(data.get("provider_name")),
            "free_of_charge": bool(data.get("free_of_charge", True)),
            # A JSON true only: "false" or 1 is no record of her consent.
            "consent_recorded": data.get("consent") is True,
            "contraceptive_method": _as_form_value(data.get("contraceptive_method")),
            "contraceptive_method_other": _as_form_value(data.get("contraceptive_method_other")),
        },
        user=user,
        with_person=True,
        with_result=False,
    )
    if not form.is_valid():
        raise Refused(form_errors(form, SERVICE_NAMES))
    try:
        record = record_services.create_service_record(
            acting_user=user, person=form.person, **form.values()
        )
    except ValidationError as exc:
        raise _renamed(exc, SERVICE_NAMES) from exc
    return {
        "object": {"type": "service_record", "id": record.pk, "person": person.pk},
        "message": _("Service to %(name)s recorded.") % {"name": person.name},
    }


def _renamed(exc: ValidationError, names: dict[str, str]) -> Refused:
    if hasattr(exc, "error_dict"):
        return Refused(
            {
                names.get(field, field): list(ValidationError(errors).messages)
                for field, errors in exc.error_dict.items()
            }
        )
    return Refused({"non_field_errors": list(exc.messages)})


# --- hazards -------------------------------------------------------------------------------

HAZARD_NAMES = {"hazard": "description", "place": "rental_house", "notes": "note"}


def hazard(user: User, data: dict[str, Any], done_on: datetime.date) -> dict[str, Any]:
    key = _key(data.get("rental_house"))
    house = None
    if key is not None:
        house = (
            RentalHouse.objects.in_scope(user)
            .filter(areas_q(_grids(user), "region_id"), pk=key)
            .first()
        )
    if house is None:
        raise _not_in_grid("rental_house")
    form = SafetyIssueForm(
        {
            "hazard": _as_form_value(data.get("description")),
            "found_on": _as_form_value(data.get("found_on")),
            "deadline": _as_form_value(data.get("deadline")),
            "notes": _as_form_value(data.get("note")),
        },
        user=user,
        place=house,
    )
    if not form.is_valid():
        raise Refused(form_errors(form, HAZARD_NAMES))
    try:
        issue = places.create_safety_issue(acting_user=user, **form.values())
    except ValidationError as exc:
        raise _renamed(exc, HAZARD_NAMES) from exc
    return {
        "object": {"type": "safety_issue", "id": issue.pk, "version": issue.version},
        "message": _("Hazard at %(house)s recorded.") % {"house": house.address},
    }


def rectification(user: User, data: dict[str, Any], done_on: datetime.date) -> dict[str, Any]:
    key = _key(data.get("safety_issue"))
    issue = None
    if key is not None:
        issue = (
            SafetyIssue.objects.in_scope(user)
            .filter(areas_q(_grids(user), "rental_house__region_id"), pk=key)
            .select_related("rental_house")
            .first()
        )
    if issue is None:
        raise _not_in_grid("safety_issue")
    seen = data.get("version", issue.version)
    if _key(seen) is None:
        raise Refused({"version": [_("The phone did not say which version it saw.")]})
    form = RectifyForm({"rectified_on": _as_form_value(data.get("rectified_on")), "version": seen})
    if not form.is_valid():
        raise Refused(form_errors(form))
    changes: dict[str, Any] = {"rectified_on": form.cleaned_data["rectified_on"]}
    note = str(data.get("note") or "").strip()
    if note:
        changes["notes"] = f"{issue.notes}\n{note}".strip()
    try:
        issue = places.update_safety_issue(
            issue, acting_user=user, expected_version=form.cleaned_data["version"], **changes
        )
    except ValidationError as exc:
        raise _renamed(exc, {"notes": "note"}) from exc
    return {
        "object": {"type": "safety_issue", "id": issue.pk, "version": issue.version},
        "message": _("Rectification at %(house)s recorded.")
        % {"house": issue.rental_house.address},
    }


HANDLERS: dict[str, Callable[[User, dict[str, Any], datetime.date], dict[str, Any]]] = {
    Kind.ARRIVAL: arrival,
    Kind.DEPARTURE: departure,
    Kind.VERIFICATION: verification,
    Kind.SERVICE: service,
    Kind.HAZARD: hazard,
    Kind.RECTIFICATION: rectification,
}


def day_done(done_at: datetime.datetime) -> datetime.date:
    """The day the phone did it, never later than the server's today (a phone clock ahead
    does not date a check in the future)."""
    return min(timezone.localdate(done_at), timezone.localdate())
