"""Help requests in the API, with the handler's worklist and the counts; changes go
through ``help_requests.services``. Must not touch the other sub-domains.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.base import TrackedModel
from liudong.regions.codes import CodeError, clean_code
from liudong.services.api.filters import (
    HelpRequestFilter,
)
from liudong.services.api.help_requests.serializers import (
    HelpCountsSerializer,
    HelpRequestOutSerializer,
    HelpRequestSerializer,
)
from liudong.services.api.views import RecordViewSet, with_schema
from liudong.services.help_requests import services as help_services
from liudong.services.models import (
    HelpRequest,
)


@extend_schema(responses=HelpRequestOutSerializer)
class HelpRequestViewSet(RecordViewSet):
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

    @with_schema(HelpRequestSerializer, HelpRequestOutSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record her request: a category is required; her file must be in the caller's
        region (403 otherwise); the deadline defaults to 15 days after receipt."""
        return super().create(request, *args, **kwargs)

    @with_schema(HelpRequestSerializer, HelpRequestOutSerializer)
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

    # The worklist reads no filter (help_worklist orders the caller's open requests): a
    # page of requests, as the schema says (it declared one request, without the page).
    @extend_schema(responses={200: HelpRequestOutSerializer(many=True)})
    @action(detail=False, methods=["get"], filterset_class=None)
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
