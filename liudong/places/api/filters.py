"""Filters of the place lists. Each narrows a queryset the view has already scoped to the
caller; none widens one. A malformed region code narrows to nothing."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from liudong.people.filters import PersonKeyFilter
from liudong.regions.codes import CodeError, clean_code

from ..models import Agreement, Employer, RentalHouse, SafetyIssue, Site


def kind_filter(choices: Any, label: Any) -> django_filters.ChoiceFilter:
    """A choice filter described by a pattern (an enum component named ``kind`` would
    collide with other apps' kinds)."""

    values = [value for value, _label in choices]

    @extend_schema_field(
        {
            "type": "string",
            "pattern": "^(" + "|".join(values) + ")$",
            "description": "one of " + ", ".join(values),
        }
    )
    class KindFilter(django_filters.ChoiceFilter):
        pass

    return KindFilter(choices=choices, label=label)


class _RegionFilterSet(django_filters.FilterSet):
    region = django_filters.CharFilter(method="filter_region", label=_("region code (subtree)"))

    def filter_region(self, queryset: Any, name: str, value: str) -> Any:
        try:
            # The model's own scope fields: a place's region, an agreement's place's.
            return queryset.in_region(clean_code(value))
        except CodeError:
            return queryset.none()


class EmployerFilter(_RegionFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("name or credit code contains"))

    class Meta:
        model = Employer
        fields = ["region", "q"]

    def filter_q(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(Q(name__contains=value) | Q(credit_code__startswith=value.upper()))


class RentalHouseFilter(_RegionFilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("address or landlord contains"))

    class Meta:
        model = RentalHouse
        fields = ["region", "q"]

    def filter_q(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(Q(address__contains=value) | Q(landlord_name__contains=value))


class SiteFilter(_RegionFilterSet):
    kind = kind_filter(Site.Kind.choices, _("kind"))

    class Meta:
        model = Site
        fields = ["region", "kind"]


EXPIRING_LABEL = _("still valid and ending within this many days (the worklist)")


class AgreementFilter(_RegionFilterSet):
    kind = kind_filter(Agreement.Kind.choices, _("type"))
    expiring_within = django_filters.NumberFilter(
        method="filter_expiring",
        min_value=0,
        max_value=3660,
        label=EXPIRING_LABEL,
    )
    employer = PersonKeyFilter(field_name="employer_id", label=_("employer id"))
    rental_house = PersonKeyFilter(field_name="rental_house_id", label=_("rental house id"))
    site = PersonKeyFilter(field_name="site_id", label=_("site id"))

    class Meta:
        model = Agreement
        fields = ["region", "kind", "expiring_within", "employer", "rental_house", "site"]

    # The schema says "number" (what the filter field is), not the hint's type: drf-spectacular
    # reads a filter method's ``value`` annotation.
    @extend_schema_field({"type": "number", "description": EXPIRING_LABEL})
    def filter_expiring(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.expiring(timezone.localdate(), int(value))


class SafetyIssueFilter(_RegionFilterSet):
    open = django_filters.BooleanFilter(
        field_name="rectified_on", lookup_expr="isnull", label=_("not yet rectified")
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("not rectified and past its deadline")
    )
    rental_house = PersonKeyFilter(field_name="rental_house_id", label=_("rental house id"))

    class Meta:
        model = SafetyIssue
        fields = ["region", "open", "overdue", "rental_house"]

    def filter_overdue(self, queryset: Any, name: str, value: bool) -> Any:
        overdue = Q(rectified_on__isnull=True, deadline__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
