"""The home dashboard and error pages. Domain pages live in their own apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from liudong.accounts.models import User
from liudong.accounts.roles import USE_WEB, VIEW_AUDIT, Role, can
from liudong.base import scoped_object_or_404
from liudong.people.models import Person
from liudong.regions.codes import Level
from liudong.regions.models import Grid, Region

from . import todos as home_todos
from . import worklist as worklists
from .decorators import staff_required

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


def home(request: HttpRequest) -> HttpResponseBase:
    # The auditor holds no page but the audit log: that is their home.
    user = request.user
    if user.is_authenticated and not can(user, USE_WEB) and can(user, VIEW_AUDIT):
        return redirect("audit:list")
    # Another jurisdiction's system signs in only to hold its API tokens: no page is
    # its own, so its home says what the account is for instead of refusing it.
    if user.is_authenticated and getattr(user, "role", "") == Role.NODE:
        return render(request, "web/node_home.html")
    # staff_required sends an anonymous caller to the login page before the dashboard runs.
    return _dashboard(cast("SignedInRequest", request))


@staff_required()
def _dashboard(request: SignedInRequest) -> HttpResponse:
    user = request.user
    region = user.region
    if region is None:  # staff_required lets no account without a region in
        raise PermissionDenied(_("Every staff account needs a region."))
    below = Region.objects.subtree(region.code, include_root=False)
    people = Person.objects.in_scope(user)
    cards = [
        (_("Outflow persons"), people.outflow(region.code).count()),
        (_("Inflow persons"), people.inflow(region.code).count()),
        (_("Villages and communities"), below.filter(level=Level.VILLAGE).count()),
        (_("Grids"), Grid.objects.in_scope(user).count()),
        (_("Staff accounts"), User.objects.in_scope(user).count()),
    ]
    todos = home_todos.home_todos(user)
    return render(
        request,
        "web/home.html",
        {
            "region": region,
            "region_path": region.full_name(),
            "role_label": Role(user.role).label,
            "cards": cards,
            "todos": [todo for todo in todos if todo.count],
            "quiet_todos": [todo for todo in todos if not todo.count],
        },
    )


@staff_required()
def worklist(request: SignedInRequest, grid_pk: int | None = None) -> HttpResponse:
    """What is due in a grid, for the worker on a phone: their own grid when they work in
    one, else a choice among the grids in their region."""
    grids = worklists.my_grids(request.user).select_related("region").order_by("name")
    if grid_pk is not None:
        # Its areas read once: every section narrows to them (Grid.area_q).
        grid = scoped_object_or_404(
            Grid.objects.prefetch_related("areas"), request.user, pk=grid_pk
        )
    elif len(grids) == 1:
        grid = grids[0]
        prefetch_related_objects([grid], "areas")
    else:
        return render(request, "web/worklist.html", {"grids": grids, "grid": None})
    sections = worklists.grid_worklist(request.user, grid)
    return render(
        request,
        "web/worklist.html",
        {"grids": grids, "grid": grid, "sections": sections},
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """For the front proxy and the service manager: 200 when the database answers, 503 when
    not. Anonymous, reads no session and writes no audit entry (nothing personal is read),
    never throttled. It reads a table of ours rather than ``SELECT 1`` alone: a server
    pointed at an empty or wrong database (a fresh SQLite file) is not healthy either."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM django_migrations LIMIT 1")
            cursor.fetchone()
    except DatabaseError:
        status, body = 503, {"status": "unavailable"}
    else:
        status, body = 200, {"status": "ok"}
    return JsonResponse(body, status=status, headers={"Cache-Control": "no-store"})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django itself refuses (too many fields, a suspicious operation): under
    /api/ in the API's one error shape, never Django's plain HTML page."""
    from liudong.api.errors import json_error

    message = _("The request could not be read.")
    if request.path.startswith("/api/"):
        return json_error(400, "bad_request", message)
    return render(request, "web/error.html", {"title": _("Error"), "message": message}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from liudong.api.errors import json_error

    message = str(exception) if exception and str(exception) else _("You may not open this page.")
    if request.path.startswith("/api/"):
        return json_error(403, "permission_denied", message)
    return render(
        request, "web/error.html", {"title": _("Not allowed"), "message": message}, status=403
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from liudong.api.errors import json_error

    if request.path.startswith("/api/"):
        return json_error(404, "not_found", _("Not found."))
    return render(
        request,
        "web/error.html",
        {
            "title": _("Not found"),
            "message": _("There is no such page, or it is outside your region."),
        },
        status=404,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    from liudong.api.errors import json_error

    if request.path.startswith("/api/"):
        return json_error(500, "server_error", _("Internal error; it has been logged."))
    return render(
        request,
        "web/error.html",
        {"title": _("Error"), "message": _("Internal error; it has been logged.")},
        status=500,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    from liudong.api.errors import json_error

    message = _("The form expired or came from another site; reload the page and try again.")
    if request.path.startswith("/api/"):
        return json_error(403, "csrf_failed", message)
    return render(
        request, "web/error.html", {"title": _("Not allowed"), "message": message}, status=403
    )
