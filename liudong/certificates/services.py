"""Business rules for certificates: issue (registration township), revoke, verify a
payload offline, verify at the residence (查验), notices to obtain one (限期办理通知书),
printing, and bulk issuance from a spreadsheet. Web, API and CLI call these functions;
each change writes its audit entry in the same transaction.

Issuing twice is refused: a woman holding a valid certificate gets a clear refusal naming
it (revoke it first, or wait until it expires), never a second number.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong import events
from liudong.accounts.roles import ISSUE_CERTIFICATES, VERIFY_CERTIFICATES
from liudong.actors import Actor, account_of, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.people.idnumbers import IdNumberError, mask
from liudong.people.idnumbers import parse as parse_id_number
from liudong.people.models import HeldCertificate, Person, ResidenceEpisode
from liudong.regions.codes import Level
from liudong.regions.models import Region

from . import keys
from . import payload as payloads
from .models import (
    Certificate,
    Contraception,
    Method,
    Notice,
    NumberCounter,
    Status,
    Verification,
)

MIN_AGE, MAX_AGE = 18, 49
NOTICE_MONTHS = 3
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

# Reasons verify_payload gives (codes for the CLI, API and the public page).
MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
REVOKED = "revoked"
VERIFICATION_AUDIT_FIELDS = [
    "certificate_id",
    "held_certificate_id",
    "number",
    "person_id",
    "episode_id",
    "region_id",
    "verified_on",
    "method",
    "days_after_arrival",
]
EXPIRED = "expired"
REASONS = (MALFORMED, UNKNOWN_KEY, BAD_SIGNATURE, REVOKED, EXPIRED)


class AlreadyHolds(ValidationError):
    """She holds a valid certificate: the first must be revoked or expire first."""

    def __init__(self, certificate: Certificate):
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


def _today(today: datetime.date | None) -> datetime.date:
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


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- who may do what -------------------------------------------------------------------


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


# The residence verifies: authorize(actor, VERIFY_CERTIFICATES, stay region, outside=…).
NOT_RESIDENT = gettext_lazy("She does not live in your region %(region)s.")
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


# --- issuing ---------------------------------------------------------------------------


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
    return Certificate.objects.filter(person=person).valid(_today(today)).first()


def issue_refusal(person: Person, today: datetime.date | None = None) -> str:
    """Why :func:`issue` would refuse her (rules about her, not the issuer), or ""."""
    today = _today(today)
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
    today = _today(today)
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


def find_person(user, id_number: str) -> Person:
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


# --- verifying a payload ---------------------------------------------------------------


@dataclasses.dataclass
class VerifyResult:
    ok: bool
    reason: str = ""  # one of REASONS when not ok
    message: str = ""
    # The signed contents, whenever the signature is good (also when revoked or expired).
    fields: dict | None = None
    # The certificate when this node holds it.
    certificate: Certificate | None = None

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "reason": self.reason or None,
            "message": self.message,
            "fields": self.fields,
        }

    def masked_fields(self) -> dict | None:
        """What an anonymous caller may see (DESIGN.md §2.2): masked name and ID number."""
        if self.fields is None:
            return None
        name = self.fields["name"]
        return {
            "name": name[:1] + "*" * (len(name) - 1),
            "id_number": mask(self.fields["id_number"]),
        }


def _check_signature(text: str) -> tuple[VerifyResult, payloads.Contents | None]:
    try:
        contents, body, signature, algorithm = payloads.decode_any(text)
    except payloads.Malformed as exc:
        return VerifyResult(
            False, MALFORMED, _("Not a certificate payload: %(detail)s.") % {"detail": exc}
        ), None
    public = keys.public_key(contents.key_id)
    # A payload naming another algorithm than its key's is refused like an unknown key:
    # the key decides how a signature is checked, never the text that carries it.
    if public is not None and public.algorithm != algorithm:
        public = None
    if public is None:
        return VerifyResult(
            False,
            UNKNOWN_KEY,
            _("Signed by a key this node does not know (%(key)s).") % {"key": contents.key_id},
        ), None
    if not keys.signature_ok(public, signature, payloads.signed_message(body, algorithm)):
        return VerifyResult(
            False,
            BAD_SIGNATURE,
            _("The signature does not match: the payload was altered or damaged."),
        ), None
    return VerifyResult(True, fields=contents.as_dict()), contents


def _judge(
    result: VerifyResult,
    contents: payloads.Contents,
    certificate: Certificate | None,
    today: datetime.date,
    revoked_elsewhere: datetime.date | None = None,
) -> VerifyResult:
    """``revoked_elsewhere``: the day the issuing place's node reported a certificate
    issued elsewhere revoked (kept on her file here)."""
    result.certificate = certificate
    revoked_on = (
        timezone.localdate(certificate.revoked_at)
        if certificate is not None and certificate.revoked_at is not None
        else revoked_elsewhere
    )
    if revoked_on is not None:
        result.ok, result.reason = False, REVOKED
        result.message = _("Certificate %(number)s was revoked on %(when)s.") % {
            "number": contents.number,
            "when": revoked_on,
        }
    elif today > contents.valid_until:
        result.ok, result.reason = False, EXPIRED
        result.message = _("Certificate %(number)s expired after %(until)s.") % {
            "number": contents.number,
            "until": contents.valid_until,
        }
    else:
        result.message = _("Certificate %(number)s is valid until %(until)s.") % {
            "number": contents.number,
            "until": contents.valid_until,
        }
    return result


def verify_payload(text: str, *, today: datetime.date | None = None) -> VerifyResult:
    """Check a QR payload: well-formed, signed by a known key, signature good, not revoked
    (as far as this node knows), not expired. Never raises for any text; reads only."""
    result, contents = _check_signature(text)
    if contents is None:
        return result
    certificate = Certificate.objects.filter(number=contents.number).first()
    revoked = _revoked_elsewhere({contents.number})
    return _judge(result, contents, certificate, _today(today), revoked.get(contents.number))


def _revoked_elsewhere(numbers: set[str]) -> dict[str, datetime.date]:
    """Certificates of other places their node reported revoked, by number."""
    found = HeldCertificate.objects.filter(number__in=numbers, revoked_on__isnull=False)
    return {number: day for number, day in found.values_list("number", "revoked_on") if day}


def verify_payloads(texts: Iterable[str], *, today: datetime.date | None = None) -> list:
    """:func:`verify_payload` for many payloads, with one revocation query per call."""
    today = _today(today)
    checked = [_check_signature(text) for text in texts]
    numbers = {contents.number for _result, contents in checked if contents is not None}
    known = {c.number: c for c in Certificate.objects.filter(number__in=numbers)}
    revoked = _revoked_elsewhere(numbers)
    return [
        result
        if contents is None
        else _judge(
            result, contents, known.get(contents.number), today, revoked.get(contents.number)
        )
        for result, contents in checked
    ]


def check_payload(
    text: str, *, acting_user, today: datetime.date | None = None, via: str = "cli"
) -> VerifyResult:
    """:func:`verify_payload` on behalf of someone, logged: who checked which certificate
    and what the answer was."""
    result = verify_payload(text, today=today)
    number = (result.fields or {}).get("number", "")
    region = (
        result.certificate.issuing_region_id
        if result.certificate is not None
        else getattr(acting_user, "region_id", "") or ""
    )
    audit.record(
        Action.VIEW,
        acting_user=acting_user,
        obj=result.certificate,
        # A certificate of another node (or none) is named by its number only.
        object_type="certificates.certificate",
        object_repr=number or "certificate payload",
        region=region,
        detail={
            "action": "verify",
            "via": via,
            "number": number,
            "result": result.reason or "valid",
        },
    )
    return result


# --- verification at the residence, notices -------------------------------------------


def find_by_number(
    number: str, *, user=None, person: Person | None = None
) -> tuple[Certificate | None, HeldCertificate | None]:
    """A certificate by number: one this node issued first, else one named in an imported
    register row (issued elsewhere). Only files in the user's scope are looked at."""
    number = (number or "").strip()
    people = Person.objects.in_scope(user)
    certificate = Certificate.objects.filter(number=number, person__in=people).first()
    if certificate is not None and (person is None or certificate.person_id == person.pk):
        return certificate, None
    held = HeldCertificate.objects.filter(number=number, person__in=people)
    if person is not None:
        held = held.filter(person=person)
    found = list(held[:2])
    if len(found) > 1:
        raise ValidationError(
            {"number": _("Several files name this certificate number: open her file first.")}
        )
    return None, (found[0] if found else None)


def _open_episode(person: Person) -> ResidenceEpisode:
    episode = ResidenceEpisode.objects.filter(person=person, departure_date__isnull=True).first()
    if episode is None:
        raise ValidationError(
            _("She has no current residence on file: register her arrival first."),
            code="no_residence",
        )
    return episode


@transaction.atomic
def verify_at_residence(
    *,
    acting_user,
    method: str,
    person: Person | None = None,
    payload: str | None = None,
    number: str | None = None,
    today: datetime.date | None = None,
) -> Verification:
    """Record that the residence checked her certificate during her current stay.

    ``method`` ``qr``: the scanned or pasted ``payload`` must verify; ``number``: a
    certificate of this node, else one named on her file (imported, issued elsewhere);
    ``exchanged``: the record the registration place sent (``person`` required). Her
    current stay's ``verified_on`` keeps the first verification day, and her open notice
    is fulfilled.
    """
    today = _today(today)
    certificate: Certificate | None = None
    held: HeldCertificate | None = None
    scoped = Person.objects.in_scope(acting_user)
    if method == Method.QR:
        result = verify_payload(payload or "", today=today)
        if not result.ok:
            raise field_error("payload", result.message, result.reason)
        assert result.fields is not None
        certificate = result.certificate
        number = result.fields["number"]
        if person is None:
            person = scoped.filter(id_number=result.fields["id_number"]).first()
            if person is None:
                raise ValidationError(
                    _("No file with this ID number in your region: register her arrival first."),
                    code="not_found",
                )
        elif person.id_number != result.fields["id_number"]:
            raise field_error(
                "payload", _("This certificate belongs to someone else."), "other_person"
            )
    elif method == Method.NUMBER:
        certificate, held = find_by_number(number or "", user=acting_user, person=person)
        if certificate is not None:
            status = certificate.status_on(today)
            if status != Status.VALID:
                raise field_error(
                    "number",
                    _("Certificate %(number)s is %(status)s.")
                    % {"number": number, "status": Status(status).label},
                    status,
                )
            person = certificate.person
        elif held is not None:
            if held.revoked_on is not None:
                raise field_error(
                    "number",
                    _("Certificate %(number)s was revoked on %(when)s.")
                    % {"number": number, "when": held.revoked_on},
                    REVOKED,
                )
            person = held.person
        else:
            raise field_error(
                "number",
                _("No certificate numbered %(number)s on a file in your region.")
                % {"number": number},
                "not_found",
            )
    elif method == Method.EXCHANGED:
        if person is None:
            raise ValidationError({"person": _("Choose whose exchanged record was checked.")})
    else:
        raise ValidationError({"method": _("Unknown verification method “%(m)s”.") % {"m": method}})
    if not scoped.filter(pk=person.pk).exists():
        raise PermissionDenied(_("This file lies outside your region."))
    episode = _open_episode(person)
    authorize(acting_user, VERIFY_CERTIFICATES, episode.region_id, outside=NOT_RESIDENT)
    if today < episode.arrival_date:
        raise ValidationError(_("The verification date is before her arrival."))
    verification = Verification.objects.create(
        certificate=certificate,
        held_certificate=held,
        number=number or "",
        person=person,
        episode=episode,
        verified_by=account_of(acting_user),
        region_id=episode.region_id,
        verified_at=timezone.now(),
        verified_on=today,
        method=method,
        days_after_arrival=(today - episode.arrival_date).days,
    )
    if episode.verified_on is None or today < episode.verified_on:
        episode.verified_on = today
        episode.save_versioned()
    fulfilled = list(Notice.objects.open().filter(episode=episode).values_list("pk", flat=True))
    Notice.objects.filter(pk__in=fulfilled).update(fulfilled_on=today)
    audit.record(
        Action.CREATE,
        acting_user=acting_user,
        obj=verification,
        region=episode.region_id,
        after=audit.snapshot(verification, VERIFICATION_AUDIT_FIELDS),
        detail={"action": "verify", "notices_fulfilled": fulfilled},
    )
    events.publish(
        events.CertificateVerified(
            id_number=verification.person.id_number,
            household_region=verification.person.household_region_id,
            number=verification.number,
            verifying_region=verification.region_id,
            verified_on=verification.verified_on,
        )
    )
    return verification


@transaction.atomic
def record_verification_notice(
    *, person: Person, number: str, region: Region, verified_on: datetime.date
) -> Verification | None:
    """At the registration place: the residence's node reports it checked the certificate
    this place issued her. Recorded once per certificate and day, against the stay her file
    here shows (none recorded, and None returned, when the file shows no current stay)."""
    certificate = Certificate.objects.filter(number=number, person=person).first()
    if certificate is None:
        raise ValidationError(
            _("No certificate numbered %(number)s was issued here to this person.")
            % {"number": number}
        )
    episode = ResidenceEpisode.objects.filter(person=person, departure_date__isnull=True).first()
    if episode is None:
        return None
    known = Verification.objects.filter(
        certificate=certificate, verified_on=verified_on, method=Method.NOTIFIED
    ).first()
    if known is not None:
        return known
    verification = Verification.objects.create(
        certificate=certificate,
        number=number,
        person=person,
        episode=episode,
        region=region,
        verified_at=timezone.now(),
        verified_on=verified_on,
        method=Method.NOTIFIED,
        days_after_arrival=max(0, (verified_on - episode.arrival_date).days),
    )
    if episode.verified_on is None or verified_on < episode.verified_on:
        episode.verified_on = verified_on
        episode.save_versioned()
    audit.record(
        Action.CREATE,
        acting_user=None,
        obj=verification,
        region=certificate.issuing_region_id,
        after=audit.snapshot(verification, VERIFICATION_AUDIT_FIELDS),
        detail={"action": "verify", "via": "exchange"},
    )
    return verification


@transaction.atomic
def issue_notice(
    person: Person, *, acting_user: Actor, today: datetime.date | None = None
) -> Notice:
    """A notice to obtain her certificate within three months (2009 Regulations, art. 8).
    Asking again during the same stay gives the notice already open."""
    today = _today(today)
    episode = _open_episode(person)
    authorize(acting_user, VERIFY_CERTIFICATES, episode.region_id, outside=NOT_RESIDENT)
    if not person.is_adult_wcba(today):
        raise ValidationError(
            _("A notice is given only to a woman aged %(min)d to %(max)d.")
            % {"min": MIN_AGE, "max": MAX_AGE},
            code="age",
        )
    if episode.verified_on is not None:
        raise ValidationError(
            _("Her certificate was already verified on %(day)s: no notice is needed.")
            % {"day": episode.verified_on},
            code="verified",
        )
    existing = Notice.objects.open().filter(episode=episode).first()
    if existing is not None:
        return existing
    notice = Notice.objects.create(
        person=person,
        episode=episode,
        region_id=episode.region_id,
        issued_on=today,
        deadline=add_months(today, NOTICE_MONTHS),
        issued_by=account_of(acting_user),
    )
    audit.record(
        Action.CREATE,
        acting_user=acting_user,
        obj=notice,
        region=episode.region_id,
        after=audit.snapshot(
            notice, ["person_id", "episode_id", "region_id", "issued_on", "deadline"]
        ),
        detail={"action": "notice"},
    )
    return notice


def overdue_notices(user, *, today: datetime.date | None = None) -> QuerySet[Notice]:
    """The worklist: open notices past their deadline for people still living here."""
    notices = Notice.objects.in_scope(user)
    return notices.overdue(_today(today)).select_related("person", "episode")


# --- printing ---------------------------------------------------------------------------


def find_certificate(number: str, user) -> Certificate:
    visible = Certificate.objects.in_scope(user)
    certificate = visible.select_related("issuing_region", "person").filter(number=number).first()
    if certificate is None:
        raise field_error(
            "number",
            _("No certificate numbered %(number)s in your region.") % {"number": number},
            "not_found",
        )
    return certificate


def print_certificate(certificate: Certificate, *, acting_user) -> bytes:
    """The A4 certificate as PDF bytes; every print is logged."""
    from .printing import render_pdf

    data = render_pdf(certificate)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=certificate,
        region=certificate.issuing_region_id,
        detail={"action": "print", "format": "pdf"},
    )
    return data


# --- bulk issuance ----------------------------------------------------------------------

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
    path,
    *,
    acting_user,
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


# --- what the staff pages read (each read of a certificate or notice is logged) ------------

NOT_FOUND = "not_found"


def view_certificate(number: str, *, acting_user, via: str = "web") -> Certificate:
    """A certificate in the user's scope, opened to read its contents: logged like a file."""
    certificate = find_certificate(number, acting_user)
    audit.record_view(
        acting_user=acting_user, obj=certificate, region=certificate.issuing_region_id, via=via
    )
    return certificate


def check_number(
    number: str, *, acting_user, today: datetime.date | None = None, via: str = "web"
) -> tuple[VerifyResult, HeldCertificate | None]:
    """A certificate looked up by number in the user's scope, judged like a payload (this
    node's own), or found named on her file (issued elsewhere: its contents are not known
    here). Logged like :func:`check_payload`."""
    today = _today(today)
    number = (number or "").strip()
    held: HeldCertificate | None = None
    try:
        certificate, held = find_by_number(number, user=acting_user)
    except ValidationError as exc:
        certificate, result = None, VerifyResult(False, NOT_FOUND, " ".join(exc.messages))
    else:
        if certificate is not None:
            contents = contents_of(certificate)
            result = _judge(
                VerifyResult(True, fields=contents.as_dict()), contents, certificate, today
            )
        elif held is not None:
            result = VerifyResult(
                True,
                message=_(
                    "Certificate %(number)s is named on her file (issued by %(issuer)s); its "
                    "contents are not held here."
                )
                % {"number": held.number, "issuer": held.issuer or "—"},
                fields={
                    "number": held.number,
                    "issuing_region": held.issuer,
                    "name": held.person.name,
                    "id_number": held.person.id_number,
                },
            )
        else:
            result = VerifyResult(
                False,
                NOT_FOUND,
                _("No certificate numbered %(number)s on a file in your region.")
                % {"number": number},
            )
    audit.record(
        Action.VIEW,
        acting_user=acting_user,
        obj=certificate,
        object_type="certificates.certificate",
        object_repr=number or "certificate number",
        region=(
            certificate.issuing_region_id
            if certificate is not None
            else getattr(acting_user, "region_id", "") or ""
        ),
        detail={
            "action": "verify",
            "via": via,
            "method": Method.NUMBER,
            "number": number,
            "result": result.reason or "valid",
        },
    )
    return result, held


def open_stay(person: Person) -> ResidenceEpisode | None:
    return (
        ResidenceEpisode.objects.filter(person=person, departure_date__isnull=True)
        .select_related("region")
        .first()
    )


VERIFY_WITHIN_DAYS = 30


@dataclasses.dataclass
class CheckOutcome:
    """What the verification page shows for a scanned payload or a typed number: the
    answer, whose certificate it is (her file, when it lies in the user's scope), her
    current stay, and why the check cannot be recorded here when it cannot."""

    method: str
    code: str
    result: VerifyResult
    today: datetime.date
    held: HeldCertificate | None = None
    person: Person | None = None
    episode: ResidenceEpisode | None = None
    refusal: str = ""

    @property
    def may_record(self) -> bool:
        return self.result.ok and self.episode is not None and not self.refusal

    @property
    def days_after_arrival(self) -> int | None:
        if self.episode is None:
            return None
        return (self.today - self.episode.arrival_date).days


def looks_like_payload(code: str) -> bool:
    return code[: len(payloads.PREFIX) + 1].upper() in {p + "." for p in payloads.PREFIXES}


def check_code(
    code: str, *, acting_user, person: Person | None = None, today: datetime.date | None = None
) -> CheckOutcome:
    """Check what staff scanned or typed (a QR payload or a certificate number) and say
    whether it can be recorded as the verification of her current stay. Reads only (the
    check itself is logged); :func:`verify_at_residence` records."""
    today = _today(today)
    # A handheld scanner may add a line break; neither a payload nor a number has spaces.
    code = payloads.from_scanned("".join((code or "").split()))
    scoped = Person.objects.in_scope(acting_user)
    held: HeldCertificate | None = None
    if looks_like_payload(code):
        method = Method.QR
        result = check_payload(code, acting_user=acting_user, today=today, via="web")
    else:
        method = Method.NUMBER
        result, held = check_number(code, acting_user=acting_user, today=today)
    outcome = CheckOutcome(method, code, result, today, held=held, person=person)
    if not result.ok or result.fields is None:
        return outcome
    holder = scoped.filter(id_number=result.fields["id_number"]).first()
    if holder is None:
        outcome.refusal = _(
            "No file with this ID number in your region: register her arrival first."
        )
        return outcome
    if person is not None and holder.pk != person.pk:
        outcome.refusal = _("This certificate belongs to someone else.")
        return outcome
    outcome.person = holder
    return _with_stay(outcome, acting_user)


def _with_stay(outcome: CheckOutcome, acting_user) -> CheckOutcome:
    assert outcome.person is not None
    episode = open_stay(outcome.person)
    if episode is None:
        outcome.refusal = _("She has no current residence on file: register her arrival first.")
        return outcome
    outcome.episode = episode
    try:
        authorize(acting_user, VERIFY_CERTIFICATES, episode.region_id, outside=NOT_RESIDENT)
    except PermissionDenied as exc:
        outcome.refusal = str(exc)
    return outcome


def check_stay(person: Person, *, acting_user, today: datetime.date | None = None) -> CheckOutcome:
    """Her current stay and whether this user may record its verification by the record
    exchanged with her registration place (method ``exchanged``)."""
    outcome = CheckOutcome(Method.EXCHANGED, "", VerifyResult(True), _today(today), person=person)
    return _with_stay(outcome, acting_user)


def open_notices(user) -> QuerySet[Notice]:
    """The notice worklist: open notices of people still living here, in the user's
    scope. Ordered by deadline, so the overdue ones come first."""
    return (
        Notice.objects.in_scope(user)
        .open()
        .filter(episode__departure_date__isnull=True)
        .select_related("person", "episode", "episode__region")
        .order_by("deadline", "id")
    )


def notice_for_print(pk: int, *, acting_user) -> Notice | None:
    """A notice in the user's scope, to print for her: every print is logged."""
    notice = (
        Notice.objects.in_scope(acting_user)
        .select_related("person", "person__household_region", "episode__region", "region")
        .filter(pk=pk)
        .first()
    )
    if notice is None:
        return None
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=notice,
        region=notice.region_id,
        detail={"action": "print", "format": "html"},
    )
    return notice
