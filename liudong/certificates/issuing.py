"""Issuing certificates (the registration township): who may issue, the rules about her,
the number, the signed payload, revoking, the certificate read by staff, and bulk issuance
from a spreadsheet. Web, API and CLI call these functions; each change writes its audit
entry in the same transaction and publishes its domain event.

Issuing twice is refused: a woman holding a valid certificate gets a clear refusal naming
it (revoke it first, or wait until it expires), never a second number. Verification and
notices are other modules'; this one must not import them.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong import events
from liudong.accounts.roles import ISSUE_CERTIFICATES
from liudong.actors import Actor, account_of, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.people.idnumbers import IdNumberError
from liudong.people.idnumbers import parse as parse_id_number
from liudong.people.models import Person
from liudong.regions.codes import Level
from liudong.regions.models import Region

from . import keys
from . import payload as payloads
from .models import (
    Certificate,
    Contraception,
    NumberCounter,
)

MIN_AGE, MAX_AGE = 18, 49


CERTIFICATE_AUDIT_FIELDS = [
    "number",
    "person_id",
    "issuing_region_id",
    "issued_on",
    "valid_until",
    "marital_status",
    "children_count",
    "key_id",
    "revoked_at",
    "revoke_reason",
]


class AlreadyHolds(ValidationError):
    """She holds a valid certificate: the first must be revoked or expire first."""

    def __init__(self, certificate: Certificate) -> None:
        self.certificate = certificate
        super().__init__(
            _(
                "She already holds the valid certificate %(number)s (valid until %(until)s); "
                "revoke it first to issue a new one."
            )
            % {"number": certificate.number, "until": certificate.valid_until},
            code="already_holds",
        )


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError naming its field and keeping its code (views and the CLI show both)."""
    return ValidationError({field: ValidationError(message, code=code)})


def local_today(today: datetime.date | None) -> datetime.date:
    """The day given, else today where the node is (the services take ``today`` for tests)."""
    return today or timezone.localdate()


def fiftieth_birthday(birth_date: datetime.date) -> datetime.date:
    """The day she turns 50 as ``people.models.age_on`` counts it (29 February: 1 March)."""
    try:
        return birth_date.replace(year=birth_date.year + 50)
    except ValueError:
        return datetime.date(birth_date.year + 50, 3, 1)


def valid_until_for(birth_date: datetime.date) -> datetime.date:
    """The last day of childbearing age: the day before her 50th birthday."""
    return fiftieth_birthday(birth_date) - datetime.timedelta(days=1)


def check_may_issue(user: Actor | None, person: Person) -> None:
    """The township of her household registration issues (2009 Regulations, art. 7).

    Beyond capability and region: the office must be a township-level one (a county holds
    no ISSUE_CERTIFICATES, but a role given it at another level must not issue either).
    """
    refused = _("Only a township office may issue or revoke certificates (your role: %(role)s).")
    authorize(user, ISSUE_CERTIFICATES, refused=refused)
    if not is_operator(user) and len(getattr(user, "region_id", "") or "") != Level.TOWNSHIP.length:
        raise PermissionDenied(refused % {"role": getattr(user, "role", "")})
    authorize(
        user,
        ISSUE_CERTIFICATES,
        person.household_region_id,
        outside=_(
            "Her household registration lies outside your township %(region)s: the "
            "township of her registration issues her certificate."
        ),
    )


# Only the issuing township revokes: authorize(actor, ISSUE_CERTIFICATES, issuing region,
# refused=…, outside=…, the message naming the issuing township).
NOT_ISSUER = gettext_lazy("Only the issuing township %(region)s may revoke this certificate.")


def allowed(check: Callable[[], None]) -> bool:
    """Whether a ``check_may_*`` call lets the user through (pages decide what to offer)."""
    try:
        check()
    except PermissionDenied:
        return False
    return True


def allocate_number(region_code: str, year: int) -> str:
    """The next number of a township in a year, e.g. ``330106002-2026-000123``.

    Must run inside the issuing transaction: the counter row stays locked until the
    certificate is saved, so two issuers get consecutive numbers, and a failed issue
    gives its number back (no gaps). PostgreSQL locks the row (SELECT ... FOR UPDATE);
    SQLite's IMMEDIATE transactions (settings) serialise writers altogether.
    """
    NumberCounter.objects.bulk_create(
        [NumberCounter(region_id=region_code, year=year, last=0)], ignore_conflicts=True
    )
    counter = NumberCounter.objects.select_for_update().get(region_id=region_code, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{region_code}-{year:04d}-{counter.last:06d}"


def _children(person: Person) -> list[dict]:
    rows = sorted(person.children.all(), key=lambda c: (c.birth_date, c.pk))
    return [
        {
            "birth_date": child.birth_date.isoformat(),
            "sex": child.sex,
            "order": child.birth_order or index,
        }
        for index, child in enumerate(rows, start=1)
    ]


def check_issue_rules(person: Person, today: datetime.date) -> None:
    """The rules about her (not about the issuer), each refusal naming the rule."""
    if person.merged_into_id:
        raise ValidationError(
            _("This file was merged into another one: issue on that file."), code="merged"
        )
    if len(person.household_region_id) < Level.TOWNSHIP.length:
        raise ValidationError(
            _(
                "Her household registration is recorded only down to %(region)s: record "
                "her township first (the township of her registration issues the certificate)."
            )
            % {"region": person.household_region_id},
            code="household_region",
        )
    if person.sex != "2":
        raise ValidationError(
            _("A marriage-and-childbearing certificate is issued to women only."),
            code="not_a_woman",
        )
    age = person.age_on(today)
    if not MIN_AGE <= age <= MAX_AGE:
        raise ValidationError(
            _(
                "A marriage-and-childbearing certificate is issued to a woman aged "
                "%(min)d to %(max)d; she is %(age)d."
            )
            % {"min": MIN_AGE, "max": MAX_AGE, "age": age},
            code="age",
        )


def current_certificate(person: Person, today: datetime.date | None = None) -> Certificate | None:
    return Certificate.objects.filter(person=person).valid(local_today(today)).first()


def issue_refusal(person: Person, today: datetime.date | None = None) -> str:
    """Why :func:`issue` would refuse her (rules about her, not the issuer), or ""."""
    today = local_today(today)
    try:
        check_issue_rules(person, today)
        held = current_certificate(person, today)
        if held is not None:
            raise AlreadyHolds(held)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


@transaction.atomic
def issue(
    person: Person,
    *,
    acting_user: Actor,
    contraception: str | None = None,
    today: datetime.date | None = None,
) -> Certificate:
    """Issue her certificate: snapshot her file, number it, sign the payload, log it.

    ``contraception`` is what she chose to declare (one of :class:`Contraception`);
    nothing is required of her: ``None`` records "not stated".
    """
    today = local_today(today)
    check_may_issue(acting_user, person)
    choice = contraception or Contraception.NOT_STATED
    if choice not in Contraception.values:
        raise ValidationError(
            {
                "contraception": _("Unknown choice “%(value)s”; choose one of %(choices)s.")
                % {"value": choice, "choices": ", ".join(Contraception.values)}
            }
        )
    # One issuer at a time per person: the check below and the insert cannot interleave.
    person = (
        Person.objects.select_for_update(of=("self",)).select_related("spouse").get(pk=person.pk)
    )
    check_issue_rules(person, today)
    held = current_certificate(person, today)
    if held is not None:
        raise AlreadyHolds(held)
    township = person.household_region_id[: Level.TOWNSHIP.length]
    number = allocate_number(township, today.year)
    node_key = keys.current_key()
    spouse = person.spouse
    children = _children(person)
    certificate = Certificate(
        number=number,
        person=person,
        issuing_region=Region.objects.get(code=township),
        issued_on=today,
        valid_until=valid_until_for(person.birth_date),
        issued_by=account_of(acting_user),
        name=person.name,
        sex=person.sex,
        birth_date=person.birth_date,
        id_number=person.id_number,
        marital_status=person.marital_status,
        spouse_id_number=person.spouse_id_number or (spouse.id_number if spouse else ""),
        spouse_name=spouse.name if spouse else "",
        children_count=(
            person.children_count if person.children_count is not None else len(children)
        ),
        children=children,
        contraception=choice,
        key_id=node_key.key_id,
    )
    contents = contents_of(certificate)
    body = payloads.body_bytes(contents)
    signature = node_key.sign(payloads.signed_message(body, node_key.algorithm))
    certificate.payload = payloads.encode(contents, signature, node_key.algorithm)
    certificate.save()
    audit.record(
        Action.CREATE,
        acting_user=acting_user,
        obj=certificate,
        region=township,
        after=audit.snapshot(certificate, CERTIFICATE_AUDIT_FIELDS),
        detail={"action": "issue"},
    )
    events.publish(
        events.CertificateIssued(
            id_number=certificate.id_number,
            number=certificate.number,
            issuing_region=certificate.issuing_region_id,
            residence_region=certificate.person.residence_region_id,
            issued_on=certificate.issued_on,
            valid_until=certificate.valid_until,
        )
    )
    return certificate


def contents_of(certificate: Certificate) -> payloads.Contents:
    return payloads.Contents(
        number=certificate.number,
        id_number=certificate.id_number,
        birth_date=certificate.birth_date,
        marital_status=certificate.marital_status,
        children_count=min(certificate.children_count, 99),
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
        key_id=certificate.key_id,
        name=certificate.name,
    )


def find_person(user: Actor, id_number: str) -> Person:
    """Her file by ID number, within the user's scope (the operator: anywhere). A number
    on file elsewhere is reported as not found here: the answer says nothing about it."""
    try:
        value = parse_id_number(id_number).value
    except IdNumberError as exc:
        raise field_error("id_number", str(exc), exc.code) from exc
    people = Person.objects.in_scope(user)
    person = people.filter(id_number=value).first()
    if person is not None and person.merged_into_id:
        person = people.filter(pk=person.merged_into_id).first()
    if person is None:
        raise field_error(
            "id_number", _("No person file with this ID number in your region."), "not_found"
        )
    return person


@transaction.atomic
def revoke(number: str, reason: str, *, acting_user: Actor) -> Certificate:
    """Revoke a certificate (only its issuing township may): it stops verifying here at
    once, and anywhere else once the revocation reaches them."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for revoking.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("The reason is at most 200 characters.")})
    visible = Certificate.objects.in_scope(acting_user)
    certificate = (
        visible.select_for_update(of=("self",))
        .select_related("person")
        .filter(number=number)
        .first()
    )
    if certificate is None:
        raise field_error(
            "number",
            _("No certificate numbered %(number)s in your region.") % {"number": number},
            "not_found",
        )
    not_issuer = NOT_ISSUER % {"region": certificate.issuing_region_id}
    authorize(
        acting_user,
        ISSUE_CERTIFICATES,
        certificate.issuing_region_id,
        refused=not_issuer,
        outside=not_issuer,
    )
    if certificate.revoked_at is not None:
        raise ValidationError(
            _("Certificate %(number)s was already revoked on %(when)s.")
            % {"number": number, "when": timezone.localdate(certificate.revoked_at)},
            code="already_revoked",
        )
    before = audit.snapshot(certificate, CERTIFICATE_AUDIT_FIELDS)
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = account_of(acting_user)
    certificate.revoke_reason = reason
    certificate.save_versioned()
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=certificate,
        region=certificate.issuing_region_id,
        before=before,
        after=audit.snapshot(certificate, CERTIFICATE_AUDIT_FIELDS),
        detail={"action": "revoke", "reason": reason},
    )
    events.publish(
        events.CertificateRevoked(
            id_number=certificate.id_number,
            number=certificate.number,
            issuing_region=certificate.issuing_region_id,
            residence_region=certificate.person.residence_region_id,
            revoked_on=timezone.localdate(certificate.revoked_at),
        )
    )
    return certificate


def find_certificate(number: str, user: Actor) -> Certificate:
    visible = Certificate.objects.in_scope(user)
    certificate = visible.select_related("issuing_region", "person").filter(number=number).first()
    if certificate is None:
        raise field_error(
            "number",
            _("No certificate numbered %(number)s in your region.") % {"number": number},
            "not_found",
        )
    return certificate


def view_certificate(number: str, *, acting_user: Actor, via: str = "web") -> Certificate:
    """A certificate in the user's scope, opened to read its contents: logged like a file."""
    certificate = find_certificate(number, acting_user)
    audit.record_view(
        acting_user=acting_user, obj=certificate, region=certificate.issuing_region_id, via=via
    )
    return certificate


ID_COLUMNS = {"id_number": ("公民身份号码", "身份证号", "id_number")}


@dataclasses.dataclass
class IssueSummary:
    """What a bulk issuance did, shaped like the person import's summary."""

    issued: int = 0
    certificates: list[dict] = dataclasses.field(default_factory=list)
    skipped: list[dict] = dataclasses.field(default_factory=list)
    rejected: list[dict] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "issued": self.issued,
            "certificates": self.certificates,
            "skipped": self.skipped,
            "rejected": self.rejected,
        }


def issue_from_file(
    path: str | Path,
    *,
    acting_user: Actor,
    contraception: str | None = None,
    today: datetime.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> IssueSummary:
    """Issue to every woman listed (by ID number) in a csv/xlsx file. Each row is its own
    transaction: a refused row changes nothing and does not stop the others. A woman who
    already holds a valid certificate is skipped, not refused."""
    from liudong.tabular import read_table, row_problems

    summary = IssueSummary()
    for done, (row, values) in enumerate(
        read_table(path, ID_COLUMNS, required=("id_number",)), start=1
    ):
        raw = values["id_number"]
        if problems := row_problems(values):
            summary.rejected.extend(problems)  # a control character in a cell
            if progress:
                progress(done)
            continue
        try:
            person = find_person(acting_user, "" if raw is None else str(raw))
            certificate = issue(
                person, acting_user=acting_user, contraception=contraception, today=today
            )
        except AlreadyHolds as exc:
            summary.skipped.append(
                {"row": row, "number": exc.certificate.number, "reason": exc.messages[0]}
            )
        except (ValidationError, PermissionDenied) as exc:
            summary.rejected.append({"row": row, "field": "id_number", "message": _message(exc)})
        else:
            summary.issued += 1
            summary.certificates.append({"row": row, "number": certificate.number})
        if progress:
            progress(done)
    return summary


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)
