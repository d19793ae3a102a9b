"""The statistics API: indicators (a county adds its own), the monthly report of any
region in the caller's (the same figures as the page and `liudong report monthly`;
frozen once approved), and submission and approval of monthly reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_for_writes, capability_required
from liudong.accounts.roles import (
    APPROVE_REPORTS,
    CHANGE_PEOPLE,
    MANAGE_INDICATORS,
    SPOT_CHECK,
    SUBMIT_REPORTS,
    VIEW_REPORTS,
)
from liudong.actors import region_of
from liudong.api.schema import OneObjectSchema
from liudong.api.viewsets import ScopedModelViewSet

from .. import quality, services, spotchecks
from ..models import AssessmentScheme, Indicator, MonthlyReport, QualityRule, SpotCheck, Target
from . import serializers as s


def _actor(request: Request) -> User:
    """The account behind an API request: the view sets' permission classes let no
    anonymous caller in."""
    return cast(User, request.user)


class IndicatorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Indicators as data: the standard set and the county's own."""

    serializer_class = s.IndicatorSerializer
    permission_classes = [
        capability_required(VIEW_REPORTS),
        capability_for_writes(MANAGE_INDICATORS),
    ]
    lookup_field = "code"
    # Wider than a code (digits first too), so an anonymous caller's 401 comes before any
    # 404; narrower than anything, so no byte a database cannot compare reaches a query.
    lookup_value_regex = r"[a-z0-9_]{1,40}"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Indicator]:
        return Indicator.objects.order_by("position", "code")

    @extend_schema(request=s.IndicatorInputSerializer, responses={201: s.IndicatorSerializer})
    def create(self, request: Request) -> Response:
        data = s.IndicatorInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        indicator = services.add_indicator(acting_user=_actor(request), **data.validated_data)
        return Response(s.IndicatorSerializer(indicator).data, status=status.HTTP_201_CREATED)


class MonthlyReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Monthly reports submitted by the caller's unit and the units below it."""

    serializer_class = s.MonthlyReportSerializer
    permission_classes = [capability_required(VIEW_REPORTS)]

    model = MonthlyReport

    def narrow(self, queryset: QuerySet[MonthlyReport]) -> QuerySet[MonthlyReport]:
        return (
            queryset.select_related("submitted_by", "decided_by")
            .prefetch_related("events__by")
            .order_by("-period", "region_id")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="default: the caller's region"),
            OpenApiParameter("period", str, required=True, description="YYYY-MM"),
        ],
        responses={200: s.MonthlyFiguresSerializer},
    )
    @action(detail=False, methods=["get"])
    def figures(self, request: Request) -> Response:
        """The report of DESIGN.md §5 (``status`` says whether it is live or frozen)."""
        query = s.ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = services.parse_period(query.validated_data["period"])
        region = query.validated_data.get("region") or region_of(_actor(request))
        shown = services.report_to_show(region, period, acting_user=_actor(request))
        state = shown.record.status if shown.record else "live"
        return Response({**shown.figures, "status": state})

    @extend_schema(request=s.SubmitSerializer, responses={201: s.MonthlyReportSerializer})
    @action(
        detail=False, methods=["post"], permission_classes=[capability_required(SUBMIT_REPORTS)]
    )
    def submit(self, request: Request) -> Response:
        """Submit the caller's own unit's month (once it is over)."""
        data = s.SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        period = services.parse_period(data.validated_data["period"])
        report = services.submit_report(acting_user=_actor(request), period=period)
        return Response(self._fresh(report), status=status.HTTP_201_CREATED)

    def _decide(
        self, request: Request, change: Callable[..., MonthlyReport], *, reason: bool
    ) -> Response:
        report = self.get_object()
        data = s.DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        arguments = {
            "acting_user": request.user,
            "report": report,
            "version": data.validated_data.get("version"),
        }
        if reason:
            arguments["reason"] = data.validated_data.get("reason", "")
        return Response(self._fresh(change(**arguments)))

    def _fresh(self, report: MonthlyReport) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=report.pk)).data

    @extend_schema(request=s.DecisionSerializer, responses={200: s.MonthlyReportSerializer})
    @action(
        detail=True, methods=["post"], permission_classes=[capability_required(APPROVE_REPORTS)]
    )
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, services.approve_report, reason=False)

    @extend_schema(request=s.DecisionSerializer, responses={200: s.MonthlyReportSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="return",
        permission_classes=[capability_required(APPROVE_REPORTS)],
    )
    def return_(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, services.return_report, reason=True)

    @extend_schema(request=s.DecisionSerializer, responses={200: s.MonthlyReportSerializer})
    @action(
        detail=True, methods=["post"], permission_classes=[capability_required(APPROVE_REPORTS)]
    )
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, services.reopen_report, reason=True)


class TargetViewSet(viewsets.GenericViewSet):
    """Yearly targets: a region's own or inherited from above; a county sets them."""

    permission_classes = [
        capability_required(VIEW_REPORTS),
        capability_for_writes(MANAGE_INDICATORS),
    ]
    serializer_class = s.TargetSerializer
    pagination_class = None
    queryset = Target.objects.none()  # answers are built by the services

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="default: the caller's region"),
            OpenApiParameter("year", int, required=True, description="statistical year"),
        ],
        responses={200: s.TargetSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        query = s.TargetQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data["year"]
        region = services.check_region(
            query.validated_data.get("region") or region_of(_actor(request)),
            acting_user=_actor(request),
        )
        effective = services.targets_for(region.code, year)
        own = services.own_targets(region.code, year)
        rows = [
            {
                "indicator": code,
                "region": region.code,
                "year": year,
                "value": value,
                "own": code in own,
            }
            for code, value in effective.items()
        ]
        return Response(s.TargetSerializer(rows, many=True).data)

    @extend_schema(request=s.TargetInputSerializer, responses={201: s.TargetSerializer})
    def create(self, request: Request) -> Response:
        data = s.TargetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = services.set_target(
            acting_user=_actor(request),
            indicator=data.validated_data["indicator"],
            region_code=data.validated_data["region"],
            year=data.validated_data["year"],
            value=data.validated_data["value"],
        )
        body = {
            "indicator": target.indicator.code,
            "region": target.region_id,
            "year": target.year,
            "value": target.value,
            "own": True,
        }
        return Response(s.TargetSerializer(body).data, status=status.HTTP_201_CREATED)


class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Assessment schemes the caller's unit sets or is scored by, and their scored tables."""

    serializer_class = s.AssessmentSchemeSerializer
    permission_classes = [capability_required(VIEW_REPORTS)]

    model = AssessmentScheme

    def narrow(self, queryset: QuerySet[AssessmentScheme]) -> QuerySet[AssessmentScheme]:
        return queryset.order_by("-year", "pk")

    @extend_schema(responses={200: s.AssessmentTableSerializer})
    @action(detail=True, methods=["get"])
    def scores(self, request: Request, pk: str | None = None) -> Response:
        """The ranked table: each unit's item scores, deductions and total."""
        return Response(services.assess(self.get_object(), acting_user=_actor(request)))


class SpotCheckViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    ScopedModelViewSet,
):
    """Spot checks (抽查) of the caller's region and the units below it: draw a sample
    (``POST``), read it with its files (ID numbers masked), record what a visit found."""

    permission_classes = [capability_required(SPOT_CHECK)]

    model = SpotCheck

    def narrow(self, queryset: QuerySet[SpotCheck]) -> QuerySet[SpotCheck]:
        return spotchecks.with_counts(queryset)

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "retrieve":
            return s.SpotCheckDetailSerializer
        return s.SpotCheckSerializer

    @extend_schema(request=s.SpotCheckDrawSerializer, responses={201: s.SpotCheckDetailSerializer})
    def create(self, request: Request) -> Response:
        """Draw a sample: the same seed over the same registry draws the same files."""
        data = s.SpotCheckDrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        check = spotchecks.draw(
            values["region"],
            values["period"],
            per_village=values["per_village"],
            seed=values.get("seed"),
            fields=values.get("fields_checked"),
            acting_user=_actor(request),
        )
        fresh = self.get_queryset().get(pk=check.pk)
        body = s.SpotCheckDetailSerializer(fresh, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.SpotCheckResultsSerializer, responses={200: s.SpotCheckEntrySerializer}
    )
    @action(detail=True, methods=["post"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        """What the visit found for one sampled file (replaces earlier results)."""
        check = self.get_object()
        data = s.SpotCheckResultsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        person = spotchecks.sampled_person(check, values["person"], acting_user=_actor(request))
        entry = spotchecks.record(
            check,
            person,
            values["results"],
            values["visited_on"],
            values.get("note", ""),
            acting_user=_actor(request),
        )
        return Response(s.SpotCheckEntrySerializer(entry).data)


class QualityViewSet(viewsets.GenericViewSet):
    """Data-quality findings in the caller's region (``?region=`` below it, ``?rule=``):
    per rule, per grid, each with the page where it is fixed (masked ID numbers)."""

    permission_classes = [capability_required(VIEW_REPORTS), capability_required(CHANGE_PEOPLE)]
    serializer_class = s.QualityReportSerializer
    queryset = QualityRule.objects.none()
    pagination_class = None
    schema = OneObjectSchema()  # its list is one report object, not an array

    @extend_schema(
        parameters=[
            OpenApiParameter("region", str, description="default: the caller's region"),
            OpenApiParameter("rule", str, description="one rule's code (default: every rule)"),
        ],
        responses={200: s.QualityReportSerializer},
    )
    def list(self, request: Request) -> Response:
        rules = quality.selected_rules(request.query_params.get("rule") or None)
        report = quality.check_quality(
            region=request.query_params.get("region") or region_of(_actor(request)),
            acting_user=_actor(request),
            rules=rules,
        )
        return Response(quality.as_json(report))
