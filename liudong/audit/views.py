from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from liudong.accounts.roles import VIEW_AUDIT
from liudong.base import scoped_object_or_404
from liudong.web.decorators import staff_required

from . import services
from .filters import AuditFilter
from .models import AuditEntry

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


def _entries(request: SignedInRequest) -> AuditFilter:
    return AuditFilter(request.GET or None, AuditEntry.objects.in_scope(request.user))


@staff_required(VIEW_AUDIT)
def entry_list(request: SignedInRequest) -> HttpResponse:
    filtered = _entries(request)
    page = Paginator(filtered.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {"filter": filtered, "page": page, "query": query.urlencode()},
    )


@staff_required(VIEW_AUDIT)
def entry_detail(request: SignedInRequest, seq: int) -> HttpResponse:
    entry = scoped_object_or_404(AuditEntry, request.user, seq=seq)
    return render(request, "audit/detail.html", {"entry": entry})


@staff_required(VIEW_AUDIT)
def export(request: SignedInRequest) -> HttpResponse:
    """The filtered log as xlsx; the export itself is an audit entry."""
    filtered = _entries(request)
    content = services.export_xlsx(
        filtered.qs, acting_user=request.user, filters=dict(request.GET.items())
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{request.user.region_id}-{stamp}.xlsx"'
    )
    return response
