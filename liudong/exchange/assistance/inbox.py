"""The effects of the two assistance message types (``on_request``, ``on_answer``), which
the exchange applies to an accepted ``InboxMessage``, and the rules both directions of a
request share (deadlines, its audit snapshot).

Split from ``assistance`` (asking and answering, which queue messages) because an effect
must not send: this module never imports ``services``, so the message catalogue can name
these handlers without a cycle. ``assistance`` re-exports both handlers.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.actors import Actor
from liudong.audit import services as audit
from liudong.audit.masking import mask_value
from liudong.audit.models import Action
from liudong.people.models import Person
from liudong.regions.models import Region
from liudong.services.programmes import requalification

from ..messaging.nodes import identity
from ..models import AssistanceQuestion, AssistanceRequest, AssistanceUrgency, InboxMessage

DEADLINE_DAYS = {AssistanceUrgency.URGENT: 15, AssistanceUrgency.NORMAL: 30}
ANSWER_LENGTH = 500
AUDIT_FIELDS = (
    "request_id",
    "direction",
    "person_id",
    "id_number",
    "question",
    "urgency",
    "asked_on",
    "deadline",
    "region_id",
    "other_region",
    "finding",
    "answer",
    "answered_on",
)
Direction = AssistanceRequest.Direction


def deadline_for(urgency: str, asked_on: datetime.date) -> datetime.date:
    """Urgent: within 15 days of asking; normal: within 30 (DESIGN.md §3)."""
    return asked_on + datetime.timedelta(days=DEADLINE_DAYS[AssistanceUrgency(urgency)])


def _snapshot(request: AssistanceRequest) -> dict:
    """The request as the audit log keeps it: her ID number masked (it is on the request)."""
    return mask_value(audit.snapshot(request, AUDIT_FIELDS))


def _record(
    action: str,
    request: AssistanceRequest,
    *,
    acting_user: Actor | None = None,
    before: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    # acting_user None: a received message, named by actor_username (the peer node).
    audit.record(
        action,
        acting_user=acting_user,
        obj=request,
        region=request.region_id,
        before=before,
        after=_snapshot(request),
        **extra,
    )


def _under(code: str | None, prefix: str) -> bool:
    return bool(code) and str(code).startswith(prefix)


# --- received messages ---------------------------------------------------------------------


def _request_id(payload: dict) -> uuid.UUID:
    try:
        return uuid.UUID(str(payload["request_id"]))
    except ValueError as exc:
        raise ValidationError({"request_id": _("Not a request id (a UUID).")}) from exc


def _envelope_day(value: Any, field: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError({field: _("Not a date: %(value)s.") % {"value": value}}) from exc


def _sent_on(envelope: dict) -> datetime.date:
    sent_at = datetime.datetime.fromisoformat(str(envelope["sent_at"]))
    return timezone.localtime(sent_at).date()


def _file_here(id_number: str) -> Person | None:
    """Her file on this node by ID number (a merged file leads to the one it became)."""
    person = Person.objects.filter(id_number=id_number).first()
    if person is not None and person.merged_into_id:
        person = Person.objects.filter(pk=person.merged_into_id).first()
    return person


@transaction.atomic
def on_request(message: InboxMessage) -> AssistanceRequest:
    """A request from another place arrives: it joins the worklist of her file's region
    here (or of the region it was addressed to). The same request id twice is one row."""
    envelope = message.envelope
    payload = envelope["payload"]
    request_id = _request_id(payload)
    known = AssistanceRequest.objects.filter(request_id=request_id).first()
    if known is not None:
        if known.direction != Direction.INCOMING or known.other_region != envelope["from"]:
            raise ValidationError(
                {"request_id": _("Another request is known under this id.")}, code="conflict"
            )
        return known
    sent_on = _sent_on(envelope)
    deadline = (
        _envelope_day(envelope["deadline"], "deadline")
        if envelope.get("deadline")
        else deadline_for(payload["urgency"], sent_on)
    )
    if deadline < sent_on:
        raise ValidationError({"deadline": _("The deadline is before the request was sent.")})
    node_region = identity().region_id
    person = _file_here(payload["id_number"])
    here = None
    if person is not None:
        here = next(
            (
                code
                for code in (person.household_region_id, person.residence_region_id)
                if _under(code, node_region) and not _under(code, envelope["from"])
            ),
            None,
        )
    if here is None:
        addressed = Region.objects.filter(code=envelope["to"]).first()
        if addressed is None:
            raise ValidationError(
                {"to": _("No region %(code)s here to answer it.") % {"code": envelope["to"]}}
            )
        here = addressed.code
    try:
        with transaction.atomic():
            request = AssistanceRequest.objects.create(
                request_id=request_id,
                direction=Direction.INCOMING,
                person=person,
                id_number=payload["id_number"],
                question=payload["question"],
                urgency=payload["urgency"],
                asked_on=sent_on,
                deadline=deadline,
                region_id=here,
                other_region=envelope["from"],
            )
    except IntegrityError:  # the same request applied twice at once
        return AssistanceRequest.objects.get(request_id=request_id)
    _record(
        Action.CREATE,
        request,
        actor_username=f"node {envelope['from']}",
        detail={"action": "assistance_received", "message": str(message.id)},
    )
    return request


@transaction.atomic
def on_answer(message: InboxMessage) -> AssistanceRequest:
    """The place asked answers: the outgoing request gets its finding, answer and date.
    Refused: an answer to a request this node did not ask, from a node that was not
    asked, or a second, different answer."""
    envelope = message.envelope
    payload = envelope["payload"]
    request_id = _request_id(payload)
    request = (
        AssistanceRequest.objects.select_for_update()
        .filter(request_id=request_id, direction=Direction.OUTGOING)
        .first()
    )
    if request is None:
        raise ValidationError(
            {"request_id": _("No request of this node has the id %(id)s.") % {"id": request_id}},
            code="unknown_request",
        )
    if not request.other_region.startswith(envelope["from"]):
        raise ValidationError(
            {
                "from": _("The answer comes from %(sender)s, but %(asked)s was asked.")
                % {"sender": envelope["from"], "asked": request.other_region}
            },
            code="not_asked",
        )
    answered_on = _envelope_day(payload["answered_on"], "answered_on")
    if answered_on < request.asked_on:
        raise ValidationError({"answered_on": _("The answer is dated before the request.")})
    if request.answered_on is not None:
        same = (request.finding, request.answer, request.answered_on) == (
            payload["finding"],
            payload["answer"],
            answered_on,
        )
        if same:
            return request
        raise ValidationError(
            _("This request was already answered on %(day)s.") % {"day": request.answered_on},
            code="answered",
        )
    before = _snapshot(request)
    request.finding, request.answer = payload["finding"], payload["answer"]
    request.answered_on = answered_on
    request.save_versioned()
    _record(
        Action.UPDATE,
        request,
        before=before,
        actor_username=f"node {envelope['from']}",
        detail={"action": "assistance_answered", "message": str(message.id)},
    )
    if request.question == AssistanceQuestion.LIVING:
        # Asked for a benefit's re-qualification (assistance.living): the programmes
        # take the answer, in this transaction (it sends nothing).
        place = Region.objects.filter(code=request.other_region).first()
        requalification.record_living_answer(
            requalification.LivingAnswer(
                request_id=request.request_id,
                finding=request.finding,
                answer=request.answer,
                answered_on=answered_on,
                place=request.other_region,
                place_name=place.name if place else "",
            )
        )
    return request
