from typing import Any, TypeVar

import django_filters
from django.db.models import Model, Q, QuerySet

from .codes import CodeError, clean_code, subtree_q
from .models import Grid, Region

M = TypeVar("M", bound=Model)


class RegionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="code prefix or name")
    within = django_filters.CharFilter(method="filter_within", label="subtree of this code")
    parent = django_filters.CharFilter(field_name="parent_id")
    level = django_filters.NumberFilter()

    class Meta:
        model = Region
        fields = ["parent", "level", "source"]

    def filter_q(self, queryset: QuerySet[Region], name: str, value: str) -> QuerySet[Region]:
        value = value.strip()
        if not value:
            return queryset
        try:
            return queryset.filter(subtree_q(clean_code(value)))
        except CodeError:
            if value.isdigit():
                # A partial code (e.g. 3 digits) still narrows by prefix.
                return queryset.filter(code__startswith=value)
            return queryset.filter(Q(name__contains=value))

    def filter_within(self, queryset: QuerySet[Region], name: str, value: str) -> QuerySet[Region]:
        try:
            return queryset.filter(subtree_q(clean_code(value)))
        except CodeError:
            return queryset.none()


def filter_region_code(queryset: QuerySet[M], name: str, value: str) -> QuerySet[M]:
    """Rows whose region is exactly this code; a malformed code matches nothing."""
    try:
        return queryset.filter(region_id=clean_code(value))
    except CodeError:
        return queryset.none()


def filter_within_code(queryset: Any, name: str, value: str) -> Any:
    """Rows in the subtree of this code; a malformed code matches nothing."""
    try:
        return queryset.in_region(clean_code(value))
    except CodeError:
        return queryset.none()


class GridFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(method=filter_region_code, label="region code")
    within = django_filters.CharFilter(method=filter_within_code, label="subtree of this code")

    class Meta:
        model = Grid
        fields = ["region", "within", "responsible"]
