"""Department intake on the web, mounted under /exchange/intake/: the lists taken in (and
the upload form), one list's reconciliation by category with a decision per row, a bulk
confirmation of the changed rows, and the report as xlsx. Thin: the rules are in
``liudong.exchange.intake.services``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.controlchars import post_guarded
from liudong.people.models import Person
from liudong.people.rows import HOUSEHOLD_LENGTHS
from liudong.people.template import ETHNICITY_CHOICES, MARITAL_CHOICES, REASON_CHOICES
from liudong.regions.models import Region
from liudong.regions.services import resolve_region_noting
from liudong.regions.widgets import RegionPicker
from liudong.tabular import TableError
from liudong.web import uploads
from liudong.web.decorators import staff_required

from ..models import IntakeBatch, IntakeRow
from . import reading, services

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Department"), choices=IntakeBatch.Source.choices)
    file = forms.FileField(label=gettext_lazy("File (.csv or .xlsx)"))
    region = forms.CharField(
        label=gettext_lazy("Residence region of rows without one"),
        required=False,
        max_length=15,
        help_text=gettext_lazy("Default: your own region."),
    )


class ConfirmNewForm(forms.Form):
    """What a department's list lacks and her file needs."""

    marital_status = forms.ChoiceField(
        label=gettext_lazy("Marital status"),
        choices=[("", "—"), *MARITAL_CHOICES],
    )
    household_region = forms.CharField(
        label=gettext_lazy("Household region"),
        max_length=15,
        widget=RegionPicker(lengths=HOUSEHOLD_LENGTHS),
    )
    household_address = forms.CharField(
        label=gettext_lazy("Household address"), max_length=200, required=False
    )
    ethnicity = forms.ChoiceField(
        label=gettext_lazy("Ethnicity"), choices=[("", "—"), *ETHNICITY_CHOICES], required=False
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason for moving"),
        choices=[("", "—"), *REASON_CHOICES],
        required=False,
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)


def _batch(request: SignedInRequest, pk: int) -> IntakeBatch:
    batch = services.scoped_batches(request.user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


def _row(request: SignedInRequest, pk: int) -> IntakeRow:
    row = services.scoped_rows(request.user).filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def _back(row: IntakeRow) -> HttpResponse:
    return redirect(f"{reverse('exchange:intake_batch', args=[row.batch_id])}#row-{row.pk}")


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


@staff_required(CHANGE_PEOPLE)
def batch_list(request: SignedInRequest) -> HttpResponse:
    """The lists taken in, newest first, and the form to take in another."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        token = None
        try:
            token = uploads.save_upload(uploaded)
            batch = reading.import_department(
                uploads.upload_path(token),
                source=form.cleaned_data["source"],
                acting_user=request.user,
                region=form.cleaned_data["region"].strip(),
                file_name=uploaded.name,
            )
        except (ValidationError, PermissionDenied, TableError) as exc:
            form.add_error("file" if isinstance(exc, TableError) else None, _refusal(exc))
        else:
            messages.success(
                request,
                _("The list was checked against the registry; nothing was changed yet."),
            )
            return redirect("exchange:intake_batch", pk=batch.pk)
        finally:
            if token:
                uploads.discard(token)
    batches = services.scoped_batches(request.user).select_related("uploaded_by")[:100]
    return render(
        request,
        "exchange/intake/list.html",
        {"form": form, "batches": batches, "columns": _template_columns()},
    )


def _template_columns() -> list[tuple[str, bool, str]]:
    takes = {
        "name": _("1–50 characters"),
        "id_number": _("18 characters (a 15-digit number is converted); once per list"),
        "address": _("where she lives, as the department registered it"),
        "date": _("arrival, registration, contract or licence date; not in the future"),
        "employer": _("name or unified social credit code"),
        "residence_region": _("a known region code; default: the region chosen above"),
    }
    return [
        (f"{names[0]} / {field}", field in reading.REQUIRED, takes[field])
        for field, names in reading.COLUMNS.items()
    ]


def _with_headers(problems: list[dict]) -> list[dict]:
    """Each problem with its column as the list's header names it (姓名, not name)."""
    return [{**p, "column": reading.COLUMNS.get(p["field"], (p["field"],))[0]} for p in problems]


SECTION_PAGE = 100


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10**6))
    except ValueError:
        return 1


SECTIONS = (
    (IntakeRow.Category.NEW, gettext_lazy("New: no file yet (proposed arrivals)")),
    (IntakeRow.Category.CHANGED, gettext_lazy("Known, with details that differ")),
    (IntakeRow.Category.UNMATCHED, gettext_lazy("Cannot be matched: a person must look")),
    (IntakeRow.Category.UNCHANGED, gettext_lazy("Known, same details")),
)


@require_GET
@staff_required(CHANGE_PEOPLE)
def batch_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    rows = list(
        services.scoped_rows(request.user)
        .filter(batch=batch)
        .select_related("decided_by", "repeat_of")
        .order_by("row_number")
    )
    names = Region.objects.in_bulk(list({row.region for row in rows}))
    persons: dict[int | None, Person] = {
        p.pk: p
        for p in Person.objects.in_scope(request.user).filter(
            pk__in=[row.person_id for row in rows if row.person_id]
        )
    }
    sections = []
    repeats = []
    for category, title in SECTIONS:
        entries = []
        in_section = [row for row in rows if row.category == category]
        # A list of thousands: one page of each section at a time (the xlsx holds all).
        page = _page_number(request.GET.get(f"{category}_page"))
        start = (page - 1) * SECTION_PAGE
        shown = in_section[start : start + SECTION_PAGE]
        for row in shown:
            entry = {
                "row": row,
                "values": services.shown_values(row),
                "region_name": names[row.region].name if row.region in names else "",
                "person": persons.get(row.person_id),
                "may_decide": services.may_decide(request.user, row),
                "differences": [
                    (services.difference_label(field), change.get("file"), change.get("list"))
                    for field, change in row.differences.items()
                ],
            }
            if row.category == IntakeRow.Category.NEW and entry["may_decide"]:
                entry["form"] = ConfirmNewForm(
                    initial={"household_region": row.id_number[:6]}, prefix=f"r{row.pk}"
                )
            if row.status == IntakeRow.Status.REPEAT and row.reason != "pending_elsewhere":
                repeats.append(entry)
            else:
                entries.append(entry)
        sections.append(
            {
                "category": category,
                "title": title,
                "entries": entries,
                "total": len(in_section),
                "page": page,
                "previous": page - 1 if page > 1 else None,
                "next": page + 1 if start + SECTION_PAGE < len(in_section) else None,
            }
        )
    pending_changed = sum(
        1
        for row in rows
        if row.category == IntakeRow.Category.CHANGED and services.may_decide(request.user, row)
    )
    return render(
        request,
        "exchange/intake/batch.html",
        {
            "batch": batch,
            "sections": sections,
            "repeats": repeats,
            "pending_changed": pending_changed,
            "rejected": _with_headers(batch.rejected),
            "warnings": _with_headers(batch.warnings),
        },
    )


@require_POST
@staff_required(CHANGE_PEOPLE)
def row_confirm(request: SignedInRequest, pk: int) -> HttpResponse:
    row = _row(request, pk)
    supplied: dict = {}
    if row.category == IntakeRow.Category.NEW:
        form = ConfirmNewForm(request.POST, prefix=f"r{row.pk}")
        if not form.is_valid():
            problems = [
                f"{form.fields[name].label}: {' '.join(str(e) for e in errors)}"
                for name, errors in form.errors.items()
                if name in form.fields
            ]
            messages.error(
                request,
                _("Row %(row)d was not confirmed: %(problems)s")
                % {"row": row.row_number, "problems": "; ".join(problems)},
            )
            return _back(row)
        supplied = form.cleaned_data
    try:
        row = services.confirm_row(row, acting_user=request.user, **supplied)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(
            request,
            _("Row %(row)d was not confirmed: %(problems)s")
            % {"row": row.row_number, "problems": _refusal(exc)},
        )
        return _back(row)
    if supplied:
        # An ID card's old county was taken for its successor (or parent): say which.
        household = resolve_region_noting(supplied["household_region"] or row.id_number[:6])
        if household.resolution_warning:
            messages.warning(request, household.resolution_warning)
    messages.success(
        request, _("Row %(row)d confirmed: her file is up to date.") % {"row": row.row_number}
    )
    return _back(row)


@require_POST
@staff_required(CHANGE_PEOPLE)
@post_guarded
def row_dismiss(request: SignedInRequest, pk: int) -> HttpResponse:
    row = _row(request, pk)
    try:
        row = services.dismiss_row(
            row, acting_user=request.user, reason=request.POST.get("reason", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(
            request,
            _("Row %(row)d was not dismissed: %(problems)s")
            % {"row": row.row_number, "problems": _refusal(exc)},
        )
        return _back(row)
    messages.success(request, _("Row %(row)d dismissed.") % {"row": row.row_number})
    return _back(row)


@require_POST
@staff_required(CHANGE_PEOPLE)
def batch_confirm_changed(request: SignedInRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    confirmed, refused = services.confirm_changed_rows(batch, acting_user=request.user)
    messages.success(request, _("%(n)d changed rows confirmed.") % {"n": confirmed})
    for problem in refused:
        messages.error(
            request,
            _("Row %(row)d was not confirmed: %(problems)s")
            % {"row": problem["row"], "problems": problem["message"]},
        )
    return redirect("exchange:intake_batch", pk=batch.pk)


@require_GET
@staff_required(CHANGE_PEOPLE)
def batch_export(request: SignedInRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    response = HttpResponse(
        services.export_xlsx(batch, acting_user=request.user), content_type=XLSX
    )
    response["Content-Disposition"] = f'attachment; filename="intake-{batch.pk}.xlsx"'
    return response
