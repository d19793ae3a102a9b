"""Service records and follow-ups in the API; changes go through ``records.services``.
Must not touch campaigns or associations.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.permissions import capability_for_all
from liudong.accounts.roles import RECORD_SERVICES
from liudong.base import TrackedModel
from liudong.services.api.filters import (
    FollowUpFilter,
    ServiceRecordFilter,
)
from liudong.services.api.records.serializers import (
    FollowUpOutSerializer,
    FollowUpSerializer,
    ServiceRecordOutSerializer,
    ServiceRecordSerializer,
)
from liudong.services.api.views import RecordViewSet, with_schema
from liudong.services.models import (
    Campaign,
    FollowUp,
    ServiceRecord,
)
from liudong.services.records import services as record_services


@extend_schema(responses=ServiceRecordOutSerializer)
class ServiceRecordViewSet(RecordViewSet):
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
        show = record_services.read_service_record(self.actor, record)
        return Response(ServiceRecordOutSerializer(record, context={"show_result": show}).data)

    @with_schema(ServiceRecordSerializer, ServiceRecordOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a service she asked for or accepted: ``consent_recorded`` must be true;
        her file must be in the caller's region (403 otherwise); a pre-pregnancy check
        needs a spouse on her file; a contraceptive supply needs the method she chose."""
        return super().create(request, *args, **kwargs)

    @with_schema(ServiceRecordSerializer, ServiceRecordOutSerializer)
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
class FollowUpViewSet(RecordViewSet):
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

    @with_schema(FollowUpSerializer, FollowUpOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Schedule a follow-up of a service, due after the service date."""
        return super().create(request, *args, **kwargs)

    @with_schema(FollowUpSerializer, FollowUpOutSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark it done (``done_on``), move its due date or add notes."""
        return super().partial_update(request, *args, **kwargs)

    def service_create(self, values: dict[str, Any]) -> TrackedModel:
        return record_services.schedule_follow_up(acting_user=self.actor, **values)

    def service_update(self, obj: Any, version: int | None, values: dict[str, Any]) -> None:
        record_services.update_follow_up(
            acting_user=self.actor, follow_up=obj, expected_version=version, **values
        )
