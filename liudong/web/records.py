"""The pages of a plain record type (``liudong.records``): saving a form through the type's
service call, the generic detail page and list table, and the URL patterns an app's
``urls.py`` takes from its declarations.

Every read starts from the model's ``in_scope(actor)`` (``scoped_object_or_404``: another
region's record is a 404); a type declared with ``audit_views`` records each read of its
page. The app keeps its own frame (tabs, worklists): the generic templates extend the
``base_template`` it passes. This module owns no record type and imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from liudong.audit import services as audit
from liudong.base import StaleWrite, scoped_object_or_404
from liudong.records import RecordType
from liudong.web.forms import add_service_errors

View = Callable[..., HttpResponse]


def save(form: Any, change: Callable[[], Any]) -> Any:
    """Run the service call; its refusals become form errors (a stale version with what
    to do next) and None is returned."""
    try:
        with transaction.atomic():
            return change()
    except StaleWrite as exc:
        form.add_error(
            None,
            _(
                "Someone else saved this record while you were editing it (now version "
                "%(theirs)s, you started from version %(yours)s). Your changes were not saved: "
                "the page shows your values; check them against the record and save again "
                "to keep them."
            )
            % {"theirs": exc.current.version, "yours": form.cleaned_data.get("version")},
        )
        # Saving again means: I have seen that it changed and still want my values.
        data = form.data.copy()
        data["version"] = exc.current.version
        form.data = data
    except ValidationError as exc:
        add_service_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    return None


def display(obj: models.Model, name: str) -> Any:
    """A field's value as a page shows it: a choice's label, a related record's name."""
    field = obj._meta.get_field(name)
    if getattr(field, "choices", None):
        return getattr(obj, f"get_{name}_display")()
    value = getattr(obj, name)
    return "—" if value in (None, "") else value


def _label(meta: Any, name: str) -> Any:
    return meta.get_field(name).verbose_name


def columns(record_type: RecordType) -> list[tuple[str, Any]]:
    meta = record_type.model._meta
    return [(name, _label(meta, name)) for name in record_type.list_columns]


def rows(record_type: RecordType, objects: Any) -> list[tuple[Any, list[Any]]]:
    """Each record with its list columns' values (the table of the generic list)."""
    return [(obj, [display(obj, name) for name in record_type.list_columns]) for obj in objects]


def detail(
    request: HttpRequest,
    record_type: RecordType,
    pk: int,
    *,
    namespace: str,
    base_template: str,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The generic page of one record in the user's scope: its declared fields."""
    manager = record_type.model._default_manager
    obj = scoped_object_or_404(manager.select_related(*record_type.related), request.user, pk=pk)
    if record_type.audit_views:
        audit.record_view(acting_user=request.user, obj=obj, region=str(obj.region_id), via="web")
    meta = record_type.model._meta
    return render(
        request,
        "records/detail.html",
        {
            "base_template": base_template,
            "record_type": record_type,
            "obj": obj,
            "fields": [(_label(meta, n), display(obj, n)) for n in record_type.fields],
            "list_url_name": f"{namespace}:{record_type.slug}",
            "edit_url_name": f"{namespace}:{record_type.slug}_edit",
            **(context or {}),
        },
    )


def urlpatterns(
    types: Any,
    *,
    list_view: View,
    new_view: View,
    edit_view: View,
    detail_view: View,
    own_detail: Any = (),
) -> list[URLPattern]:
    """The list, new, edit and (unless the app has its own, ``own_detail``) detail routes
    of each type, named ``<slug>``, ``<slug>_new``, ``<slug>_edit``, ``<slug>_detail``;
    each view gets ``slug`` as a keyword."""
    patterns = []
    for record_type in types:
        slug = record_type.slug
        patterns += [
            path(f"{slug}/", list_view, {"slug": slug}, name=slug),
            path(f"{slug}/new/", new_view, {"slug": slug}, name=f"{slug}_new"),
            path(f"{slug}/<int:pk>/edit/", edit_view, {"slug": slug}, name=f"{slug}_edit"),
        ]
        if record_type.has_page and slug not in own_detail:
            patterns.append(
                path(f"{slug}/<int:pk>/", detail_view, {"slug": slug}, name=f"{slug}_detail")
            )
    return patterns
