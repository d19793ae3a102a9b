"""What a received message does here (issue 7, part 3), applied in the transaction that
accepts it, by the node itself (no staff account; the audit entries name the sending node
and carry the message id as their request id).

- arrival: the registration place's file of her shows where she lives now (a file is
  made from the notice when there was none: she is outflow from here);
- departure: her stay at that residence is closed;
- certificate issued / revoked: the residence keeps the certificate on her file (so it can
  be verified by number, and a revoked one is refused);
- verification: the certificate this place issued is marked verified by the residence;
- birth: the child is recorded on the parent's file (vital statistics only);
- service: that the service happened, its type and date only;
- assistance request / answer: the request in the worklist of the office asked, the
  answer on the request of the office that asked (``assistance``).

Each handler is named by its type's row in ``catalogue.TYPES``; ``services.apply`` runs
it. A handler raises ``ValidationError`` when the effect cannot be applied; the message stays
accepted with the problem named (``InboxMessage.State.PROBLEM``). A handler trusts that the
sender may say what it says: ``boundary.check`` refused, before the message was stored, any
assertion outside the sender's regions or about a file not on this node's side.

This module must not send messages of its own: the actions it calls notify only places
other than this node's region, and every effect concerns a file of this region.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from liudong.actors import OPERATOR
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.certificates.verification import record_verification_notice
from liudong.people import services as people
from liudong.people.models import HeldCertificate, Person
from liudong.regions.codes import ancestors
from liudong.regions.models import Region

from ..assistance import inbox as assistance_inbox
from ..models import InboxMessage, ReportedService

Handler = Callable[[InboxMessage], None]


def nearest_region(code: str) -> Region:
    """The region a peer's code stands for here: itself, or the nearest enclosing region
    this node knows (a peer's villages are not in this node's tree; its township is)."""
    candidates = [code, *reversed(ancestors(code))]
    found = Region.objects.in_bulk(candidates)
    for candidate in candidates:
        if candidate in found:
            return found[candidate]
    raise ValidationError(_("Region %(code)s is unknown here.") % {"code": code})


def _day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def file_here(id_number: str) -> Person | None:
    person = Person.objects.filter(id_number=id_number).select_related("merged_into").first()
    if person is not None and person.merged_into_id:
        return person.merged_into
    return person


def _file_required(message: InboxMessage, id_number: str) -> Person:
    person = file_here(id_number)
    if person is None:
        raise ValidationError(_("No file with this ID number here."))
    message.person = person
    return person


def on_arrival(message: InboxMessage) -> None:
    payload = message.envelope["payload"]
    region = nearest_region(payload["residence_region"])
    arrival_date = _day(payload["arrival_date"])
    person = file_here(payload["id_number"])
    if person is None:
        # She left before any file was kept here: the notice makes her outflow file, with
        # what it carries (her marital status is not stated until the office learns it).
        person = Person(
            id_number=payload["id_number"],
            name=payload["name"],
            sex=payload["sex"],
            birth_date=_day(payload["birth_date"]),
            marital_status="90",
            household_region=nearest_region(message.to_region),
        )
    else:
        current = people.open_episode(person)
        if current is not None and current.region_id == region.code:
            message.person = person
            return  # already where the notice says (registered here too)
    people.register_arrival(
        acting_user=OPERATOR, person=person, region=region, arrival_date=arrival_date
    )
    message.person = person


def on_departure(message: InboxMessage) -> None:
    payload = message.envelope["payload"]
    person = _file_required(message, payload["id_number"])
    region = nearest_region(payload["residence_region"])
    current = people.open_episode(person)
    if current is None or not current.region_id.startswith(region.code):
        return  # she is known here to live elsewhere already: nothing to close
    people.register_departure(
        acting_user=OPERATOR, person=person, departure_date=_day(payload["departure_date"])
    )


def on_certificate_issued(message: InboxMessage) -> None:
    payload = message.envelope["payload"]
    person = _file_required(message, payload["id_number"])
    held, created = HeldCertificate.objects.get_or_create(
        person=person,
        number=payload["number"],
        defaults={"issuer": message.from_region, "issued_on": _day(payload["issued_on"])},
    )
    if created:
        audit.record(
            Action.CREATE,
            acting_user=OPERATOR,
            obj=held,
            region=person.residence_region_id or person.household_region_id,
            after=audit.snapshot(held, ["person_id", "number", "issuer", "issued_on"]),
            detail={"via": "exchange"},
        )


def on_certificate_revoked(message: InboxMessage) -> None:
    payload = message.envelope["payload"]
    person = _file_required(message, payload["id_number"])
    held = HeldCertificate.objects.filter(person=person, number=payload["number"]).first()
    if held is None:
        held = HeldCertificate(person=person, number=payload["number"], issuer=message.from_region)
    before = None if held.pk is None else audit.snapshot(held, ["revoked_on"])
    held.revoked_on = _day(payload["revoked_on"])
    held.save()
    audit.record(
        Action.UPDATE if before else Action.CREATE,
        acting_user=OPERATOR,
        obj=held,
        region=person.residence_region_id or person.household_region_id,
        before=before,
        after=audit.snapshot(held, ["number", "issuer", "revoked_on"]),
        detail={"via": "exchange", "action": "revoke"},
    )


def on_verification(message: InboxMessage) -> None:
    payload = message.envelope["payload"]
    person = _file_required(message, payload["id_number"])
    record_verification_notice(
        person=person,
        number=payload["number"],
        region=nearest_region(payload["residence_region"]),
        verified_on=_day(payload["verified_on"]),
    )


def on_birth(message: InboxMessage) -> None:
    payload = message.envelope["payload"]
    parent = _file_required(message, payload["parent_id_number"])
    birth_date = _day(payload["birth_date"])
    if parent.children.filter(birth_date=birth_date, sex=payload["sex"]).exists():
        return  # the office here recorded her already
    people.add_child(acting_user=OPERATOR, parent=parent, sex=payload["sex"], birth_date=birth_date)


def on_service(message: InboxMessage) -> None:
    payload = message.envelope["payload"]
    person = _file_required(message, payload["id_number"])
    reported = ReportedService.objects.create(
        person=person,
        service_type=payload["service_type"],
        date=_day(payload["date"]),
        reported_by=message.from_region,
        message=message,
    )
    audit.record(
        Action.CREATE,
        acting_user=OPERATOR,
        obj=reported,
        region=person.household_region_id,
        after=audit.snapshot(reported, ["person_id", "service_type", "date", "reported_by"]),
        detail={"via": "exchange"},
    )


def on_assistance_request(message: InboxMessage) -> None:
    message.person = assistance_inbox.on_request(message).person


def on_assistance_answer(message: InboxMessage) -> None:
    message.person = assistance_inbox.on_answer(message).person
