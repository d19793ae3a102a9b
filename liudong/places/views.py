"""Place pages: the lists (employers, rental houses, sites, agreements, the safety
register) with search and region filter, each record's page and forms, the two worklists
(agreements expiring, open hazards) and the import/export of each list (a preview, then
confirm; the export is the list as filtered, in the import template).

Every read starts from ``<Model>.objects.in_scope(request.user)`` (another region's
record is a 404); every change goes through ``places.services`` (the forms never save).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from liudong.accounts.roles import MANAGE_PLACES, can
from liudong.people.models import ResidenceEpisode
from liudong.records import RecordType, form_class
from liudong.regions.forms import region_filter
from liudong.safesheet import write_table
from liudong.tabular import TableError
from liudong.web import records as web_records
from liudong.web import uploads
from liudong.web.decorators import staff_required

from . import filters, records, services, spreadsheets
from .forms import (
    LinkResidentForm,
    RectifyForm,
    initial_of,
)
from .models import Agreement, Employer, RentalHouse, SafetyIssue, Site

if TYPE_CHECKING:
    from liudong.accounts.models import User

    class StaffRequest(HttpRequest):
        """A request past staff_required: its user is a staff account."""

        user: User
        htmx: Any

else:
    StaffRequest = HttpRequest

PAGE_SIZE = 50
EXPIRING_DAYS = 30


Kind = RecordType
KINDS = records.BY_SLUG
# The kinds with a list table and a page of their own (the others get the generic ones).
OWN_TABLES = ("employers", "houses", "sites", "agreements", "safety")
OWN_DETAIL = ("employers", "houses", "sites")
SLUG_OF = {kind.model: slug for slug, kind in KINDS.items()}


def _scoped(request: StaffRequest, model: Any) -> Any:
    return model.objects.in_scope(request.user)


def _record(request: StaffRequest, model: Any, pk: int) -> Any:
    return get_object_or_404(_scoped(request, model), pk=pk)


def record_url(obj: Any) -> str:
    """The page that shows a record: its own, or its place's for agreements and hazards."""
    if isinstance(obj, Agreement):
        obj = obj.place
    elif isinstance(obj, SafetyIssue):
        obj = obj.rental_house
    return reverse(f"places:{SLUG_OF[type(obj)]}_detail", args=[obj.pk])


def _tabs(request: StaffRequest, active: str) -> dict[str, Any]:
    user = request.user
    return {
        "kinds": KINDS.values(),
        "active": active,
        "may_manage": can(user, MANAGE_PLACES),
        "expiring_count": services.expiring_agreements(user, EXPIRING_DAYS).count(),
        "open_count": services.open_rectifications(user).count(),
    }


# --- lists ---------------------------------------------------------------------------------


@require_GET
@staff_required()
def hub(request: StaffRequest) -> HttpResponse:
    return redirect("places:employers")


def _filtered(request: StaffRequest, kind: Kind) -> tuple[Any, str, str]:
    user = request.user
    q = request.GET.get("q", "").strip()
    prefix = filters.region_prefix(user, request.GET.get("region", ""))
    records = kind.listed(_scoped(request, kind.model).in_region(prefix))
    return filters.search(records, q), q, prefix


@vary_on_headers("HX-Request")
@require_GET
@staff_required()
def record_list(request: StaffRequest, slug: str) -> HttpResponse:
    """One tab: the records in the user's region, searched and filtered; the search box
    asks again as the user types (htmx) and then gets only the results."""
    kind = KINDS[slug]
    records, q, prefix = _filtered(request, kind)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "kind": kind,
        "page": page,
        "q": q,
        "region": prefix if prefix != request.user.region_id else "",
        "region_box": region_filter(
            "region",
            prefix if prefix != request.user.region_id else "",
            under=request.user.region_id or "",
            label=_("Region"),
            attrs={
                "hx-get": reverse(f"places:{slug}"),
                "hx-trigger": "change",
                "hx-include": "closest form",
            },
        ),
        "query": query.urlencode(),
        "today": timezone.localdate(),
        "results_template": (
            f"places/_table_{slug}.html" if slug in OWN_TABLES else "records/_table.html"
        ),
        "columns": web_records.columns(kind),
        "rows": [] if slug in OWN_TABLES else web_records.rows(kind, page),
        "detail_url_name": f"places:{slug}_detail" if kind.has_page else None,
        "transferable": slug in TRANSFERS,
        **_tabs(request, slug),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "places/_results.html", context)
    return render(request, "places/list.html", context)


# --- create and edit -----------------------------------------------------------------------


def _save(request: StaffRequest, form: Any, change: Callable[[], Any]) -> Any:
    return web_records.save(form, change)


def _form_page(
    request: StaffRequest, kind: Kind, form: Any, obj: Any = None, place: Any = None
) -> HttpResponse:
    return render(
        request,
        "places/form.html",
        {
            "form": form,
            "kind": kind,
            "obj": obj,
            "place": place,
            "cancel_url": record_url(obj or place)
            if (obj or place)
            else reverse(f"places:{kind.slug}"),
            **_tabs(request, kind.slug),
        },
    )


def _place_from_query(request: StaffRequest) -> Any:
    """The place an agreement or hazard is added to, from ?employer=, ?rental_house= or
    ?site= (in the user's region)."""
    for field, model in (("employer", Employer), ("rental_house", RentalHouse), ("site", Site)):
        if request.GET.get(field, "").isdigit():
            return _record(request, model, int(request.GET[field]))
    return None


@staff_required(MANAGE_PLACES)
def record_new(request: StaffRequest, slug: str) -> HttpResponse:
    kind = KINDS[slug]
    user = request.user
    extra = {}
    initial: dict = {}
    place = None
    if kind.model in (Agreement, SafetyIssue):
        place = _place_from_query(request)
        if kind.model is SafetyIssue and place is not None and not isinstance(place, RentalHouse):
            raise Http404
        extra["place"] = place
        initial = {"found_on": timezone.localdate(), "signed_on": timezone.localdate()}
    else:
        initial = {"region": user.region_id}
    form = form_class(kind)(request.POST or None, user=user, initial=initial, **extra)
    obj = None
    if request.method == "POST" and form.is_valid():
        obj = _save(
            request, form, lambda: services.create(kind.model, acting_user=user, **form.values())
        )
    if obj is not None:
        messages.success(request, _("Saved: %(record)s.") % {"record": obj})
        return redirect(record_url(obj))
    return _form_page(request, kind, form, place=place)


@staff_required(MANAGE_PLACES)
def record_edit(request: StaffRequest, slug: str, pk: int) -> HttpResponse:
    kind = KINDS[slug]
    user = request.user
    obj = _record(request, kind.model, pk)
    extra = {}
    if kind.model in (Agreement, SafetyIssue):
        extra["place"] = obj.place if isinstance(obj, Agreement) else obj.rental_house
    form = form_class(kind)(
        request.POST or None,
        user=user,
        initial=initial_of(obj, kind.fields),
        **extra,
    )
    saved = None
    if request.method == "POST" and form.is_valid():
        saved = _save(
            request,
            form,
            lambda: services.update(
                obj, acting_user=user, expected_version=form.expected_version(), **form.values()
            ),
        )
    if saved is not None:
        messages.success(request, _("Saved."))
        if not _scoped(request, kind.model).filter(pk=obj.pk).exists():
            messages.info(request, _("The record now lies outside your region."))
            return redirect(f"places:{slug}")
        return redirect(record_url(saved))
    return _form_page(request, kind, form, obj=obj)


# --- the pages of one place ----------------------------------------------------------------


def _residents(request: StaffRequest, **link: Any) -> Any:
    """The people whose current stay is linked to the place (in the user's region)."""
    return (
        ResidenceEpisode.objects.in_scope(request.user)
        .open()
        .filter(**link)
        .select_related("person", "region")
        .order_by("person__name", "pk")
    )


def _place_page(
    request: StaffRequest, template: str, place: Any, link_form: Any = None, **context: Any
) -> HttpResponse:
    user = request.user
    may_manage = can(user, MANAGE_PLACES)
    return render(
        request,
        template,
        {
            "place": place,
            "agreements": place.agreements.order_by("-signed_on", "-pk"),
            "link_form": link_form or (LinkResidentForm(user=user) if may_manage else None),
            "today": timezone.localdate(),
            **_tabs(request, SLUG_OF[type(place)]),
            **context,
        },
    )


@require_GET
@staff_required()
def employer_detail(request: StaffRequest, pk: int, link_form: Any = None) -> HttpResponse:
    employer = _record(request, Employer, pk)
    return _place_page(
        request,
        "places/employer_detail.html",
        employer,
        link_form,
        residents=_residents(request, employer_place=employer),
    )


@require_GET
@staff_required()
def house_detail(request: StaffRequest, pk: int, link_form: Any = None) -> HttpResponse:
    house = get_object_or_404(
        _scoped(request, RentalHouse).select_related("landlord", "region"), pk=pk
    )
    issues = house.safety_issues.register_order(timezone.localdate())
    return _place_page(
        request,
        "places/house_detail.html",
        house,
        link_form,
        issues=issues,
        residents=_residents(request, rental_house=house),
        rectify_initial=timezone.localdate(),
    )


@require_GET
@staff_required()
def site_detail(request: StaffRequest, pk: int) -> HttpResponse:
    site = _record(request, Site, pk)
    return _place_page(request, "places/site_detail.html", site, None)


@require_GET
@staff_required()
def record_detail(request: StaffRequest, slug: str, pk: int) -> HttpResponse:
    """The generic page of a place record without one of its own."""
    return web_records.detail(
        request,
        KINDS[slug],
        pk,
        namespace="places",
        base_template="places/page.html",
        context=_tabs(request, slug),
    )


@require_POST
@staff_required(MANAGE_PLACES)
def link_resident(request: StaffRequest, slug: str, pk: int) -> HttpResponse:
    """Link a resident's current stay to this employer or rental house."""
    model = {"employers": Employer, "houses": RentalHouse}.get(slug)
    if model is None:  # the other places have no residents to link
        raise Http404
    place = _record(request, model, pk)
    form = LinkResidentForm(request.POST, user=request.user)
    episode = None
    if form.is_valid():
        episode = form.cleaned_data["id_number"]
        field = "employer" if model is Employer else "rental_house"
        linked = _save(
            request,
            form,
            lambda: services.link_stay(episode, acting_user=request.user, **{field: place}),
        )
        if linked is not None:
            messages.success(
                request,
                _("%(name)s's current stay is linked to %(place)s.")
                % {"name": episode.person.name, "place": place},
            )
            return redirect(record_url(place))
    request.method = "GET"
    view = employer_detail if model is Employer else house_detail
    return view(request, pk, link_form=form)


@require_POST
@staff_required(MANAGE_PLACES)
def rectify(request: StaffRequest, pk: int) -> HttpResponse:
    """Record that a hazard was put right (from the rental house's page)."""
    issue = get_object_or_404(_scoped(request, SafetyIssue).select_related("rental_house"), pk=pk)
    form = RectifyForm(request.POST)
    done = None
    if form.is_valid():
        done = _save(
            request,
            form,
            lambda: services.update_safety_issue(
                issue,
                acting_user=request.user,
                expected_version=form.cleaned_data["version"],
                rectified_on=form.cleaned_data["rectified_on"],
            ),
        )
    if done is not None:
        messages.success(request, _("Rectification recorded."))
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems) or _("Not saved."))
    return redirect(record_url(issue))


# --- worklists -----------------------------------------------------------------------------


@require_GET
@staff_required()
def expiring_agreements(request: StaffRequest) -> HttpResponse:
    agreements = services.expiring_agreements(request.user, EXPIRING_DAYS)
    page = Paginator(agreements, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "places/worklist_agreements.html",
        {
            "page": page,
            "days": EXPIRING_DAYS,
            "today": timezone.localdate(),
            **_tabs(request, "expiring"),
        },
    )


@require_GET
@staff_required()
def open_hazards(request: StaffRequest) -> HttpResponse:
    issues = services.open_rectifications(request.user)
    page = Paginator(issues, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "places/worklist_hazards.html",
        {"page": page, "today": timezone.localdate(), **_tabs(request, "hazards")},
    )


# --- import and export ---------------------------------------------------------------------


# The records each list imports and exports (the lists' slugs; a record type knows its
# columns, reader, row rules and export).
TRANSFERS: dict[str, spreadsheets.RecordType] = {
    "employers": spreadsheets.EMPLOYERS,
    "houses": spreadsheets.RENTAL_HOUSES,
    "sites": spreadsheets.SITES,
    "agreements": spreadsheets.AGREEMENTS,
    "safety": spreadsheets.SAFETY_ISSUES,
}
PREVIEW_PROBLEMS = 100


def _with_headers(problems: list[dict], transfer: spreadsheets.RecordType) -> list[dict]:
    """The first problems, each naming its column by the file's (Chinese) header."""
    return [
        {**p, "column": transfer.columns.get(p["field"], (p["field"] or "",))[0]}
        for p in problems[:PREVIEW_PROBLEMS]
    ]


def _template_columns(transfer: spreadsheets.RecordType) -> list[tuple[str, bool, str]]:
    """Each column of the template: the headers it is known by, whether every row must
    fill it, and what it takes (the words of a choice, the ways to write a date)."""
    rows = []
    for field, names in transfer.columns.items():
        takes = ""
        if field in transfer.choices:
            takes = str(transfer.choices[field])
        elif field in transfer.dates:
            takes = _("a date: an Excel date, or 2025-03-05, 2025/3/5, 2025.03.05 or 20250305")
        headers = " / ".join(dict.fromkeys((*names, field)))
        rows.append((headers, field in transfer.required, takes))
    return rows


def _session_key(slug: str) -> str:
    return f"places_import_{slug}"


@staff_required(MANAGE_PLACES)
def import_file(request: StaffRequest, slug: str) -> HttpResponse:
    """Upload a file, see what it would do and its problems by row, then confirm: rows
    with problems are skipped and listed again in the summary."""
    transfer = TRANSFERS[slug]
    user = request.user
    summary, filename, done = None, None, False
    here = reverse(f"places:{slug}_import")
    if request.method == "POST" and "file" in request.FILES:
        uploaded: Any = request.FILES["file"]  # one file: the form has one input
        token = None
        try:
            token = uploads.save_upload(uploaded)
            rows = transfer.read(uploads.upload_path(token))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(here)
        except TableError as exc:
            if token:
                uploads.discard(token)
            messages.error(request, str(exc))
            return redirect(here)
        previous = request.session.get(_session_key(slug))
        if previous:
            uploads.discard(previous["token"])
        request.session[_session_key(slug)] = {"token": token, "name": uploaded.name}
        summary = transfer.run(rows, acting_user=user, dry_run=True)
        filename = uploaded.name
    elif request.method == "POST" and "confirm" in request.POST:
        pending = request.session.pop(_session_key(slug), None)
        if not pending:
            messages.error(request, _("Nothing to import: upload the file again."))
            return redirect(here)
        try:
            rows = transfer.read(uploads.upload_path(pending["token"]))
        except (FileNotFoundError, TableError):
            messages.error(request, _("The uploaded file is gone: upload it again."))
            return redirect(here)
        summary = transfer.run(rows, acting_user=user)
        uploads.discard(pending["token"])
        filename, done = pending["name"], True
    return render(
        request,
        "places/import.html",
        {
            "kind": KINDS[slug],
            "summary": summary,
            "problems": _with_headers(summary.rejected, transfer) if summary else [],
            "warnings": _with_headers(summary.warnings, transfer) if summary else [],
            "filename": filename,
            "done": done,
            "columns": _template_columns(transfer),
            **_tabs(request, slug),
        },
    )


@require_GET
@staff_required(MANAGE_PLACES)
def export_file(request: StaffRequest, slug: str) -> HttpResponse:
    """The list as filtered (region and search) as xlsx in the import template (audited)."""
    transfer = TRANSFERS[slug]
    q = request.GET.get("q", "").strip()
    prefix = filters.region_prefix(request.user, request.GET.get("region", ""))
    rows = transfer.export(prefix, acting_user=request.user, file_format="xlsx", search=q)
    buffer = io.BytesIO()
    write_table(buffer, transfer.header, rows, sheet_title=transfer.sheet_title)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{transfer.file_name}-{prefix}.xlsx"'
    return response
