"""Programmes, their amounts, families, applications, benefits, yearly re-qualification and
payment lists (issue 17).

A *programme* is data: its code, names and eligibility rules (``rules``, a checked
vocabulary), and its amounts per year and province (``ProgrammeAmount``). A *family* is the
couple as the household registration township knows it, with their children; an
*application* is one parent's request for one programme, going through the village's public
notice (公示), the township's review and the county's approval; an approved application
becomes a *benefit*, confirmed once a year (``Requalification``) and paid through the
county's yearly *payment list*.

Families, applications and benefits are kept by the township of household registration (the
scope is the family's household region); a beneficiary living elsewhere is confirmed
through her residence (an assistance request), never by asking her to come home.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from liudong.base import ScopedQuerySet, TrackedModel
from liudong.people.idnumbers import mask
from liudong.people.template import SEX_CHOICES

# The least number of days a village's public notice (公示) stays posted.
NOTICE_MIN_DAYS = 7


class Programme(models.Model):
    """One programme: who qualifies is ``rules`` (``liudong.services.programmes.rules``
    parses and evaluates it); a person may hold at most one benefit of each ``group`` at
    once (the two special assistance programmes share one)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    group = models.SlugField(_("exclusive group"), max_length=40)
    rules = models.JSONField(_("eligibility rules"), default=list)
    # A programme a province closed is kept (its benefits and payments stay readable).
    active = models.BooleanField(_("open for applications"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return self.name


class ProgrammeAmount(models.Model):
    """What one beneficiary receives a year under a programme in a province, and how it is
    paid. Data, never code; the demo's amounts are marked as examples."""

    class Schedule(models.TextChoices):
        YEARLY = "yearly", _("once a year")
        MONTHLY = "monthly", _("monthly")

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="amounts")
    year = models.PositiveSmallIntegerField(_("year"))
    province = models.CharField(_("province code"), max_length=2)
    yuan_per_year = models.DecimalField(_("yuan a year per person"), max_digits=9, decimal_places=2)
    schedule = models.CharField(
        _("paid"), max_length=8, choices=Schedule.choices, default=Schedule.YEARLY
    )
    example = models.BooleanField(_("example amount (not an official figure)"), default=False)

    class Meta:
        ordering = ["programme", "-year", "province"]
        verbose_name = _("programme amount")
        verbose_name_plural = _("programme amounts")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "year", "province"], name="programme_amount_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.year} {self.province}: {self.yuan_per_year}"


class HouseholdType(models.TextChoices):
    """户口性质 as the registers write it; the two rural kinds count as rural."""

    AGRICULTURAL = "agricultural", "农业"
    NON_AGRICULTURAL = "non_agricultural", "非农业"
    RESIDENT_RURAL = "resident_rural", "居民(农村)"
    RESIDENT_URBAN = "resident_urban", "居民(城镇)"


RURAL_HOUSEHOLD_TYPES = (HouseholdType.AGRICULTURAL, HouseholdType.RESIDENT_RURAL)


class ChildState(models.TextChoices):
    LIVING = "living", "健在"
    DEAD = "dead", "死亡"
    DISABLED = "disabled", "伤残"  # alive, with a disability certificate


class Family(TrackedModel):
    """The couple (applicant and spouse, by ID number) and their children, as the household
    registration township records them for the programmes.

    ``births_certified_on`` and ``births_certified_by`` record that the village and township
    certified the family's births were within the policy of their time: a recorded
    certification, never computed by the system.
    """

    applicant_name = models.CharField(_("applicant"), max_length=50)
    applicant_id_number = models.CharField(_("applicant ID number"), max_length=18, unique=True)
    spouse_name = models.CharField(_("spouse"), max_length=50, blank=True)
    spouse_id_number = models.CharField(_("spouse ID number"), max_length=18, blank=True)
    household_type = models.CharField(
        _("household type"), max_length=20, choices=HouseholdType.choices
    )
    household_region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("household region"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    household_address = models.CharField(_("household address"), max_length=200, blank=True)
    # Her file when she has one on this node (a floating person, or one who came back).
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person file"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="programme_families",
    )
    births_certified_on = models.DateField(_("births certified on"), null=True, blank=True)
    births_certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("births certified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Who certified, in words, for a certification recorded on paper before this system.
    births_certified_note = models.CharField(_("certification note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ("household_region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["household_region", "applicant_name", "pk"]
        verbose_name = _("family")
        verbose_name_plural = _("families")

    def __str__(self) -> str:
        return f"{self.applicant_name} {mask(self.applicant_id_number)}"

    @property
    def births_certified(self) -> bool:
        return self.births_certified_on is not None


class FamilyChild(models.Model):
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="children")
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=SEX_CHOICES)
    birth_date = models.DateField(_("birth date"))
    state = models.CharField(
        _("state"), max_length=10, choices=ChildState.choices, default=ChildState.LIVING
    )
    death_date = models.DateField(_("death date"), null=True, blank=True)
    disability_grade = models.PositiveSmallIntegerField(
        _("disability grade"), null=True, blank=True
    )
    adopted = models.BooleanField(_("adopted"), default=False)

    scope_fields = ("family__household_region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["family", "birth_date", "pk"]
        verbose_name = _("child")
        verbose_name_plural = _("children")

    def __str__(self) -> str:
        return f"{self.name or '—'} {self.birth_date}"


class PublicNotice(TrackedModel):
    """A village's public notice (公示) of applications: posted at least
    ``NOTICE_MIN_DAYS`` days; the township reviews an application only after it ends."""

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    posted_on = models.DateField(_("posted on"))
    ends_on = models.DateField(_("ends on"))
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ("region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-posted_on", "pk"]
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")

    def __str__(self) -> str:
        return f"{self.region_id} {self.posted_on}–{self.ends_on}"

    def is_over(self, today: datetime.date) -> bool:
        return today > self.ends_on


class Application(TrackedModel):
    """One parent's application for one programme, made by township staff for her.

    applied → on_notice (in a village's public notice) → reviewed (township, after the
    notice ended) → approved (county; a benefit begins) or refused at either step with a
    reason; a refused application may be appealed once to the county (appealed), whose
    decision is final.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", _("applied")
        ON_NOTICE = "on_notice", _("on public notice")
        REVIEWED = "reviewed", _("reviewed by the township")
        # "approved" alone is a monthly report's state (已审核); an application is granted.
        APPROVED = "approved", pgettext_lazy("application", "approved")
        REFUSED = "refused", pgettext_lazy("application", "refused")
        APPEALED = "appealed", _("appealed to the county")
        WITHDRAWN = "withdrawn", _("withdrawn")

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="applications")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    # The parent applying: the family's applicant or spouse.
    id_number = models.CharField(_("ID number"), max_length=18)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    applied_on = models.DateField(_("applied on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.APPLIED
    )
    # The 一卡通 account the benefit is paid into (masked everywhere but the payment file).
    bank_card = models.CharField(_("bank card"), max_length=30, blank=True)
    notice = models.ForeignKey(
        PublicNotice,
        verbose_name=_("public notice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    refusal_reason = models.CharField(_("reason for refusal"), max_length=500, blank=True)
    appealed_on = models.DateField(_("appealed on"), null=True, blank=True)
    appeal_reason = models.CharField(_("grounds of appeal"), max_length=500, blank=True)
    appeal_decided_on = models.DateField(_("appeal decided on"), null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("appeal decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ("family__household_region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-applied_on", "pk"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [models.Index(fields=["id_number", "programme"], name="application_person_idx")]

    def __str__(self) -> str:
        return f"{self.programme} {self.name} {mask(self.id_number)}"


class Benefit(TrackedModel):
    """An approved application: what is paid, to whom, while it lasts.

    active → suspended (not confirmed by the re-qualification deadline: kept, with the
    reason, and resumed when confirmed) → ended (death, a new child, household moved out,
    no longer eligible: from the next payment, with the reason). Never struck off.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspended")
        ENDED = "ended", _("ended")

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="benefit"
    )
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="benefits")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="benefits")
    id_number = models.CharField(_("ID number"), max_length=18)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    bank_card = models.CharField(_("bank card"), max_length=30, blank=True)
    starts_on = models.DateField(_("paid from"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    status_changed_on = models.DateField(_("status changed on"), null=True, blank=True)
    # Paid up to and including this date; an ended benefit is not paid after it.
    ends_on = models.DateField(_("paid until"), null=True, blank=True)

    scope_fields = ("family__household_region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["family", "programme", "pk"]
        verbose_name = _("benefit")
        verbose_name_plural = _("benefits")
        indexes = [models.Index(fields=["id_number", "status"], name="benefit_person_idx")]

    def __str__(self) -> str:
        return f"{self.programme} {self.name} {mask(self.id_number)}"


class RequalificationRound(TrackedModel):
    """A county's yearly re-qualification (年审): every benefit of the county is confirmed
    alive and still eligible by ``deadline``; one not confirmed by then is suspended."""

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    deadline = models.DateField(_("deadline"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When the suspensions of the deadline were applied (once).
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    scope_fields = ("region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "region"]
        verbose_name = _("re-qualification round")
        verbose_name_plural = _("re-qualification rounds")
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="requalification_round_once")
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}"


class Requalification(TrackedModel):
    """One benefit's confirmation in one round: by the township here, or through an
    assistance request (question ``living``) to her residence when she lives elsewhere."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("waiting")
        CONFIRMED = "confirmed", _("confirmed alive and eligible")
        ENDED = "ended", _("benefit ended")
        SUSPENDED = "suspended", _("not confirmed by the deadline")

    round = models.ForeignKey(
        RequalificationRound, on_delete=models.CASCADE, related_name="requalifications"
    )
    benefit = models.ForeignKey(Benefit, on_delete=models.CASCADE, related_name="requalifications")
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The assistance request asked of her residence (exchange.AssistanceRequest.request_id).
    assistance_request_id = models.UUIDField(_("assistance request"), null=True, blank=True)

    scope_fields = ("benefit__family__household_region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["round", "benefit"]
        verbose_name = _("re-qualification")
        verbose_name_plural = _("re-qualifications")
        constraints = [
            models.UniqueConstraint(fields=["round", "benefit"], name="requalification_once")
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.benefit}"


class PaymentList(TrackedModel):
    """A county's payment list of one year for the finance bureau. Frozen (never changed,
    never exported again) once exported; the bank's return file marks each line."""

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    made_on = models.DateField(_("made on"))
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("exported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = ("region",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "region"]
        verbose_name = _("payment list")
        verbose_name_plural = _("payment lists")
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="payment_list_once")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}"

    @property
    def frozen(self) -> bool:
        return self.exported_at is not None


class PaymentLine(models.Model):
    """One benefit's payment in a list, as exported (name, ID number and card are copied so
    the list stays what the bank was sent)."""

    class Result(models.TextChoices):
        PENDING = "pending", _("not yet returned")
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")

    payment_list = models.ForeignKey(PaymentList, on_delete=models.CASCADE, related_name="lines")
    benefit = models.ForeignKey(Benefit, on_delete=models.PROTECT, related_name="payments")
    township = models.ForeignKey(
        "regions.Region",
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18)
    bank_card = models.CharField(_("bank card"), max_length=30, blank=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=9, decimal_places=2, default=Decimal("0")
    )
    result = models.CharField(
        _("result"), max_length=8, choices=Result.choices, default=Result.PENDING
    )
    failure_reason = models.CharField(_("reason for failure"), max_length=200, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    # A failed payment someone has dealt with (card corrected, paid again by hand).
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolution = models.CharField(_("what was done"), max_length=200, blank=True)

    scope_fields = ("township",)
    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["payment_list", "township", "pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["payment_list", "benefit"], name="payment_line_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} {mask(self.id_number)} {self.amount}"
