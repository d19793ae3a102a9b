"""The office's side of her access code: issue one (revoking the earlier ones), revoke them.

Issuing is a change to her file: the office needs CHANGE_PEOPLE in a region of her file
(registration or residence), like any other change. The audit entry names the code's row and
its validity, never the code.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.actors import Actor, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.people.models import Person
from liudong.people.services import FILE_OUTSIDE

from . import codes
from .models import AccessCode

DEFAULT_DAYS = 30


def code_days() -> int:
    return int(getattr(settings, "RESIDENT_CODE_DAYS", DEFAULT_DAYS))


def _authorize(acting_user: Actor, person: Person) -> None:
    authorize(
        acting_user,
        CHANGE_PEOPLE,
        person.household_region_id,
        person.residence_region_id,
        outside=FILE_OUTSIDE,
    )


def _region(person: Person) -> str:
    return person.residence_region_id or person.household_region_id


def issue_code(
    *, acting_user: Actor, person: Person, days: int | None = None
) -> tuple[str, AccessCode]:
    """A new code for her, valid ``days`` (RESIDENT_CODE_DAYS by default); her earlier codes
    stop working. Returns the code in clear (shown once, never stored) and its row."""
    _authorize(acting_user, person)
    days = code_days() if days is None else days
    if not 1 <= days <= 366:
        raise ValueError("days must lie between 1 and 366")
    code = codes.new_code()
    now = timezone.now()
    with transaction.atomic():
        revoked = _revoke(person, now)
        access = AccessCode.objects.create(
            person=person,
            code_hash=make_password(code),
            valid_until=now + datetime.timedelta(days=days),
            issued_by=account_of(acting_user),
            issued_at=now,
        )
        audit.record(
            Action.CREATE,
            acting_user=acting_user,
            obj=access,
            object_repr=str(access),
            region=_region(person),
            detail={
                "person": person.pk,
                "valid_until": access.valid_until.isoformat(),
                "revoked_earlier": revoked,
            },
        )
    return code, access


def _revoke(person: Person, now: datetime.datetime) -> int:
    return AccessCode.objects.filter(person=person, revoked_at__isnull=True).update(revoked_at=now)


def revoke_codes(*, acting_user: Actor, person: Person) -> int:
    """Every usable code of hers stops working now (she lost the slip, someone else saw it)."""
    _authorize(acting_user, person)
    with transaction.atomic():
        count = _revoke(person, timezone.now())
        if count:
            audit.record(
                Action.UPDATE,
                acting_user=acting_user,
                object_type="residents.accesscode",
                object_id="",
                object_repr=f"access codes of person {person.pk}",
                region=_region(person),
                detail={"person": person.pk, "revoked": count},
            )
    return count
