"""Running imports in the background, and what the pages need about them.

A job goes previewed → queued → running → done (or failed). Confirming it queues a task
(django-tasks, ``run_import_job``) that a `liudong worker` runs; the import reports the rows
read about once a second with an UPDATE of that one row. A job whose worker is gone (a
restart, a crash: the worker stopped reporting) is marked interrupted, and a worker queues
it again (``resume_interrupted``; after AUTO_RESUME_ATTEMPTS runs only the office's
"Resume" button does). A worker asked to stop puts the job it runs back in the queue.
Running the whole file again is safe because the importers are idempotent: the second run
imports what is missing and changes nothing twice.

This module owns the job's life; what a kind of file does (and who may import it) is in
``KINDS``. It must not change the importers themselves.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django_tasks import task

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.actors import is_operator, region_of
from liudong.audit import context as audit_context
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.tabular import TableError, estimate_rows
from liudong.web import uploads

from .models import ImportJob

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from liudong.accounts.models import User
    from liudong.actors import Actor
    from liudong.tabular import ImportSummary


logger = logging.getLogger(__name__)

PREVIEW_ROWS = 2000  # the dry run checks the head of the file, not all of it
PREVIEW_PROBLEMS = 50  # problems listed on the preview page
SUMMARY_KEEP = 1000  # rejected rows and warnings kept in the summary (counts stay whole)
PROGRESS_EVERY = 1.0  # seconds between two writes of rows_done
# A job run by another machine counts as gone when it has not reported for this long
# (the importer reports every 1,000 rows; a slow batch takes seconds, not minutes).
STALE_AFTER = 600

State = ImportJob.State


@dataclass(frozen=True)
class Kind:
    """What one kind of job imports, and the capability it needs."""

    capability: str
    # run(path, *, acting_user, sheet, dry_run, max_rows, errors_out, progress) -> summary
    # with .imported/.updated/.unchanged/.rejected/.warnings; raises TableError for a
    # file that cannot be read at all.
    run: Callable
    # Column names as the template's headers show them, to name a problem's column.
    headers: dict[str, str] = field(default_factory=dict)


def _import_persons(path: str | Path, **options: Any) -> ImportSummary:
    from liudong.people.importing import import_persons

    return import_persons(path, **options)


def _person_headers() -> dict[str, str]:
    from liudong.people.template import COLUMNS

    return {column.field: column.chinese for column in COLUMNS}


KINDS: dict[str, Kind] = {
    ImportJob.Kind.PERSONS: Kind(CHANGE_PEOPLE, _import_persons, _person_headers()),
}


# --- preview --------------------------------------------------------------------------------


def preview(*, kind: str, uploaded: UploadedFile, sheet: str = "", acting_user: User) -> ImportJob:
    """Keep the uploaded file, check its head with a dry run and record a job awaiting
    confirmation. Raises ValidationError (wrong file type or size) or TableError (the
    file as a whole is unusable); in both cases nothing is kept."""
    token = uploads.save_upload(uploaded)
    path = uploads.upload_path(token)
    try:
        summary = KINDS[kind].run(
            path, acting_user=acting_user, sheet=sheet or None, dry_run=True, max_rows=PREVIEW_ROWS
        )
        rows_total = estimate_rows(path, sheet=sheet or None)
    except Exception:  # TableError above all: the file is unusable, keep nothing
        uploads.discard(token)
        raise
    checked = summary.imported + summary.updated + summary.unchanged + _rejected_rows(summary)
    return ImportJob.objects.create(
        kind=kind,
        created_by=acting_user,
        region_id=region_of(acting_user),
        original_name=Path(uploaded.name or "").name[:255],
        sheet=sheet,
        upload_token=token,
        state=State.PREVIEWED,
        rows_total=rows_total,
        preview={
            "imported": summary.imported,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "rejected_count": len(summary.rejected),
            "warnings_count": len(summary.warnings),
            "rejected": summary.rejected[:PREVIEW_PROBLEMS],
            "warnings": summary.warnings[:PREVIEW_PROBLEMS],
            "rows_checked": checked,
            "partial": rows_total is None or rows_total > PREVIEW_ROWS,
        },
    )


def _rejected_rows(summary: ImportSummary) -> int:
    """Rows refused (one row may have several problems)."""
    return len({p.get("row") for p in summary.rejected})


def cancel(job: ImportJob) -> None:
    """Drop a job that was checked but never confirmed, with its stored file."""
    if job.state != State.PREVIEWED:
        raise ValidationError(_("Only an import that has not started can be cancelled."))
    if job.upload_token:
        uploads.discard(job.upload_token)
    job.delete()


# --- running --------------------------------------------------------------------------------

# Automatic resumptions of a job whose worker died before it is left interrupted for a
# person to resume (a file that kills its worker each time must not loop for ever).
AUTO_RESUME_ATTEMPTS = 3


class Released(Exception):
    """The worker running the import is stopping: the job goes back to the queue."""


class Lost(Exception):
    """The job was taken from this runner (thought dead, resumed by another): stop."""


def _this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start(job: ImportJob, *, acting_user: Actor, run_inline: bool | None = None) -> ImportJob:
    """Queue a previewed (or interrupted) job for `liudong worker`, to run as
    ``acting_user``, whose name the audit entries carry (with the request that confirmed
    it, in its language). With ``run_inline`` (default: the JOBS_RUN_INLINE setting, which
    tests set) it runs here, before returning. Refuses a job already started, so a double
    click on "confirm" imports once."""
    if run_inline is None:
        run_inline = settings.JOBS_RUN_INLINE
    refresh(job)
    request = audit_context.current()
    claimed = ImportJob.objects.filter(
        pk=job.pk, state__in=(State.PREVIEWED, State.INTERRUPTED)
    ).update(
        state=State.QUEUED,
        runner=_this_runner() if run_inline else "",
        heartbeat=timezone.now(),
        rows_done=0,
        message="",
        attempts=F("attempts") + 1,
        run_context={
            "user": acting_user.pk,
            "operator_prefix": region_of(acting_user) if is_operator(acting_user) else None,
            "request_id": request.request_id,
            "address": request.address,
            "operator": request.operator,
            "language": get_language(),
        },
    )
    if not claimed:
        job.refresh_from_db()
        raise ValidationError(_("This import has already been started."))
    if run_inline:
        run(job.pk, acting_user=acting_user, runner=_this_runner())
    else:
        _enqueue(job.pk)
    job.refresh_from_db()
    return job


def _enqueue(pk: int) -> None:
    # In the caller's transaction, when there is one: the queue is a table of the same
    # database, so the task exists exactly when the job says it is queued.
    run_import_job.enqueue(pk)


def run_queued(pk: int) -> str:
    """The queued task: run job ``pk`` in this worker, as the account and in the request
    context and language that confirmed it. Skips a job no longer queued (cancelled,
    already taken by another worker after a resumption)."""
    from liudong.worker import services as worker

    me = worker.current_worker_id() or _this_runner()
    taken = ImportJob.objects.filter(pk=pk, state=State.QUEUED, runner="").update(
        runner=me, heartbeat=timezone.now()
    )
    if not taken:
        return "skipped"
    job = ImportJob.objects.select_related("created_by").get(pk=pk)
    context = job.run_context or {}
    acting_user = _acting_user(job, context)
    with (
        audit_context.bind(
            request_id=context.get("request_id") or None,
            address=context.get("address") or "",
            operator=context.get("operator") or "",
        ),
        override(context.get("language") or settings.LANGUAGE_CODE),
    ):
        return run(pk, acting_user=acting_user, runner=me, should_stop=worker.stop_requested)


@task()
def run_import_job(job_id: int) -> str:
    """The queued task (django-tasks; `liudong worker` runs it): "done", "failed",
    "released" (the worker stopped; the job is queued again), "lost" (taken by another
    runner) or "skipped" (no longer waiting for a worker)."""
    return run_queued(job_id)


def _acting_user(job: ImportJob, context: dict) -> Actor:
    from liudong.actors import Operator

    if context.get("user") is None and context.get("operator_prefix") is not None:
        return Operator(prefix=context["operator_prefix"])
    return job.created_by


def run(
    pk: int,
    *,
    acting_user: Actor,
    runner: str,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Import the job's file now, in this thread, as ``runner`` (the job's runner field),
    recording progress and the outcome. When ``should_stop`` turns true (the worker is
    stopping), the import ends after the batch it is writing and the job is queued again
    ("released"): rerunning the file is safe, the importers being idempotent (saved rows
    count as unchanged). Should the job be taken from this runner (thought dead and
    resumed elsewhere), this run stops at its next report ("lost"), so two runs of one
    job overlap by one batch at most and only the last one records the outcome."""
    job = ImportJob.objects.get(pk=pk)
    mine = ImportJob.objects.filter(pk=pk, runner=runner)
    if not mine.update(state=State.RUNNING, started=timezone.now(), heartbeat=timezone.now()):
        return "lost"
    kind = KINDS[job.kind]
    errors_path = _errors_folder() / f"{job.pk}-errors.xlsx"
    read = [0]
    last_write = [float("-inf")]  # the first report is written at once

    def progress(done: int) -> None:
        read[0] = done
        now = time.monotonic()
        if now - last_write[0] >= PROGRESS_EVERY:
            last_write[0] = now
            if not mine.update(rows_done=done, heartbeat=timezone.now()):
                raise Lost
        # Called between two batches, each saved whole: a safe point to stop at.
        if should_stop is not None and should_stop():
            raise Released

    try:
        path = uploads.upload_path(job.upload_token)
        summary = kind.run(
            path,
            acting_user=acting_user,
            sheet=job.sheet or None,
            errors_out=errors_path,
            progress=progress,
        )
    except Released:
        errors_path.unlink(missing_ok=True)
        requeued = mine.filter(state=State.RUNNING).update(
            state=State.QUEUED, runner="", rows_done=read[0], attempts=F("attempts") + 1
        )
        if requeued:
            _enqueue(pk)
        return "released"
    except Lost:  # the errors file is the other run's now
        return "lost"
    except FileNotFoundError:
        _fail(job, _("The uploaded file is gone: upload it again."), errors_path)
        return "failed"
    except TableError as exc:
        _fail(job, str(exc), errors_path)
        return "failed"
    except Exception as exc:
        logger.exception("import job %s failed", pk)
        _fail(job, _("The import stopped: %(error)s") % {"error": exc}, errors_path)
        return "failed"
    has_errors = bool(summary.rejected) and errors_path.exists()
    if not has_errors:
        errors_path.unlink(missing_ok=True)
    finished = mine.update(
        state=State.DONE,
        rows_done=read[0],
        rows_total=read[0],
        summary=trim_summary(summary),
        errors_file=errors_path.name if has_errors else "",
        finished=timezone.now(),
        heartbeat=timezone.now(),
        upload_token="",
    )
    if not finished:
        return "lost"
    uploads.discard(job.upload_token)
    return "done"


def resume_interrupted() -> int:
    """`liudong worker`'s periodic job: the jobs whose runner is gone (a worker killed, a
    machine restarted) are marked interrupted, and those resumed fewer than
    AUTO_RESUME_ATTEMPTS times are queued again; the number queued."""
    from liudong.worker import services as worker

    active = ImportJob.objects.filter(state__in=(State.QUEUED, State.RUNNING))
    me = worker.current_worker_id()
    if me:  # the worker asking is alive, whatever its reports say (SQLite busy)
        active = active.exclude(runner=me)
    refresh_all(active)
    resumed = 0
    waiting = ImportJob.objects.filter(
        state=State.INTERRUPTED, attempts__lt=AUTO_RESUME_ATTEMPTS
    ).exclude(upload_token="")
    for job in waiting:
        again = ImportJob.objects.filter(pk=job.pk, state=State.INTERRUPTED, attempts=job.attempts)
        if again.update(state=State.QUEUED, runner="", rows_done=0, attempts=F("attempts") + 1):
            _enqueue(job.pk)
            resumed += 1
    return resumed


def _fail(job: ImportJob, message: str, errors_path: Path) -> None:
    """A failed job is not run again (the office uploads a corrected file): its stored
    upload, personal data, is not kept."""
    errors_path.unlink(missing_ok=True)
    ImportJob.objects.filter(pk=job.pk).update(
        state=State.FAILED, message=message, finished=timezone.now(), upload_token=""
    )
    if job.upload_token:
        uploads.discard(job.upload_token)


def trim_summary(summary: ImportSummary) -> dict:
    """The summary as JSON, its problem lists cut to SUMMARY_KEEP (a million-row file
    with a bad column would otherwise store a million messages); the counts stay whole."""
    data = summary.as_dict()
    data["rejected_count"] = len(summary.rejected)
    data["warnings_count"] = len(summary.warnings)
    data["rejected_rows"] = _rejected_rows(summary)
    data["rejected"] = summary.rejected[:SUMMARY_KEEP]
    data["warnings"] = summary.warnings[:SUMMARY_KEEP]
    return data


def _errors_folder() -> Path:
    folder = settings.VAR_DIR / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- what the pages see ---------------------------------------------------------------------


def refresh(job: ImportJob) -> ImportJob:
    """Mark the job interrupted when it is queued or running but nobody runs it any more."""
    if job.is_active and not _runner_alive(job):
        changed = ImportJob.objects.filter(
            pk=job.pk, state=job.state, attempts=job.attempts
        ).update(state=State.INTERRUPTED)
        if changed:
            job.state = State.INTERRUPTED
    return job


def refresh_all(jobs: Iterable[ImportJob]) -> list[ImportJob]:
    return [refresh(job) for job in jobs]


def worker_running() -> bool:
    """Whether some `liudong worker` reports: a queued job waits for one otherwise."""
    from liudong.worker import services as worker

    return worker.any_alive()


def _runner_alive(job: ImportJob) -> bool:
    """A job waiting in the queue (no runner yet) is alive: a worker will take it. One a
    worker took lives while that worker reports; one run inline by another process
    (JOBS_RUN_INLINE) while that process exists, or, on another machine, reports."""
    from liudong.worker import services as worker

    if job.state == State.QUEUED and not job.runner:
        return True
    reported = worker.alive(job.runner)
    if reported is not None:
        # The import's own reports count too: a worker busy writing to SQLite may be
        # late to report through its other thread, never its import.
        return reported or _recent(job, settings.WORKER_LEASE)
    host, _sep, pid = job.runner.rpartition(":")
    if job.runner == _this_runner():
        return False  # inline runs end before their request does: this one is gone
    if host == socket.gethostname() and pid.isdigit():
        return _process_alive(int(pid))
    return _recent(job, STALE_AFTER)


def _recent(job: ImportJob, seconds: float) -> bool:
    return bool(job.heartbeat and (timezone.now() - job.heartbeat).total_seconds() < seconds)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another account
    return True


def errors_file(job: ImportJob, *, acting_user: Actor) -> Path:
    """The rejected rows as xlsx, for the job's owner; the download is audited as an
    export of personal data."""
    if job.created_by_id != acting_user.pk or not job.errors_file:
        raise FileNotFoundError(job.pk)
    path = _errors_folder() / Path(job.errors_file).name
    if not path.exists():
        raise FileNotFoundError(path)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=job,
        object_repr=_("Rejected rows of %(file)s") % {"file": job.original_name},
        region=job.region_id,
        detail={"file": job.original_name, "rows": (job.summary or {}).get("rejected_rows")},
    )
    return path
