"""Matching report pages (two-way assessment): upload the two registers, read the report
by pair of counties, download it as xlsx. The work and its rules (who, scope, audit, size)
are in services; these views only translate between it and HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from liudong.accounts.roles import RUN_MATCHING
from liudong.people.template import COLUMNS
from liudong.web.decorators import staff_required
from liudong.web.forms import add_service_errors

from . import county_report, services
from .engine import COLUMNS as COLUMNS_READ
from .engine import DEFAULT_THRESHOLD
from .forms import MatchForm

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ROWS = 200  # unmatched rows listed a side on the page; the xlsx has them all
# The template columns matching reads, shown on the upload page.
_READ = set(COLUMNS_READ)


@staff_required(RUN_MATCHING)
def new_match(request: SignedInRequest) -> HttpResponse:
    form = MatchForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = services.run_match(
                acting_user=request.user,
                outflow=form.cleaned_data["outflow"],
                inflow=form.cleaned_data["inflow"],
                threshold=form.cleaned_data["threshold"] or DEFAULT_THRESHOLD,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("matching:report", report_id=data["id"])
    else:
        # Refuses a township account before it uploads anything (PermissionDenied).
        services.check_allowed(request.user)
    return render(
        request,
        "exchange/matching/new.html",
        {
            "form": form,
            "columns": [c for c in COLUMNS if c.field in _READ],
            "max_rows": services.MAX_ROWS,
        },
        status=400 if form.errors else 200,
    )


def _stored(request: SignedInRequest, report_id: str, via: str | None = None) -> dict:
    try:
        return services.stored(report_id, acting_user=request.user, via=via)
    except LookupError as exc:
        raise Http404(_("No such matching report.")) from exc


@require_GET
@staff_required(RUN_MATCHING)
def report(request: SignedInRequest, report_id: str) -> HttpResponse:
    data = _stored(request, report_id, via="page")
    names = data["names"]

    def label(code: str) -> dict[str, str]:
        return {"code": code, "name": names.get(code, "")}

    rows = [
        {
            **entry,
            "origin": label(entry["outflow_region"]),
            "residence": label(entry["inflow_region"]),
        }
        for entry in data["summary"]
    ]
    return render(
        request,
        "exchange/matching/report.html",
        {
            "data": data,
            "rows": rows,
            "total": data["total"],
            "headers": county_report.HEADERS,
            "outflow_unmatched": data["outflow_unmatched"][:SHOWN_ROWS],
            "inflow_unmatched": data["inflow_unmatched"][:SHOWN_ROWS],
            "shown_rows": SHOWN_ROWS,
        },
    )


@require_GET
@staff_required(RUN_MATCHING)
def report_xlsx(request: SignedInRequest, report_id: str) -> HttpResponse:
    try:
        content = services.report_xlsx(report_id, acting_user=request.user)
    except LookupError as exc:
        raise Http404(_("No such matching report.")) from exc
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="match-{report_id[:8]}.xlsx"'
    return response
