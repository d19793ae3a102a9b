"""The search box and region filter of the place lists (web pages and their exports):
which fields a search looks in for each kind of record, and a region narrowed to the
user's own subtree. It never widens a queryset: callers pass one already scoped."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Agreement, Employer, RentalHouse, SafetyIssue, Site

SEARCH_FIELDS: dict[type, tuple[str, ...]] = {
    Employer: ("name", "credit_code", "address", "contact_name", "phone"),
    # The landlord by the name and phone on the house (not a person file's fields: the
    # person may be on file outside the user's region).
    RentalHouse: ("address", "landlord_name", "landlord_phone"),
    Site: ("name", "address", "contact_name"),
    Agreement: (
        "employer__name",
        "employer__credit_code",
        "rental_house__address",
        "rental_house__landlord_name",
        "site__name",
    ),
    SafetyIssue: ("hazard", "rental_house__address", "rental_house__landlord_name"),
}


def search(queryset: QuerySet, text: str) -> QuerySet:
    """Rows with every word of ``text`` in one of the model's search fields."""
    fields = SEARCH_FIELDS[queryset.model]
    for word in text.split():
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset


def region_prefix(user, code: str) -> str:
    """The region to list: ``code`` when it lies in the user's region, else the user's."""
    code = (code or "").strip()
    if code and code.isdigit() and code.startswith(user.region_id):
        return code
    return user.region_id
