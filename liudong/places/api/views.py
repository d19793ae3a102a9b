"""Employers, rental houses, sites, agreements and safety issues in the API, scoped to
the caller's region subtree; every change goes through ``places.services`` (refusals come
back in the one error shape, a stale ``version`` is a 409).

``/api/agreements/?expiring_within=30`` and ``/api/safety-issues/?open=true`` are the
worklists.
"""

from __future__ import annotations

from django.db.models import Model
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from liudong.accounts.permissions import capability_for_writes
from liudong.accounts.roles import MANAGE_PLACES
from liudong.api.viewsets import ScopedModelViewSet
from liudong.people.api.views import KEY_REGEX
from liudong.people.models import Person

from .. import services
from ..models import Agreement, Employer, RentalHouse, SafetyIssue, Site
from . import filters
from . import serializers as s


class _PlaceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    model: type[Model] = Employer
    related: tuple[str, ...] = ()
    input_serializer: type = s.EmployerInputSerializer
    update_serializer: type = s.EmployerUpdateSerializer

    permission_classes = [capability_for_writes(MANAGE_PLACES)]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def narrow(self, queryset):
        return queryset.select_related(*self.related)

    def _scopes(self) -> dict:
        user = self.request.user
        return {
            "employer": Employer.objects.in_scope(user),
            "rental_house": RentalHouse.objects.in_scope(user),
            "site": Site.objects.in_scope(user),
            "landlord": Person.objects.in_scope(user).active(),
        }

    def _answer(self, obj, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=code)

    def create(self, request):
        data = self.input_serializer(data=request.data, scopes=self._scopes())
        data.is_valid(raise_exception=True)
        obj = services.create(self.model, acting_user=request.user, **data.validated_data)
        return self._answer(obj, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        obj = self.get_object()
        data = self.update_serializer(data=request.data, scopes=self._scopes())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version")
        services.update(obj, acting_user=request.user, expected_version=version, **values)
        return self._answer(obj)


def _schema(output, create, update):
    return extend_schema_view(
        create=extend_schema(request=create, responses={201: output}),
        partial_update=extend_schema(request=update, responses={200: output}),
    )


@_schema(s.EmployerSerializer, s.EmployerInputSerializer, s.EmployerUpdateSerializer)
class EmployerViewSet(_PlaceViewSet):
    """Employers (用工单位) in the caller's region; ``PATCH`` with ``version``."""

    model = Employer
    related = ("region",)
    serializer_class = s.EmployerSerializer
    filterset_class = filters.EmployerFilter
    input_serializer = s.EmployerInputSerializer
    update_serializer = s.EmployerUpdateSerializer


@_schema(s.RentalHouseSerializer, s.RentalHouseInputSerializer, s.RentalHouseUpdateSerializer)
class RentalHouseViewSet(_PlaceViewSet):
    """Rental houses (出租房屋) in the caller's region."""

    model = RentalHouse
    related = ("region", "landlord")
    serializer_class = s.RentalHouseSerializer
    filterset_class = filters.RentalHouseFilter
    input_serializer = s.RentalHouseInputSerializer
    update_serializer = s.RentalHouseUpdateSerializer


@_schema(s.SiteSerializer, s.SiteInputSerializer, s.SiteUpdateSerializer)
class SiteViewSet(_PlaceViewSet):
    """Markets, construction sites and other places in the caller's region."""

    model = Site
    related = ("region",)
    serializer_class = s.SiteSerializer
    filterset_class = filters.SiteFilter
    input_serializer = s.SiteInputSerializer
    update_serializer = s.SiteUpdateSerializer


@_schema(s.AgreementSerializer, s.AgreementInputSerializer, s.AgreementUpdateSerializer)
class AgreementViewSet(_PlaceViewSet):
    """Agreements (责任书/服务协议) with places in the caller's region, ending soonest
    first; ``?expiring_within=30`` is the renewal worklist. Exactly one of ``employer``,
    ``rental_house``, ``site`` is given."""

    model = Agreement
    related = ("employer", "rental_house", "site")
    serializer_class = s.AgreementSerializer
    filterset_class = filters.AgreementFilter
    input_serializer = s.AgreementInputSerializer
    update_serializer = s.AgreementUpdateSerializer


@_schema(s.SafetyIssueSerializer, s.SafetyIssueInputSerializer, s.SafetyIssueUpdateSerializer)
class SafetyIssueViewSet(_PlaceViewSet):
    """The safety and rectification register of rental houses in the caller's region;
    ``?open=true`` lists hazards not yet rectified, overdue first."""

    model = SafetyIssue
    related = ("rental_house",)
    serializer_class = s.SafetyIssueSerializer
    filterset_class = filters.SafetyIssueFilter
    input_serializer = s.SafetyIssueInputSerializer
    update_serializer = s.SafetyIssueUpdateSerializer

    def narrow(self, queryset):
        return super().narrow(queryset).register_order(timezone.localdate())
