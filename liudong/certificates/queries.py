"""Reading certificates, verifications and notices on behalf of a user: the scoped
querysets the API (and any list page) starts from, and the logged read of one certificate.

Everything here starts from ``Model.objects.in_scope(user)`` (DESIGN.md §4) and only
narrows it. Changes live in the services (``issuing``, ``verification``, ``notices``); this
module must not change a record (the one write, :func:`view_certificate`, is an audit entry,
as ``people.services.view_person``).
"""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from liudong.actors import Actor
from liudong.audit import services as audit
from liudong.people.models import Person

from .models import Certificate, Notice, Status, Verification


def certificates_for(user: Actor) -> QuerySet[Certificate]:
    """Certificates whose issuing township, or whose holder's registration or residence,
    lies in the user's region."""
    return Certificate.objects.in_scope(user).select_related("issuing_region", "person")


def with_status(
    certificates: QuerySet[Certificate], status: str, today: datetime.date | None = None
) -> QuerySet[Certificate]:
    """Narrow to one computed status (valid, revoked or expired) on ``today``."""
    today = today or timezone.localdate()
    if status == Status.VALID:
        return certificates.valid(today)  # type: ignore[attr-defined]
    if status == Status.REVOKED:
        return certificates.filter(revoked_at__isnull=False)
    if status == Status.EXPIRED:
        return certificates.filter(revoked_at__isnull=True, valid_until__lt=today)
    return certificates.none()


def view_certificate(*, acting_user: Actor, certificate: Certificate, via: str) -> None:
    """Opening a certificate shows its full contents (ID number, spouse, children): every
    such read is logged, like opening a person's file."""
    audit.record_view(
        acting_user=acting_user, obj=certificate, region=certificate.issuing_region_id, via=via
    )


def verifications_for(user: Actor) -> QuerySet[Verification]:
    return Verification.objects.in_scope(user).select_related(
        "person", "region", "certificate", "verified_by"
    )


def notices_for(user: Actor) -> QuerySet[Notice]:
    return Notice.objects.in_scope(user).select_related("person", "region", "episode")


def people_for(user: Actor) -> QuerySet[Person]:
    """Files a verification or a notice may name: active files in the user's scope."""
    return Person.objects.in_scope(user).active()
