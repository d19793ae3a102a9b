"""The office's side of her correction requests (issue 19 item 4): the list of requests in
its region (a township its own, a county its subtree) and one request's page, where it
accepts (her file changes through the person services) or refuses with a reason she reads.
Opening a request shows her file's details: each opening is audited as a view of her file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.base import scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.people import services as people
from liudong.people.models import CorrectionRequest
from liudong.residents import corrections

from .decorators import staff_required

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest

OPEN = CorrectionRequest.Status.OPEN


def open_requests(user: object) -> object:
    """The requests waiting for an answer in the user's region (the to-do list's count)."""
    return CorrectionRequest.objects.in_scope(user).filter(status=OPEN)  # type: ignore[arg-type]


def _label(row: CorrectionRequest) -> CorrectionRequest:
    row.field_label = corrections.FIELDS.get(row.field, row.field)  # type: ignore[attr-defined]
    row.requested_shown = dict(corrections.CHOICES.get(row.field, ())).get(  # type: ignore[attr-defined]
        row.requested_value, row.requested_value
    )
    return row


@staff_required(CHANGE_PEOPLE)
def correction_list(request: SignedInRequest) -> HttpResponse:
    answered = request.GET.get("tab") == "answered"
    rows = CorrectionRequest.objects.in_scope(request.user).select_related(
        "person", "holding_region"
    )
    if answered:
        rows = rows.filter(~Q(status=OPEN)).order_by("-answered_at", "-id")
    else:
        rows = rows.filter(status=OPEN).order_by("deadline", "id")
    return render(
        request,
        "web/corrections.html",
        {
            "rows": [_label(r) for r in rows[:200]],
            "answered": answered,
            "today": timezone.localdate(),
        },
    )


@staff_required(CHANGE_PEOPLE)
@post_guarded
def correction_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    row = scoped_object_or_404(
        CorrectionRequest.objects.select_related("person", "holding_region", "answered_by"),
        request.user,
        pk=pk,
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        version = request.POST.get("version", "")
        expected = int(version) if version.isdigit() else None
        try:
            if request.POST.get("action") == "accept":
                corrections.accept(request.user, row, expected_version=expected)
                messages.success(request, _("Her file is corrected."))
            else:
                corrections.refuse(
                    request.user, row, request.POST.get("reason", ""), expected_version=expected
                )
                messages.success(request, _("The request is refused; she reads your reason."))
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        else:
            return redirect("web:correction_detail", pk=row.pk)
    else:
        people.view_person(acting_user=request.user, person=row.person, via="correction request")
    return render(
        request,
        "web/correction.html",
        {"row": _label(row), "errors": errors, "today": timezone.localdate()},
        status=400 if errors else 200,
    )
