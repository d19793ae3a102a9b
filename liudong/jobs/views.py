"""Import pages: upload and check a file (the preview is a job awaiting confirmation),
confirm, watch the progress bar, read the outcome; the list of recent imports.

Every read starts from ``ImportJob.objects.in_scope(request.user)``; confirming, resuming,
cancelling and the errors file are the owner's only (anyone else gets 404). The work is
done by ``jobs.services``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import CHANGE_PEOPLE, can
from liudong.people.template import COLUMNS
from liudong.tabular import TableError
from liudong.web.decorators import staff_required
from liudong.web.forms import add_service_errors

from . import services
from .forms import UploadForm
from .models import ImportJob

if TYPE_CHECKING:
    from liudong.accounts.models import User
    from liudong.accounts.views import SignedInRequest


RECENT_JOBS = 50
SHOWN_PROBLEMS = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _usable_kinds(user: User) -> list[str]:
    return [name for name, kind in services.KINDS.items() if can(user, kind.capability)]


def _job(request: SignedInRequest, pk: int, *, own: bool = False) -> ImportJob:
    """A job the user may see (``own``: may act on), else 404; 403 without the kind's
    capability."""
    jobs = ImportJob.objects.in_scope(request.user).select_related("created_by", "region")
    if own:
        jobs = jobs.filter(created_by=request.user)
    job = get_object_or_404(jobs, pk=pk)
    if not can(request.user, services.KINDS[job.kind].capability):
        raise PermissionDenied(_("Your role does not allow this page."))
    return services.refresh(job)


@staff_required(CHANGE_PEOPLE)
def person_import(request: SignedInRequest) -> HttpResponse:
    """Upload a person file: it is checked (a dry run of its head) and shown as a preview."""
    form = UploadForm(request.POST or None, request.FILES or None)
    file_error = None
    if request.method == "POST" and form.is_valid():
        try:
            job = services.preview(
                kind=ImportJob.Kind.PERSONS,
                uploaded=form.cleaned_data["file"],
                sheet=form.cleaned_data["sheet"].strip(),
                acting_user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except TableError as exc:
            file_error = str(exc)
        else:
            return redirect("jobs:detail", pk=job.pk)
    return render(
        request,
        "jobs/upload.html",
        {
            "form": form,
            "file_error": file_error,
            "columns": COLUMNS,
            "preview_rows": services.PREVIEW_ROWS,
        },
        status=400 if file_error or form.errors else 200,
    )


@require_GET
@staff_required()
def job_list(request: SignedInRequest) -> HttpResponse:
    kinds = _usable_kinds(request.user)
    if not kinds:
        raise PermissionDenied(_("Your role does not allow this page."))
    jobs = services.refresh_all(
        ImportJob.objects.in_scope(request.user)
        .filter(kind__in=kinds)
        .select_related("created_by")[:RECENT_JOBS]
    )
    return render(request, "jobs/list.html", {"jobs": jobs})


def _context(request: SignedInRequest, job: ImportJob) -> dict:
    shown = job.summary or job.preview or {}
    headers = services.KINDS[job.kind].headers

    def named(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The template's header beside the field name: the office looks for the column.
        return [{**p, "column": headers.get(p.get("field", ""), "")} for p in problems]

    return {
        "job": job,
        "own": job.created_by_id == request.user.pk,
        "summary": job.summary,
        "preview": job.preview,
        "problems": named((shown.get("rejected") or [])[:SHOWN_PROBLEMS]),
        "warnings": named((shown.get("warnings") or [])[:SHOWN_PROBLEMS]),
        "shown_problems": SHOWN_PROBLEMS,
        "preview_rows": services.PREVIEW_ROWS,
        # Asked only while the job waits in the queue: one query per poll then.
        "worker_running": job.state != ImportJob.State.QUEUED or services.worker_running(),
    }


@require_GET
@staff_required()
def job_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "jobs/detail.html", _context(request, job))


@require_GET
@staff_required()
def job_status(request: SignedInRequest, pk: int) -> HttpResponse:
    """The part of the job page that changes, polled by htmx while the job runs."""
    job = _job(request, pk)
    return render(request, "jobs/_status.html", _context(request, job))


@require_POST
@staff_required()
def job_start(request: SignedInRequest, pk: int) -> HttpResponse:
    """Confirm a previewed import, or resume an interrupted one."""
    job = _job(request, pk, own=True)
    try:
        services.start(job, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("jobs:detail", pk=job.pk)


@require_POST
@staff_required()
def job_cancel(request: SignedInRequest, pk: int) -> HttpResponse:
    job = _job(request, pk, own=True)
    try:
        services.cancel(job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("jobs:detail", pk=job.pk)
    messages.success(request, _("The import was cancelled; nothing was saved."))
    return redirect("people:import")


@require_GET
@staff_required()
def job_errors(request: SignedInRequest, pk: int) -> HttpResponseBase:
    """The rejected rows as xlsx, to correct in Excel and import again (owner only)."""
    job = _job(request, pk, own=True)
    try:
        path = services.errors_file(job, acting_user=request.user)
    except FileNotFoundError as exc:
        raise Http404(_("This import has no errors file.")) from exc
    stem = job.original_name.rsplit(".", 1)[0] or "import"
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{stem}-errors.xlsx",
        content_type=XLSX,
    )
