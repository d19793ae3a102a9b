"""This node's identity, the peers it trusts, and the messages it has sent and received
(DESIGN.md §6). A node is one running Liudong for a jurisdiction; a peer is another node,
responsible for a region prefix, known by its URL and public key (Ed25519 or SM2)."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liudong.base import ScopedQuerySet, TrackedModel
from liudong.people.idnumbers import mask
from liudong.servicetypes import ServiceType


class NodeIdentity(models.Model):
    """Which jurisdiction this node serves and where peers reach it (one row)."""

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region served"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    url = models.URLField(_("address peers reach this node at"))
    key_id = models.CharField(_("signing key"), max_length=16)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("node identity")
        verbose_name_plural = _("node identity")

    def __str__(self) -> str:
        return f"{self.region_id} {self.url}"


class Peer(models.Model):
    """Another node, trusted for the regions under ``region_prefix``."""

    region_prefix = models.CharField(_("region prefix"), max_length=15, unique=True)
    url = models.URLField(_("address"))
    # The key its messages are signed with now, and its algorithm (liudong.crypto).
    algorithm = models.CharField(_("algorithm"), max_length=10, default="ed25519")
    public_key = models.CharField(_("public key (base64)"), max_length=100)
    key_id = models.CharField(_("key id"), max_length=16)
    # During a changeover (Ed25519 to SM2, or any key rotation) the key it signed with
    # before is still accepted, until `node trust --retire-previous`: a message it stamped
    # just before rotating is not refused.
    previous_algorithm = models.CharField(_("previous algorithm"), max_length=10, blank=True)
    previous_public_key = models.CharField(_("previous public key"), max_length=100, blank=True)
    previous_key_id = models.CharField(_("previous key id"), max_length=16, blank=True)
    active = models.BooleanField(_("active"), default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    added = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["region_prefix"]
        verbose_name = _("peer node")
        verbose_name_plural = _("peer nodes")

    def __str__(self) -> str:
        return f"{self.region_prefix} {self.url}"


class OutboxMessage(models.Model):
    """A signed message waiting for, or past, delivery to a peer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=30)
    to_region = models.CharField(_("to region"), max_length=15)
    # The region here whose change it reports: its offices see the message.
    region = models.CharField(_("region here"), max_length=15, blank=True)
    envelope = models.JSONField(_("signed message"))
    created = models.DateTimeField(_("queued"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    scope_fields = ("region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_idx",
                condition=models.Q(delivered_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} → {self.to_region} {self.id}"


class InboxMessage(models.Model):
    """A message received and accepted (its id is the message's: a second copy is the
    same message, never a second effect).

    Its effect (her file shows where she lives now, a certificate marked verified, ...) is
    applied in the transaction that accepts it. An effect that cannot be applied (a date in
    the future, a file that is not here) leaves the message accepted with the problem named,
    for a specialist to look at and apply again: the sender is not asked to send it again."""

    class State(models.TextChoices):
        APPLIED = "applied", _("applied")
        PROBLEM = "problem", _("needs attention")

    id = models.UUIDField(primary_key=True, editable=False)
    type = models.CharField(_("type"), max_length=30)
    from_region = models.CharField(_("from region"), max_length=15)
    to_region = models.CharField(_("to region"), max_length=15)
    envelope = models.JSONField(_("signed message"))
    digest = models.CharField(_("content digest"), max_length=64)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.APPLIED, db_index=True
    )
    problem = models.CharField(_("problem"), max_length=300, blank=True)
    # The file the message was about, once found or created here (for the file's page).
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # The offices of the region it was sent to (a township sees what came for it).
    scope_fields = ("to_region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["received_at"]
        verbose_name = _("incoming message")
        verbose_name_plural = _("incoming messages")

    def __str__(self) -> str:
        return f"{self.type} ← {self.from_region} {self.id}"


class RefusedMessage(models.Model):
    """A message refused on arrival, with the reason (bad signature, unknown sender, ...)."""

    message_id = models.CharField(_("message id"), max_length=64, blank=True)
    from_region = models.CharField(_("from region"), max_length=15, blank=True)
    reason = models.CharField(_("reason"), max_length=30)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    digest = models.CharField(_("content digest"), max_length=64)
    at = models.DateTimeField(_("refused at"), auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("refused message")
        verbose_name_plural = _("refused messages")

    def __str__(self) -> str:
        return f"{self.reason} {self.message_id}"


class ReportedService(models.Model):
    """A free service her residence reported giving (type and date only: what was found or
    chosen stays with the residence, PIPL minimum necessary). Kept on her file at the
    registration place so it knows she is served where she lives (2009 Regulations, art. 13:
    she need not come home for it)."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="reported_services"
    )
    service_type = models.CharField(_("service"), max_length=30)
    date = models.DateField(_("date"))
    reported_by = models.CharField(_("reported by region"), max_length=15)
    message = models.OneToOneField(
        InboxMessage, on_delete=models.PROTECT, related_name="reported_service"
    )

    scope_fields = ("person__household_region", "person__residence_region")
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("service reported by the residence")
        verbose_name_plural = _("services reported by the residence")

    def __str__(self) -> str:
        return f"{self.service_type} {self.date}"

    @property
    def service_label(self) -> str:
        return str(ServiceType(self.service_type).label)


# --- assistance requests (协查) -------------------------------------------------------------


class AssistanceQuestion(models.TextChoices):
    MARITAL_STATUS = "marital_status", _("marital status")
    CHILDREN = "children", _("children")
    CERTIFICATE = "certificate", _("marriage-and-childbearing certificate")
    WHEREABOUTS = "whereabouts", _("whereabouts")
    # Is she alive and living there: a benefit's yearly re-qualification asks her residence
    # (issue 17), so she is never asked to come home.
    LIVING = "living", _("alive and living there")


class AssistanceUrgency(models.TextChoices):
    URGENT = "urgent", _("urgent (15 days)")
    NORMAL = "normal", _("normal (30 days)")


class AssistanceFinding(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed as on file")
    DIFFERS = "differs", _("differs from the file")
    NOT_KNOWN = "not_known", _("not known here")


class AssistanceQuerySet(ScopedQuerySet):
    def incoming(self) -> AssistanceQuerySet:
        return self.filter(direction=AssistanceRequest.Direction.INCOMING)

    def outgoing(self) -> AssistanceQuerySet:
        return self.filter(direction=AssistanceRequest.Direction.OUTGOING)

    def unanswered(self) -> AssistanceQuerySet:
        return self.filter(answered_on__isnull=True)

    def overdue(self, today: datetime.date) -> AssistanceQuerySet:
        """Unanswered past the deadline (answering on the deadline day is on time)."""
        return self.unanswered().filter(deadline__lt=today)


class AssistanceRequest(TrackedModel):
    """A request to the other place to verify one fact about a person (协查), on either
    side: ``outgoing`` this node asked, ``incoming`` this node was asked and answers.

    ``region`` is the local office responsible (the scope): for an outgoing request her
    file's region here, for an incoming one her file's region here when there is one,
    else the region the message was addressed to. ``other_region`` is the place asked
    (outgoing) or the node that asked (incoming); the answer goes back there.
    """

    class Direction(models.TextChoices):
        OUTGOING = "outgoing", _("asked by us")
        INCOMING = "incoming", _("to answer")

    request_id = models.UUIDField(_("request id"), unique=True, default=uuid.uuid4, editable=False)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assistance_requests",
    )
    id_number = models.CharField(_("ID number"), max_length=18)
    question = models.CharField(_("question"), max_length=20, choices=AssistanceQuestion.choices)
    urgency = models.CharField(_("urgency"), max_length=6, choices=AssistanceUrgency.choices)
    asked_on = models.DateField(_("asked on"))
    deadline = models.DateField(_("deadline"))
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("responsible region"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # Meta.indexes
    )
    other_region = models.CharField(_("other place"), max_length=15)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finding = models.CharField(
        _("finding"), max_length=10, choices=AssistanceFinding.choices, blank=True
    )
    answer = models.CharField(_("answer"), max_length=500, blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ("region",)
    # She sees the open questions offices asked about her (ScopedQuerySet.of_resident).
    resident_path = "person"
    objects = AssistanceQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "pk"]
        verbose_name = _("assistance request")
        verbose_name_plural = _("assistance requests")
        # The worklist (a region's requests of one direction by deadline) and the on-time
        # indicator (a subtree's incoming requests whose deadline falls in the year) are
        # both range scans of this index.
        indexes = [
            models.Index(fields=["direction", "region", "deadline"], name="assistance_work_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_question_display()} {mask(self.id_number)}"

    def is_overdue(self, today: datetime.date) -> bool:
        return self.answered_on is None and self.deadline < today

    @property
    def answered_on_time(self) -> bool:
        return self.answered_on is not None and self.answered_on <= self.deadline


# --- Department data intake (issue 7, part 5) ------------------------------------------------
# Lists of newcomers sent by the police, labour, housing and commerce departments, reconciled
# against the registry. Importing a list changes no person file: each row waits for a
# specialist to confirm or dismiss it (liudong.exchange.intake.services holds the rules).


class IntakeBatch(TrackedModel):
    """One department list as imported: where it came from and what reconciling it found."""

    class Source(models.TextChoices):
        POLICE = "police", _("police (residence registration)")
        LABOUR = "labour", _("human resources and social security (labour contracts)")
        HOUSING = "housing", _("housing (rental registration)")
        COMMERCE = "commerce", _("market regulation (business licences)")

    source = models.CharField(_("department"), max_length=10, choices=Source.choices)
    file_name = models.CharField(_("file name"), max_length=200)
    # The region the list was imported for (the --region, else the importer's own region);
    # it scopes who sees the batch. Each row carries its own region besides.
    region = models.CharField(_("region"), max_length=15, blank=True, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    operator = models.CharField(_("operator"), max_length=150, blank=True)
    new_count = models.PositiveIntegerField(_("new"), default=0)
    changed_count = models.PositiveIntegerField(_("changed"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    unmatched_count = models.PositiveIntegerField(_("unmatched"), default=0)
    repeated_count = models.PositiveIntegerField(_("already pending"), default=0)
    # Rows that broke a rule: [{"row", "field", "message"}] (they are no IntakeRow).
    rejected = models.JSONField(_("rejected rows"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)

    scope_fields = ("region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("department list")
        verbose_name_plural = _("department lists")

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.file_name} #{self.pk}"


class IntakeRow(TrackedModel):
    """One row of a department list, its category against the registry, and the decision."""

    class Category(models.TextChoices):
        NEW = "new", _("new: no file")
        CHANGED = "changed", _("known, details differ")
        UNCHANGED = "unchanged", _("known, same details")
        UNMATCHED = "unmatched", _("cannot be matched")

    class Status(models.TextChoices):
        PENDING = "pending", _("to decide")
        CONFIRMED = "confirmed", _("confirmed")
        DISMISSED = "dismissed", _("dismissed")
        SETTLED = "settled", _("nothing to do")
        REPEAT = "repeat", _("already pending in an earlier list")
        SUPERSEDED = "superseded", _("superseded by a later list")

    batch = models.ForeignKey(IntakeBatch, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("row"))
    values = models.JSONField(_("values as given"))
    id_number = models.CharField(_("ID number"), max_length=18)
    id_check_ok = models.BooleanField(_("check digit right"), default=True)
    name = models.CharField(_("name"), max_length=50)
    address = models.CharField(_("address"), max_length=200, blank=True)
    date = models.DateField(_("date registered by the department"))
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    region = models.CharField(_("residence region"), max_length=15)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    # Why a row cannot be matched: elsewhere, name_differs, outside_region, pending_elsewhere.
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    message = models.CharField(_("explanation"), max_length=300, blank=True)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person file"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The file's version when the row was reconciled: confirming applies the differences
    # only to the file as it was then (a file changed since is refused, never overwritten).
    person_version = models.PositiveIntegerField(null=True, blank=True)
    differences = models.JSONField(_("differences"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    repeat_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    scope_fields = ("region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["batch_id", "row_number"]
        verbose_name = _("department list row")
        verbose_name_plural = _("department list rows")
        indexes = [
            models.Index(fields=["id_number", "status"], name="intake_row_id_status_idx"),
            models.Index(fields=["region"], name="intake_row_region_idx"),
        ]
        constraints = [
            # One row awaiting a decision per person: a list imported again adds no work.
            models.UniqueConstraint(
                fields=["id_number"],
                condition=models.Q(status="pending"),
                name="intake_one_pending_per_id",
            ),
            models.UniqueConstraint(fields=["batch", "row_number"], name="intake_row_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {mask(self.id_number)} ({self.batch_id}:{self.row_number})"
