"""Department intake in the API: ``/api/intake-batches/`` (the lists taken in, and
``{id}/rows/``) and ``/api/intake-rows/`` (``?batch=``, ``?category=``, ``?status=``;
``{id}/confirm/`` and ``{id}/dismiss/``). Scoped like the pages: a list imported for the
caller's region or holding a row they may decide; ID numbers masked; the rules and their
refusals are ``liudong.exchange.intake.services``'s, in the one error shape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_required
from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.people.api.serializers import CODE_SCHEMA
from liudong.people.api.views import KEY_REGEX
from liudong.people.idnumbers import mask

from ..models import IntakeBatch, IntakeRow
from . import services


def _actor(request: Request) -> User:
    """The account behind an API request: the view sets' permission classes let no
    anonymous caller in."""
    return cast(User, request.user)


def _pattern(values: Iterable[str]) -> dict:
    return {"type": "string", "pattern": "^(" + "|".join(values) + ")$"}


@extend_schema_field(_pattern(IntakeBatch.Source.values))
class SourceField(serializers.CharField):
    pass


@extend_schema_field(_pattern(IntakeRow.Category.values))
class CategoryField(serializers.CharField):
    pass


@extend_schema_field(_pattern(IntakeRow.Status.values))
class RowStatusField(serializers.CharField):
    pass


@extend_schema_field(CODE_SCHEMA)
class RegionCodeField(serializers.CharField):
    pass


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class IntakeBatchSerializer(serializers.ModelSerializer):
    source = SourceField(read_only=True)  # type: ignore[assignment]  # a field named "source"
    region = RegionCodeField(read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True, default="")
    rejected = ProblemSerializer(many=True, read_only=True)
    warnings = ProblemSerializer(many=True, read_only=True)

    class Meta:
        model = IntakeBatch
        fields = [
            "id",
            "source",
            "file_name",
            "region",
            "uploaded_by",
            "created",
            "new_count",
            "changed_count",
            "unchanged_count",
            "unmatched_count",
            "repeated_count",
            "rejected",
            "warnings",
        ]
        read_only_fields = fields


class ChangeSerializer(serializers.Serializer):
    file = serializers.CharField(allow_blank=True)
    list = serializers.CharField(allow_blank=True)


class IntakeRowSerializer(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField(help_text="masked: 110105********0021")
    values = serializers.SerializerMethodField()
    category = CategoryField(read_only=True)
    status = RowStatusField(read_only=True)
    region = RegionCodeField(read_only=True)
    differences = serializers.DictField(child=ChangeSerializer(), read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default="")

    class Meta:
        model = IntakeRow
        fields = [
            "id",
            "batch",
            "row_number",
            "id_number",
            "name",
            "address",
            "date",
            "employer",
            "region",
            "category",
            "reason",
            "message",
            "person",
            "differences",
            "status",
            "repeat_of",
            "decided_by",
            "decided_at",
            "note",
            "values",
            "version",
        ]
        read_only_fields = fields

    def get_id_number(self, row: IntakeRow) -> str:
        return mask(row.id_number)

    def get_values(self, row: IntakeRow) -> dict[str, str]:
        return services.shown_values(row)


class ConfirmSerializer(serializers.Serializer):
    """What a *new* row's file needs beyond the list (ignored for a changed row)."""

    marital_status = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text="GB/T 2261.2 code or name"
    )
    household_region = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=15,
        help_text="default: the region in her ID number",
    )
    household_address = serializers.CharField(required=False, allow_blank=True, max_length=200)
    ethnicity = serializers.CharField(required=False, allow_blank=True, max_length=20)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=20)


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text="why the row is set aside")


class RowFilter(django_filters.FilterSet):
    # Bounded: a key beyond 64 bits is a 400, not an overflow in the database driver.
    batch = django_filters.NumberFilter(field_name="batch_id", min_value=1, max_value=2**63 - 1)
    category = django_filters.ChoiceFilter(choices=IntakeRow.Category.choices)
    status = django_filters.ChoiceFilter(choices=IntakeRow.Status.choices)

    class Meta:
        model = IntakeRow
        fields = ["batch", "category", "status"]


class IntakeBatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Department lists taken in (newest first) that the caller may see."""

    serializer_class = IntakeBatchSerializer
    permission_classes = [capability_required(CHANGE_PEOPLE)]
    lookup_value_regex = KEY_REGEX
    filterset_class = None

    def get_queryset(self) -> QuerySet[Any]:
        return services.scoped_batches(_actor(self.request)).select_related("uploaded_by")

    @extend_schema(responses={200: IntakeRowSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None)
    def rows(self, request: Request, pk: str | None = None) -> Response:
        """The list's rows the caller may see, in spreadsheet order."""
        batch = self.get_object()
        rows = (
            services.scoped_rows(_actor(request))
            .filter(batch=batch)
            .select_related("decided_by")
            .order_by("row_number")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(IntakeRowSerializer(page, many=True).data)


class IntakeRowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rows of department lists; ``confirm`` and ``dismiss`` decide a pending one."""

    serializer_class = IntakeRowSerializer
    permission_classes = [capability_required(CHANGE_PEOPLE)]
    lookup_value_regex = KEY_REGEX
    filterset_class = RowFilter

    def get_queryset(self) -> QuerySet[Any]:
        return (
            services.scoped_rows(_actor(self.request))
            .select_related("decided_by")
            .order_by("batch_id", "row_number")
        )

    @extend_schema(request=ConfirmSerializer, responses={200: IntakeRowSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """A new row registers her arrival; a changed row updates her file. 400 when the
        row was already decided; 403 outside the caller's region."""
        row = self.get_object()
        data = ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.confirm_row(row, acting_user=_actor(request), **data.validated_data)
        return Response(IntakeRowSerializer(row).data)

    @extend_schema(request=DismissSerializer, responses={200: IntakeRowSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        """Set a pending row aside with the reason."""
        row = self.get_object()
        data = DismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = services.dismiss_row(
            row, acting_user=_actor(request), reason=data.validated_data["reason"]
        )
        return Response(IntakeRowSerializer(row).data)
