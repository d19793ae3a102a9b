"""The place record types, declared once (``liudong.records``): employers, rental houses,
markets and sites, agreements and the safety register. Each declaration gives its fields,
the capability to change it, its rules (``places.rules``), its list, search and API names;
the pages (``places.views``, ``liudong.web.records``), the API (``places.api.views``,
``liudong.api.records``) and the service calls (``places.services``) are made from it.

A new plain place record is one more declaration here (plus its model and migration): the
generic form, list table, detail page, serializer and filter set serve it until it needs
hand-written ones. This module declares; it holds no page, API or rule code.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from liudong.accounts.roles import MANAGE_PLACES
from liudong.records import RecordType

from . import rules
from .forms import AgreementForm, EmployerForm, RentalHouseForm, SafetyIssueForm, SiteForm
from .models import PLACE_FIELDS, Agreement, Employer, RentalHouse, SafetyIssue, Site

REFUSED = gettext_lazy("Your role may not change places.")


def _houses(qs: QuerySet[Any]) -> QuerySet[Any]:
    return (
        qs.annotate(
            open_issues=Count("safety_issues", filter=Q(safety_issues__rectified_on__isnull=True))
        )
        .select_related("region")
        .order_by("region_id", "address", "id")
    )


def _issues(qs: Any) -> QuerySet[Any]:
    return qs.select_related("rental_house").register_order(timezone.localdate())


def _with_region(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.select_related("region")


def _with_place(qs: QuerySet[Any]) -> QuerySet[Any]:
    return qs.select_related("employer", "rental_house", "site")


def _place(slug: str, model: type, fields: tuple[str, ...], **kwargs: Any) -> RecordType:
    return RecordType(
        slug,
        model,
        fields,
        MANAGE_PLACES,
        refused=REFUSED,
        clean=rules.clean,
        **kwargs,
    )


EMPLOYERS = _place(
    "employers",
    Employer,
    ("credit_code", "name", "address", "region", "contact_name", "phone", "industry"),
    title=gettext_lazy("Employers"),
    new_label=gettext_lazy("New employer"),
    listing=_with_region,
    form=EmployerForm,
    search_fields=("name", "credit_code", "address", "contact_name", "phone"),
    api_prefix="employers",
    api_basename="employer",
)
RENTAL_HOUSES = _place(
    "houses",
    RentalHouse,
    ("address", "region", "landlord", "landlord_name", "landlord_phone", "rooms", "capacity"),
    title=gettext_lazy("Rental houses"),
    new_label=gettext_lazy("New rental house"),
    listing=_houses,
    form=RentalHouseForm,
    # The landlord by the name and phone on the house (not a person file's fields: the
    # person may be on file outside the user's region).
    search_fields=("address", "landlord_name", "landlord_phone"),
    related=("region", "landlord"),
    api_prefix="rental-houses",
    api_basename="rental-house",
)
SITES = _place(
    "sites",
    Site,
    ("kind", "name", "address", "region", "contact_name", "phone"),
    title=gettext_lazy("Markets and sites"),
    new_label=gettext_lazy("New site"),
    listing=_with_region,
    form=SiteForm,
    search_fields=("name", "address", "contact_name"),
    api_prefix="sites",
    api_basename="site",
)
AGREEMENTS = _place(
    "agreements",
    Agreement,
    (*PLACE_FIELDS, "kind", "signed_on", "valid_until", "duties"),
    title=gettext_lazy("Agreements"),
    new_label=gettext_lazy("New agreement"),
    listing=_with_place,
    form=AgreementForm,
    region_field=None,  # scoped through its place (rules.clean checks the place's region)
    search_fields=(
        "employer__name",
        "employer__credit_code",
        "rental_house__address",
        "rental_house__landlord_name",
        "site__name",
    ),
    related=("employer", "rental_house", "site"),
    api_prefix="agreements",
    api_basename="agreement",
    has_page=False,
)
SAFETY_ISSUES = _place(
    "safety",
    SafetyIssue,
    ("rental_house", "hazard", "found_on", "deadline", "rectified_on", "notes"),
    title=gettext_lazy("Safety register"),
    new_label=gettext_lazy("Add hazard"),
    listing=_issues,
    form=SafetyIssueForm,
    region_field=None,  # scoped through its rental house
    search_fields=("hazard", "rental_house__address", "rental_house__landlord_name"),
    related=("rental_house",),
    api_prefix="safety-issues",
    api_basename="safety-issue",
    has_page=False,
)

TYPES: tuple[RecordType, ...] = (EMPLOYERS, RENTAL_HOUSES, SITES, AGREEMENTS, SAFETY_ISSUES)
BY_SLUG = {record_type.slug: record_type for record_type in TYPES}
BY_MODEL: dict[type, RecordType] = {record_type.model: record_type for record_type in TYPES}
