"""Long imports run in the background: one row per uploaded file, from its preview to its
result, so the page can show a progress bar and the office can come back to the outcome.

Generic over the kind of file (person files now; certificate bulk issue and department
intake later): what a kind does lives in ``jobs.services.KINDS``, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from liudong.actors import account_of, reach
from liudong.base import ScopedQuerySet, TrackedModel
from liudong.regions.codes import subtree_q

if TYPE_CHECKING:
    from liudong.actors import Caller


class ImportJobQuerySet(ScopedQuerySet):
    def in_scope(self, user: Caller) -> Self:
        """Jobs in the user's region subtree, and the user's own wherever they were
        started (an account moved to another township still finds its imports)."""
        region = reach(user)
        if region is None:
            return self.none()
        account = account_of(user)
        if account is None:
            return self.filter(subtree_q(region, field="region_id"))
        return self.filter(subtree_q(region, field="region_id") | Q(created_by=account))


class ImportJob(TrackedModel):
    class Kind(models.TextChoices):
        PERSONS = "persons", _("person files")

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("checked, awaiting confirmation")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        INTERRUPTED = "interrupted", _("interrupted")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    original_name = models.CharField(_("file name"), max_length=255)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    # Name of the stored upload under var/uploads/ (liudong.web.uploads); kept until the
    # job ends (done or failed) so an interrupted import can be run again from the file.
    upload_token = models.CharField(max_length=80, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PREVIEWED
    )
    # An estimate taken from the file (null: unknown, the bar is indeterminate); set to
    # the exact count when the job is done.
    rows_total = models.PositiveIntegerField(_("rows (estimate)"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows read"), default=0)
    # What the dry run on the head of the file found: counts and the first problems.
    preview = models.JSONField(_("preview"), null=True, blank=True)
    # ImportSummary.as_dict() with the problem lists cut to their head, plus full counts.
    summary = models.JSONField(_("summary"), null=True, blank=True)
    # The rejected rows as an xlsx (name under var/jobs/), when there were any.
    errors_file = models.CharField(max_length=100, blank=True)
    message = models.TextField(_("error message"), blank=True)
    # Which process runs it ("host:pid") and when it last reported: a job whose runner is
    # gone is shown as interrupted and may be resumed.
    runner = models.CharField(max_length=100, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("runs"), default=0)
    # Who confirmed it, from which request, in which language: a worker runs the job (and
    # resumes it after a restart) as that account, its audit entries carrying that request.
    run_context = models.JSONField(null=True, blank=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    scope_fields = ("region",)
    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        indexes = [models.Index(fields=["created_by", "-created"], name="jobs_owner_recent_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, round(100 * self.rows_done / self.rows_total))
