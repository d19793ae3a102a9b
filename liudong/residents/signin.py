"""The ONE place that decides who she is when she signs in as herself.

:func:`identify` takes what she typed (ID number, the proof of identity, birth date) and her
address, and returns :class:`~liudong.actors.Resident` or raises :class:`SignInRefused`
with one message whatever was wrong (an unknown ID number, a wrong code or birth date, an
expired or revoked code): the page gives no hint which. Attempts are throttled per ID number
(``RESIDENT_ID_MAX_FAILURES`` failures within ``LOGIN_LOCK_MINUTES`` lock that ID number
from everywhere) and per address (the staff login's counters, ``accounts.throttle``: a
guesser cannot switch pages to double their tries). The work is about the same whether the
ID number is on file or not: one hash check is always made.

How she proves who she is is a *method* named by the setting ``RESIDENT_SIGN_IN_METHOD``
(a dotted path to a :class:`Method`). Today it is :class:`AccessCodeMethod`: the office's
printed code. An SMS code sent to the phone on her file, or the national government app's
login, replaces it by writing another ``Method`` and naming it in the setting; the
throttling, the birth-date check, the audit and her session stay as they are.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import Protocol

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from liudong.accounts import throttle
from liudong.accounts.models import LoginThrottle
from liudong.actors import OPERATOR, Resident
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people.idnumbers import mask
from liudong.people.models import Person

from . import audit as her_audit
from . import codes
from .models import AccessCode

DEFAULT_METHOD = "liudong.residents.signin.AccessCodeMethod"
DEFAULT_ID_MAX_FAILURES = 5


class SignInRefused(Exception):
    """She is not signed in; ``str()`` is what the page says (the same for every wrong
    input). ``locked_until`` is set when the throttle holds."""

    def __init__(self, message: str, *, locked_until: datetime.datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


class Method(Protocol):
    """How she proves she is the person of the file (besides her birth date)."""

    name: str

    def verify(self, person: Person | None, proof: str, now: datetime.datetime) -> str:
        """ "" when ``proof`` holds for ``person``, else a reason for the audit log only
        (never shown to her). ``person`` None: do the same work and refuse."""
        ...

    def used(self, person: Person, now: datetime.datetime) -> None:
        """She signed in with it: note that (e.g. the code's last use)."""
        ...


# A hash made once per process to check against when the ID number is not on file: the
# refusal then costs what a real check costs.
_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(make_password(codes.new_code()))
    return _DUMMY[0]


class AccessCodeMethod:
    """The printed access code from the office holding her file (``services.issue_code``):
    her latest code, not revoked, not expired, not used yet (one sign-in per code)."""

    name = "access-code"

    def verify(self, person: Person | None, proof: str, now: datetime.datetime) -> str:
        latest = (
            AccessCode.objects.in_scope(OPERATOR).filter(person=person).first()
            if person is not None
            else None
        )
        matches = check_password(
            codes.normalise(proof), latest.code_hash if latest else _dummy_hash()
        )
        if person is None:
            return "unknown ID number"
        if latest is None:
            return "no code issued"
        if not matches:
            return "wrong code"
        if latest.revoked_at is not None:
            return "code revoked"
        if latest.last_used_at is not None:
            # A one-time code (issue 19): a slip found later opens nothing. Her next visit
            # needs a new code, the price of a printed code; an SMS replaces it later.
            return "code already used"
        if latest.valid_until <= now:
            return "code expired"
        return ""

    def used(self, person: Person, now: datetime.datetime) -> None:
        AccessCode.objects.in_scope(OPERATOR).filter(person=person).usable(now).update(
            last_used_at=now
        )


def method() -> Method:
    return import_string(getattr(settings, "RESIDENT_SIGN_IN_METHOD", DEFAULT_METHOD))()


def refused_message() -> str:
    return _(
        "These details do not match a file, or the code is no longer valid. Check them, "
        "or ask the office that gave you the code for a new one."
    )


def _id_key(id_number: str) -> str:
    """The per-ID-number throttle's key: a keyed hash, so the table never holds the number."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"resident-sign-in:" + id_number.encode(), hashlib.sha256
    )
    return "resident:" + digest.hexdigest()[:40]


# The per-ID-number counter lives in the staff login's table under this address: it counts
# failures for that ID number from every address together.
ANY_ADDRESS = "*"


def _id_locked_until(key: str, now: datetime.datetime) -> datetime.datetime | None:
    row = LoginThrottle.objects.filter(username=key, address=ANY_ADDRESS).first()
    if row and row.locked_until and row.locked_until > now:
        return row.locked_until
    return None


def _lock_message(until: datetime.datetime) -> str:
    return _("Too many attempts: try again after %(time)s.") % {
        "time": timezone.localtime(until).strftime("%H:%M")
    }


def _normal_id(id_number: str) -> str:
    return id_number.strip().upper()


def identify(
    id_number: str, proof: str, birth_date: datetime.date | None, address: str
) -> Resident:
    """Who she is, or SignInRefused. Every attempt is in the audit log: a success under her
    name, a failure with her ID number masked and never the code."""
    number = _normal_id(id_number)
    key = _id_key(number)
    now = timezone.now()
    throttle.flush()
    ends = [t for t in (_id_locked_until(key, now), throttle.locked_until(address, now=now)) if t]
    if ends:
        throttle.count_refused(address)
        raise SignInRefused(_lock_message(max(ends)), locked_until=max(ends))
    # Sign-in's own look-up by the number she typed: no one reads the file here.
    person = Person.objects.in_scope(OPERATOR).filter(id_number=number).first()
    how = method()
    reason = how.verify(person, proof, now)
    if not reason and person is not None and person.birth_date != birth_date:
        reason = "wrong birth date"
    if reason or person is None:
        _failed(number, key, person, address, reason or "unknown ID number", how.name)
    assert person is not None  # _failed raised
    resident = Resident(person.pk)
    with transaction.atomic():
        LoginThrottle.objects.filter(username=key, address=ANY_ADDRESS).delete()
        how.used(person, now)
        her_audit.record_for(
            resident,
            Action.LOGIN,
            obj=person,
            detail={"method": how.name},
        )
    return resident


def _failed(
    number: str, key: str, person: Person | None, address: str, reason: str, method_name: str
) -> None:
    with transaction.atomic():
        row, _created = LoginThrottle.objects.select_for_update().get_or_create(
            username=key, address=ANY_ADDRESS
        )
        row.failures += 1
        limit = int(getattr(settings, "RESIDENT_ID_MAX_FAILURES", DEFAULT_ID_MAX_FAILURES))
        if row.failures >= limit:
            row.locked_until = timezone.now() + datetime.timedelta(
                minutes=settings.LOGIN_LOCK_MINUTES
            )
            row.failures = 0
        row.save()
        counted = throttle.count_failure(address, known=person is not None)
        audit.record(
            Action.FAILED_LOGIN,
            actor_username=f"{her_audit.ROLE}:?",
            object_type="residents.signin",
            object_id=str(person.pk) if person else "",
            object_repr=mask(number)[:200],
            region=her_audit.region_of(person.pk) if person else "",
            detail={"reason": reason, "method": method_name, "id_number": mask(number)},
        )
    ends = [until for _scope, until in counted.locks]
    if row.locked_until and row.locked_until > timezone.now():
        ends.append(row.locked_until)
    if ends:
        raise SignInRefused(_lock_message(max(ends)), locked_until=max(ends))
    raise SignInRefused(refused_message())
