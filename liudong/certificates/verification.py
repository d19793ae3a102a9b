"""Verifying certificates: a payload checked offline (signature, revocation, expiry), the
check staff make at the residence (查验) of a scanned payload or a typed number, its record
against her current stay, and the verification the residence's node reports back to the
registration place. Reads of a payload never raise; each check by staff is logged.

Uses ``issuing`` for the signed contents; must not issue, revoke or give notices.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong import events
from liudong.accounts.roles import VERIFY_CERTIFICATES
from liudong.actors import Actor, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.people.idnumbers import mask
from liudong.people.models import HeldCertificate, Person, ResidenceEpisode
from liudong.regions.models import Region

from . import keys
from . import payload as payloads
from .issuing import contents_of, field_error, local_today
from .models import (
    Certificate,
    Method,
    Notice,
    Status,
    Verification,
)

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


# The residence verifies: authorize(actor, VERIFY_CERTIFICATES, stay region, outside=…).
NOT_RESIDENT = gettext_lazy("She does not live in your region %(region)s.")


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
    return _judge(result, contents, certificate, local_today(today), revoked.get(contents.number))


def _revoked_elsewhere(numbers: set[str]) -> dict[str, datetime.date]:
    """Certificates of other places their node reported revoked, by number."""
    found = HeldCertificate.objects.filter(number__in=numbers, revoked_on__isnull=False)
    return {number: day for number, day in found.values_list("number", "revoked_on") if day}


def verify_payloads(texts: Iterable[str], *, today: datetime.date | None = None) -> list:
    """:func:`verify_payload` for many payloads, with one revocation query per call."""
    today = local_today(today)
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
    text: str, *, acting_user: Actor | None, today: datetime.date | None = None, via: str = "cli"
) -> VerifyResult:
    """:func:`verify_payload` on behalf of someone, logged: who checked which certificate
    and what the answer was. ``acting_user`` None: the anonymous public check (/verify/),
    logged without an account."""
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


def find_by_number(
    number: str, *, user: Actor | None = None, person: Person | None = None
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


def open_episode(person: Person) -> ResidenceEpisode:
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
    acting_user: Actor,
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
    today = local_today(today)
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
    episode = open_episode(person)
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


NOT_FOUND = "not_found"


def check_number(
    number: str, *, acting_user: Actor, today: datetime.date | None = None, via: str = "web"
) -> tuple[VerifyResult, HeldCertificate | None]:
    """A certificate looked up by number in the user's scope, judged like a payload (this
    node's own), or found named on her file (issued elsewhere: its contents are not known
    here). Logged like :func:`check_payload`."""
    today = local_today(today)
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
    code: str,
    *,
    acting_user: Actor,
    person: Person | None = None,
    today: datetime.date | None = None,
) -> CheckOutcome:
    """Check what staff scanned or typed (a QR payload or a certificate number) and say
    whether it can be recorded as the verification of her current stay. Reads only (the
    check itself is logged); :func:`verify_at_residence` records."""
    today = local_today(today)
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
    return _with_stay(outcome, acting_user=acting_user)


def _with_stay(outcome: CheckOutcome, *, acting_user: Actor) -> CheckOutcome:
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


def check_stay(
    person: Person, *, acting_user: Actor, today: datetime.date | None = None
) -> CheckOutcome:
    """Her current stay and whether this user may record its verification by the record
    exchanged with her registration place (method ``exchanged``)."""
    outcome = CheckOutcome(
        Method.EXCHANGED, "", VerifyResult(True), local_today(today), person=person
    )
    return _with_stay(outcome, acting_user=acting_user)
