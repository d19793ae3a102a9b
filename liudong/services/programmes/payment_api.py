"""Payment lists in the API (issue 17, item 4): ``/api/payment-lists/`` (the county's lists
with their totals; POST makes or makes again the caller's county list of a year;
``.../export/`` the finance bureau's file, which freezes the list; ``.../return/`` the
bank's return file) and ``/api/payment-lines/`` (lines, ID numbers and bank cards masked;
``?payment_list=``, ``?year=``, ``?result=``; ``.../resolve/`` a failed one). The rules
are ``payments``': every client is refused the same things, in the one error shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import django_filters
from django.db.models import Count, DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_for_all
from liudong.accounts.roles import BENEFITS
from liudong.api.viewsets import ScopedModelViewSet
from liudong.controlchars import MultiPartParser
from liudong.people import idnumbers
from liudong.regions.models import Region
from liudong.tabular import TableError
from liudong.web import uploads

from . import payments, paymentsheet
from .models import PaymentLine, PaymentList


def _actor(request: Request) -> User:
    return cast(User, request.user)


class _FileRenderer(BaseRenderer):
    """Lets a client ask for the file's media type; the file itself is returned as is."""

    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> Any:
        return data


class XLSXRenderer(_FileRenderer):
    media_type = paymentsheet.XLSX
    format = "xlsx"


class CSVRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


# --- serializers ------------------------------------------------------------------------------


class PaymentTotalSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class PaymentListSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True)
    made_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    exported_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    frozen = serializers.BooleanField(read_only=True)
    line_count = serializers.IntegerField(read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = PaymentList
        fields = [
            "id",
            "region",
            "region_name",
            "year",
            "made_on",
            "made_by",
            "exported_at",
            "exported_by",
            "frozen",
            "line_count",
            "total",
            "version",
        ]
        read_only_fields = fields


class PaymentListDetailSerializer(PaymentListSerializer):
    by_township = serializers.SerializerMethodField()
    by_programme = serializers.SerializerMethodField()

    class Meta(PaymentListSerializer.Meta):
        fields = [*PaymentListSerializer.Meta.fields, "by_township", "by_programme"]
        read_only_fields = fields

    @extend_schema_field(PaymentTotalSerializer(many=True))
    def get_by_township(self, payment_list: PaymentList) -> list[dict]:
        summed = payments.totals(payment_list.lines.all())
        return PaymentTotalSerializer(summed.by_township, many=True).data  # type: ignore[return-value]

    @extend_schema_field(PaymentTotalSerializer(many=True))
    def get_by_programme(self, payment_list: PaymentList) -> list[dict]:
        summed = payments.totals(payment_list.lines.all())
        return PaymentTotalSerializer(summed.by_programme, many=True).data  # type: ignore[return-value]


class PaymentLineSerializer(serializers.ModelSerializer):
    """A line as every list shows it: the ID number and the bank card masked."""

    year = serializers.IntegerField(source="payment_list.year", read_only=True)
    township = serializers.CharField(source="township_id", read_only=True)
    township_name = serializers.CharField(source="township.name", read_only=True)
    programme = serializers.CharField(source="programme.code", read_only=True)
    id_number = serializers.SerializerMethodField()
    bank_card = serializers.SerializerMethodField()

    class Meta:
        model = PaymentLine
        fields = [
            "id",
            "payment_list",
            "year",
            "township",
            "township_name",
            "name",
            "id_number",
            "bank_card",
            "programme",
            "amount",
            "result",
            "failure_reason",
            "returned_on",
            "resolved_on",
            "resolution",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number(self, line: PaymentLine) -> str:
        return idnumbers.mask(line.id_number)

    @extend_schema_field(OpenApiTypes.STR)
    def get_bank_card(self, line: PaymentLine) -> str:
        return payments.mask_card(line.bank_card)


class PaymentMakeSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    county = serializers.CharField(
        required=False, max_length=6, help_text="the county's code (default: the caller's)"
    )


class PaymentExportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=paymentsheet.FORMATS)


class PaymentReturnSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="the bank's return (csv/xlsx)")
    returned_on = serializers.DateField(required=False)


class PaymentReturnProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class PaymentReturnSummarySerializer(serializers.Serializer):
    """The import summary of DESIGN.md §5: ``updated`` lines marked, ``unchanged`` already
    so; with any ``rejected`` row nothing was changed."""

    imported = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = PaymentReturnProblemSerializer(many=True)
    warnings = PaymentReturnProblemSerializer(many=True)


class PaymentResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=200, required=False, allow_blank=True)
    resolved_on = serializers.DateField(required=False)
    new_bank_card = serializers.CharField(max_length=40, required=False, allow_blank=True)
    benefit_version = serializers.IntegerField(required=False)


# --- view sets --------------------------------------------------------------------------------


class PaymentListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """The payment lists of the caller's county, latest year first."""

    serializer_class = PaymentListSerializer
    permission_classes = [capability_for_all(BENEFITS)]
    http_method_names = ["get", "post", "head", "options"]
    model = PaymentList

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.select_related("region", "made_by", "exported_by")
            .annotate(
                line_count=Count("lines"),
                total=Coalesce(
                    Sum("lines__amount"),
                    Value(0),
                    output_field=DecimalField(max_digits=14, decimal_places=2),
                ),
            )
            .order_by("-year", "region_id")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return PaymentListSerializer
        return PaymentListDetailSerializer

    def _fresh(self, pk: int) -> dict:
        return PaymentListDetailSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(request=PaymentMakeSerializer, responses={201: PaymentListDetailSerializer})
    def create(self, request: Request) -> Response:
        """Make (or make again, while not exported) the county's list of a year."""
        data = PaymentMakeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data.get("county") or _actor(request).region_id or ""
        county = Region.objects.filter(code=code).first()
        if county is None:
            raise serializers.ValidationError({"county": _("No such region.")})
        made = payments.make_list(
            acting_user=_actor(request), county=county, year=data.validated_data["year"]
        )
        return Response(self._fresh(made.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PaymentExportSerializer,
        responses={
            (200, paymentsheet.XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="xlsx"),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="csv"),
        },
    )
    @action(
        detail=True, methods=["post"], renderer_classes=[JSONRenderer, XLSXRenderer, CSVRenderer]
    )
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The finance bureau's file, with whole ID numbers and cards; freezes the list (a
        second export is refused). Audited."""
        found = self.get_object()
        data = PaymentExportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        exported = payments.export_list(
            acting_user=_actor(request),
            payment_list=found,
            file_format=data.validated_data["format"],
        )
        response = HttpResponse(exported.content, content_type=exported.content_type)
        response["Content-Disposition"] = f'attachment; filename="{exported.name}"'
        return response

    @extend_schema(
        request={"multipart/form-data": PaymentReturnSerializer},
        responses={200: PaymentReturnSummarySerializer},
    )
    @action(detail=True, methods=["post"], url_path="return", parser_classes=[MultiPartParser])
    def bank_return(self, request: Request, pk: str | None = None) -> Response:
        """Read the bank's return into an exported list: all or nothing (any ``rejected``
        row changes nothing); the same return again changes nothing."""
        found = self.get_object()
        data = PaymentReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token = uploads.save_upload(data.validated_data["file"])
        except Exception as exc:
            raise serializers.ValidationError(
                {"file": [str(m) for m in getattr(exc, "messages", [exc])]}
            ) from exc
        try:
            summary = payments.import_return(
                acting_user=_actor(request),
                payment_list=found,
                path=uploads.upload_path(token),
                returned_on=data.validated_data.get("returned_on"),
            )
        except TableError as exc:
            raise serializers.ValidationError({"file": [str(exc)]}) from exc
        finally:
            uploads.discard(token)
        return Response(PaymentReturnSummarySerializer(summary.as_dict()).data)


class PaymentLineFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(
        field_name="payment_list__year", label=_("year"), min_value=1, max_value=9999
    )
    result = django_filters.ChoiceFilter(choices=PaymentLine.Result.choices, label=_("result"))

    class Meta:
        model = PaymentLine
        fields = ["payment_list", "year", "result"]


class PaymentLineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Payment lines of the caller's region (a township: its own), masked."""

    serializer_class = PaymentLineSerializer
    filterset_class = PaymentLineFilter
    permission_classes = [capability_for_all(BENEFITS)]
    http_method_names = ["get", "post", "head", "options"]
    model = PaymentLine

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("payment_list", "township", "programme").order_by(
            "-payment_list__year", *payments.LINE_ORDER
        )

    @extend_schema(request=PaymentResolveSerializer, responses={200: PaymentLineSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Say what was done about a failed payment; ``new_bank_card`` corrects her card
        for the next lists."""
        line = self.get_object()
        data = PaymentResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payments.resolve_failure(
            acting_user=_actor(request),
            line=line,
            resolution=data.validated_data.get("resolution", ""),
            resolved_on=data.validated_data.get("resolved_on"),
            new_bank_card=data.validated_data.get("new_bank_card", ""),
            benefit_version=data.validated_data.get("benefit_version"),
        )
        return Response(PaymentLineSerializer(self.get_queryset().get(pk=line.pk)).data)
