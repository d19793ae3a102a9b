"""Indicators as data (DESIGN.md §4): a county adds one in the web UI without a release.

The standard set DESIGN.md §5 lists ships as data (``standard.py``, installed by a
migration); its definitions are fixed, so every office's report means the same thing.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from liudong.accounts.roles import SPOT_CHECK, VIEW_REPORTS
from liudong.actors import Caller, reach
from liudong.authorization import has_capability
from liudong.base import ScopedQuerySet, TrackedModel
from liudong.regions.codes import ancestors, subtree_q

from . import checks, definitions


class Unit(models.TextChoices):
    COUNT = "count", _("count")
    PERCENT = "percent", _("percent (%)")
    PERMILLE = "permille", _("per mille (‰)")
    PER_HUNDRED = "per_hundred", _("per hundred")


class Direction(models.TextChoices):
    HIGHER = "higher", _("higher is better")
    LOWER = "lower", _("lower is better")
    NEUTRAL = "neutral", _("neither")


class Indicator(TrackedModel):
    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                definitions.CODE_PATTERN,
                _("Lower-case letters, digits and underscores, starting with a letter."),
            )
        ],
    )
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.HIGHER
    )
    definition = models.JSONField(_("definition"))
    standard = models.BooleanField(_("standard (shipped)"), default=False)
    # Whether a target or an assessment scheme may use it. A county may mark its own
    # indicator as a statistic, but never make assessable one that counts births,
    # reproductive choices or people (``statistic_reason`` decides by the definition).
    assessable = models.BooleanField(
        _("assessable"),
        default=False,
        help_text=_("Measures the offices' own work, so it may carry a target and points."),
    )
    position = models.PositiveSmallIntegerField(_("position in reports"), default=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    @property
    def parsed(self) -> definitions.Definition:
        return definitions.parse(self.definition)

    @property
    def is_count(self) -> bool:
        return isinstance(self.parsed, definitions.Count)

    def definition_reason(self, known: Mapping[str, Indicator] | None = None) -> str | None:
        """Why its definition makes it a statistic (``definitions.statistic_reason``);
        ``known``: indicators already read, by code (a ratio's counts among them)."""
        read: dict[str, definitions.Definition | None] = {}

        def resolve(code: str) -> definitions.Definition | None:
            if known and code in known:
                return known[code].parsed
            if code not in read:
                other = Indicator.objects.filter(code=code).only("definition").first()
                read[code] = None if other is None else other.parsed
            return read[code]

        return definitions.statistic_reason(self.parsed, resolve)

    def statistic_reason(self, known: Mapping[str, Indicator] | None = None) -> str | None:
        """Why no target or scheme may use it (None: it is assessable), in words an office
        reads: the definition's reason, else that it was marked a statistic."""
        reason = self.definition_reason(known)
        if reason is None and not self.assessable:
            reason = str(_("it was added as a statistic"))
        if reason is None:
            return None
        return not_assessable_message(self, reason)

    def clean(self) -> None:
        parsed = definitions.parse(self.definition)
        is_count = isinstance(parsed, definitions.Count)
        if is_count != (self.unit == Unit.COUNT):
            raise ValidationError(
                {"unit": _("A count has the unit “count”; a ratio has a rate's unit.")}
            )
        for code in definitions.referenced_codes(parsed):
            other = Indicator.objects.filter(code=code).first()
            if other is None:
                raise ValidationError(
                    {"definition": _("No indicator has the code “%(code)s”.") % {"code": code}}
                )
            if not other.is_count:
                raise ValidationError(
                    {
                        "definition": _("“%(code)s” is itself a ratio: a ratio divides counts.")
                        % {"code": code}
                    }
                )
        if self.assessable and (reason := self.definition_reason()) is not None:
            raise ValidationError(
                {
                    "assessable": ValidationError(
                        not_assessable_message(self, reason), code="not_assessable"
                    )
                }
            )


def not_assessable_message(indicator: Indicator, reason: str) -> str:
    return _(
        "“%(name)s” is not assessable, a statistic: %(reason)s. Offices are assessed on "
        "their own work (registration, certificates and verification on time, notices and "
        "assistance answered on time, services offered, data accuracy)."
    ) % {"name": indicator.name_zh or indicator.code, "reason": reason}


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    RETURNED = "returned", _("returned")
    APPROVED = "approved", _("approved")
    REOPENED = "reopened", _("reopened")


class CapabilityScopedQuerySet(ScopedQuerySet):
    """Rows of the actor's region and below, for roles that hold ``capability`` only
    (figures and spot checks are not every role's: a collector reads no report)."""

    capability = ""

    def in_scope(self, actor: Caller) -> CapabilityScopedQuerySet:
        if not has_capability(actor, self.capability):
            return self.none()
        return super().in_scope(actor)


class ReportQuerySet(CapabilityScopedQuerySet):
    capability = VIEW_REPORTS


class SpotCheckQuerySet(CapabilityScopedQuerySet):
    capability = SPOT_CHECK


class SchemeQuerySet(CapabilityScopedQuerySet):
    capability = VIEW_REPORTS

    def in_scope(self, actor: Caller) -> SchemeQuerySet:
        """A unit sees the schemes it sets (its subtree) and those it is scored by (set
        above it, in one of its ancestors)."""
        region = reach(actor)
        if region is None or not has_capability(actor, self.capability):
            return self.none()
        return self.filter(
            subtree_q(region, "region_id") | models.Q(region_id__in=ancestors(region))
        )


class MonthlyReport(TrackedModel):
    """A unit's monthly report as submitted upward, with the figures it was submitted
    with. Once approved the figures are frozen: later edits to the registry change the
    live report, never this one (what the county approved is what was assessed)."""

    objects = ReportQuerySet.as_manager()

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("reporting unit"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    period = models.CharField(_("period"), max_length=7)
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices)
    figures = models.JSONField(_("figures as submitted"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or returned by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("approved or returned at"), null=True, blank=True)
    reason = models.CharField(_("reason (return or reopen)"), max_length=300, blank=True)

    class Meta:
        ordering = ["-period", "region_id"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        constraints = [
            models.UniqueConstraint(fields=["region", "period"], name="monthly_report_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.period}"

    @property
    def is_frozen(self) -> bool:
        return self.status == ReportStatus.APPROVED


class ReportEvent(models.Model):
    """The report's history as its page shows it (the audit log holds it too)."""

    report = models.ForeignKey(MonthlyReport, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=10, choices=ReportStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("report event")
        verbose_name_plural = _("report events")

    def __str__(self) -> str:
        return f"{self.report} {self.action} {self.at:%Y-%m-%d}"


class Severity(models.TextChoices):
    ERROR = "error", _("error")
    WARNING = "warning", _("warning")


class QualityRule(TrackedModel):
    """A data-quality rule (issue 6, part 7), like an indicator: data naming one check of
    the vocabulary in ``quality.py`` and its parameters, so a county adds or switches off
    a rule without a release. The standard rules ship as data (``quality.STANDARD_RULES``).
    """

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                definitions.CODE_PATTERN,
                _("Lower-case letters, digits and underscores, starting with a letter."),
            )
        ],
    )
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    # Not "check": Model.check() is Django's system-check hook.
    check_name = models.CharField(_("check"), max_length=40)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    severity = models.CharField(
        _("severity"), max_length=8, choices=Severity.choices, default=Severity.ERROR
    )
    active = models.BooleanField(_("active"), default=True)
    standard = models.BooleanField(_("standard (shipped)"), default=False)
    position = models.PositiveSmallIntegerField(_("position in lists"), default=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("data-quality rule")
        verbose_name_plural = _("data-quality rules")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"

    @property
    def name(self) -> str:
        """The name in the language of the request (Chinese unless English is chosen)."""
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    def clean(self) -> None:
        self.parameters = checks.parse(self.check_name, self.parameters)


def statistical_year_of(day: datetime.date) -> int:
    """The statistical year a day belongs to, named by the year it ends in: 1 October
    2025 to 30 September 2026 is the statistical year 2026."""
    return day.year + 1 if day.month >= 10 else day.year


class Target(TrackedModel):
    """A yearly target for an indicator in a region; regions below inherit it unless they
    have their own (``stats.services.target_for``)."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="targets"
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("statistical year"))
    value = models.DecimalField(_("target"), max_digits=9, decimal_places=2)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["year", "region_id", "indicator__position"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "region", "year"], name="target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.region_id} {self.year}: {self.value}"

    def clean(self) -> None:
        if (reason := self.indicator.statistic_reason()) is not None:
            raise ValidationError({"indicator": ValidationError(reason, code="not_assessable")})
        unit = self.indicator.unit
        if unit == Unit.PERCENT and not 0 <= self.value <= 100:
            raise ValidationError({"value": _("A rate's target lies between 0 and 100 (%).")})
        if self.value < 0:
            raise ValidationError({"value": _("A target cannot be negative.")})


class AssessmentScheme(TrackedModel):
    """How a unit's year is scored (考核方案): weighted indicators scored against their
    targets (full marks at or above, proportional below), minus deductions for monthly
    reports submitted late or returned."""

    objects = SchemeQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("assessing unit"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The units directly below it are scored."),
    )
    year = models.PositiveSmallIntegerField(_("statistical year"))
    items = models.JSONField(
        _("weighted indicators"),
        help_text=_('A list of {"indicator": CODE, "weight": POINTS}.'),
    )
    due_day = models.PositiveSmallIntegerField(
        _("reports due by this day of the next month"), default=5
    )
    late_deduction = models.DecimalField(
        _("points off per late report"), max_digits=5, decimal_places=2, default=Decimal("2")
    )
    return_deduction = models.DecimalField(
        _("points off per returned report"), max_digits=5, decimal_places=2, default=Decimal("1")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set up by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-year", "region_id", "name"]
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")

    def __str__(self) -> str:
        return f"{self.name} {self.year}"

    def clean(self) -> None:
        if not isinstance(self.items, list) or not self.items:
            raise ValidationError({"items": _("List at least one weighted indicator.")})
        indicators = {i.code: i for i in Indicator.objects.all()}
        seen = set()
        for item in self.items:
            if not isinstance(item, dict) or set(item) != {"indicator", "weight"}:
                raise ValidationError(
                    {"items": _('Each item is {"indicator": CODE, "weight": POINTS}.')}
                )
            code, weight = item["indicator"], item["weight"]
            if code not in indicators:
                raise ValidationError(
                    {"items": _("No indicator has the code “%(code)s”.") % {"code": code}}
                )
            if (reason := indicators[code].statistic_reason(indicators)) is not None:
                raise ValidationError({"items": ValidationError(reason, code="not_assessable")})
            if code in seen:
                raise ValidationError({"items": _("“%(code)s” is listed twice.") % {"code": code}})
            seen.add(code)
            if not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0:
                raise ValidationError(
                    {"items": _("The weight of “%(code)s” must be above 0.") % {"code": code}}
                )
        if not 1 <= self.due_day <= 28:
            raise ValidationError({"due_day": _("A day from 1 to 28.")})


class SpotCheckStatus(models.TextChoices):
    OPEN = "open", _("under way")
    CLOSED = "closed", _("closed")


class FieldResult(models.TextChoices):
    CORRECT = "correct", _("correct")
    INCORRECT = "incorrect", _("incorrect")
    UNVERIFIED = "unverified", _("not verified")


class SpotCheck(TrackedModel):
    """A spot check (抽查, issue 6 part 6): a reproducible random sample of the files in a
    unit for a period, visited in the field; what was found feeds ``data_accuracy_rate``.
    ``stats.spotchecks`` draws it (the seed is kept so an inspector can draw it again)."""

    objects = SpotCheckQuerySet.as_manager()

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("unit checked"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    period = models.CharField(_("period"), max_length=7)
    seed = models.PositiveIntegerField(_("seed"))
    per_village = models.PositiveSmallIntegerField(_("files per village"), default=20)
    fields_checked = models.JSONField(_("fields checked"))
    status = models.CharField(
        _("status"), max_length=6, choices=SpotCheckStatus.choices, default=SpotCheckStatus.OPEN
    )
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("drawn at"))

    class Meta:
        ordering = ["-drawn_at", "-id"]
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")

    def __str__(self) -> str:
        return f"{self.region_id} {self.period} #{self.seed}"

    @property
    def is_open(self) -> bool:
        return self.status == SpotCheckStatus.OPEN


class SpotCheckEntry(TrackedModel):
    """One sampled file: where it was drawn (the village and its place in the village's
    sample) and, once visited, who checked it when."""

    # Not "check": Model.check() is Django's system-check hook.
    spot_check = models.ForeignKey(
        SpotCheck, verbose_name=_("spot check"), on_delete=models.CASCADE, related_name="entries"
    )
    person = models.ForeignKey(
        "people.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="+"
    )
    # The residence region as drawn (a village, or the township for a file coded there):
    # results are counted where the file was, whatever she has done since.
    village = models.ForeignKey(
        "regions.Region", verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("position in the village's sample"))
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["spot_check", "village_id", "position"]
        verbose_name = _("spot-check entry")
        verbose_name_plural = _("spot-check entries")
        constraints = [
            models.UniqueConstraint(fields=["spot_check", "person"], name="spot_check_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.spot_check_id} {self.village_id} #{self.position}"


class SpotCheckResult(models.Model):
    """What the visit found for one field of one sampled file: a row per field, so the
    report engine counts them with one grouped query (``spot_fields``)."""

    entry = models.ForeignKey(SpotCheckEntry, on_delete=models.CASCADE, related_name="results")
    field = models.CharField(_("field"), max_length=30)
    result = models.CharField(_("result"), max_length=10, choices=FieldResult.choices)

    class Meta:
        ordering = ["entry", "id"]
        verbose_name = _("spot-check result")
        verbose_name_plural = _("spot-check results")
        constraints = [
            models.UniqueConstraint(fields=["entry", "field"], name="spot_check_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.field}: {self.result}"


# The pre-counted statistics store's tables (liudong/stats/store/).
from .store.models import (  # noqa: E402, F401
    StoreCell,
    StoredCount,
    StoredMonth,
    StoreMark,
    StoreState,
)
