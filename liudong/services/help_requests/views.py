"""The help request pages: the list with its filters and export, creating one and a
request's own page. Thin: rules are ``help_requests.services``'; must not touch the other
sub-domains.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from liudong.accounts.roles import CHANGE_PEOPLE, RECORD_SERVICES, can
from liudong.base import scoped_object_or_404
from liudong.services.forms import (
    CountsForm,
    HelpCreateForm,
    HelpEditForm,
    HelpFilterForm,
)
from liudong.services.help_requests import services as help_services
from liudong.services.help_requests import spreadsheets as help_sheets
from liudong.services.models import (
    HelpCategory,
    HelpRequest,
    HelpStatus,
)
from liudong.services.views import StaffRequest, lookup_attrs, xlsx_response
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

# --- help requests -------------------------------------------------------------------------


def _help_listing(
    request: StaffRequest,
) -> tuple[HelpFilterForm, QuerySet[HelpRequest]]:
    form = HelpFilterForm(request.GET or None)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    requests: QuerySet[HelpRequest]
    status = data.get("status") or ""
    if status:
        requests = (
            HelpRequest.objects.in_scope(request.user)
            .filter(status=status)
            .select_related("person", "region", "handler")
            .order_by("deadline", "pk")
        )
    else:
        requests = help_services.help_worklist(request.user)
    if data.get("category"):
        requests = requests.filter(category=data["category"])
    return form, requests


@require_GET
@staff_required(RECORD_SERVICES)
def help_list(request: StaffRequest) -> HttpResponse:
    """The worklist: open and in progress, overdue first; and counts for a region and period."""
    form, requests = _help_listing(request)
    counts_form = CountsForm(
        request.GET or None, user=request.user, initial={"region": request.user.region_id}
    )
    counts_form.is_valid()
    period = getattr(counts_form, "cleaned_data", {}) or {}
    region = period.get("region")
    counts = help_services.help_counts(
        request.user,
        region=region.code if region else None,
        received_from=period.get("received_from"),
        received_to=period.get("received_to"),
    )
    return render(
        request,
        "services/help_list.html",
        {
            "tab": "help",
            "form": form,
            "counts_form": counts_form,
            "requests": requests[:500],
            "today": timezone.localdate(),
            "counts": counts,
            "by_category": [
                (label, counts["by_category"][value]) for value, label in HelpCategory.choices
            ],
            "by_status": [
                (label, counts["by_status"][value]) for value, label in HelpStatus.choices
            ],
            "query": request.GET.urlencode(),
            "may_import": can(request.user, CHANGE_PEOPLE),
        },
    )


@require_GET
@staff_required(RECORD_SERVICES)
def help_export(request: StaffRequest) -> HttpResponse:
    _form, requests = _help_listing(request)
    buffer = io.BytesIO()
    help_sheets.write_help_requests(
        requests, buffer, acting_user=request.user, region=request.user.region_id or ""
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return xlsx_response(buffer.getvalue(), f"help-requests-{request.user.region_id}-{stamp}.xlsx")


@staff_required(RECORD_SERVICES)
def help_create(request: StaffRequest) -> HttpResponse:
    initial = {"id_number": request.GET.get("id_number", "")}
    form = HelpCreateForm(request.POST or None, user=request.user, initial=initial)
    form.fields["id_number"].widget.attrs.update(lookup_attrs())
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = apply_service(
            form,
            lambda: help_services.create_help_request(
                acting_user=request.user,
                person=form.person,
                category=data["category"],
                description=data["description"],
                received_on=data["received_on"],
                deadline=data["deadline"],
            ),
        )
    if created is not None:
        messages.success(request, _("Help request recorded."))
        return redirect("services:help", pk=created.pk)
    return render(
        request,
        "services/help_create.html",
        {"tab": "help", "form": form, "back": reverse("services:help_list")},
    )


@staff_required(RECORD_SERVICES)
def help_detail(request: StaffRequest, pk: int) -> HttpResponse:
    help_request = scoped_object_or_404(
        HelpRequest.objects.select_related("person", "region", "handler"),
        request.user,
        pk=pk,
    )
    initial = {
        "handler": help_request.handler_id,
        "status": help_request.status,
        "category": help_request.category,
        "description": help_request.description,
        "deadline": help_request.deadline,
        "outcome": help_request.outcome,
        "resolved_on": help_request.resolved_on,
        "version": help_request.version,
    }
    form = HelpEditForm(
        request.POST or None, initial=initial, user=request.user, help_request=help_request
    )
    done = None
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: help_services.update_help_request(
                acting_user=request.user,
                help_request=help_request,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
    if done is not None:
        messages.success(request, _("Help request saved."))
        return redirect("services:help", pk=help_request.pk)
    if request.method == "POST":
        help_request.refresh_from_db()
    return render(
        request,
        "services/help_detail.html",
        {
            "tab": "help",
            "item": help_request,
            "form": form,
            "overdue": help_request.is_overdue(timezone.localdate()),
        },
    )
