"""Campaigns and their activities, association branches, memberships and activities, help
requests, service records and follow-ups in the API, scoped to the caller's region; every
change goes through the sub-domains' ``services`` (rules, audit). Reads need a staff role; writes
need the capability to record services. A record outside the caller's region is not found
(404); naming a person outside it is refused (403).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_for_all, capability_for_writes
from liudong.accounts.roles import RECORD_SERVICES
from liudong.api.viewsets import ScopedModelViewSet
from liudong.base import TrackedModel
from liudong.people.api.views import KEY_REGEX
from liudong.regions.codes import CodeError, clean_code
from liudong.services.associations import services as association_services
from liudong.services.campaigns import services as campaign_services
from liudong.services.help_requests import services as help_services
from liudong.services.records import services as record_services

from ..models import (
    Activity,
    AssociationActivity,
    AssociationBranch,
    Campaign,
    FollowUp,
    HelpRequest,
    Membership,
    ServiceRecord,
)
from .filters import (
    ActivityFilter,
    AssociationActivityFilter,
    BranchFilter,
    CampaignFilter,
    FollowUpFilter,
    HelpRequestFilter,
    MembershipFilter,
    ServiceRecordFilter,
)
from .serializers import (
    ActivityOutSerializer,
    ActivitySerializer,
    AssociationActivityOutSerializer,
    AssociationActivitySerializer,
    BranchOutSerializer,
    BranchSerializer,
    CampaignOutSerializer,
    CampaignSerializer,
    CampaignSummarySerializer,
    FollowUpOutSerializer,
    FollowUpSerializer,
    HelpCountsSerializer,
    HelpRequestOutSerializer,
    HelpRequestSerializer,
    MembershipOutSerializer,
    MembershipSerializer,
    ServiceRecordOutSerializer,
    ServiceRecordSerializer,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

F = TypeVar("F", bound=Callable[..., Any])


class XLSXRenderer(BaseRenderer):
    """Lets a client ask for ``?format=xlsx``; the workbook itself is returned as is."""

    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes | bytearray):
            return bytes(data)
        return json.dumps(data, ensure_ascii=False).encode()  # an error body


class _RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """List, retrieve, create and PATCH through the service functions.

    Subclasses name the model, the request serializer (``write_serializer``), the answer
    serializer (``serializer_class``), the related querysets a request may name
    (``scoped``), the fields fixed once created (``fixed``) and the service calls.
    """

    write_serializer: type
    fixed: tuple[str, ...] = ()
    permission_classes = [capability_for_writes(RECORD_SERVICES)]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def scoped(self) -> dict:
        return {}

    @property
    def actor(self) -> User:
        """The caller as the services' actor: the permission classes let only a signed-in
        staff account this far."""
        user = self.request.user
        if not isinstance(user, User):
            raise NotAuthenticated
        return user

    def service_create(self, values: dict[str, Any]) -> TrackedModel:  # pragma: no cover - abstract
        raise NotImplementedError

    # ``obj`` is the view set's own model: Any, since each override names its model.
    def service_update(  # pragma: no cover - abstract
        self, obj: Any, version: int | None, values: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def _answer(self, obj: TrackedModel, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().filter(pk=obj.pk).first() or obj
        return Response(self.get_serializer_class()(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.write_serializer(data=request.data, scoped=self.scoped())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("version", None)
        return self._answer(self.service_create(values), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        data = self.write_serializer(obj, data=request.data, partial=True, scoped=self.scoped())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        fixed = sorted(set(values) & set(self.fixed))
        if fixed:
            raise ValidationError(
                {
                    name: [_("%(field)s cannot be changed once recorded.") % {"field": name}]
                    for name in fixed
                }
            )
        self.service_update(obj, version, values)
        return self._answer(obj)


def _with_schema(
    write: type[serializers.Serializer], out: type[serializers.Serializer]
) -> Callable[[F], F]:
    """The request and answer serializers of create and PATCH, for the schema."""
    return extend_schema(request=write, responses={200: out, 201: out})


@extend_schema(responses=CampaignOutSerializer)
class CampaignViewSet(_RecordViewSet):
    """Campaigns (专项活动) organised in, covering, or covering a region above the caller's
    region. ``summary/`` totals the activities per child region (``?format=xlsx``: the
    workbook)."""

    model = Campaign
    serializer_class = CampaignOutSerializer
    write_serializer = CampaignSerializer
    filterset_class = CampaignFilter

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("organiser_region").prefetch_related("regions")

    @_with_schema(CampaignSerializer, CampaignOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a campaign organised by the caller's office; without ``regions`` it
        covers the caller's whole region."""
        return super().create(request, *args, **kwargs)

    @_with_schema(CampaignSerializer, CampaignOutSerializer)
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
class ActivityViewSet(_RecordViewSet):
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

    @_with_schema(ActivitySerializer, ActivityOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record an activity: its date within the campaign's period, its region within
        the campaign's regions and the caller's; counts of what was handed out on request."""
        return super().create(request, *args, **kwargs)

    @_with_schema(ActivitySerializer, ActivityOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return campaign_services.create_activity(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        campaign_services.update_activity(
            acting_user=self.actor, activity=obj, expected_version=version, **values
        )


@extend_schema(responses=BranchOutSerializer)
class BranchViewSet(_RecordViewSet):
    """Floating-population association branches in the caller's region."""

    # Read on the web only with RECORD_SERVICES (services/views.py): the same here.
    permission_classes = [capability_for_all(RECORD_SERVICES)]

    model = AssociationBranch
    serializer_class = BranchOutSerializer
    write_serializer = BranchSerializer
    filterset_class = BranchFilter

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("region")

    @_with_schema(BranchSerializer, BranchOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @_with_schema(BranchSerializer, BranchOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return association_services.create_branch(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        association_services.update_branch(
            acting_user=self.actor, branch=obj, expected_version=version, **values
        )


@extend_schema(responses=MembershipOutSerializer)
class MembershipViewSet(_RecordViewSet):
    """Members of the branches in the caller's region (masked ID numbers)."""

    model = Membership
    serializer_class = MembershipOutSerializer
    write_serializer = MembershipSerializer
    filterset_class = MembershipFilter
    fixed = ("branch", "person")

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("person", "branch")

    def scoped(self) -> dict[str, Any]:
        return {"branch": AssociationBranch.objects.in_scope(self.request.user)}

    @_with_schema(MembershipSerializer, MembershipOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """She joins a branch: her file must be in the caller's region (403 otherwise);
        one open membership per person and branch."""
        return super().create(request, *args, **kwargs)

    @_with_schema(MembershipSerializer, MembershipOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change her role, or record that she left (``left_on``)."""
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return association_services.create_membership(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        association_services.update_membership(
            acting_user=self.actor, membership=obj, expected_version=version, **values
        )


@extend_schema(responses=AssociationActivityOutSerializer)
class AssociationActivityViewSet(_RecordViewSet):
    """Activities of the association branches in the caller's region."""

    model = AssociationActivity
    serializer_class = AssociationActivityOutSerializer
    write_serializer = AssociationActivitySerializer
    filterset_class = AssociationActivityFilter
    fixed = ("branch",)

    def scoped(self) -> dict[str, Any]:
        return {"branch": AssociationBranch.objects.in_scope(self.request.user)}

    @_with_schema(AssociationActivitySerializer, AssociationActivityOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @_with_schema(AssociationActivitySerializer, AssociationActivityOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return association_services.create_association_activity(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        association_services.update_association_activity(
            acting_user=self.actor, activity=obj, expected_version=version, **values
        )


@extend_schema(responses=HelpRequestOutSerializer)
class HelpRequestViewSet(_RecordViewSet):
    """Help requests (权益维护) received in the caller's region. ``?overdue=true`` lists
    those past their deadline; ``worklist/`` lists the open ones, overdue first;
    ``counts/`` counts them by category and status."""

    model = HelpRequest
    serializer_class = HelpRequestOutSerializer
    write_serializer = HelpRequestSerializer
    filterset_class = HelpRequestFilter
    fixed = ("person", "region")

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("person", "region", "handler")

    def scoped(self) -> dict[str, Any]:
        return {"handler": User.objects.in_scope(self.request.user).filter(is_active=True)}

    @_with_schema(HelpRequestSerializer, HelpRequestOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record her request: a category is required; her file must be in the caller's
        region (403 otherwise); the deadline defaults to 15 days after receipt."""
        return super().create(request, *args, **kwargs)

    @_with_schema(HelpRequestSerializer, HelpRequestOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Assign, move along, resolve or refer (an ``outcome`` is then required), close
        or reopen."""
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return help_services.create_help_request(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        help_services.update_help_request(
            acting_user=self.actor, help_request=obj, expected_version=version, **values
        )

    @action(detail=False, methods=["get"])
    def worklist(self, request: Request) -> Response:
        """Open and in-progress requests, overdue first, then by deadline."""
        page = self.paginate_queryset(help_services.help_worklist(request.user))
        return self.get_paginated_response(HelpRequestOutSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="region code (subtree)"),
            OpenApiParameter("received_after", OpenApiTypes.DATE),
            OpenApiParameter("received_before", OpenApiTypes.DATE),
        ],
        responses={200: HelpCountsSerializer},
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def counts(self, request: Request) -> Response:
        """Requests received in a region and period, by category and by status."""
        from rest_framework import serializers

        class Query(serializers.Serializer):
            region = serializers.CharField(required=False, max_length=30)
            received_after = serializers.DateField(required=False)
            received_before = serializers.DateField(required=False)

        query = Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        region = query.validated_data.get("region")
        if region:
            try:
                region = clean_code(region)
            except CodeError as exc:
                raise ValidationError({"region": [str(exc)]}) from exc
        counts = help_services.help_counts(
            request.user,
            region=region,
            received_from=query.validated_data.get("received_after"),
            received_to=query.validated_data.get("received_before"),
        )
        return Response(HelpCountsSerializer(counts).data)


@extend_schema(responses=ServiceRecordOutSerializer)
class ServiceRecordViewSet(_RecordViewSet):
    """Services people asked for or accepted, given in the caller's region or to the
    people whose files it keeps (a service station: what it recorded and what was given
    in its region). ``result`` is shown on one record, only to a service station and her
    township specialist, and that read is logged."""

    # Read on the web only with RECORD_SERVICES (services/views.py): the same here.
    permission_classes = [capability_for_all(RECORD_SERVICES)]

    model = ServiceRecord
    serializer_class = ServiceRecordOutSerializer
    write_serializer = ServiceRecordSerializer
    filterset_class = ServiceRecordFilter
    fixed = ("person",)

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("person", "region", "provider", "recorded_by")

    def scoped(self) -> dict[str, Any]:
        return {"campaign": Campaign.objects.in_scope(self.request.user)}

    def _answer(self, obj: TrackedModel, code: int = status.HTTP_200_OK) -> Response:
        # This view set's rows and its services' results are service records.
        fresh = cast(ServiceRecord, self.get_queryset().filter(pk=obj.pk).first() or obj)
        show = record_services.may_see_result(self.request.user, fresh)
        return Response(
            ServiceRecordOutSerializer(fresh, context={"show_result": show}).data, status=code
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.get_object()
        show = record_services.read_service_record(request.user, record)
        return Response(ServiceRecordOutSerializer(record, context={"show_result": show}).data)

    @_with_schema(ServiceRecordSerializer, ServiceRecordOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a service she asked for or accepted: ``consent_recorded`` must be true;
        her file must be in the caller's region (403 otherwise); a pre-pregnancy check
        needs a spouse on her file; a contraceptive supply needs the method she chose."""
        return super().create(request, *args, **kwargs)

    @_with_schema(ServiceRecordSerializer, ServiceRecordOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Correct a record (with ``version``); every rule is checked again."""
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return record_services.create_service_record(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        record_services.update_service_record(
            acting_user=self.actor, record=obj, expected_version=version, **values
        )


@extend_schema(responses=FollowUpOutSerializer)
class FollowUpViewSet(_RecordViewSet):
    """Follow-ups of the services the caller sees. ``?due=true`` is the worklist (due
    within a week or overdue, overdue first); ``?grid=ID`` keeps the people living in
    that grid."""

    # Read on the web only with RECORD_SERVICES (services/views.py): the same here.
    permission_classes = [capability_for_all(RECORD_SERVICES)]

    model = FollowUp
    serializer_class = FollowUpOutSerializer
    write_serializer = FollowUpSerializer
    filterset_class = FollowUpFilter
    fixed = ("service",)

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("service", "service__person", "done_by")

    def scoped(self) -> dict[str, Any]:
        return {"service": ServiceRecord.objects.in_scope(self.request.user)}

    @_with_schema(FollowUpSerializer, FollowUpOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Schedule a follow-up of a service, due after the service date."""
        return super().create(request, *args, **kwargs)

    @_with_schema(FollowUpSerializer, FollowUpOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark it done (``done_on``), move its due date or add notes."""
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return record_services.schedule_follow_up(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        record_services.update_follow_up(
            acting_user=self.actor, follow_up=obj, expected_version=version, **values
        )
