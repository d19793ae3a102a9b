"""Filters of the campaign, association and help-request lists. Each narrows a queryset the
view has already scoped to the caller; none widens one. A malformed region code narrows to
nothing, never a database error."""

from __future__ import annotations

import datetime
from typing import TypeVar

import django_filters
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from liudong.people.filters import PersonKeyFilter
from liudong.regions.codes import CodeError, clean_code, subtree_q
from liudong.regions.models import Grid
from liudong.services.records.services import due_follow_ups, in_grid

from ..models import (
    Activity,
    AssociationActivity,
    AssociationBranch,
    Campaign,
    CampaignKind,
    FollowUp,
    HelpCategory,
    HelpRequest,
    HelpRequestQuerySet,
    HelpStatus,
    MemberRole,
    Membership,
    ServiceRecord,
    ServiceType,
)

M = TypeVar("M", bound=Model)


def _subtree(queryset: QuerySet[M], field: str, value: str) -> QuerySet[M]:
    try:
        return queryset.filter(subtree_q(clean_code(value), field))
    except CodeError:
        return queryset.none()


class CampaignFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=CampaignKind.choices, label=_("kind"))
    active_on = django_filters.DateFilter(method="filter_active_on", label=_("running on this day"))

    class Meta:
        model = Campaign
        fields = ["kind", "active_on"]

    def filter_active_on(
        self, queryset: QuerySet[M], name: str, value: datetime.date
    ) -> QuerySet[M]:
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


class ActivityFilter(django_filters.FilterSet):
    campaign = django_filters.NumberFilter(
        field_name="campaign_id", min_value=1, max_value=2**63 - 1
    )
    region = django_filters.CharFilter(method="filter_region", label=_("region code (subtree)"))
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Activity
        fields = ["campaign", "region", "date_after", "date_before"]

    def filter_region(self, queryset: QuerySet[M], name: str, value: str) -> QuerySet[M]:
        return _subtree(queryset, "region_id", value)


class BranchFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(method="filter_region", label=_("region code (subtree)"))

    class Meta:
        model = AssociationBranch
        fields = ["region"]

    def filter_region(self, queryset: QuerySet[M], name: str, value: str) -> QuerySet[M]:
        return _subtree(queryset, "region_id", value)


class MembershipFilter(django_filters.FilterSet):
    branch = django_filters.NumberFilter(field_name="branch_id", min_value=1, max_value=2**63 - 1)
    person = PersonKeyFilter(field_name="person_id", label=_("person id"))
    role = django_filters.ChoiceFilter(choices=MemberRole.choices, label=_("role"))
    current = django_filters.BooleanFilter(
        field_name="left_on", lookup_expr="isnull", label=_("still a member")
    )

    class Meta:
        model = Membership
        fields = ["branch", "person", "role", "current"]


class AssociationActivityFilter(django_filters.FilterSet):
    branch = django_filters.NumberFilter(field_name="branch_id", min_value=1, max_value=2**63 - 1)
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = AssociationActivity
        fields = ["branch", "date_after", "date_before"]


class HelpRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=HelpStatus.choices, label=_("status"))
    category = django_filters.ChoiceFilter(choices=HelpCategory.choices, label=_("category"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("open or in progress and past its deadline")
    )
    person = PersonKeyFilter(field_name="person_id", label=_("person id"))
    region = django_filters.CharFilter(method="filter_region", label=_("region code (subtree)"))
    received_after = django_filters.DateFilter(field_name="received_on", lookup_expr="gte")
    received_before = django_filters.DateFilter(field_name="received_on", lookup_expr="lte")

    class Meta:
        model = HelpRequest
        fields = [
            "status",
            "category",
            "overdue",
            "person",
            "region",
            "received_after",
            "received_before",
        ]

    def filter_overdue(
        self, queryset: HelpRequestQuerySet, name: str, value: bool
    ) -> QuerySet[HelpRequest]:
        overdue = queryset.overdue(timezone.localdate())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_region(self, queryset: QuerySet[M], name: str, value: str) -> QuerySet[M]:
        return _subtree(queryset, "region_id", value)


@extend_schema_field({"type": "string", "pattern": "^(" + "|".join(ServiceType.values) + ")$"})
class ServiceTypeFilter(django_filters.ChoiceFilter):
    """Described by a pattern, not an enum (see the serializers' module doc)."""


class ServiceRecordFilter(django_filters.FilterSet):
    person = PersonKeyFilter(field_name="person_id", label=_("person id"))
    type = ServiceTypeFilter(
        field_name="service_type", choices=ServiceType.choices, label=_("type of service")
    )
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    region = django_filters.CharFilter(
        method="filter_region", label=_("region code where given (subtree)")
    )
    campaign = django_filters.NumberFilter(
        field_name="campaign_id", min_value=1, max_value=2**63 - 1
    )
    free = django_filters.BooleanFilter(field_name="free_of_charge", label=_("free of charge"))

    class Meta:
        model = ServiceRecord
        fields = ["person", "type", "date_after", "date_before", "region", "campaign", "free"]

    def filter_region(self, queryset: QuerySet[M], name: str, value: str) -> QuerySet[M]:
        return _subtree(queryset, "region_id", value)


class FollowUpFilter(django_filters.FilterSet):
    due = django_filters.BooleanFilter(
        method="filter_due", label=_("due within a week or overdue, overdue first")
    )
    grid = django_filters.NumberFilter(
        method="filter_grid",
        min_value=1,
        max_value=2**63 - 1,
        label=_("grid id: people living in the grid"),
    )
    service = django_filters.NumberFilter(field_name="service_id", min_value=1, max_value=2**63 - 1)
    done = django_filters.BooleanFilter(
        field_name="done_on", lookup_expr="isnull", exclude=True, label=_("done")
    )

    class Meta:
        model = FollowUp
        fields = ["due", "grid", "service", "done"]

    def filter_due(
        self, queryset: QuerySet[FollowUp], name: str, value: bool
    ) -> QuerySet[FollowUp]:
        due = due_follow_ups(queryset, timezone.localdate())
        return due if value else queryset.exclude(pk__in=due.values("pk"))

    def filter_grid(
        self, queryset: QuerySet[FollowUp], name: str, value: int
    ) -> QuerySet[FollowUp]:
        # Only a grid the caller may see; another region's grid narrows to nothing.
        user = getattr(self.request, "user", None)
        grid = Grid.objects.in_scope(user).filter(pk=value).first()
        return queryset.none() if grid is None else in_grid(queryset, grid)
