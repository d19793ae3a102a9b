"""The service record pages: the list, recording a service, a record with its follow-ups,
the follow-up worklist, and their imports and exports. Thin: rules are
``records.services``'; must not touch campaigns or associations.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.models import User
from liudong.accounts.roles import RECORD_SERVICES, Role
from liudong.base import scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.regions.codes import subtree_q
from liudong.services.forms import (
    FollowUpForm,
    ServiceFilterForm,
    ServiceRecordForm,
    VersionedForm,
)
from liudong.services.models import (
    FollowUp,
    ServiceRecord,
)
from liudong.services.records import services as record_services
from liudong.services.records import spreadsheets as record_sheets
from liudong.services.views import (
    StaffRequest,
    export_list,
    import_page,
    lookup_attrs,
    xlsx_response,
)
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

# --- service records and follow-ups --------------------------------------------------------


def _record(request: StaffRequest, pk: int) -> ServiceRecord:
    return get_object_or_404(record_services.service_records_for(request.user), pk=pk)


def _record_listing(
    request: StaffRequest,
) -> tuple[ServiceFilterForm, QuerySet[ServiceRecord], dict[str, Any]]:
    """The records in the user's scope under the page's filter, newest first."""
    form = ServiceFilterForm(request.GET or None, user=request.user)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    records = record_services.service_records_for(request.user).order_by("-date", "-pk")
    if data.get("service_type"):
        records = records.filter(service_type=data["service_type"])
    if data.get("date_from"):
        records = records.filter(date__gte=data["date_from"])
    if data.get("date_to"):
        records = records.filter(date__lte=data["date_to"])
    if data.get("region"):
        records = records.filter(subtree_q(data["region"].code, "region_id"))
    if data.get("free") in ("yes", "no"):
        records = records.filter(free_of_charge=data["free"] == "yes")
    if data.get("campaign"):
        records = records.filter(campaign=data["campaign"])
    query = (data.get("q") or "").strip()
    if query:
        number = query.upper()
        records = records.filter(Q(person__name__contains=query) | Q(person__id_number=number))
    return form, records, data


@require_GET
@staff_required(RECORD_SERVICES)
def record_list(request: StaffRequest) -> HttpResponse:
    """The service-records tab: what was given in the user's scope (never the result)."""
    form, records, _data = _record_listing(request)
    return render(
        request,
        "services/records.html",
        {
            "tab": "records",
            "form": form,
            "records": records[:500],
            "query": request.GET.urlencode(),
            "due_count": record_services.followups_due(request.user).count(),
        },
    )


@require_GET
@staff_required(RECORD_SERVICES)
def record_export(request: StaffRequest) -> HttpResponse:
    _form, records, data = _record_listing(request)
    region = data["region"].code if data.get("region") else request.user.region_id or ""
    filters = {
        key: str(getattr(value, "pk", value))
        for key, value in data.items()
        if value not in (None, "")
    }
    buffer = io.BytesIO()
    record_sheets.write_service_records(
        records.order_by("date", "pk"),
        buffer,
        acting_user=request.user,
        region=region,
        filters=filters,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return xlsx_response(buffer.getvalue(), f"service-records-{region}-{stamp}.xlsx")


def _may_keep_results(user: User) -> bool:
    """Whether a new record's form offers the result (the service checks her file)."""
    return user.role in (Role.PROVIDER, Role.TOWNSHIP)


@staff_required(RECORD_SERVICES)
def record_create(request: StaffRequest) -> HttpResponse:
    initial = {"id_number": request.GET.get("id_number", ""), "free_of_charge": True}
    form = ServiceRecordForm(
        request.POST or None,
        user=request.user,
        with_person=True,
        with_result=_may_keep_results(request.user),
        initial=initial,
    )
    form.fields["id_number"].widget.attrs.update(lookup_attrs())
    created = None
    if request.method == "POST" and form.is_valid():

        def record_and_schedule() -> ServiceRecord:
            with transaction.atomic():
                record = record_services.create_service_record(
                    acting_user=request.user, person=form.person, **form.values()
                )
                due_on = form.cleaned_data.get("follow_up_on")
                if due_on is not None:
                    try:
                        record_services.schedule_follow_up(
                            acting_user=request.user, service=record, due_on=due_on
                        )
                    except ValidationError as exc:
                        # Its field on this form is follow_up_on.
                        raise ValidationError({"follow_up_on": exc.messages}) from exc
                return record

        created = apply_service(form, record_and_schedule)
    if created is not None:
        messages.success(request, _("Service recorded."))
        return redirect("services:record", pk=created.pk)
    return render(
        request,
        "services/record_form.html",
        {
            "tab": "records",
            "form": form,
            "heading": _("Record a service"),
            "back": reverse("services:records"),
            "person": form.person,
        },
    )


def _record_initial(record: ServiceRecord, *, with_result: bool) -> dict:
    initial = {
        "service_type": record.service_type,
        "date": record.date,
        "provider": record.provider_id,
        "provider_name": record.provider_name,
        "region": record.region_id,
        "free_of_charge": record.free_of_charge,
        "consent_recorded": record.consent_recorded,
        "contraceptive_method": record.contraceptive_method,
        "contraceptive_method_other": record.contraceptive_method_other,
        "campaign": record.campaign_id,
        "version": record.version,
    }
    if with_result:
        initial["result"] = record.result
    return initial


@staff_required(RECORD_SERVICES)
def record_detail(request: StaffRequest, pk: int) -> HttpResponse:
    """A record with its follow-ups, and the form to correct it. The result is shown
    (and its reading logged) only to those who may see it."""
    record = _record(request, pk)
    may_see = record_services.may_see_result(request.user, record)
    form = ServiceRecordForm(
        request.POST or None,
        initial=_record_initial(record, with_result=may_see),
        user=request.user,
        with_person=False,
        with_result=may_see,
    )
    done = None
    if request.method == "POST" and form.is_valid():
        values = form.values()
        values.setdefault("region", record.region)
        done = apply_service(
            form,
            lambda: record_services.update_service_record(
                acting_user=request.user,
                record=record,
                expected_version=form.cleaned_data["version"],
                **values,
            ),
        )
    if done is not None:
        messages.success(request, _("Service saved."))
        return redirect("services:record", pk=record.pk)
    if request.method == "POST":
        record = _record(request, pk)
    shows_result = record_services.read_service_record(request.user, record)
    return render(
        request,
        "services/record.html",
        {
            "tab": "records",
            "record": record,
            "form": form,
            "shows_result": shows_result,
            # The service keeps a result out of reach of those who may not see it: they
            # cannot correct such a record, so they are not offered the form.
            "may_correct": shows_result or not (record.result or "").strip(),
            "follow_ups": record.follow_ups.select_related("done_by").order_by("due_on", "pk"),
            "follow_up_form": FollowUpForm(prefix="fu"),
            "today": timezone.localdate(),
        },
    )


@require_POST
@staff_required(RECORD_SERVICES)
def follow_up_create(request: StaffRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    form = FollowUpForm(request.POST, prefix="fu")
    saved = None
    if form.is_valid():
        saved = apply_service(
            form,
            lambda: record_services.schedule_follow_up(
                acting_user=request.user,
                service=record,
                due_on=form.cleaned_data["due_on"],
                notes=form.cleaned_data["notes"],
            ),
        )
    if saved is not None:
        messages.success(request, _("Follow-up scheduled."))
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems) or _("Not saved."))
    return redirect("services:record", pk=record.pk)


@require_POST
@staff_required(RECORD_SERVICES)
@post_guarded
def follow_up_done(request: StaffRequest, pk: int) -> HttpResponse:
    """Mark a follow-up done today, with the version the user saw."""
    follow_up = scoped_object_or_404(
        FollowUp.objects.select_related("service", "service__person"),
        request.user,
        pk=pk,
    )
    form = VersionedForm(request.POST)
    saved = None
    if form.is_valid():
        saved = apply_service(
            form,
            lambda: record_services.update_follow_up(
                acting_user=request.user,
                follow_up=follow_up,
                expected_version=form.cleaned_data["version"],
                done_on=timezone.localdate(),
            ),
        )
    if saved is not None:
        messages.success(
            request,
            _("Follow-up of %(name)s marked done.") % {"name": follow_up.service.person.name},
        )
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems) or _("Not saved."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("services:followups")
    return redirect(target)


@require_GET
@staff_required(RECORD_SERVICES)
def followup_list(request: StaffRequest) -> HttpResponse:
    """Due (within a week) and overdue follow-ups in the user's scope, overdue first."""
    return render(
        request,
        "services/followups.html",
        {
            "tab": "followups",
            "follow_ups": record_services.followups_due(request.user)[:500],
            "today": timezone.localdate(),
        },
    )


@require_GET
@staff_required(RECORD_SERVICES)
def followup_export(request: StaffRequest) -> HttpResponse:
    """The worklist as the page lists it (masked ID numbers, never a service's result),
    with a 完成日期 column to fill in and import back."""
    return export_list(
        request,
        record_sheets.FOLLOW_UP_SHEET,
        record_services.followups_due(request.user),
        "follow-ups",
    )


@staff_required(RECORD_SERVICES)
def record_import(request: StaffRequest) -> HttpResponse:
    return import_page(
        request,
        key="service-records",
        importer=lambda path, commit: record_sheets.import_service_records(
            path, acting_user=request.user, commit=commit
        ),
        subject=_("Import service records"),
        back=reverse("services:records"),
        columns="公民身份号码, 服务类型, 服务日期, 服务机构, 免费 (是/否), 本人同意 (是), 避孕方法",
    )
