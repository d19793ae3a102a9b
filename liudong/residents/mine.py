"""What she sees of herself (issue 19 items 2, 3 and 5): her file as held, her certificates,
the free services she may ask for where she lives now, the services recorded for her, her
open requests, who read her file, and a copy of all of it.

Every read of her data goes through ``Model.objects.in_scope(resident)`` (the rows about her
only, ``ScopedQuerySet.of_resident``). Two reads cannot: the audit log is scoped by region,
and she has none, so :func:`who_read` reads it by object (her file and her records, found
first through ``in_scope``); and the service stations are a public directory of places,
not data about anyone (:func:`stations_near`). Both are listed in tests/access_allowlist.txt.

The functions return plain dicts and lists (already in words she reads, dates as dates):
the pages, the PDF and the JSON copy show the same thing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from liudong.accounts.models import User
from liudong.accounts.roles import Role
from liudong.actors import Resident
from liudong.audit.models import Action, AuditEntry
from liudong.certificates import verification
from liudong.certificates.models import Certificate, Status
from liudong.certificates.payload import link
from liudong.exchange.models import AssistanceRequest, InboxMessage, OutboxMessage
from liudong.people.idnumbers import mask
from liudong.people.models import Child, Person, ResidenceEpisode
from liudong.people.template import MARITAL_CHOICES, SEX_CHOICES
from liudong.places.models import Site
from liudong.regions.models import Region
from liudong.services.models import ACTIVE_STATUSES, HelpRequest, ServiceRecord
from liudong.servicetypes import ServiceType

#: The shape of the JSON copy (README "Her own view"): bump it when a key changes meaning.
COPY_FORMAT = "liudong-resident-copy/1"

# The services a station gives free of charge that she may ask for herself; a follow-up
# is the station's own visit and "other" names nothing she could ask for.
ENTITLED = [t for t in ServiceType if t not in (ServiceType.FOLLOW_UP, ServiceType.OTHER)]

# What "who read my file" lists: every read, change and export (not sign-ins).
ACTIONS_SHOWN = (
    Action.VIEW,
    Action.UPDATE,
    Action.CREATE,
    Action.EXPORT,
    Action.DELETE,
    Action.IMPORT,
)

# The records about her whose audit entries make "who read my file": the model's label in
# the log and the scoped model she reads it through.
ABOUT_HER = {
    "people.person": Person,
    "people.residenceepisode": ResidenceEpisode,
    "people.child": Child,
    "certificates.certificate": Certificate,
    "services.servicerecord": ServiceRecord,
    "services.helprequest": HelpRequest,
    "exchange.assistancerequest": AssistanceRequest,
}

# How many entries the page shows (newest first); the copy holds them all.
PAGE_ENTRIES = 200


def _region_name(code: str | None, names: dict[str, str] | None = None) -> str:
    if not code:
        return ""
    if names is not None and code in names:
        return names[code]
    region = Region.objects.filter(code=code).first()
    return region.full_name() if region else code


def her_person(resident: Resident) -> Person:
    """Her file, read as herself (a merged-away or missing file: Person.DoesNotExist)."""
    return (
        Person.objects.in_scope(resident)
        .select_related("household_region", "residence_region")
        .get()
    )


def her_file(resident: Resident) -> dict[str, Any]:
    """Her file as held: who she is, where she is registered and lives, her stays, her
    family as recorded. The ID number is masked: a phone is often shared, she knows it."""
    person = her_person(resident)
    sexes, marital = dict(SEX_CHOICES), dict(MARITAL_CHOICES)
    stays = [
        {
            "region": _region_name(stay.region_id),
            "address": stay.address,
            "arrival_date": stay.arrival_date,
            "departure_date": stay.departure_date,
        }
        for stay in ResidenceEpisode.objects.in_scope(resident).order_by("-arrival_date", "-pk")
    ]
    children = [
        {
            "name": child.name,
            "sex": str(sexes.get(child.sex, child.sex)),
            "birth_date": child.birth_date,
            "birth_order": child.birth_order,
        }
        for child in Child.objects.in_scope(resident).order_by("birth_date", "pk")
    ]
    return {
        "name": person.name,
        "id_number": mask(person.id_number),
        "sex": str(sexes.get(person.sex, person.sex)),
        "birth_date": person.birth_date,
        "marital_status": str(marital.get(person.marital_status, person.marital_status)),
        "phone": person.phone,
        "household_region": person.household_region.full_name(),
        "household_address": person.household_address,
        "residence_region": (
            person.residence_region.full_name() if person.residence_region else ""
        ),
        "residence_address": person.residence_address,
        "stays": stays,
        # The spouse as recorded: her number is masked like hers, her file is not read.
        "spouse_id_number": mask(person.spouse_id_number) if person.spouse_id_number else "",
        "children_count": person.children_count,
        "children": children,
    }


@dataclass
class HerCertificate:
    certificate: Certificate
    status: str  # certificates.models.Status
    status_label: str
    checked_ok: bool  # the public check of its QR says valid (verification.verify_payload)
    link: str  # what the QR carries: the public check page

    @property
    def valid(self) -> bool:
        return self.status == Status.VALID and self.checked_ok

    def as_dict(self) -> dict[str, Any]:
        c = self.certificate
        return {
            "number": c.number,
            "issued_on": c.issued_on,
            "valid_until": c.valid_until,
            "issuing_office": _region_name(c.issuing_region_id),
            "status": self.status,
            "valid": self.valid,
            "check_link": self.link,
        }


def her_certificates(resident: Resident, *, today: datetime.date | None = None) -> list:
    """Her certificates, newest first, each valid or not by the certificates' own rules:
    its status on the day (revoked, expired) and the signature the public check verifies."""
    today = today or timezone.localdate()
    found = []
    for certificate in Certificate.objects.in_scope(resident).order_by("-issued_on", "-pk"):
        status = certificate.status_on(today)
        checked = verification.verify_payload(certificate.payload, today=today)
        found.append(
            HerCertificate(
                certificate=certificate,
                status=status,
                status_label=str(Status(status).label),
                checked_ok=checked.ok,
                link=link(certificate.payload),
            )
        )
    return found


def her_certificate(resident: Resident) -> HerCertificate | None:
    """The certificate she shows: her newest valid one, else her newest."""
    found = her_certificates(resident)
    return next((c for c in found if c.valid), found[0] if found else None)


def stations_near(person: Person) -> list[Site]:
    """The service stations of the township she lives in now (else of its county): a public
    directory of places (names, addresses, phones of offices), not anyone's data, so it is
    read without a scope (she has no region)."""
    code = person.residence_region_id or ""
    for prefix in (code[:9], code[:6]):
        if len(prefix) < 6:
            continue
        stations = list(
            Site.objects.filter(
                kind=Site.Kind.SERVICE_STATION, region__code__startswith=prefix
            ).order_by("name", "pk")[:20]
        )
        if stations:
            return stations
    return []


def services_here(resident: Resident) -> dict[str, Any]:
    """The free services she may ask for where she lives now, and where to go."""
    person = her_person(resident)
    township = (person.residence_region_id or "")[:9]
    return {
        "township": _region_name(township) if len(township) == 9 else "",
        "types": [{"type": t.value, "name": str(t.label)} for t in ENTITLED],
        "stations": [
            {
                "name": s.name,
                "address": s.address,
                "phone": s.phone,
                "region": _region_name(s.region_id),
            }
            for s in stations_near(person)
        ],
    }


def her_services(resident: Resident) -> list[dict[str, Any]]:
    """The services recorded for her: type, date, where, and the result.

    The result is sensitive health data (PIPL art. 28), and staff see it only in the roles
    of ``services.records.services.may_see_result``: the station that gave the service and
    the township of her residence or registration. Every result kept is about her and was
    written by a station, which sees it; so a staff role can always see it "for her", and
    she, the person it is about, may read it (PIPL art. 45: the right to read what is held
    about her, sensitive data included). Her page is hers alone (her short session, her
    file only); no one else reads her result through it."""
    rows = []
    records = (
        ServiceRecord.objects.in_scope(resident).select_related("provider").order_by("-date", "-pk")
    )
    for record in records:
        rows.append(
            {
                "type": record.service_type,
                "name": str(ServiceType(record.service_type).label)
                if record.service_type in ServiceType.values
                else record.service_type,
                "date": record.date,
                "where": record.provider.name if record.provider else record.provider_name,
                "result": record.result,
            }
        )
    return rows


def her_open_requests(resident: Resident) -> dict[str, list[dict[str, Any]]]:
    """Her help requests still being worked on and the questions offices asked about her
    that are still unanswered."""
    helps = [
        {
            "category": str(h.get_category_display()),
            "received_on": h.received_on,
            "status": str(h.get_status_display()),
            "deadline": h.deadline,
            "office": _region_name(h.region_id),
        }
        for h in HelpRequest.objects.in_scope(resident)
        .filter(status__in=ACTIVE_STATUSES)
        .order_by("received_on", "pk")
    ]
    assistance = [
        {
            "question": str(a.get_question_display()),
            "asked_on": a.asked_on,
            "deadline": a.deadline,
            "office": _region_name(a.region_id),
            "other_place": _region_name(a.other_region),
        }
        for a in AssistanceRequest.objects.in_scope(resident)
        .filter(answered_on__isnull=True)
        .order_by("asked_on", "pk")
    ]
    return {"help": helps, "assistance": assistance}


@dataclass
class ReadEntry:
    at: datetime.datetime
    action: str
    what: str
    office: str
    role: str
    reason: str = ""
    staff_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "action": self.action,
            "what": self.what,
            "office": self.office,
            "role": self.role,
            "reason": self.reason,
            "staff_name": self.staff_name,
        }


@dataclass
class WhoRead:
    entries: list[ReadEntry] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def _objects_about_her(resident: Resident) -> Q:
    """Her file and every record about her, as audit-log objects: found through in_scope,
    so only her own."""
    condition = Q(pk__in=[])
    for label, model in ABOUT_HER.items():
        rows = model._default_manager.all().in_scope(resident)  # type: ignore[attr-defined]
        ids = [str(pk) for pk in rows.values_list("pk", flat=True)]
        if ids:
            condition |= Q(object_type=label, object_id__in=ids)
    return condition


def _what(label: str) -> str:
    return {
        "people.person": _("your file"),
        "people.residenceepisode": _("your stay"),
        "people.child": _("your child's record"),
        "certificates.certificate": _("your certificate"),
        "services.servicerecord": _("a service recorded for you"),
        "services.helprequest": _("your help request"),
        "exchange.assistancerequest": _("a question about you between offices"),
    }.get(label, label)


def _action(action: str) -> str:
    # A context of their own ("added" and "changed" alone are column titles elsewhere),
    # written out in each call: makemessages reads only a literal context.
    words: dict[str, str] = {
        Action.VIEW: pgettext("what an office did to her file", "looked at"),
        Action.UPDATE: pgettext("what an office did to her file", "changed"),
        Action.CREATE: pgettext("what an office did to her file", "added"),
        Action.EXPORT: pgettext("what an office did to her file", "downloaded or printed"),
        Action.DELETE: pgettext("what an office did to her file", "removed"),
        Action.IMPORT: pgettext("what an office did to her file", "imported"),
    }
    return words.get(action, action)


def who_read(resident: Resident, *, limit: int | None = PAGE_ENTRIES) -> WhoRead:
    """Every view, change and export of her file and her records by anyone but herself,
    newest first: when, which office (the region of the staff account: township or
    station), the role and the reason when one was recorded. The staff member's name only
    where RESIDENT_SHOWS_STAFF_NAMES says so. It is the audit log itself, read by object
    (the log is scoped by region and she has none); ID numbers in it were masked when
    written. Also the exchange messages about her: to or from which place, of what type."""
    entries = (
        AuditEntry.objects.filter(_objects_about_her(resident))
        .filter(action__in=ACTIONS_SHOWN)
        .exclude(actor_role=Resident.role)
        .order_by("-seq")
    )
    if limit is not None:
        entries = entries[:limit]
    rows = list(entries)
    accounts = {
        u.pk: u
        for u in User.objects.filter(pk__in={e.actor_id for e in rows if e.actor_id}).only(
            "pk", "region_id", "full_name", "username"
        )
    }
    codes = {u.region_id for u in accounts.values() if u.region_id} | {e.region for e in rows}
    names = {r.code: r.full_name() for r in Region.objects.filter(code__in=codes)}
    roles = dict(Role.choices)
    show_names = bool(getattr(settings, "RESIDENT_SHOWS_STAFF_NAMES", False))
    result = WhoRead()
    for e in rows:
        account = accounts.get(e.actor_id) if e.actor_id else None
        if account is not None:
            office = _region_name(account.region_id, names)
            role = str(roles.get(e.actor_role, e.actor_role))
        elif e.actor_username.startswith("node "):
            # A peer node's message applied here: the other place's office.
            office = _region_name(e.actor_username.removeprefix("node ").strip(), names)
            role = _("office in another place")
        else:
            office = _region_name(e.region, names)
            role = _("system administrator")
        reason = (e.detail or {}).get("reason", "") if isinstance(e.detail, dict) else ""
        result.entries.append(
            ReadEntry(
                at=e.at,
                action=_action(e.action),
                what=_what(e.object_type),
                office=office,
                role=role,
                reason=str(reason or ""),
                staff_name=(account.get_full_name() if account and show_names else ""),
            )
        )
    result.messages = her_messages(resident)
    return result


def her_messages(resident: Resident) -> list[dict[str, Any]]:
    """Exchange messages about her: sent (the outbox names her by ID number in its signed
    payload) and received (applied to her file). Type and place only, never the contents."""
    person = her_person(resident)
    number = person.id_number
    sent = OutboxMessage.objects.filter(
        Q(envelope__payload__id_number=number) | Q(envelope__payload__parent_id_number=number)
    ).order_by("-created")[:PAGE_ENTRIES]
    received = InboxMessage.objects.filter(person_id=person.pk).order_by("-received_at")[
        :PAGE_ENTRIES
    ]
    rows = [
        {
            "at": m.created,
            "direction": "sent",
            "type": m.type,
            "type_name": message_type_name(m.type),
            "place": _region_name(m.to_region),
        }
        for m in sent
    ] + [
        {
            "at": m.received_at,
            "direction": "received",
            "type": m.type,
            "type_name": message_type_name(m.type),
            "place": _region_name(m.from_region),
        }
        for m in received
    ]
    return sorted(rows, key=lambda row: row["at"], reverse=True)


def message_type_name(kind: str) -> str:
    return {
        "arrival": _("your arrival here"),
        "departure": _("your departure"),
        "verification": _("your certificate was checked"),
        "birth": _("a birth in your family"),
        "service": _("a service for you"),
        "certificate_issued": _("a certificate issued to you"),
        "certificate_revoked": _("your certificate cancelled"),
        "assistance_request": _("a question about you"),
        "assistance_answer": _("an answer about you"),
    }.get(kind, kind)


def copy_of(resident: Resident) -> dict[str, Any]:
    """Everything above in one document (PIPL art. 45): the JSON copy and the PDF's
    contents. Its shape is documented in the README ("Her own view")."""
    read = who_read(resident, limit=None)
    return {
        "format": COPY_FORMAT,
        "made_at": timezone.now(),
        "file": her_file(resident),
        "certificates": [c.as_dict() for c in her_certificates(resident)],
        "services_here": services_here(resident),
        "services": her_services(resident),
        "open_requests": her_open_requests(resident),
        "who_read": [e.as_dict() for e in read.entries],
        "messages": read.messages,
    }
