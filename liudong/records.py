"""The generic path of a plain record type: one declaration, then pages, API, service calls
and audit from it.

A plain record type is a :class:`liudong.base.TrackedModel` (``version``, ``created``,
``updated``) with a :class:`liudong.base.ScopedQuerySet` manager, edited by staff who hold
one capability, with no rule beyond "each field says what it says" and "it lies in the
editor's region". It is declared once as a :class:`RecordType` (in its app's
``records.py``); from that declaration

- :func:`create` / :func:`update` are its service calls (capability, region, optimistic
  locking, an audit entry with the before/after image of the declared fields);
- :func:`form_class` generates its page form from the model's fields (Django's
  ``fields_for_model``), unless the type names a hand-written one;
- ``liudong.web.records`` gives its scoped list, detail, create and edit pages and their
  URL patterns; ``liudong.api.records`` its API view set (a ``ScopedModelViewSet``) with a
  ``ModelSerializer`` and a django-filter ``FilterSet`` generated from the field lists.

A type with rules of its own (places' employers: a credit code check character and
duplicates) passes them as ``clean``; anything more is no longer a plain record type and
gets its own services module.

This module imports no app: apps import it. It owns the declaration and the generic
service calls only; no page or API code lives here.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from liudong.actors import Caller, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.base import StaleWrite

Clean = Callable[[Any, Caller], None]


def _no_rules(obj: Any, actor: Caller) -> None:
    """A plain record type: nothing beyond its fields and its region."""


@dataclasses.dataclass(frozen=True)
class RecordType:
    """One plain record type, declared once.

    ``fields`` are the editable fields in form order; the audit image is these columns plus
    ``version``. ``region_field`` names the field that places a row in the region tree
    (a change must keep it in the editor's region); ``None`` when the type is scoped
    through another record (its ``clean`` then checks the region)."""

    slug: str  # URL segment and URL-name stem: "<ns>:<slug>", "<ns>:<slug>_new", ...
    model: type[models.Model]
    fields: tuple[str, ...]
    capability: str  # needed to create or change one (reading needs the scope only)
    title: Any = ""  # a lazy translation: the list's heading
    new_label: Any = ""  # a lazy translation: the "new" button
    refused: str | Promise | None = None  # the message when the capability is missing
    clean: Clean = _no_rules  # the type's own rules, on the assigned object
    region_field: str | None = "region"
    list_fields: tuple[str, ...] = ()  # columns of the generic list (default: fields)
    search_fields: tuple[str, ...] = ()  # the list's search box looks in these
    filter_fields: tuple[str, ...] = ()  # API filters besides ``region`` (exact match)
    related: tuple[str, ...] = ("region",)  # joined on lists and the API (no query per row)
    # The list's order and joins (default: ``related`` joined, the model's ordering).
    listing: Callable[[QuerySet[Any]], QuerySet[Any]] | None = None
    api_prefix: str | None = None  # /api/<prefix>/ (None: no API)
    api_basename: str | None = None
    form: type[RecordForm] | None = None  # a hand-written page form (default: generated)
    audit_views: bool = False  # record each read of a detail page (personal data)
    has_page: bool = True  # a detail page of its own
    namespace: str = ""  # of its page URLs (default: the model's app label)
    # The field values of one row in a given township (a Region), for the generic access
    # and query-count tests: a type declared with it is registered there by itself
    # (tests/scoped_models.py), so its access test cannot be forgotten.
    example: Callable[[Any], dict[str, Any]] | None = None

    def listed(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The rows of a list page: joined so a row costs no query of its own."""
        if self.listing is not None:
            return self.listing(queryset)
        return queryset.select_related(*self.related)

    @property
    def url_namespace(self) -> str:
        return self.namespace or self.model._meta.app_label

    @property
    def list_columns(self) -> tuple[str, ...]:
        return self.list_fields or self.fields

    def audit_fields(self) -> list[str]:
        """The before/after image: the editable fields by column (region_id, employer_id)."""
        meta = self.model._meta
        return [str(getattr(meta.get_field(name), "attname", name)) for name in self.fields] + [
            "version"
        ]


def all_types() -> list[RecordType]:
    """Every record type declared in an installed app's ``records`` module (``TYPES``)."""
    found: list[RecordType] = []
    for config in apps.get_app_configs():
        name = f"{config.name}.records"
        if config.name.startswith("liudong.") and importlib.util.find_spec(name) is not None:
            found += getattr(importlib.import_module(name), "TYPES", ())
    return found


# --- service calls -------------------------------------------------------------------------


def check_region(actor: Caller, code: str, field: str = "region") -> None:
    """The record lies in the actor's region (a refusal names the field that puts it there)."""
    region = getattr(actor, "region_id", "") or ""
    if not is_operator(actor) and not code.startswith(region):
        raise ValidationError(
            {
                field: _("The place lies in %(code)s, outside your region %(region)s.")
                % {"code": code, "region": region}
            },
            code="out_of_scope",
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _region(value: Any) -> Any:
    from liudong.regions.models import Region  # regions is below every app (layering)
    from liudong.regions.services import resolve_region

    if isinstance(value, Region):
        return value
    try:
        return resolve_region(value)
    except ValidationError as exc:
        raise ValidationError({"region": exc.messages}, code="region") from exc


def assign(record_type: RecordType, obj: Any, values: dict[str, Any]) -> None:
    """Set the declared fields from ``values`` (a region as a Region or a code; text
    stripped). An undeclared field is a programming error, not a user's."""
    unknown = set(values) - set(record_type.fields)
    if unknown:
        raise TypeError(f"not a field of {type(obj).__name__}: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if name == record_type.region_field:
            value = _region(value)
        elif isinstance(obj._meta.get_field(name), models.CharField | models.TextField):
            value = _text(value)
        setattr(obj, name, value)


def _check(record_type: RecordType, obj: Any, actor: Caller) -> None:
    if record_type.region_field:
        check_region(actor, getattr(obj, f"{record_type.region_field}_id"))
    record_type.clean(obj, actor)


def _region_of(record_type: RecordType, obj: Any) -> str:
    if record_type.region_field:
        return str(getattr(obj, f"{record_type.region_field}_id"))
    return str(obj.region_id)  # scoped through another record: the model says where


@transaction.atomic
def create(record_type: RecordType, *, acting_user: Caller, **values: Any) -> Any:
    """A new record from field values; refused with the field and rule named. Audited in
    the same transaction."""
    authorize(acting_user, record_type.capability, refused=record_type.refused)
    obj = record_type.model()
    assign(record_type, obj, values)
    _check(record_type, obj, acting_user)
    obj.save()
    audit.record(
        Action.CREATE,
        acting_user=acting_user,
        obj=obj,
        region=_region_of(record_type, obj),
        after=audit.snapshot(obj, record_type.audit_fields()),
    )
    return obj


@transaction.atomic
def update(
    record_type: RecordType,
    obj: Any,
    *,
    acting_user: Caller,
    expected_version: int | None = None,
    **changes: Any,
) -> Any:
    """Change fields of ``obj`` based on ``expected_version`` (StaleWrite when someone
    changed it since). The record must be in the actor's region before and after."""
    authorize(acting_user, record_type.capability, refused=record_type.refused)
    check_region(acting_user, _region_of(record_type, obj), "id")
    fields = record_type.audit_fields()
    before = audit.snapshot(obj, fields)
    assign(record_type, obj, changes)
    version = obj.version if expected_version is None else expected_version
    # Checked first, so a value typed differently that means what is on file (a phone
    # with spaces, a lower-case code) is no change.
    _check(record_type, obj, acting_user)
    if audit.snapshot(obj, fields) == before:
        if version != obj.version:
            stale = copy.copy(obj)
            stale.version = version
            raise StaleWrite(stale, obj)
        return obj  # nothing to change: no write, no audit entry
    obj.save_versioned(expected_version=version)
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=obj,
        region=_region_of(record_type, obj),
        before=before,
        after=audit.snapshot(obj, fields),
    )
    return obj


def search(queryset: QuerySet[Any], fields: tuple[str, ...], text: str) -> QuerySet[Any]:
    """Rows with every word of ``text`` in one of ``fields``."""
    for word in text.split():
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset


# --- the page form -------------------------------------------------------------------------


class RecordForm(forms.Form):
    """A record's own fields plus the version the user started from (a hidden field: a
    save based on an older version is refused). It never saves: ``values()`` gives the
    keyword arguments of :func:`create` / :func:`update`."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Caller, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}

    def expected_version(self) -> int | None:
        return self.cleaned_data.get("version")


def _form_field(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    # A region is typed as its code (the editor's own region is the form's initial value),
    # never chosen from a list of every region in the country.
    if field.name == "region":
        return forms.CharField(label=field.verbose_name, max_length=15)
    return field.formfield(**kwargs)


def form_class(record_type: RecordType) -> type[RecordForm]:
    """The page form: the declared one, or one generated from the model's fields."""
    if record_type.form is not None:
        return record_type.form
    generated = forms.fields_for_model(
        record_type.model, fields=record_type.fields, formfield_callback=_form_field
    )
    return type(f"{record_type.model.__name__}Form", (RecordForm,), dict(generated))


def initial_of(record_type: RecordType, obj: Any) -> dict[str, Any]:
    """A record's values as the form's initial data (a region as its code)."""
    initial = {
        name: getattr(obj, f"{name}_id") if name == record_type.region_field else getattr(obj, name)
        for name in record_type.fields
    }
    initial["version"] = obj.version
    return initial
