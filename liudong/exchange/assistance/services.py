"""Assistance requests (协查) between the place of household registration and the place of
current residence (issue 7 part 4): a staff member asks the other place to verify one fact
about a person on file, the other side answers within the deadline (urgent 15 days, normal
30 days), and the answer comes back.

This module owns the rules of ``AssistanceRequest``: asking and answering (one function per
change, atomic, audited in the same transaction, the message queued in it too). The
effects of the two received message types (``on_request``, ``on_answer``) live in
``assistance.inbox`` (an effect must not send) and are re-exported here. It never reads the
outbox or the inbox itself: ``messaging.queue`` and ``messaging.identity`` are its only way
out.

A request is *overdue* when it is unanswered after its deadline; it was answered *on time*
when the answer is dated on or before the deadline.
"""

from __future__ import annotations

import datetime
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import ASSISTANCE, can
from liudong.actors import Actor, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people.models import Person

from ..messaging import services as messaging
from ..models import (
    AssistanceFinding,
    AssistanceQuerySet,
    AssistanceQuestion,
    AssistanceRequest,
    AssistanceUrgency,
)
from .inbox import (
    ANSWER_LENGTH,
    Direction,
    _record,
    _snapshot,
    _under,
    deadline_for,
)
from .inbox import AUDIT_FIELDS as AUDIT_FIELDS
from .inbox import DEADLINE_DAYS as DEADLINE_DAYS
from .inbox import on_answer as on_answer
from .inbox import on_request as on_request


def _check_may_assist(user: Actor) -> None:
    if not can(user, ASSISTANCE):
        raise PermissionDenied(_("Your role may not ask or answer assistance requests."))


def places(person: Person, node_region: str) -> tuple[str, str]:
    """``(here, other)``: her file's region served by this node and the place to ask. She
    lives here: ask her household registration; she is registered here and lives elsewhere:
    ask her residence. ValidationError when there is no other place to ask."""
    household, residence = person.household_region_id, person.residence_region_id
    lives_here, registered_here = _under(residence, node_region), _under(household, node_region)
    if lives_here and registered_here:
        raise ValidationError(
            _(
                "Her household registration and her residence are both served by this node: "
                "there is no other place to ask."
            ),
            code="same_node",
        )
    if lives_here and residence:
        return residence, household
    if registered_here and residence:
        return household, residence
    if registered_here:
        raise ValidationError(
            _("Where she lives now is not known: there is no place to ask."), code="no_place"
        )
    raise ValidationError(
        _("Neither her registration nor her residence is served by this node."), code="no_place"
    )


@transaction.atomic
def ask(
    *,
    acting_user: Actor,
    person: Person,
    question: str,
    urgency: str,
    today: datetime.date | None = None,
) -> AssistanceRequest:
    """Ask the other place to verify ``question`` about her; queues the signed
    ``assistance_request`` with its deadline, in this transaction."""
    _check_may_assist(acting_user)
    if not Person.objects.in_scope(acting_user).filter(pk=person.pk).exists():
        raise PermissionDenied(
            _("This file lies outside your region %(region)s.") % {"region": acting_user.region_id}
        )
    if person.merged_into_id:
        raise ValidationError(_("This file was merged into another one: ask about that one."))
    if question not in AssistanceQuestion.values:
        raise _choice_error("question", AssistanceQuestion)
    if urgency not in AssistanceUrgency.values:
        raise _choice_error("urgency", AssistanceUrgency)
    node = messaging.identity()
    here, other = places(person, node.region_id)
    open_already = (
        AssistanceRequest.objects.outgoing()
        .unanswered()
        .filter(person=person, question=question)
        .first()
    )
    if open_already is not None:
        raise ValidationError(
            {
                "question": _(
                    "This question was already asked on %(day)s and is not answered yet "
                    "(deadline %(deadline)s)."
                )
                % {"day": open_already.asked_on, "deadline": open_already.deadline}
            }
        )
    asked_on = today or timezone.localdate()
    request = AssistanceRequest.objects.create(
        direction=Direction.OUTGOING,
        person=person,
        id_number=person.id_number,
        question=question,
        urgency=urgency,
        asked_on=asked_on,
        deadline=deadline_for(urgency, asked_on),
        region_id=here,
        other_region=other,
        asked_by=account_of(acting_user),
    )
    messaging.queue(
        "assistance_request",
        to_region=other,
        payload={
            "request_id": str(request.request_id),
            "id_number": person.id_number,
            "question": question,
            "urgency": urgency,
        },
        deadline=request.deadline,
    )
    _record(Action.CREATE, request, acting_user=acting_user, detail={"action": "assistance_ask"})
    return request


def _choice_error(field: str, choices: type[models.TextChoices]) -> ValidationError:
    named = ", ".join(f"{value} ({label})" for value, label in choices.choices)
    return ValidationError({field: _("Choose one of: %(choices)s.") % {"choices": named}})


@transaction.atomic
def answer(
    *,
    acting_user: Actor,
    request: AssistanceRequest,
    finding: str,
    answer: str,
    expected_version: int | None = None,
    today: datetime.date | None = None,
) -> AssistanceRequest:
    """Answer an incoming request of the user's region, once; queues the
    ``assistance_answer`` to the place that asked, in this transaction."""
    _check_may_assist(acting_user)
    if not AssistanceRequest.objects.in_scope(acting_user).filter(pk=request.pk).exists():
        raise PermissionDenied(
            _("This request lies outside your region %(region)s.")
            % {"region": acting_user.region_id}
        )
    if request.direction != Direction.INCOMING:
        raise ValidationError(
            _("This node asked this request: the other place answers it."), code="outgoing"
        )
    if request.answered_on is not None:
        raise ValidationError(
            _("This request was already answered on %(day)s.") % {"day": request.answered_on},
            code="answered",
        )
    text = (answer or "").strip()
    if not text or len(text) > ANSWER_LENGTH:
        raise ValidationError(
            {"answer": _("Write the answer in 1 to %(n)s characters.") % {"n": ANSWER_LENGTH}}
        )
    if finding not in AssistanceFinding.values:
        raise _choice_error("finding", AssistanceFinding)
    before = _snapshot(request)
    request.finding, request.answer = finding, text
    request.answered_on = today or timezone.localdate()
    request.answered_by = account_of(acting_user)
    request.save_versioned(expected_version=expected_version)
    messaging.queue(
        "assistance_answer",
        to_region=request.other_region,
        payload={
            "request_id": str(request.request_id),
            "finding": finding,
            "answer": text,
            "answered_on": request.answered_on.isoformat(),
        },
    )
    _record(
        Action.UPDATE,
        request,
        acting_user=acting_user,
        before=before,
        detail={"action": "assistance_answer"},
    )
    return request


def view_request(*, acting_user: Actor, request: AssistanceRequest, via: str) -> None:
    """Opening a request shows the full ID number: every such view is logged."""
    audit.record_view(acting_user=acting_user, obj=request, region=request.region_id, via=via)


# --- lists ---------------------------------------------------------------------------------


def worklist(
    user: Actor,
    *,
    direction: str | None = None,
    overdue: bool | None = None,
    today: date | None = None,
) -> AssistanceQuerySet:
    """The user's requests (in scope), unanswered first, then by deadline."""
    today = today or timezone.localdate()
    requests = AssistanceRequest.objects.in_scope(user).select_related("region", "person")
    if direction:
        requests = requests.filter(direction=direction)
    if overdue is True:
        requests = requests.overdue(today)
    elif overdue is False:
        requests = requests.exclude(pk__in=requests.overdue(today).values("pk"))
    return requests.order_by(F("answered_on").asc(nulls_first=True), "deadline", "pk")


def overdue_counts(user: Actor, today: date | None = None) -> dict[str, int]:
    """Overdue requests per direction, for the page header."""
    today = today or timezone.localdate()
    overdue = AssistanceRequest.objects.in_scope(user).overdue(today)
    return {
        Direction.INCOMING.value: overdue.incoming().count(),
        Direction.OUTGOING.value: overdue.outgoing().count(),
    }
