"""Campaigns and their activities (with their photos), association branches with members
and activities, help requests (权益维护), and service records (what one person asked for
or accepted) with their follow-ups.

Everything here records what was offered and what people asked for or accepted (DESIGN.md
§2 principle 1): counts of materials and contraceptives handed out on request, never
targets, quotas or enforcement.
"""

from __future__ import annotations

import datetime
from typing import Any, Self

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liudong.accounts.models import User
from liudong.accounts.roles import CHANGE_PEOPLE, Role, can
from liudong.actors import Caller, Resident
from liudong.base import ScopedQuerySet, TrackedModel
from liudong.regions.codes import LEVEL_LENGTHS, subtree_q

# Re-exported: the service app's models, forms and sheets name them from here.
from liudong.servicetypes import SERVICE_TYPE_ZH as SERVICE_TYPE_ZH
from liudong.servicetypes import ServiceType as ServiceType

from .photos import remove_photo_files

# A help request is answered within 15 days unless the office sets another deadline.
HELP_DEADLINE_DAYS = 15


def ancestor_codes(code: str) -> list[str]:
    """The code and every code above it (330106002 -> 33, 3301, 330106, 330106002)."""
    return [code[:n] for n in sorted(LEVEL_LENGTHS.values()) if n <= len(code)]


class CampaignKind(models.TextChoices):
    WARM_WINTER = (
        "warm_winter",
        _("Warm Winter Action: care for people home for the Spring Festival"),
    )
    POPULATION_DAY = "population_day", _("World Population Day (11 July)")
    ASSOCIATION_DAY = "association_day", _("association activity day")
    OTHER = "other", _("other")


class CampaignQuerySet(ScopedQuerySet):
    def in_region(self, prefix: str) -> CampaignQuerySet:
        """Campaigns organised in the subtree, covering part of it, or covering a region
        above it (a county's campaign is the townships' campaign too)."""
        covering = Campaign.regions.through.objects.filter(
            subtree_q(prefix, "region_id") | Q(region_id__in=ancestor_codes(prefix))
        ).values("campaign_id")
        return self.filter(subtree_q(prefix, "organiser_region_id") | Q(pk__in=covering))


class Campaign(TrackedModel):
    """A campaign (专项活动) over a period and a set of regions (each with its subtree)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=CampaignKind.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    regions = models.ManyToManyField(
        "regions.Region", verbose_name=_("regions covered"), related_name="campaigns"
    )
    # The office that runs it; only that office (or one above it) changes it.
    organiser_region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("organised by"),
        on_delete=models.PROTECT,
        related_name="organised_campaigns",
    )
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_on}–{self.ends_on})"

    def covers(self, code: str) -> bool:
        """The region ``code`` lies in the subtree of one of the campaign's regions."""
        return any(code.startswith(region_code) for region_code in self.region_codes())

    def region_codes(self) -> list[str]:
        return sorted(self.regions.values_list("code", flat=True))


class Activity(TrackedModel):
    """One activity of a campaign: where, when, how many came, what was handed out."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="activities"
    )
    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    participants_count = models.PositiveIntegerField(_("participants"), default=0)
    materials_count = models.PositiveIntegerField(_("information materials handed out"), default=0)
    # Handed out to those who asked for them: a count of supplies, never a target.
    free_contraceptives_count = models.PositiveIntegerField(
        _("free contraceptives handed out on request"), default=0
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ("region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("campaign activity")
        verbose_name_plural = _("campaign activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(participants_count__gte=0)
                & Q(materials_count__gte=0)
                & Q(free_contraceptives_count__gte=0),
                name="services_activity_counts_not_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.place or self.region_id}"


# An activity shows at most this many photos (the issue: "photos optional").
MAX_ACTIVITY_PHOTOS = 5


class ActivityPhotoQuerySet(ScopedQuerySet):
    def in_scope(self, user: Caller) -> Self:
        """The photos of the activities the caller sees."""
        return self.filter(activity__in=Activity.objects.in_scope(user).values("pk"))


class ActivityPhoto(models.Model):
    """A photo of a campaign activity. The file lies under ``VAR_DIR/media/activity-photos``
    under a random name, re-encoded without its metadata (no EXIF, no GPS); it is served
    only through a view that checks the activity is in the reader's scope, never as public
    media."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="photos"
    )
    # The stored name (random, with its suffix); the thumbnail is ``thumbnail_name``.
    file = models.CharField(_("file"), max_length=100, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    objects = ActivityPhotoQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("activity photo")
        verbose_name_plural = _("activity photos")

    def __str__(self) -> str:
        return f"{self.activity_id} {self.file}"

    @property
    def thumbnail_name(self) -> str:
        stem, _dot, suffix = self.file.rpartition(".")
        return f"{stem}-thumb.{suffix}"

    @property
    def content_type(self) -> str:
        return PHOTO_CONTENT_TYPES[self.file.rpartition(".")[2]]


PHOTO_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@receiver(post_delete, sender=ActivityPhoto)
def _remove_photo_files(sender: type[models.Model], instance: ActivityPhoto, **kwargs: Any) -> None:
    """The files go once the deletion is committed (a photo removed, or its activity
    deleted): a rolled-back deletion keeps them."""
    transaction.on_commit(lambda: remove_photo_files(instance))


class AssociationBranch(TrackedModel):
    """A floating-population family-planning association branch (流动人口计生协会)."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    # A branch may sit in an employer or a market; a text until the places app links it.
    place = models.CharField(_("place"), max_length=200, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)

    scope_fields = ("region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["region_id", "name"]
        verbose_name = _("association branch")
        verbose_name_plural = _("association branches")

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    MEMBER = "member", _("member")
    COUNCIL = "council", _("council member")
    CHAIR = "chair", _("chair")
    VOLUNTEER = "volunteer", _("volunteer")


class PersonalAffairsQuerySet(ScopedQuerySet):
    """Records of a person's own affairs (her help requests, her memberships): seen by
    the offices that keep person files in their region. A service station records
    services and needs none of these; an inspector assesses figures, not people (PIPL:
    the minimum necessary)."""

    def in_scope(self, user: Caller) -> Self:
        # She herself reads her own rows (the model's resident_path; none without one).
        if isinstance(user, Resident):
            return super().in_scope(user)
        if not can(user, CHANGE_PEOPLE):
            return self.none()
        return super().in_scope(user)


class Membership(TrackedModel):
    branch = models.ForeignKey(
        AssociationBranch,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    joined_on = models.DateField(_("joined on"))
    role = models.CharField(
        _("role"), max_length=20, choices=MemberRole.choices, default=MemberRole.MEMBER
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)

    # Visible where the branch is: a member's file is read through people, not here.
    scope_fields = ("branch__region",)
    objects = PersonalAffairsQuerySet.as_manager()

    class Meta:
        ordering = ["branch_id", "-joined_on", "pk"]
        verbose_name = _("association membership")
        verbose_name_plural = _("association memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "person"],
                condition=Q(left_on__isnull=True),
                name="services_one_open_membership",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.branch_id}"


class AssociationActivity(TrackedModel):
    branch = models.ForeignKey(
        AssociationBranch,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    date = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200)
    participants_count = models.PositiveIntegerField(_("participants"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    scope_fields = ("branch__region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("association activity")
        verbose_name_plural = _("association activities")

    def __str__(self) -> str:
        return f"{self.date} {self.title}"


class HelpCategory(models.TextChoices):
    WAGES = "wages", _("unpaid wages")
    SCHOOLING = "schooling", _("children's schooling")
    HOUSING = "housing", _("housing")
    HEALTH = "health", _("health")
    OTHER = "other", _("other")


class HelpStatus(models.TextChoices):
    OPEN = "open", _("open")
    IN_PROGRESS = "in_progress", _("in progress")
    RESOLVED = "resolved", _("resolved")
    REFERRED = "referred", _("referred")
    CLOSED = "closed", _("closed")


# Still to be worked on: the worklist's requests.
ACTIVE_STATUSES = (HelpStatus.OPEN, HelpStatus.IN_PROGRESS)
# An outcome says what was done: required once resolved or referred elsewhere.
OUTCOME_STATUSES = (HelpStatus.RESOLVED, HelpStatus.REFERRED)
FINISHED_STATUSES = (HelpStatus.RESOLVED, HelpStatus.REFERRED, HelpStatus.CLOSED)


class HelpRequestQuerySet(PersonalAffairsQuerySet):
    def active(self) -> Self:
        return self.filter(status__in=ACTIVE_STATUSES)

    def overdue(self, today: datetime.date) -> HelpRequestQuerySet:
        return self.active().filter(deadline__lt=today)


class HelpRequest(TrackedModel):
    """A floating person's request for help with her rights (权益维护)."""

    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="help_requests",
    )
    # The office that received it and answers for it.
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(_("category"), max_length=20, choices=HelpCategory.choices)
    description = models.TextField(_("description"), blank=True)
    received_on = models.DateField(_("received on"))
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="help_requests",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=HelpStatus.choices, default=HelpStatus.OPEN
    )
    deadline = models.DateField(_("deadline"))
    outcome = models.TextField(_("outcome"), blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    scope_fields = ("region",)
    # She sees her own open requests on her page (ScopedQuerySet.of_resident).
    resident_path = "person"
    objects = HelpRequestQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "pk"]
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        indexes = [models.Index(fields=["region", "status", "deadline"], name="help_worklist_idx")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.received_on}"

    def is_overdue(self, today: datetime.date) -> bool:
        return self.status in ACTIVE_STATUSES and self.deadline < today


# --- service records and follow-ups --------------------------------------------------------


class ContraceptiveMethod(models.TextChoices):
    """The method she chose; there is no default (her informed choice)."""

    CONDOM = "condom", _("condoms")
    ORAL = "oral", _("oral contraceptive pills")
    EMERGENCY = "emergency", _("emergency contraception")
    INJECTION = "injection", _("injectable")
    IUD = "iud", _("intrauterine device")
    IMPLANT = "implant", _("implant")
    OTHER = "other", _("other (described)")


class ServiceRecordQuerySet(ScopedQuerySet):
    def in_scope(self, user: Caller) -> Self:
        """Offices see the services given in their region and those of the people whose
        files they keep (registered or living there). A service station sees only what
        it recorded and what was given in its region or at a station there: it keeps no
        registry (DESIGN.md §1)."""
        scoped = super().in_scope(user)
        # Only a staff account has the provider role (the operator and a peer do not).
        if scoped.query.is_empty() or not isinstance(user, User) or user.role != Role.PROVIDER:
            return scoped
        region = user.region_id or ""
        return self.filter(
            Q(recorded_by=user)
            | subtree_q(region, "region_id")
            | subtree_q(region, "provider__region_id")
        )


class ServiceRecord(TrackedModel):
    """One service a person asked for or accepted (DESIGN.md §2 principle 1): what, when,
    where, by whom, whether free, and that her consent was recorded."""

    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    service_type = models.CharField(
        _("type of service"), max_length=30, choices=ServiceType.choices
    )
    date = models.DateField(_("date"))
    # A registered service station; ``provider_name`` names one that is not registered.
    provider = models.ForeignKey(
        "places.Site",
        verbose_name=_("service station"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    provider_name = models.CharField(_("provider (not registered)"), max_length=200, blank=True)
    # Where the service was given: the statistics count by this region.
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    free_of_charge = models.BooleanField(_("free of charge"), default=True)
    # The form says she asked for or accepted it; a service without it is refused.
    consent_recorded = models.BooleanField(_("asked for or accepted by her"), default=False)
    contraceptive_method = models.CharField(
        _("contraceptive method she chose"),
        max_length=20,
        choices=ContraceptiveMethod.choices,
        blank=True,
    )
    contraceptive_method_other = models.CharField(_("other method"), max_length=100, blank=True)
    # A pre-pregnancy check is for a couple: the spouse's number as her file held it then.
    spouse_id_number = models.CharField(_("spouse ID number"), max_length=18, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_records",
    )
    # Sensitive health data: shown only to the station and her own township specialist.
    result = models.TextField(_("result"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ("region", "person__household_region", "person__residence_region")
    # The resident reads the services recorded for her (ScopedQuerySet.of_resident).
    resident_path = "person"
    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        indexes = [
            # The statistics count distinct persons per region subtree and period.
            models.Index(fields=["region", "date"], name="service_region_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} {self.date}"


class FollowUpQuerySet(ScopedQuerySet):
    def in_scope(self, user: Caller) -> Self:
        """The follow-ups of the service records the caller sees."""
        return self.filter(service__in=ServiceRecord.objects.in_scope(user).values("pk"))

    def open(self) -> Self:
        return self.filter(done_on__isnull=True)


class FollowUp(TrackedModel):
    """A follow-up a service scheduled: due on a day after it, done (or not yet)."""

    service = models.ForeignKey(
        ServiceRecord,
        verbose_name=_("service"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [models.Index(fields=["done_on", "due_on"], name="followup_worklist_idx")]

    def __str__(self) -> str:
        return f"{self.service_id} {self.due_on}"
