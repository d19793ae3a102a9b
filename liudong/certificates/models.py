"""Electronic marriage-and-childbearing certificates (婚育证明), their verification at the
place of residence (查验), notices to obtain one (限期办理通知书), and the public keys that
sign them.

A certificate keeps a snapshot of what it certified on the day it was issued: a later
change to her file does not change a certificate already in her hands. Whether it is
valid is computed (revoked, or past ``valid_until``), never stored as a flag that can go
stale. This module must not change the people models: it links to them.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liudong.base import ScopedQuerySet, TrackedModel
from liudong.people.models import HeldCertificate, Person, ResidenceEpisode
from liudong.people.template import MARITAL_CHOICES, SEX_CHOICES
from liudong.regions.models import Region


class Status(models.TextChoices):
    VALID = "valid", _("valid")
    REVOKED = "revoked", _("revoked")
    EXPIRED = "expired", _("expired")


class Contraception(models.TextChoices):
    """Her contraception as she chooses to declare it: never required, "not stated" is
    the default and a full answer (DESIGN.md §2.1)."""

    NOT_STATED = "not_stated", _("not stated")
    NONE = "none", _("none")
    IUD = "iud", _("intrauterine device")
    IMPLANT = "implant", _("implant")
    PILL = "pill", _("oral contraceptive")
    CONDOM = "condom", _("condom")
    STERILISATION = "sterilisation", _("sterilisation")
    OTHER = "other", _("other")


class CertificateQuerySet(ScopedQuerySet):
    def valid(self, on: datetime.date) -> CertificateQuerySet:
        """Not revoked and not past its last valid day at ``on``."""
        return self.filter(revoked_at__isnull=True, valid_until__gte=on)


class Certificate(TrackedModel):
    # TOWNSHIP-YEAR-SEQUENCE, e.g. 330106002-2026-000123 (see issuing.allocate_number).
    number = models.CharField(_("certificate number"), max_length=30, unique=True)
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="certificates"
    )
    issuing_region = models.ForeignKey(
        Region, verbose_name=_("issuing region"), on_delete=models.PROTECT, related_name="+"
    )
    issued_on = models.DateField(_("issued on"))
    # The day before her 50th birthday: she then leaves childbearing age.
    valid_until = models.DateField(_("valid until"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Contents as certified on the day of issue.
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=SEX_CHOICES)
    birth_date = models.DateField(_("birth date"))
    id_number = models.CharField(_("ID number"), max_length=18, db_index=True)
    marital_status = models.CharField(_("marital status"), max_length=2, choices=MARITAL_CHOICES)
    spouse_id_number = models.CharField(_("spouse ID number"), max_length=18, blank=True)
    spouse_name = models.CharField(_("spouse name"), max_length=50, blank=True)
    children_count = models.PositiveSmallIntegerField(_("children"), default=0)
    # [{"birth_date": "2019-03-05", "sex": "2", "order": 1}, ...]
    children = models.JSONField(_("children list"), default=list, blank=True)
    contraception = models.CharField(
        _("contraception (as she declares it)"),
        max_length=15,
        choices=Contraception.choices,
        default=Contraception.NOT_STATED,
    )
    # What the QR carries: the signed compact payload, and the key that signed it.
    key_id = models.CharField(_("signing key"), max_length=16)
    payload = models.TextField(_("signed payload"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)

    # The issuing township, her registration and her residence: the residence sees the
    # certificate it verifies.
    scope_fields = ("issuing_region", "person__household_region", "person__residence_region")
    # The resident reads her certificates herself (ScopedQuerySet.of_resident).
    resident_path = "person"
    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-number"]
        verbose_name = _("marriage-and-childbearing certificate")
        verbose_name_plural = _("marriage-and-childbearing certificates")

    def __str__(self) -> str:
        return self.number

    def status_on(self, day: datetime.date) -> str:
        if self.revoked_at is not None:
            return Status.REVOKED
        if day > self.valid_until:
            return Status.EXPIRED
        return Status.VALID

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.status_on(day) == Status.VALID


class NumberCounter(models.Model):
    """The last sequence number a township gave in a year. Incremented under a row lock in
    the issuing transaction, so numbers have no gaps and no duplicates."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="certificate_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region_id}-{self.year}: {self.last}"


class SigningKey(models.Model):
    """A public key that signs certificates. The private half of this node's own keys
    stays in the key folder (LIUDONG_NODE_KEY); the public half is kept here so every
    certificate a key ever signed keeps verifying after the key is rotated out."""

    key_id = models.CharField(_("key id"), max_length=16, unique=True)
    # ed25519 or sm2 (liudong.crypto): a node verifies both during a changeover.
    algorithm = models.CharField(_("algorithm"), max_length=10, default="ed25519")
    # Raw key in base64: Ed25519 32 bytes (44 characters), SM2 x || y 64 bytes (88).
    public_key = models.CharField(_("public key (base64)"), max_length=100)
    own = models.BooleanField(_("this node's key"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["created"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")

    def __str__(self) -> str:
        return self.key_id


class Method(models.TextChoices):
    QR = "qr", _("QR code scanned or pasted")
    NUMBER = "number", _("certificate number looked up")
    EXCHANGED = "exchanged", _("record exchanged with the registration place")
    # At the registration place: the residence's node reported its check (issue 7).
    NOTIFIED = "notified", _("reported by the residence")


class Verification(TrackedModel):
    """The residence checked her certificate (or the exchanged record) during a stay."""

    certificate = models.ForeignKey(
        Certificate,
        verbose_name=_("certificate"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verifications",
    )
    # A certificate known only from an imported register row (issued elsewhere).
    held_certificate = models.ForeignKey(
        HeldCertificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.CharField(_("certificate number"), max_length=40, blank=True)
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    episode = models.ForeignKey(
        ResidenceEpisode,
        verbose_name=_("residence episode"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("verified where"), on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"))
    verified_on = models.DateField(_("verified on"), db_index=True)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    # Days from her arrival to this check: the 30-day rate counts those <= 30.
    days_after_arrival = models.PositiveIntegerField(_("days after arrival"))

    scope_fields = ("region", "person__household_region", "person__residence_region")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-verified_at", "-id"]
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")

    def __str__(self) -> str:
        return f"{self.number or self.method} {self.verified_on}"


class NoticeQuerySet(ScopedQuerySet):
    def open(self) -> NoticeQuerySet:
        return self.filter(fulfilled_on__isnull=True)

    def overdue(self, on: datetime.date) -> NoticeQuerySet:
        return self.open().filter(deadline__lt=on, episode__departure_date__isnull=True)


class Notice(TrackedModel):
    """限期办理通知书: she arrived without a certificate and is asked to obtain one within
    three months. Fulfilled when her certificate (or exchanged record) is verified."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    episode = models.ForeignKey(
        ResidenceEpisode,
        verbose_name=_("residence episode"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("issued where"), on_delete=models.PROTECT, related_name="+"
    )
    issued_on = models.DateField(_("issued on"))
    deadline = models.DateField(_("deadline"), db_index=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fulfilled_on = models.DateField(_("fulfilled on"), null=True, blank=True)

    scope_fields = ("region", "person__residence_region")
    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("notice to obtain a certificate")
        verbose_name_plural = _("notices to obtain a certificate")
        constraints = [
            # One open notice per stay: printing it again shows the same notice.
            models.UniqueConstraint(
                fields=["episode"],
                condition=models.Q(fulfilled_on__isnull=True),
                name="notice_one_open_per_episode",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.issued_on}–{self.deadline}"
