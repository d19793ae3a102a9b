from __future__ import annotations

import io
from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from liudong.accounts.roles import MANAGE_GRIDS, MANAGE_REGIONS, can
from liudong.actors import region_of
from liudong.base import scoped_object_or_404
from liudong.safesheet import write_table
from liudong.tabular import TableError
from liudong.web import uploads
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import services
from .codes import Level
from .forms import GridForm, RegionAddForm, RegionRenameForm
from .models import Grid, Region

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


SEARCH_LIMIT = 50
PICKER_LIMIT = 20


def _picker_lengths(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in raw.split(",") if part.strip().isdigit())


@require_GET
@staff_required()
def search(request: SignedInRequest) -> JsonResponse:
    """What the region pickers offer as the user types: divisions and villages (reference
    data, no personal data), by name fragment or code prefix, within ``under`` and of the
    ``lengths`` the form takes. An old or unknown code typed in full is answered with the
    region it is taken for and the warning the form will show."""
    query = request.GET.get("q", "").strip()[:40]
    under = request.GET.get("under", "").strip()
    lengths = _picker_lengths(request.GET.get("lengths", ""))
    if not query or (under and not (under.isascii() and under.isdigit())):
        return JsonResponse({"results": []})
    results = services.search_regions(
        query, near=region_of(request.user), limit=PICKER_LIMIT, under=under, lengths=lengths
    )
    notes = {}
    if not results and query.isascii() and query.isdigit():
        try:
            placed = services.resolve_region_noting(query)
        except ValidationError:
            placed = None
        if placed is not None and placed.code.startswith(under):
            results = services.with_paths([placed])
            notes[placed.code] = placed.resolution_warning
    return JsonResponse(
        {
            "results": [
                {
                    "code": r.code,
                    "name": r.name,
                    "path": r.path,
                    "level": r.level_enum.label,
                    "note": notes.get(r.code, ""),
                }
                for r in results
            ]
        }
    )


@vary_on_headers("HX-Request")
@staff_required()
def browse(request: SignedInRequest) -> HttpResponse:
    """The tree from the country down, opened at the user's region, with a search box.

    The search box asks again as the user types (htmx): those requests get only the
    results, or nothing once the box is cleared. A history restore gets the whole page.
    """
    query = request.GET.get("q", "").strip()
    results = None
    if query:
        results = services.search_regions(query, near=region_of(request.user), limit=SEARCH_LIMIT)
    if request.htmx and not request.htmx.history_restore_request:
        if not query:
            return HttpResponse("")
        return render(request, "regions/_search_results.html", {"results": results, "q": query})
    home = request.user.region
    if home is None:  # staff_required lets no account without a region in
        raise PermissionDenied(_("Every staff account needs a region."))
    path = [*home.ancestors(), home]
    provinces = Region.objects.filter(parent__isnull=True)
    return render(
        request,
        "regions/browse.html",
        {
            "q": query,
            "results": results,
            "provinces": provinces,
            "open_path": {r.code for r in path},
            "children_of": _children_by_parent(path),
        },
    )


def _children_by_parent(path: list[Region]) -> dict[str, list[Region]]:
    parents = [r.code for r in path]
    by_parent: dict[str, list[Region]] = {code: [] for code in parents}
    by_parent[""] = []
    for child in Region.objects.filter(parent_id__in=parents).order_by("code"):
        by_parent[child.parent_id or ""].append(child)
    return by_parent


@staff_required()
def tree_node(request: SignedInRequest, code: str) -> HttpResponse:
    """One node of the tree, opened (with its children) or closed: the +/− toggles."""
    region = get_object_or_404(Region, code=code)
    opened = request.GET.get("open") == "1"
    return render(
        request,
        "regions/_node.html",
        {
            "node": region,
            "open_path": {region.code} if opened else set(),
            "children_of": {region.code: list(region.children.order_by("code"))} if opened else {},
        },
    )


@staff_required()
def detail(request: SignedInRequest, code: str) -> HttpResponse:
    region = get_object_or_404(Region, code=code)
    user = request.user
    own = region_of(user)
    may_manage = can(user, MANAGE_REGIONS) and code.startswith(own)
    add_form = rename_form = None
    if may_manage and region.level in (Level.TOWNSHIP, Level.VILLAGE):
        add_form = RegionAddForm(initial={"code": region.code})
    if may_manage and region.source == Region.Source.LOCAL:
        rename_form = RegionRenameForm(initial={"name": region.name, "version": region.version})
    return render(
        request,
        "regions/detail.html",
        {
            "region": region,
            "path": [r for r in region.ancestors()],
            "children": region.children.order_by("code"),
            "grids": Grid.objects.in_scope(user).filter(region=region),
            "add_form": add_form,
            "rename_form": rename_form,
            "in_scope": code.startswith(own) or own.startswith(code),
            "own": code.startswith(own),
        },
    )


@staff_required(MANAGE_REGIONS)
def add_child(request: SignedInRequest, code: str) -> HttpResponse:
    parent = scoped_object_or_404(Region, request.user, code=code)
    form = RegionAddForm(request.POST or None, initial={"code": parent.code})
    region = (
        apply_service(
            form, lambda: services.add_region(acting_user=request.user, **form.cleaned_data)
        )
        if request.method == "POST" and form.is_valid()
        else None
    )
    if region:
        messages.success(request, _("%(name)s added.") % {"name": region.name})
        return redirect("regions:detail", code=parent.code)
    return render(request, "regions/add.html", {"form": form, "parent": parent})


@staff_required(MANAGE_REGIONS)
def rename(request: SignedInRequest, code: str) -> HttpResponse:
    region = scoped_object_or_404(Region, request.user, code=code)
    form = RegionRenameForm(
        request.POST or None, initial={"name": region.name, "version": region.version}
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and apply_service(
            form,
            lambda: services.rename_region(
                acting_user=request.user,
                region=region,
                name=form.cleaned_data["name"],
                expected_version=form.cleaned_data["version"],
            ),
        )
        is not None
    ):
        messages.success(request, _("Saved."))
        return redirect("regions:detail", code=region.code)
    return render(request, "regions/add.html", {"form": form, "parent": region, "renaming": True})


SESSION_UPLOAD = "regions_import_upload"
PREVIEW_PROBLEMS = 50


@staff_required(MANAGE_REGIONS)
def import_file(request: SignedInRequest) -> HttpResponse:
    """Upload a villages/groups file, see what it would do, then confirm (or not)."""
    summary, filename = None, None
    if request.method == "POST" and "file" in request.FILES:
        uploaded = cast(UploadedFile, request.FILES["file"])
        try:
            token = uploads.save_upload(uploaded)
            rows = services.read_region_file(uploads.upload_path(token))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("regions:import")
        except TableError as exc:
            uploads.discard(token)
            messages.error(request, str(exc))
            return redirect("regions:import")
        previous = request.session.get(SESSION_UPLOAD)
        if previous:
            uploads.discard(previous["token"])
        request.session[SESSION_UPLOAD] = {"token": token, "name": uploaded.name}
        summary = services.import_regions(rows, acting_user=request.user, dry_run=True)
        filename = uploaded.name
    elif request.method == "POST" and "confirm" in request.POST:
        pending = request.session.pop(SESSION_UPLOAD, None)
        if not pending:
            messages.error(request, _("Nothing to import: upload the file again."))
            return redirect("regions:import")
        try:
            rows = services.read_region_file(uploads.upload_path(pending["token"]))
        except (FileNotFoundError, TableError):
            messages.error(request, _("The uploaded file is gone: upload it again."))
            return redirect("regions:import")
        summary = services.import_regions(rows, acting_user=request.user)
        uploads.discard(pending["token"])
        if summary.rejected:
            messages.error(request, _("Nothing was saved: the file has problems."))
        else:
            messages.success(
                request,
                _(
                    "%(name)s imported: %(imported)d new, %(updated)d renamed, "
                    "%(unchanged)d unchanged."
                )
                % {"name": pending["name"], **summary.as_dict()},
            )
            return redirect("regions:import")
        filename = pending["name"]
    return render(
        request,
        "regions/import.html",
        {
            "summary": summary,
            "problems": summary.rejected[:PREVIEW_PROBLEMS] if summary else [],
            "filename": filename,
            "columns": services.REGION_COLUMNS,
        },
    )


@staff_required()
def export_file(request: SignedInRequest, code: str) -> HttpResponse:
    """Villages and groups under a region as xlsx in the import template (audited)."""
    region = scoped_object_or_404(Region, request.user, code=code)
    rows = services.export_regions(region.code, acting_user=request.user, file_format="xlsx")
    buffer = io.BytesIO()
    write_table(buffer, services.REGION_EXPORT_HEADER, rows, sheet_title="区划")
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="regions-{region.code}.xlsx"'
    return response


# --- grids -------------------------------------------------------------------------------


@staff_required()
def grid_list(request: SignedInRequest) -> HttpResponse:
    grids = (
        Grid.objects.in_scope(request.user)
        .select_related("region", "responsible")
        .prefetch_related("areas", "collectors")
    )
    return render(
        request,
        "regions/grid_list.html",
        {"grids": grids, "may_manage": can(request.user, MANAGE_GRIDS)},
    )


def _grid_initial(grid: Grid) -> dict:
    return {
        "name": grid.name,
        "region": grid.region_id,
        "areas": " ".join(grid.areas.values_list("code", flat=True)),
        "responsible": grid.responsible_id,
        "collectors": list(grid.collectors.values_list("pk", flat=True)),
        "version": grid.version,
    }


@staff_required()
def grid_edit(request: SignedInRequest, pk: int | None = None) -> HttpResponse:
    grid = None
    if pk is not None:
        grid = scoped_object_or_404(Grid, request.user, pk=pk)
    may_manage = can(request.user, MANAGE_GRIDS)
    if not may_manage and (grid is None or request.method == "POST"):
        # Grid workers may look at their grid; only managers create or change one.
        raise PermissionDenied(_("Your role may not manage grids."))
    initial = _grid_initial(grid) if grid else {"region": request.user.region_id}
    form = GridForm(request.POST or None, initial=initial, user=request.user)
    data = form.cleaned_data if request.method == "POST" and form.is_valid() else None
    saved = data and apply_service(
        form,
        lambda: services.save_grid(
            acting_user=request.user,
            grid=grid,
            name=data["name"],
            region=data["region"],
            areas=data["areas"],
            responsible=data["responsible"],
            collectors=data["collectors"],
            expected_version=data["version"],
        ),
    )
    if saved:
        messages.success(request, _("Saved."))
        return redirect("regions:grid_edit", pk=saved.pk)
    return render(
        request,
        "regions/grid_form.html",
        {"form": form, "grid": grid, "may_manage": may_manage},
    )
