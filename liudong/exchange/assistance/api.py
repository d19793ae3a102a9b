"""Assistance requests (协查) in the API at /api/assistance-requests/: the list (scoped;
``?direction=incoming|outgoing``, ``?overdue=true|false``; ID numbers masked), one request
(full ID number; the view is logged), asking (POST) and answering (POST .../answer/). The
rules are ``exchange.assistance``'s: every client is refused the same things, in the one
error shape.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_required
from liudong.accounts.roles import ASSISTANCE
from liudong.api.viewsets import ScopedModelViewSet
from liudong.people import idnumbers
from liudong.people.api.views import KEY_REGEX
from liudong.people.models import Person
from liudong.services.api.serializers import choice_field

from ..models import (
    AssistanceFinding,
    AssistanceQuerySet,
    AssistanceQuestion,
    AssistanceRequest,
    AssistanceUrgency,
)
from . import services

Direction = AssistanceRequest.Direction


def _actor(request: Request) -> User:
    """The account behind an API request: the view sets' permission classes let no
    anonymous caller in."""
    return cast(User, request.user)


class AssistanceRequestSerializer(serializers.ModelSerializer):
    """A request as answered in a list: the ID number masked."""

    id_number = serializers.SerializerMethodField()
    direction = choice_field(Direction, read_only=True)
    question = choice_field(AssistanceQuestion, read_only=True)
    urgency = choice_field(AssistanceUrgency, read_only=True)
    finding = serializers.CharField(read_only=True)
    region = serializers.CharField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    overdue = serializers.SerializerMethodField()
    answered_on_time = serializers.BooleanField(read_only=True)

    class Meta:
        model = AssistanceRequest
        fields = [
            "id",
            "request_id",
            "direction",
            "person",
            "id_number",
            "question",
            "urgency",
            "asked_on",
            "deadline",
            "overdue",
            "region",
            "region_name",
            "other_region",
            "finding",
            "answer",
            "answered_on",
            "answered_on_time",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number(self, request: AssistanceRequest) -> str:
        return idnumbers.mask(request.id_number)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, request: AssistanceRequest) -> bool:
        return request.is_overdue(timezone.localdate())


class AssistanceRequestDetailSerializer(AssistanceRequestSerializer):
    """One request opened: the full ID number (the view is logged)."""

    id_number = serializers.CharField(read_only=True)  # type: ignore[assignment]


class AskSerializer(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none())
    # Not required here so that a missing or wrong choice is refused by the rule, with
    # the same message as on the page.
    question = choice_field(AssistanceQuestion, required=False, allow_blank=True)
    urgency = choice_field(AssistanceUrgency, required=False, allow_blank=True)

    def __init__(self, *args: Any, people: QuerySet[Person] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if people is not None:
            # A file outside the caller's region is "not found", never named.
            field = self.fields["person"]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            field.queryset = people  # type: ignore[arg-type]


class AnswerSerializer(serializers.Serializer):
    finding = choice_field(AssistanceFinding, required=False, allow_blank=True)
    answer = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    version = serializers.IntegerField(required=False)


class AssistanceFilter(django_filters.FilterSet):
    direction = django_filters.ChoiceFilter(choices=Direction.choices, label=_("direction"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("unanswered past the deadline")
    )

    class Meta:
        model = AssistanceRequest
        fields = ["direction", "overdue"]

    def filter_overdue(self, queryset: AssistanceQuerySet, name: str, value: Any) -> QuerySet[Any]:
        # The worklist's own definition (AssistanceQuerySet.overdue), not a copy of it.
        overdue = queryset.overdue(timezone.localdate())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class AssistanceRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet
):
    """Assistance requests of the caller's region, both directions; unanswered first, then
    by deadline."""

    serializer_class = AssistanceRequestSerializer
    filterset_class = AssistanceFilter
    permission_classes = [capability_required(ASSISTANCE)]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = KEY_REGEX

    model = AssistanceRequest

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The worklist's order (services.worklist): unanswered first, then by deadline.
        return queryset.select_related("region", "person").order_by(
            F("answered_on").asc(nulls_first=True), "deadline", "pk"
        )

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        if self.action == "retrieve":
            return AssistanceRequestDetailSerializer
        return AssistanceRequestSerializer

    def _fresh(self, pk: int) -> dict:
        fresh = self.get_queryset().get(pk=pk)
        return AssistanceRequestDetailSerializer(fresh).data

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        found = self.get_object()
        services.view_request(acting_user=_actor(request), request=found, via="api")
        return Response(AssistanceRequestDetailSerializer(found).data)

    @extend_schema(request=AskSerializer, responses={201: AssistanceRequestDetailSerializer})
    def create(self, request: Request) -> Response:
        """Ask the other place (her registration, or her residence) about a person on file."""
        data = AskSerializer(data=request.data, people=Person.objects.in_scope(_actor(request)))
        data.is_valid(raise_exception=True)
        asked = services.ask(
            acting_user=_actor(request),
            person=data.validated_data["person"],
            question=data.validated_data.get("question", ""),
            urgency=data.validated_data.get("urgency", ""),
        )
        return Response(self._fresh(asked.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=AnswerSerializer, responses={200: AssistanceRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        """Answer a request this region was asked (once); the answer goes back to the asker."""
        found = self.get_object()
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.answer(
            acting_user=_actor(request),
            request=found,
            finding=data.validated_data.get("finding", ""),
            answer=data.validated_data.get("answer", ""),
            expected_version=data.validated_data.get("version"),
        )
        return Response(self._fresh(found.pk))
