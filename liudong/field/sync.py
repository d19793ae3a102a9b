"""Applying the actions a phone queued offline (``POST /api/field/sync/``), once each.

The envelope is checked whole first (a malformed one applies nothing). Then each action,
in the order sent, in its own transaction together with its ``FieldAction`` row:

* a client id already applied with the same contents is answered as before
  (``repeat: true``) and not applied again; with other contents it is refused (tampering);
* otherwise the row is claimed first (inserted, or locked when an earlier attempt was
  refused or conflicted), so a second request with the same id waits for the first and
  then finds it applied; the handler (``actions.py``) runs the online rules and services
  inside ``audit.context.offline``, so every audit entry carries the phone's and the
  server's times;
* a refusal or conflict rolls the action back; the attempt is then recorded (row and
  audit entry) in a transaction of its own. One action's fate never touches another's.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from liudong.accounts.roles import can
from liudong.audit import context
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.base import StaleWrite

from .actions import HANDLERS, Conflict, Refused, day_done
from .bundle import KIND_CAPABILITY, person_for_phone
from .models import FieldAction, Kind, Status

if TYPE_CHECKING:
    from liudong.accounts.models import User

MAX_ACTIONS = 100


class EnvelopeError(Exception):
    """The request as a whole is malformed: ``errors`` names what (HTTP 400)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(json.dumps(errors, ensure_ascii=False))


def _moment(value: object) -> datetime.datetime | None:
    """An ISO date-time (a naive one in the server's zone), else None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def check_envelope(envelope: object) -> tuple[datetime.datetime, list[dict[str, Any]]]:
    """The phone's clock and its actions, each with a UUID ``client_id``, a known ``kind``,
    ``done_at`` and a ``data`` object; else EnvelopeError naming every problem."""
    if not isinstance(envelope, dict):
        raise EnvelopeError({"non_field_errors": [_("Send a JSON object.")]})
    errors: dict[str, list[str]] = {}
    device_time = _moment(envelope.get("device_time"))
    if device_time is None:
        errors["device_time"] = [_("Give the phone's time as an ISO date and time.")]
    actions = envelope.get("actions")
    if not isinstance(actions, list):
        errors["actions"] = [_("Give the actions as a list.")]
        actions = []
    elif not actions:
        errors["actions"] = [_("Send at least one action.")]
    elif len(actions) > MAX_ACTIONS:
        errors["actions"] = [
            _("At most %(count)s actions a request; send the rest in the next one.")
            % {"count": MAX_ACTIONS}
        ]
    checked = []
    seen: set[uuid.UUID] = set()
    for index, action in enumerate(actions[:MAX_ACTIONS] if len(actions) <= MAX_ACTIONS else []):
        where = f"actions.{index}"
        if not isinstance(action, dict):
            errors[where] = [_("Each action is a JSON object.")]
            continue
        problems = []
        try:
            client_id = uuid.UUID(str(action.get("client_id")))
        except ValueError:
            client_id = None
            problems.append(_("client_id is not a UUID."))
        if client_id is not None and client_id in seen:
            problems.append(_("client_id is sent twice in this request."))
        if client_id is not None:
            seen.add(client_id)
        if action.get("kind") not in Kind.values:
            problems.append(_("kind is not a known kind of action."))
        done_at = _moment(action.get("done_at"))
        if done_at is None:
            problems.append(_("done_at is not an ISO date and time."))
        if not isinstance(action.get("data"), dict):
            problems.append(_("data is not a JSON object."))
        if problems:
            errors[where] = problems
            continue
        checked.append(
            {
                "client_id": client_id,
                "kind": action["kind"],
                "done_at": done_at,
                "data": action["data"],
            }
        )
    if errors or device_time is None:
        raise EnvelopeError(errors)
    return device_time, checked


def contents_hash(kind: str, done_at: datetime.datetime, data: dict[str, Any]) -> str:
    """SHA-256 of the action's canonical JSON (sorted keys): its identity beside the id."""
    canonical = json.dumps(
        {"kind": kind, "done_at": done_at.isoformat(), "data": data},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _errors_of(exc: Exception) -> dict[str, list[str]]:
    if isinstance(exc, Refused):
        return exc.errors
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {
                ("non_field_errors" if field == "__all__" else field): list(
                    ValidationError(errors).messages
                )
                for field, errors in exc.error_dict.items()
            }
        return {"non_field_errors": list(exc.messages)}
    return {"non_field_errors": [str(exc)]}


def _message_of(errors: dict[str, list[str]]) -> str:
    return " ".join(message for messages in errors.values() for message in messages)


def sync(user: User, envelope: object) -> dict[str, Any]:
    """Apply the envelope's actions for ``user``, in order; the answer for each."""
    device_time, actions = check_envelope(envelope)
    server_time = timezone.now()
    skew = round((server_time - device_time).total_seconds())
    results = [_one(user, action, device_time, skew) for action in actions]
    return {
        "server_time": timezone.localtime(server_time).isoformat(),
        "clock_skew_seconds": skew,
        "results": results,
    }


def _one(
    user: User, action: dict[str, Any], device_time: datetime.datetime, skew: int
) -> dict[str, Any]:
    client_id: uuid.UUID = action["client_id"]
    kind: str = action["kind"]
    done_at: datetime.datetime = action["done_at"]
    digest = contents_hash(kind, done_at, action["data"])
    received_at = timezone.now()
    times = {
        "client_id": str(client_id),
        "kind": kind,
        "done_at": done_at.isoformat(),
        "device_time": device_time.isoformat(),
        "received_at": timezone.localtime(received_at).isoformat(),
        "clock_skew_seconds": skew,
    }
    answer = _answer_applied(user, client_id, digest, times)
    if answer is not None:
        return answer
    row_values = {
        "kind": kind,
        "contents_hash": digest,
        "done_at_device": done_at,
        "device_clock": device_time,
        "received_at": received_at,
        "region": user.region_id or "",
    }
    try:
        with transaction.atomic(), context.offline(times):
            row = _claim(user, client_id, row_values)
            if row.status == Status.APPLIED:  # applied by a request we waited for
                raise _AlreadyApplied
            if not can(user, KIND_CAPABILITY[kind]):
                raise PermissionDenied(_("Your role may not record this from the phone."))
            outcome = HANDLERS[kind](user, action["data"], day_done(done_at))
            result = {
                "client_id": str(client_id),
                "status": Status.APPLIED,
                "repeat": False,
                "message": str(outcome["message"]),
                "errors": {},
                "object": outcome["object"],
                "server": None,
                "received_at": times["received_at"],
            }
            row.status = Status.APPLIED
            row.result = result
            row.save()
            return result
    except (_AlreadyApplied, IntegrityError):
        # Another request with this id won the race (the unique row): answer as it did.
        answer = _answer_applied(user, client_id, digest, times)
        if answer is not None:
            return answer
        errors = {"non_field_errors": [_("The server was busy with this action: send it again.")]}
        return _not_applied(user, client_id, row_values, times, Status.REFUSED, errors, None)
    except Conflict as exc:
        shown = person_for_phone(user, exc.person.pk) if exc.person is not None else None
        return _not_applied(
            user, client_id, row_values, times, Status.CONFLICT, {}, shown, exc.message
        )
    except StaleWrite as exc:
        current = exc.current
        shown = person_for_phone(user, current.pk) if current._meta.model_name == "person" else None
        message = _("The record was changed after your phone loaded it.")
        return _not_applied(user, client_id, row_values, times, Status.CONFLICT, {}, shown, message)
    except (Refused, ValidationError, PermissionDenied) as exc:
        errors = _errors_of(exc)
        return _not_applied(user, client_id, row_values, times, Status.REFUSED, errors, None)


class _AlreadyApplied(Exception):
    pass


def _claim(user: User, client_id: uuid.UUID, values: dict[str, Any]) -> FieldAction:
    """This id's row, locked for this transaction: inserted now, or an earlier refused or
    conflicting attempt's, which this one replaces. A concurrent insert of the same id
    waits here and then fails on the unique constraint (IntegrityError)."""
    row = FieldAction.objects.select_for_update().filter(user=user, client_id=client_id).first()
    if row is None:
        return FieldAction.objects.create(
            user=user, client_id=client_id, status=Status.REFUSED, **values
        )
    if row.status != Status.APPLIED:
        for name, value in values.items():
            setattr(row, name, value)
        row.attempts += 1
    return row


def _answer_applied(
    user: User, client_id: uuid.UUID, digest: str, times: dict[str, Any]
) -> dict[str, Any] | None:
    """The answer to an id already applied: its first answer again (same contents), or a
    refusal (other contents: the queued action was changed). None: not applied yet."""
    applied = FieldAction.objects.filter(user=user, client_id=client_id, status=Status.APPLIED)
    if not applied.exists():  # the usual case, without a transaction of its own
        return None
    with transaction.atomic():
        row = (
            FieldAction.objects.select_for_update()
            .filter(user=user, client_id=client_id, status=Status.APPLIED)
            .first()
        )
        if row is None:
            return None
        row.attempts += 1
        row.save(update_fields=["attempts"])
        if row.contents_hash == digest:
            return {**row.result, "repeat": True}
        errors = {
            "non_field_errors": [
                _(
                    "This action was applied already with other contents: the copy on the "
                    "phone was changed since. It is not applied again."
                )
            ]
        }
        _audit_attempt(user, client_id, times, Status.REFUSED, errors, None, tampered=True)
        return _answer(client_id, Status.REFUSED, errors, None, times, _message_of(errors))


def _answer(
    client_id: uuid.UUID,
    status: str,
    errors: dict[str, list[str]],
    server: dict[str, Any] | None,
    times: dict[str, Any],
    message: str,
) -> dict[str, Any]:
    return {
        "client_id": str(client_id),
        "status": status,
        "repeat": False,
        "message": message,
        "errors": errors,
        "object": None,
        "server": server,
        "received_at": times["received_at"],
    }


def _not_applied(
    user: User,
    client_id: uuid.UUID,
    values: dict[str, Any],
    times: dict[str, Any],
    status: str,
    errors: dict[str, list[str]],
    server: dict[str, Any] | None,
    message: str = "",
) -> dict[str, Any]:
    """Record a refused or conflicting attempt (its row and an audit entry), unless the id
    was applied meanwhile; the phone keeps the action with the message."""
    message = message or _message_of(errors)
    result = _answer(client_id, status, errors, server, times, message)
    try:
        with transaction.atomic(), context.offline(times):
            row = _claim(user, client_id, values)
            if row.status == Status.APPLIED:
                raise _AlreadyApplied
            row.status = status
            row.result = result
            row.save()
            _audit_attempt(user, client_id, times, status, errors, server["id"] if server else None)
    except (_AlreadyApplied, IntegrityError):
        answer = _answer_applied(user, client_id, row_digest(values), times)
        if answer is not None:
            return answer
    return result


def row_digest(values: dict[str, Any]) -> str:
    return str(values["contents_hash"])


def _audit_attempt(
    user: User,
    client_id: uuid.UUID,
    times: dict[str, Any],
    status: str,
    errors: dict[str, list[str]],
    shown: int | None,
    *,
    tampered: bool = False,
) -> None:
    """A refused or conflicting attempt in the log. Recorded as IMPORT, the action the log
    uses for data offered from outside the pages (spreadsheets, intake): nothing was
    created or changed, so CREATE or UPDATE would be false; VIEW would hide that a write
    was tried. The detail says what the server refused and, for a conflict, which file the
    phone was shown (masked there); ``offline`` carries the phone's and the server's times."""
    with context.offline(times):
        audit.record(
            Action.IMPORT,
            acting_user=user,
            object_type="field.fieldaction",
            object_id=str(client_id),
            object_repr=f"{times['kind']} {client_id}",
            region=user.region_id or "",
            detail={
                "field_sync": status,
                "tampered": tampered,
                "errors": errors,
                "shown_person": shown,
            },
        )
