"""Running imports in the background of the web server, and what the pages need about them.

A job goes previewed → queued → running → done (or failed). The import itself runs in a
daemon thread of the server process with its own database connection; it reports the rows
read about once a second with an UPDATE of that one row. A job left queued or running by a
process that is gone (a restart, a crash) is marked interrupted when someone looks at it;
resuming runs the whole file again, which is safe because the importers are idempotent:
the second run imports what is missing and changes nothing twice.

This module owns the job's life; what a kind of file does (and who may import it) is in
``KINDS``. It must not change the importers themselves.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.actors import region_of
from liudong.audit import context as audit_context
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.tabular import TableError
from liudong.web import uploads

from .models import ImportJob

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.db.backends.base.base import BaseDatabaseWrapper

    from liudong.accounts.models import User
    from liudong.actors import Actor
    from liudong.audit.context import RequestContext
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


def estimate_rows(path: Path, *, sheet: str | None = None) -> int | None:
    """Data rows in the file, quickly and roughly: newlines for csv (a quoted line break
    counts twice, blank lines count), the sheet's recorded size for xlsx. None when the
    file does not say (the progress bar is then indeterminate)."""
    if path.suffix.lower() in (".csv", ".txt"):
        lines, last = 0, b"\n"
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        if last != b"\n":
            lines += 1  # the last line has no line break
        return max(lines - 1, 0)
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        try:
            worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
            # Read-only sheets take their size from the file's <dimension> element only.
            max_row = worksheet.max_row
        finally:
            workbook.close()
    except Exception:  # an estimate is never worth failing the import for
        return None
    return max(max_row - 1, 0) if max_row else None


# --- running --------------------------------------------------------------------------------

# Jobs whose thread runs in this process, by job id. The lock also covers the claim of a
# job, so a page looking at it between claim and thread start never calls it interrupted.
_live: dict[int, threading.Thread] = {}
_live_lock = threading.Lock()


def _this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start(job: ImportJob, *, acting_user: Actor, run_inline: bool | None = None) -> ImportJob:
    """Run a previewed (or interrupted) job as ``acting_user``, whose name the audit
    entries carry. In a daemon thread unless ``run_inline`` (default: the JOBS_RUN_INLINE
    setting, which tests set): then here, before returning. Refuses a job already
    started, so a double click on "confirm" imports once."""
    if run_inline is None:
        run_inline = settings.JOBS_RUN_INLINE
    refresh(job)
    with _live_lock:
        claimed = ImportJob.objects.filter(
            pk=job.pk, state__in=(State.PREVIEWED, State.INTERRUPTED)
        ).update(
            state=State.QUEUED,
            runner=_this_runner(),
            heartbeat=timezone.now(),
            rows_done=0,
            message="",
            attempts=F("attempts") + 1,
        )
        if not claimed:
            job.refresh_from_db()
            raise ValidationError(_("This import has already been started."))
        job.refresh_from_db()
        if run_inline:
            thread = None
        else:
            shared = _shared_test_connection()
            thread = threading.Thread(
                target=_thread_main,
                args=(job.pk,),
                kwargs={
                    "acting_user": acting_user,
                    "request_context": audit_context.current(),
                    "language": get_language(),
                    "shared": shared,
                },
                name=f"import-job-{job.pk}",
                daemon=True,
            )
            _live[job.pk] = thread
            thread.start()
    if thread is None:
        run(job.pk, acting_user=acting_user)
        job.refresh_from_db()
    return job


def wait(job: ImportJob, timeout: float | None = None) -> bool:
    """Wait for the job's thread in this process to end; True when none runs any more."""
    with _live_lock:
        thread = _live.get(job.pk)
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _shared_test_connection() -> BaseDatabaseWrapper | None:
    """An in-memory SQLite database (the test suite's) reaches a second connection only
    through SQLite's shared cache, whose table locks fail at once instead of waiting; as
    Django's live server does, the thread borrows the one connection instead."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the proxy `connection`
    in_memory = getattr(wrapper, "is_in_memory_db", None)  # SQLite's wrapper only
    if wrapper.vendor == "sqlite" and in_memory and in_memory():
        wrapper.inc_thread_sharing()
        return wrapper
    return None


def _thread_main(
    pk: int,
    *,
    acting_user: Actor,
    request_context: RequestContext,
    language: str,
    shared: BaseDatabaseWrapper | None,
) -> None:
    if shared is not None:
        connections[DEFAULT_DB_ALIAS] = shared
    try:
        # The audit entries of the import carry the request that confirmed it, and the
        # problems are worded in the language of the page that confirmed it.
        with (
            audit_context.bind(
                request_id=request_context.request_id,
                address=request_context.address,
                operator=request_context.operator,
            ),
            override(language),
        ):
            run(pk, acting_user=acting_user)
    except Exception:
        logger.exception("import job %s crashed", pk)
    finally:
        with _live_lock:
            _live.pop(pk, None)
        # Its own connection, or a borrowed in-memory one (which close() leaves open).
        connection.close()
        if shared is not None:
            shared.dec_thread_sharing()


def run(pk: int, *, acting_user: Actor) -> None:
    """Import the job's file now, in this thread, recording progress and the outcome."""
    job = ImportJob.objects.get(pk=pk)
    ImportJob.objects.filter(pk=pk).update(
        state=State.RUNNING, started=timezone.now(), heartbeat=timezone.now()
    )
    kind = KINDS[job.kind]
    errors_path = _errors_folder() / f"{job.pk}-errors.xlsx"
    read = [0]
    last_write = [float("-inf")]  # the first report is written at once

    def progress(done: int) -> None:
        read[0] = done
        now = time.monotonic()
        if now - last_write[0] >= PROGRESS_EVERY:
            last_write[0] = now
            ImportJob.objects.filter(pk=pk).update(rows_done=done, heartbeat=timezone.now())

    try:
        path = uploads.upload_path(job.upload_token)
        summary = kind.run(
            path,
            acting_user=acting_user,
            sheet=job.sheet or None,
            errors_out=errors_path,
            progress=progress,
        )
    except FileNotFoundError:
        _fail(job, _("The uploaded file is gone: upload it again."), errors_path)
        return
    except TableError as exc:
        _fail(job, str(exc), errors_path)
        return
    except Exception as exc:
        logger.exception("import job %s failed", pk)
        _fail(job, _("The import stopped: %(error)s") % {"error": exc}, errors_path)
        return
    has_errors = bool(summary.rejected) and errors_path.exists()
    if not has_errors:
        errors_path.unlink(missing_ok=True)
    ImportJob.objects.filter(pk=pk).update(
        state=State.DONE,
        rows_done=read[0],
        rows_total=read[0],
        summary=trim_summary(summary),
        errors_file=errors_path.name if has_errors else "",
        finished=timezone.now(),
        heartbeat=timezone.now(),
        upload_token="",
    )
    uploads.discard(job.upload_token)


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


def _runner_alive(job: ImportJob) -> bool:
    host, _sep, pid = job.runner.rpartition(":")
    if job.runner == _this_runner():
        with _live_lock:
            thread = _live.get(job.pk)
        return thread is not None and thread.is_alive()
    if host == socket.gethostname() and pid.isdigit():
        return _process_alive(int(pid))
    recent = job.heartbeat and (timezone.now() - job.heartbeat).total_seconds() < STALE_AFTER
    return bool(recent)


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
