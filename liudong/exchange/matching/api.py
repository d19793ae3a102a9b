"""The matching-report API: ``POST /api/match-reports/`` (multipart: ``outflow``, ``inflow``,
optional ``threshold``) runs a match and answers 201 with the report scoped to the caller's
region; ``GET /api/match-reports/{id}/`` reads it again, ``{id}/xlsx/`` downloads it. The
same rules as the page (liudong.exchange.matching.services): county administrators and
inspectors of a county or above, the caller's own reports only, every run, read and
download in the audit log."""

from __future__ import annotations

from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_required
from liudong.accounts.roles import RUN_MATCHING
from liudong.controlchars import MultiPartParser
from liudong.services.api.views import XLSX, XLSXRenderer

from . import services
from .engine import DEFAULT_THRESHOLD


def _actor(request: Request) -> User:
    """The account behind an API request: the view sets' permission classes let no
    anonymous caller in."""
    return cast(User, request.user)


class MatchInputSerializer(serializers.Serializer):
    outflow = serializers.FileField(help_text="the outflow register (person template, csv/xlsx)")
    inflow = serializers.FileField(help_text="the inflow register (person template, csv/xlsx)")
    threshold = serializers.FloatField(
        required=False, default=DEFAULT_THRESHOLD, min_value=0.01, max_value=1
    )


class PairSerializer(serializers.Serializer):
    outflow_region = serializers.CharField(allow_null=True, help_text="household county")
    inflow_region = serializers.CharField(allow_null=True, help_text="residence county")
    matched = serializers.IntegerField()
    only_outflow = serializers.IntegerField()
    only_inflow = serializers.IntegerField()
    residence_rate = serializers.FloatField(
        allow_null=True, help_text="matched / (matched + only_outflow) × 100"
    )
    origin_rate = serializers.FloatField(
        allow_null=True, help_text="matched / (matched + only_inflow) × 100"
    )
    certificate_same = serializers.IntegerField()
    certificate_different = serializers.IntegerField()
    certificate_only_outflow = serializers.IntegerField()
    certificate_only_inflow = serializers.IntegerField()
    certificate_agreement_rate = serializers.FloatField(allow_null=True)
    verified_both = serializers.IntegerField()
    verified_only_outflow = serializers.IntegerField()
    verified_only_inflow = serializers.IntegerField()
    verification_agreement_rate = serializers.FloatField(allow_null=True)


class OutsideSerializer(serializers.Serializer):
    pairs = serializers.IntegerField()
    matched = serializers.IntegerField()
    only_outflow = serializers.IntegerField()
    only_inflow = serializers.IntegerField()


class MatchSerializer(serializers.Serializer):
    outflow_row = serializers.IntegerField()
    inflow_row = serializers.IntegerField()
    score = serializers.FloatField()


class UnmatchedSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    name = serializers.CharField()
    id_number = serializers.CharField(help_text="masked")
    household_region = serializers.CharField()
    residence_region = serializers.CharField()


class RowsSerializer(serializers.Serializer):
    outflow = serializers.IntegerField()
    inflow = serializers.IntegerField()


class MatchReportSerializer(serializers.Serializer):
    id = serializers.CharField()
    created = serializers.DateTimeField()
    outflow_file = serializers.CharField()
    inflow_file = serializers.CharField()
    threshold = serializers.FloatField()
    region = serializers.CharField()
    names = serializers.DictField(child=serializers.CharField(), help_text="county names")
    rows = RowsSerializer()
    summary = PairSerializer(many=True)
    total = PairSerializer()
    outside = OutsideSerializer(help_text="pairs wholly outside the caller's region: counts")
    matches = MatchSerializer(many=True)
    outflow_unmatched = UnmatchedSerializer(many=True)
    inflow_unmatched = UnmatchedSerializer(many=True)


class MatchReportViewSet(viewsets.ViewSet):
    """Two-way assessment matching reports (the caller's own)."""

    permission_classes = [capability_required(RUN_MATCHING)]
    parser_classes = [MultiPartParser]  # two files: the one upload of the API
    lookup_field = "report_id"
    lookup_value_regex = r"[0-9a-f]{32}"

    @extend_schema(
        request={"multipart/form-data": MatchInputSerializer},
        responses={201: MatchReportSerializer},
    )
    def create(self, request: Request) -> Response:
        data = MatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            report = services.run_match(acting_user=_actor(request), **data.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(services.public(report), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: MatchReportSerializer})
    def retrieve(self, request: Request, report_id: str = "") -> Response:
        return Response(services.public(self._stored(request, report_id, via="api")))

    @extend_schema(
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="the report")}
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, XLSXRenderer])
    def xlsx(self, request: Request, report_id: str = "") -> HttpResponse:
        """The report as the offices' xlsx (the download is logged)."""
        try:
            content = services.report_xlsx(report_id, acting_user=_actor(request))
        except LookupError as exc:
            raise Http404 from exc
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="match-{report_id[:8]}.xlsx"'
        return response

    @staticmethod
    def _stored(request: Request, report_id: str, via: str) -> dict:
        try:
            return services.stored(report_id, acting_user=_actor(request), via=via)
        except LookupError as exc:
            raise Http404 from exc
