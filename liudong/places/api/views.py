"""Employers, rental houses, sites, agreements and safety issues in the API, scoped to
the caller's region subtree; every change goes through ``places.services`` (refusals come
back in the one error shape, a stale ``version`` is a 409).

``/api/agreements/?expiring_within=30`` and ``/api/safety-issues/?open=true`` are the
worklists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from liudong.accounts.permissions import capability_for_writes
from liudong.accounts.roles import MANAGE_PLACES
from liudong.api.records import RecordViewSet, viewsets, with_schema
from liudong.people.models import Person

from .. import records
from ..models import Agreement, Employer, RentalHouse, SafetyIssue, Site
from . import filters
from . import serializers as s


class _PlaceViewSet(RecordViewSet):
    """A place record type's view set; related records in a request are looked up in the
    caller's scope only."""

    permission_classes = [capability_for_writes(MANAGE_PLACES)]

    def input_kwargs(self) -> dict[str, Any]:
        user = self.request.user
        return {
            "scopes": {
                "employer": Employer.objects.in_scope(user),
                "rental_house": RentalHouse.objects.in_scope(user),
                "site": Site.objects.in_scope(user),
                "landlord": Person.objects.in_scope(user).active(),
            }
        }


_schema = with_schema


@_schema(s.EmployerSerializer, s.EmployerInputSerializer, s.EmployerUpdateSerializer)
class EmployerViewSet(_PlaceViewSet):
    """Employers (用工单位) in the caller's region; ``PATCH`` with ``version``."""

    model = Employer
    record_type = records.EMPLOYERS
    serializer_class = s.EmployerSerializer
    filterset_class = filters.EmployerFilter
    input_serializer = s.EmployerInputSerializer
    update_serializer = s.EmployerUpdateSerializer


@_schema(s.RentalHouseSerializer, s.RentalHouseInputSerializer, s.RentalHouseUpdateSerializer)
class RentalHouseViewSet(_PlaceViewSet):
    """Rental houses (出租房屋) in the caller's region."""

    model = RentalHouse
    record_type = records.RENTAL_HOUSES
    serializer_class = s.RentalHouseSerializer
    filterset_class = filters.RentalHouseFilter
    input_serializer = s.RentalHouseInputSerializer
    update_serializer = s.RentalHouseUpdateSerializer


@_schema(s.SiteSerializer, s.SiteInputSerializer, s.SiteUpdateSerializer)
class SiteViewSet(_PlaceViewSet):
    """Markets, construction sites and other places in the caller's region."""

    model = Site
    record_type = records.SITES
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
    record_type = records.AGREEMENTS
    serializer_class = s.AgreementSerializer
    filterset_class = filters.AgreementFilter
    input_serializer = s.AgreementInputSerializer
    update_serializer = s.AgreementUpdateSerializer


@_schema(s.SafetyIssueSerializer, s.SafetyIssueInputSerializer, s.SafetyIssueUpdateSerializer)
class SafetyIssueViewSet(_PlaceViewSet):
    """The safety and rectification register of rental houses in the caller's region;
    ``?open=true`` lists hazards not yet rectified, overdue first."""

    model = SafetyIssue
    record_type = records.SAFETY_ISSUES
    serializer_class = s.SafetyIssueSerializer
    filterset_class = filters.SafetyIssueFilter
    input_serializer = s.SafetyIssueInputSerializer
    update_serializer = s.SafetyIssueUpdateSerializer

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return super().narrow(queryset).register_order(timezone.localdate())  # type: ignore[attr-defined]


# Every place record type with an API: the hand-written view sets above, a generated one
# for a plain type declared in places.records without one (registered in liudong.api.urls).
VIEWSETS = viewsets(
    records.TYPES,
    own={
        "employers": EmployerViewSet,
        "houses": RentalHouseViewSet,
        "sites": SiteViewSet,
        "agreements": AgreementViewSet,
        "safety": SafetyIssueViewSet,
    },
)
