"""The API of a plain record type (``liudong.records``): a ``ScopedModelViewSet`` that lists,
shows, creates and changes (``PATCH`` with ``version``, 409 when stale) through the type's
service calls, with a ``ModelSerializer`` and a django-filter ``FilterSet`` generated from
the declared field lists; and the router registration from the declarations.

An app with hand-written serializers or filters for a type subclasses
:class:`RecordViewSet` and names them; :func:`viewsets` fills in the others. This module
owns no record type and imports no app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from liudong import records
from liudong.accounts.permissions import capability_for_writes
from liudong.api.viewsets import ScopedModelViewSet
from liudong.records import RecordType
from liudong.regions.codes import CodeError, clean_code

KEY_REGEX = r"[0-9]{1,18}"  # as people.api.views.KEY_REGEX (this module imports no app)
AUDIT_FIELDS = ("version", "created", "updated")


class RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """List, retrieve, create and ``PATCH`` one record type in the caller's scope. The
    subclass names ``record_type`` and the three serializers."""

    record_type: RecordType
    input_serializer: type[serializers.Serializer]
    update_serializer: type[serializers.Serializer]

    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(*self.record_type.related)

    def input_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments of the input serializers (the caller's scopes)."""
        return {}

    def _answer(self, obj: Model, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=code)

    def create(self, request: Request) -> Response:
        data = self.input_serializer(data=request.data, **self.input_kwargs())
        data.is_valid(raise_exception=True)
        obj = records.create(self.record_type, acting_user=request.user, **data.validated_data)
        return self._answer(obj, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        obj = self.get_object()
        data = self.update_serializer(data=request.data, **self.input_kwargs())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version")
        records.update(
            self.record_type, obj, acting_user=request.user, expected_version=version, **values
        )
        return self._answer(obj)


def with_schema(
    output: type[serializers.Serializer],
    create: type[serializers.Serializer],
    update: type[serializers.Serializer],
) -> Any:
    """The request bodies of create and ``PATCH`` in the schema (they are not the output)."""
    return extend_schema_view(
        create=extend_schema(request=create, responses={201: output}),
        partial_update=extend_schema(request=update, responses={200: output}),
    )


class RegionFilterSet(django_filters.FilterSet):
    """``?region=`` narrows to a subtree of the caller's scope; a malformed code to nothing."""

    region = django_filters.CharFilter(
        method="filter_region", label=gettext_lazy("region code (subtree)")
    )

    def filter_region(self, queryset: Any, name: str, value: str) -> QuerySet[Any]:
        try:
            return queryset.in_region(clean_code(value))
        except CodeError:
            return queryset.none()


def _name(record_type: RecordType, suffix: str) -> str:
    return f"{record_type.model.__name__}{suffix}"


def output_serializer(record_type: RecordType) -> type[serializers.ModelSerializer]:
    """Read-only: the id, the declared fields, then version, created and updated."""
    meta = type(
        "Meta",
        (),
        {
            "model": record_type.model,
            "fields": ["id", *record_type.fields, *AUDIT_FIELDS],
            "read_only_fields": ["id", *record_type.fields, *AUDIT_FIELDS],
        },
    )
    return type(_name(record_type, "Serializer"), (serializers.ModelSerializer,), {"Meta": meta})


def input_serializers(
    record_type: RecordType,
) -> tuple[type[serializers.Serializer], type[serializers.Serializer]]:
    """The create body (the declared fields as the model requires them) and the ``PATCH``
    body (each optional, ``version`` required). The rules are the service's."""
    meta = type("Meta", (), {"model": record_type.model, "fields": list(record_type.fields)})
    create = type(
        _name(record_type, "InputSerializer"), (serializers.ModelSerializer,), {"Meta": meta}
    )

    def get_fields(self: Any) -> dict[str, Any]:
        fields = serializers.ModelSerializer.get_fields(self)
        for field in fields.values():
            field.required = False
        fields["version"] = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
        return fields

    update = type(_name(record_type, "UpdateSerializer"), (create,), {"get_fields": get_fields})
    return create, update


def filterset(record_type: RecordType) -> type[django_filters.FilterSet]:
    """``?region=`` plus an exact filter on each declared filter field."""
    meta = type(
        "Meta", (), {"model": record_type.model, "fields": ["region", *record_type.filter_fields]}
    )
    return type(_name(record_type, "Filter"), (RegionFilterSet,), {"Meta": meta})


def viewset(record_type: RecordType) -> type[RecordViewSet]:
    """The view set of a type with no hand-written one: everything generated."""
    output = output_serializer(record_type)
    create, update = input_serializers(record_type)
    cls = type(
        _name(record_type, "ViewSet"),
        (RecordViewSet,),
        {
            "__doc__": f"{record_type.model._meta.verbose_name_plural} in the caller's region.",
            "model": record_type.model,
            "record_type": record_type,
            "serializer_class": output,
            "filterset_class": filterset(record_type),
            "input_serializer": create,
            "update_serializer": update,
            "permission_classes": [capability_for_writes(record_type.capability)],
            "__module__": record_type.model.__module__,
        },
    )
    return with_schema(output, create, update)(cls)


def viewsets(
    types: Iterable[RecordType], own: dict[str, type[RecordViewSet]] | None = None
) -> list[type[RecordViewSet]]:
    """A view set per type with an API: the app's own (``own``, by slug) or a generated one."""
    own = own or {}
    return [own.get(t.slug) or viewset(t) for t in types if t.api_prefix]


def register(router: BaseRouter, sets: Iterable[type[RecordViewSet]]) -> None:
    """Register each view set under its type's prefix and basename."""
    for cls in sets:
        record_type = cls.record_type
        router.register(
            str(record_type.api_prefix),
            cls,
            basename=record_type.api_basename or record_type.slug,
        )
