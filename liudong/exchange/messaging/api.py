"""The staff's mailbox in the API: messages received for the caller's region and sent
about it (read-only), and applying again a received message whose effect failed."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_required
from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.api.viewsets import ScopedModelViewSet

from ..models import InboxMessage, OutboxMessage
from . import services
from .serializers import InboxMessageSerializer, OutboxMessageSerializer


def _actor(request: Request) -> User:
    """The account behind an API request: the view sets' permission classes let no
    anonymous caller in."""
    return cast(User, request.user)


class InboxMessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Messages received for the caller's region, those needing attention first;
    ``?state=problem`` lists only those."""

    serializer_class = InboxMessageSerializer
    permission_classes = [capability_required(CHANGE_PEOPLE)]

    model = InboxMessage

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        found = queryset.select_related("person").order_by("state", "-received_at")
        state = self.request.query_params.get("state")
        return found.filter(state=state) if state else found

    @extend_schema(request=None, responses={200: InboxMessageSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        """Apply again a message whose effect could not be applied when it arrived."""
        try:
            message = services.apply_again(acting_user=_actor(request), message=self.get_object())
        except DjangoValidationError as exc:
            raise ValidationError({"state": exc.messages}) from exc
        return Response(InboxMessageSerializer(message).data)


class OutboxMessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Messages sent about the caller's region, those still waiting first."""

    serializer_class = OutboxMessageSerializer
    permission_classes = [capability_required(CHANGE_PEOPLE)]

    model = OutboxMessage

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.order_by(F("delivered_at").desc(nulls_first=True), "-created")
