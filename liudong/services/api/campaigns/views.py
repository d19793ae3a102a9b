"""Campaigns (with their summary, as JSON or xlsx) and campaign activities in the API;
changes go through ``campaigns.services``. Must not touch the other sub-domains.
"""

from __future__ import annotations

import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.base import TrackedModel
from liudong.services.api.campaigns.serializers import (
    ActivityOutSerializer,
    ActivitySerializer,
    CampaignOutSerializer,
    CampaignSerializer,
    CampaignSummarySerializer,
)
from liudong.services.api.filters import (
    ActivityFilter,
    CampaignFilter,
)
from liudong.services.api.views import XLSX, RecordViewSet, XLSXRenderer, with_schema
from liudong.services.campaigns import services as campaign_services
from liudong.services.models import (
    Activity,
    Campaign,
)


@extend_schema(responses=CampaignOutSerializer)
class CampaignViewSet(RecordViewSet):
    """Campaigns (专项活动) organised in, covering, or covering a region above the caller's
    region. ``summary/`` totals the activities per child region (``?format=xlsx``: the
    workbook)."""

    model = Campaign
    serializer_class = CampaignOutSerializer
    write_serializer = CampaignSerializer
    filterset_class = CampaignFilter

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("organiser_region").prefetch_related("regions")

    @with_schema(CampaignSerializer, CampaignOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a campaign organised by the caller's office; without ``regions`` it
        covers the caller's whole region."""
        return super().create(request, *args, **kwargs)

    @with_schema(CampaignSerializer, CampaignOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a campaign (its organising office or one above); its activities must
        still fit the period and regions."""
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return campaign_services.create_campaign(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        campaign_services.update_campaign(
            acting_user=self.actor, campaign=obj, expected_version=version, **values
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["json", "xlsx"], description="xlsx: the workbook")
        ],
        responses={
            200: CampaignSummarySerializer,
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="the summary workbook"),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, XLSXRenderer])
    def summary(
        self, request: Request, pk: int | None = None, format: str | None = None
    ) -> HttpResponse:
        """Activities, participants, materials and free contraceptives handed out, per
        child region (of the organiser, or of the caller's region when it lies below) and
        in total. The xlsx export is logged."""
        campaign = self.get_object()
        summary = campaign_services.campaign_summary(campaign, user=request.user)
        if request.accepted_renderer.format == "xlsx":
            buffer = io.BytesIO()
            campaign_services.write_summary_xlsx(summary, buffer, acting_user=self.actor)
            response = HttpResponse(buffer.getvalue(), content_type=XLSX)
            response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.xlsx"'
            return response
        return Response(CampaignSummarySerializer(summary).data)


@extend_schema(responses=ActivityOutSerializer)
class ActivityViewSet(RecordViewSet):
    """Activities of campaigns held in the caller's region."""

    model = Activity
    serializer_class = ActivityOutSerializer
    write_serializer = ActivitySerializer
    filterset_class = ActivityFilter
    fixed = ("campaign",)

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("region")

    def scoped(self) -> dict[str, Any]:
        return {"campaign": Campaign.objects.in_scope(self.request.user)}

    @with_schema(ActivitySerializer, ActivityOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record an activity: its date within the campaign's period, its region within
        the campaign's regions and the caller's; counts of what was handed out on request."""
        return super().create(request, *args, **kwargs)

    @with_schema(ActivitySerializer, ActivityOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return campaign_services.create_activity(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        campaign_services.update_activity(
            acting_user=self.actor, activity=obj, expected_version=version, **values
        )
