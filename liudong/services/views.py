"""What the services pages share: the form and import pages, the xlsx list export and the
person look-up every "person by ID number" field uses. The sub-domains' pages build on it;
it imports none of them and holds no rule of its own (those are the sub-domains'
``services``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from liudong.accounts.roles import RECORD_SERVICES
from liudong.services import spreadsheets
from liudong.services.forms import (
    UploadForm,
)
from liudong.services.spreadsheets import Sheet, write_sheet
from liudong.tabular import ImportSummary, TableError
from liudong.web import uploads
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

if TYPE_CHECKING:
    from liudong.accounts.models import User

    class StaffRequest(HttpRequest):
        """A request past ``staff_required``: its user is a staff account."""

        user: User

else:
    StaffRequest = HttpRequest

T = TypeVar("T")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def form_page(
    request: StaffRequest,
    form: forms.Form,
    save: Callable[[], T],
    *,
    saved: str,
    heading: str,
    back: str,
    done_url: Callable[[T], str] | None = None,
    subject: str = "",
    lookup: bool = False,
    deletable: bool = False,
) -> HttpResponse:
    """A page with one form saved through a service: on success a message and a redirect
    (to ``done_url(result)``, else ``back``); otherwise the form again, errors on their
    fields. ``lookup``: the form finds a person by ID number; ``deletable``: it offers a
    delete button (the view handles that POST before calling this)."""
    if request.method == "POST" and form.is_valid():
        result = apply_service(form, save)
        if result is not None:
            messages.success(request, saved)
            return redirect(done_url(result) if done_url else back)
    context = {"form": form, "heading": heading, "subject": subject, "back": back}
    return render(
        request, "services/form.html", {**context, "lookup": lookup, "deletable": deletable}
    )


def export_list(
    request: StaffRequest,
    sheet: Sheet,
    records: Iterable[Any],
    name: str,
    *,
    obj: Model | None = None,
    region: str = "",
) -> HttpResponse:
    """The records a page lists as the xlsx ``sheet``, the export
    logged (under ``obj``, the campaign or branch they belong to, when given)."""
    region = region or request.user.region_id or ""
    buffer = io.BytesIO()
    write_sheet(sheet, records, buffer, acting_user=request.user, region=region, obj=obj)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return xlsx_response(buffer.getvalue(), f"{name}-{region}-{stamp}.xlsx")


# --- imports (upload, preview, confirm) ----------------------------------------------------


def import_page(
    request: StaffRequest,
    *,
    key: str,
    importer: Callable[..., ImportSummary],
    subject: str,
    back: str,
    columns: str,
    note: str = "",
) -> HttpResponse:
    """Upload a file and see what it would do (nothing saved); confirm to import the
    valid rows. The file waits under var/uploads/ between the two, named in the session."""
    session_key = f"services-import:{key}"
    if request.method == "POST" and "confirm" in request.POST:
        token = request.session.pop(session_key, None)
        if not token:
            messages.error(request, _("The uploaded file is gone: upload it again."))
            return redirect(request.path)
        try:
            done = importer(uploads.upload_path(token), commit=True)
        except (FileNotFoundError, TableError) as exc:
            messages.error(request, str(exc) or _("The uploaded file is gone: upload it again."))
            return redirect(request.path)
        finally:
            uploads.discard(token)
        messages.success(
            request,
            _(
                "Imported: %(imported)s new, %(updated)s updated, %(unchanged)s unchanged, "
                "%(rejected)s rows refused."
            )
            % {
                "imported": done.imported,
                "updated": done.updated,
                "unchanged": done.unchanged,
                "rejected": len({p["row"] for p in done.rejected}),
            },
        )
        return redirect(back)
    form = UploadForm(request.POST or None, request.FILES or None)
    summary: ImportSummary | None = None
    if request.method == "POST" and form.is_valid():
        try:
            token = uploads.save_upload(form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            try:
                summary = importer(uploads.upload_path(token), commit=False)
            except TableError as exc:
                uploads.discard(token)
                form.add_error("file", str(exc))
            else:
                old = request.session.get(session_key)
                if old:
                    uploads.discard(old)
                request.session[session_key] = token
    return render(
        request,
        "services/import.html",
        {
            "form": form,
            "summary": summary,
            "valid": (summary.imported + summary.updated + summary.unchanged) if summary else 0,
            "subject": subject,
            "back": back,
            "columns": columns,
            "note": note,
        },
    )


def column_names(columns: dict) -> str:
    return ", ".join(names[0] for names in columns.values())


@require_GET
@staff_required(RECORD_SERVICES)
def person_lookup(request: StaffRequest) -> HttpResponse:
    """Whose file an ID number typed in a form names (htmx): the name, or why not."""
    raw = request.GET.get("id_number", "").strip()
    context: dict = {"typed": raw}
    if len(raw) >= 15:
        try:
            context["person"] = spreadsheets.find_person(request.user, raw)
        except spreadsheets.RowProblem as problem:
            context["error"] = problem.message
    return render(request, "services/_person_lookup.html", context)


def lookup_attrs() -> dict:
    return {
        "hx-get": reverse("services:person_lookup"),
        "hx-trigger": "input changed delay:400ms, change",
        "hx-target": "#person-lookup",
        "hx-swap": "outerHTML",
        "hx-sync": "this:replace",
    }
