"""She asks for a correction of her file; the office holding it answers (issue 19 item 4,
PIPL art. 46).

:func:`ask` is hers (the resident actor); :func:`accept` and :func:`refuse` are the office's
(a staff account that may change her file). An accepted request changes her file through
the person services (audited, version checked), so she sees the new value on her page. The
office has :data:`WORKING_DAYS` working days to answer; the statistics count the requests
answered by then (``stats`` population ``corrections``).

Working days: the project keeps no holiday calendar (the exchange and the notices count
calendar days), so a working day here is Monday to Friday; a list of public holidays
(setting ``PUBLIC_HOLIDAYS``, ISO dates) is skipped too when one is configured.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.actors import Actor, Resident, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.exchange.models import Peer
from liudong.people import services as people
from liudong.people.models import (
    EDUCATION_CHOICES,
    CorrectionRequest,
    Person,
    ResidenceEpisode,
)
from liudong.people.template import ETHNICITY_CHOICES, MARITAL_CHOICES
from liudong.regions.models import Region

from .audit import record_for

WORKING_DAYS = 15
NOTE_MAX = 500

# What she may ask to correct: the fields of her file the office keeps from what she
# tells it. Her name as written here (a typing error; the office checks it against her ID
# card). Her ID number, and the birth date and sex it encodes, are the police's record:
# the office cannot change them (people.services keeps them in step with the ID number).
FIELDS: dict[str, Promise] = {
    "residence_address": gettext_lazy("address where you live"),
    "phone": gettext_lazy("phone number"),
    "household_address": gettext_lazy("household registration address"),
    "marital_status": gettext_lazy("marital status"),
    "name": gettext_lazy("name as written"),
    "education": gettext_lazy("education"),
    "ethnicity": gettext_lazy("ethnicity"),
}
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "marital_status": MARITAL_CHOICES,
    "education": EDUCATION_CHOICES,
    "ethnicity": ETHNICITY_CHOICES,
}
MAX_LENGTH = {"residence_address": 200, "household_address": 200, "phone": 20, "name": 50}
POLICE_FIELDS = {
    "id_number": gettext_lazy("ID number"),
    "birth_date": gettext_lazy("birth date"),
    "sex": gettext_lazy("sex"),
}


def working_days_after(start: datetime.date, days: int = WORKING_DAYS) -> datetime.date:
    """The day ``days`` working days after ``start`` (``start`` itself not counted)."""
    holidays = {datetime.date.fromisoformat(d) for d in getattr(settings, "PUBLIC_HOLIDAYS", ())}
    day = start
    while days > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            days -= 1
    return day


def shown_value(person: Person, field: str) -> str:
    """The value of ``field`` as her page shows it (a choice by its words)."""
    value = getattr(person, field, "") or ""
    return str(dict(CHOICES.get(field, ())).get(value, value))


@dataclass(frozen=True)
class Elsewhere:
    """Her file is kept by another node now: where she should ask."""

    office: str


def kept_elsewhere(resident: Resident, person: Person) -> Elsewhere | None:
    """She left for a place another node serves (her stay ended with a destination under a
    peer's regions, and she lives nowhere this node serves): that node keeps her file now
    (her arrival there opened it), so a correction is theirs to make."""
    if person.residence_region_id:
        return None
    last = (
        ResidenceEpisode.objects.in_scope(resident)
        .filter(destination_region__isnull=False)
        .order_by("-departure_date", "-id")
        .first()
    )
    if last is None:
        return None
    code = last.destination_region_id or ""
    peers = [p for p in Peer.objects.filter(active=True) if code.startswith(p.region_prefix)]
    if not peers:
        return None
    peer = max(peers, key=lambda p: len(p.region_prefix))
    # The office named by its place: the nearest region of the destination we know by name
    # at or below the peer's (the township she moved to, else the peer's whole region).
    names = dict(
        Region.objects.filter(
            code__in=[code[:n] for n in (2, 4, 6, 9, 12, 15) if n <= len(code)]
        ).values_list("code", "name")
    )
    township = names.get(code[:9]) or names.get(peer.region_prefix) or code
    return Elsewhere(office=township)


def holding_region(person: Person) -> Region:
    """The township whose work list her request lands in (CorrectionRequest's docstring):
    her residence's while she lives here, else her household registration's."""
    code = person.residence_region_id or person.household_region_id
    return Region.objects.filter(code=code[:9]).first() or Region.objects.get(code=code)


def _refuse(code: str, message: str) -> ValidationError:
    """A refusal of the request as such (on its ``field``), with a code tests and pages
    tell apart: police, elsewhere, not_correctable, already_asked."""
    return ValidationError({"field": ValidationError(message, code=code)})


@transaction.atomic
def ask(resident: Resident, field: str, value: str, note: str) -> CorrectionRequest:
    """Her request: ``field`` of her file should read ``value``; ``note`` says why."""
    if not isinstance(resident, Resident):
        raise PermissionDenied(_("Only she herself asks for a correction of her file."))
    person = Person.objects.in_scope(resident).get()
    if field in POLICE_FIELDS:
        raise _refuse(
            "police",
            _(
                "Your %(field)s is recorded by the police (public security): to correct it, "
                "please ask at a police station."
            )
            % {"field": POLICE_FIELDS[field]},
        )
    if field not in FIELDS:
        raise _refuse("not_correctable", _("This cannot be corrected here."))
    elsewhere = kept_elsewhere(resident, person)
    if elsewhere is not None:
        raise _refuse(
            "elsewhere",
            _("Your file is now kept by the office of %(office)s: please ask there.")
            % {"office": elsewhere.office},
        )
    value = (value or "").strip()
    note = (note or "").strip()
    errors: dict[str, str] = {}
    if not value:
        errors["value"] = _("Write what it should say.")
    elif field in CHOICES and value not in dict(CHOICES[field]):
        errors["value"] = _("Choose one of the values offered.")
    elif len(value) > MAX_LENGTH.get(field, 200):
        errors["value"] = _("At most %(n)d characters.") % {"n": MAX_LENGTH.get(field, 200)}
    elif value == (getattr(person, field, "") or ""):
        errors["value"] = _("Your file already says this.")
    if not note:
        errors["note"] = _(
            "Say in a few words why (for example, where the right value is written)."
        )
    elif len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.") % {"n": NOTE_MAX}
    if errors:
        raise ValidationError(errors)
    if (
        CorrectionRequest.objects.in_scope(resident)
        .filter(field=field, status=CorrectionRequest.Status.OPEN)
        .exists()
    ):
        raise _refuse(
            "already_asked", _("You already asked for this; the office has not answered yet.")
        )
    region = holding_region(person)
    request = CorrectionRequest(
        person=person,
        field=field,
        current_value=shown_value(person, field),
        requested_value=value,
        note=note,
        deadline=working_days_after(timezone.localdate()),
        holding_region=region,
    )
    request.save()
    record_for(
        resident,
        Action.CREATE,
        obj=request,
        region=region.code,
        detail={"field": field, "deadline": request.deadline.isoformat()},
    )
    return request


def _answerable(acting_user: Actor, request: CorrectionRequest) -> None:
    authorize(
        acting_user,
        CHANGE_PEOPLE,
        request.holding_region_id,
        outside=gettext_lazy("This request lies outside your region %(region)s."),
    )
    if request.status != CorrectionRequest.Status.OPEN:
        raise ValidationError(_("This request has been answered already."))


def _answered(acting_user: Actor, request: CorrectionRequest, expected_version: int | None) -> None:
    request.answered_by = account_of(acting_user)
    request.answered_at = timezone.now()
    request.answered_on = timezone.localdate(request.answered_at)
    request.save_versioned(expected_version=expected_version)
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=request,
        region=request.holding_region_id,
        before={"status": CorrectionRequest.Status.OPEN},
        after={"status": request.status, "reason": request.reason},
        detail={"field": request.field, "on_time": request.answered_on_time},
    )


@transaction.atomic
def accept(
    acting_user: Actor, request: CorrectionRequest, *, expected_version: int | None = None
) -> CorrectionRequest:
    """The office corrects her file as she asked: through the person services (audited,
    the file's version checked), so she sees the new value."""
    _answerable(acting_user, request)
    person = Person.objects.in_scope(acting_user).select_for_update().get(pk=request.person_id)
    if request.field == "residence_address":
        people.correct_stay(
            acting_user=acting_user,
            person=person,
            address=request.requested_value,
            detail={"correction": request.pk},
        )
    else:
        people.update_person(
            acting_user=acting_user,
            person=person,
            expected_version=person.version,
            **{request.field: request.requested_value},
        )
    request.status = CorrectionRequest.Status.ACCEPTED
    _answered(acting_user, request, expected_version)
    return request


@transaction.atomic
def refuse(
    acting_user: Actor,
    request: CorrectionRequest,
    reason: str,
    *,
    expected_version: int | None = None,
) -> CorrectionRequest:
    """The office keeps her file as it is and tells her why (she reads the reason)."""
    _answerable(acting_user, request)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tell her why: she reads it.")})
    if len(reason) > NOTE_MAX:
        raise ValidationError({"reason": _("At most %(n)d characters.") % {"n": NOTE_MAX}})
    request.status = CorrectionRequest.Status.REFUSED
    request.reason = reason
    _answered(acting_user, request, expected_version)
    return request
