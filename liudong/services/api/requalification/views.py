"""Re-qualification rounds (/api/requalification-rounds/) and re-qualifications
(/api/requalifications/) in the API: lists and one row (scoped: a round is the county's, a
re-qualification the township of her household registration's), opening a round (POST),
closing it after the deadline (POST .../close/), confirming (POST .../confirm/) and ending
the benefit (POST .../end/). The rules are ``programmes.requalification``'s: every client is
refused the same things, in the one error shape. Must not touch the other sub-domains."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_for_all
from liudong.accounts.roles import BENEFITS
from liudong.api.viewsets import ScopedModelViewSet
from liudong.people.api.views import KEY_REGEX
from liudong.regions.models import Region
from liudong.services.api.requalification.serializers import (
    BenefitEndSerializer,
    RequalificationConfirmSerializer,
    RequalificationRoundCloseSerializer,
    RequalificationRoundOpenSerializer,
    RequalificationRoundSerializer,
    RequalificationSerializer,
)
from liudong.services.programmes import requalification as rq
from liudong.services.programmes.models import Requalification, RequalificationRound


def _actor(request: Request) -> User:
    """The account behind an API request: the permission classes let no anonymous caller
    in."""
    return cast(User, request.user)


class RoundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """The re-qualification rounds of the caller's county, the latest year first."""

    model = RequalificationRound
    serializer_class = RequalificationRoundSerializer
    permission_classes = [capability_for_all(BENEFITS)]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("region", "opened_by").order_by("-year", "region", "pk")

    def _fresh(self, pk: int) -> dict:
        return RequalificationRoundSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(
        request=RequalificationRoundOpenSerializer, responses={201: RequalificationRoundSerializer}
    )
    def create(self, request: Request) -> Response:
        """Open the county's round of a year with its deadline (the county only; once per
        county and year): a pending re-qualification for every benefit paid or suspended,
        and her residence asked for one who lives in another county."""
        data = RequalificationRoundOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        county = Region.objects.filter(code=data.validated_data["county"]).first()
        if county is None:
            raise ValidationError({"county": [_("No such region.")]})
        opened = rq.open_round(
            acting_user=_actor(request),
            county=county,
            year=data.validated_data["year"],
            deadline=data.validated_data["deadline"],
        )
        return Response(self._fresh(opened.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RequalificationRoundCloseSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """After the deadline: every re-qualification still pending is suspended with the
        reason (not ended). Closing again changes nothing."""
        found = self.get_object()
        suspended = rq.close_round(found, acting_user=_actor(request))
        return Response({"suspended": suspended, "round": self._fresh(found.pk)})


class RequalificationFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(
        choices=Requalification.Outcome.choices, label=_("outcome")
    )
    # Bounded as every key filter is: a number beyond the column's range is a 400, not a 500.
    round = django_filters.NumberFilter(
        field_name="round_id", label=_("round"), min_value=1, max_value=2**63 - 1
    )

    class Meta:
        model = Requalification
        fields = ["outcome", "round"]


class RequalificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """The re-qualifications of the caller's region (her ID number masked), the earliest
    deadline first; ``?outcome=pending`` is the worklist."""

    model = Requalification
    serializer_class = RequalificationSerializer
    filterset_class = RequalificationFilter
    permission_classes = [capability_for_all(BENEFITS)]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(
            "round", "decided_by", "benefit__programme", "benefit__family"
        ).order_by("round__deadline", "pk")

    def _fresh(self, pk: int) -> dict:
        return RequalificationSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(
        request=RequalificationConfirmSerializer, responses={200: RequalificationSerializer}
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Confirm her alive and still eligible; refused (``not_eligible``, with the rule
        she fails) when the family no longer qualifies. A suspended benefit resumes."""
        found = self.get_object()
        data = RequalificationConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rq.confirm(
            acting_user=_actor(request),
            requalification=found,
            on=data.validated_data.get("on"),
            expected_version=data.validated_data.get("version"),
        )
        return Response(self._fresh(found.pk))

    @extend_schema(request=BenefitEndSerializer, responses={200: RequalificationSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """End the benefit from the next payment (paid to the end of the month of the
        event) with the cause: a death ends each of her benefits."""
        found = self.get_object()
        data = BenefitEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        cause, on, note = values.get("cause", ""), values["on"], values.get("note", "")
        if cause == rq.EndCause.DEATH:
            rq.record_death(
                acting_user=_actor(request), benefit=found.benefit, died_on=on, note=note
            )
        else:
            rq.end_benefit(
                acting_user=_actor(request),
                benefit=found.benefit,
                reason=rq.end_reason(cause, on, note),
                on=on,
                expected_version=values.get("version"),
            )
        return Response(self._fresh(found.pk))
