"""Filters of the certificate, verification and notice lists. Each narrows a queryset the
view has already scoped to the caller (``certificates.queries``); none widens one.
Malformed region codes narrow to nothing, never a database error."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from liudong.people.filters import PersonKeyFilter
from liudong.regions.codes import CodeError, clean_code, subtree_q

from ..models import Certificate, Method, Notice, NoticeQuerySet, Status, Verification
from ..queries import with_status


def _subtree(queryset: QuerySet[Any], field: str, value: str) -> QuerySet[Any]:
    try:
        return queryset.filter(subtree_q(clean_code(value), field))
    except CodeError:
        return queryset.none()


class CertificateFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Status.choices, method="filter_status", label=_("status today")
    )
    issuing_region = django_filters.CharFilter(
        method="filter_issuing_region", label=_("issuing region code (subtree)")
    )
    issued_after = django_filters.DateFilter(
        field_name="issued_on", lookup_expr="gte", label=_("issued on or after")
    )
    issued_before = django_filters.DateFilter(
        field_name="issued_on", lookup_expr="lte", label=_("issued on or before")
    )
    person = PersonKeyFilter(field_name="person_id", label=_("person id"))

    class Meta:
        model = Certificate
        fields = ["status", "issuing_region", "issued_after", "issued_before", "person"]

    def filter_status(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return with_status(queryset, value)

    def filter_issuing_region(
        self, queryset: QuerySet[Any], name: str, value: Any
    ) -> QuerySet[Any]:
        return _subtree(queryset, "issuing_region", value)


class VerificationFilter(django_filters.FilterSet):
    person = PersonKeyFilter(field_name="person_id", label=_("person id"))
    method = django_filters.ChoiceFilter(choices=Method.choices, label=_("method"))
    region = django_filters.CharFilter(
        method="filter_region", label=_("region code where verified (subtree)")
    )
    verified_after = django_filters.DateFilter(
        field_name="verified_on", lookup_expr="gte", label=_("verified on or after")
    )
    verified_before = django_filters.DateFilter(
        field_name="verified_on", lookup_expr="lte", label=_("verified on or before")
    )

    class Meta:
        model = Verification
        fields = ["person", "method", "region", "verified_after", "verified_before"]

    def filter_region(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return _subtree(queryset, "region", value)


class NoticeFilter(django_filters.FilterSet):
    person = PersonKeyFilter(field_name="person_id", label=_("person id"))
    open = django_filters.BooleanFilter(
        field_name="fulfilled_on", lookup_expr="isnull", label=_("not yet fulfilled")
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        label=_("open, past its deadline, and she still lives here (the worklist)"),
    )
    region = django_filters.CharFilter(
        method="filter_region", label=_("region code where given (subtree)")
    )

    class Meta:
        model = Notice
        fields = ["person", "open", "overdue", "region"]

    def filter_overdue(self, queryset: NoticeQuerySet, name: str, value: Any) -> QuerySet[Any]:
        # The worklist's own definition (NoticeQuerySet.overdue), not a copy of it.
        overdue = queryset.overdue(timezone.localdate())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_region(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return _subtree(queryset, "region", value)
