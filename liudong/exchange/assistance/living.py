"""The programmes' yearly re-qualification asks, through the exchange, whether a beneficiary
who lives in another county is alive and living there (issue 17 item 3): the assistance
question ``living``, sent with the ordinary assistance request, never a summons home.

The programmes lie below the exchange and must not import it: they publish
``events.LivingConfirmationAsked`` and this subscriber (registered in the exchange's
``ready()``) asks her residence, then tells the programmes which request carries the
question. The answer comes back through ``assistance.inbox.on_answer``, which hands it to
``programmes.requalification.record_living_answer``.

Asked only where the exchange can reach: her residence served by another node. One whose
residence this node serves too (another county of the same node), or whose residence is not
known, is confirmed by the township (the exchange has no local addressee).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from liudong import events
from liudong.accounts.models import User
from liudong.actors import OPERATOR, Actor
from liudong.people.models import Person
from liudong.services.programmes import requalification

from ..models import AssistanceQuestion, AssistanceRequest, NodeIdentity
from . import services


def ask_living(published: Sequence[events.LivingConfirmationAsked]) -> None:
    """Ask her residence for each re-qualification published, in the publisher's
    transaction (the request is queued with the round or not at all). A question still
    open about her (another of her benefits, the same round) is not asked twice: its
    request serves this re-qualification too."""
    me = NodeIdentity.objects.only("region_id").first()
    if me is None:
        return  # a node without an identity exchanges nothing: the township confirms
    accounts = User.objects.in_bulk({e.asked_by for e in published if e.asked_by is not None})
    for event in published:
        person = Person.objects.active().filter(id_number=event.id_number).first()
        if person is None:
            continue
        try:
            services.places(person, me.region_id)
        except ValidationError:
            continue  # both places served here, or her residence unknown
        asker: Actor = accounts.get(event.asked_by, OPERATOR) if event.asked_by else OPERATOR
        request = (
            AssistanceRequest.objects.outgoing()
            .unanswered()
            .filter(person=person, question=AssistanceQuestion.LIVING)
            .first()
        )
        if request is None:
            try:
                with transaction.atomic():
                    request = services.ask(
                        acting_user=asker,
                        person=person,
                        question=AssistanceQuestion.LIVING,
                        urgency=event.urgency,
                        today=event.asked_on,
                    )
            except (ValidationError, PermissionDenied):
                # Her file is not the asker's to ask about (registered elsewhere now): the
                # round still opens, and the township confirms her (the page says so).
                continue
        requalification.record_living_request(
            requalification_id=event.requalification, request_id=request.request_id
        )
