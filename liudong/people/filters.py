"""Finding person files: the search box (ID number, name, pinyin initials, phone) and the
list filters, shared by the web list and the API.

Everything here narrows a queryset the caller has already scoped with
``Person.objects.in_scope(user)``; nothing here widens one. Malformed input (codes with
letters or NUL bytes, ages out of range) narrows to nothing or is a validation error, never
a database error.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from liudong.actors import reach
from liudong.regions.codes import CodeError, clean_code, subtree_q
from liudong.regions.filters import filter_within_code

from . import idnumbers
from .models import Child, Person, ResidenceEpisode
from .template import MARITAL_CHOICES, SEX_CHOICES

if TYPE_CHECKING:
    from liudong.people.models import PersonQuerySet

# An ID number prefix this short still narrows to a county (6 digits); shorter would be a
# province-wide scan that helps nobody.
ID_PREFIX_MIN = 6
# A name search of a region this specific (a county: 6 digits) or more is read region
# first on SQLite (search_persons).
NARROW_REGION_MIN = 6
PHONE_PREFIX_MIN = 4
MAX_AGE = 150
_ID_LIKE = re.compile(r"^\d{6,17}[\dX]?$")
_PHONE_LIKE = re.compile(r"^\+?[\d-]+$")
_INITIALS = re.compile(r"^[A-Za-z]+$")

OUTFLOW, INFLOW = "outflow", "inflow"
FLOW_CHOICES = ((OUTFLOW, _("outflow (household here)")), (INFLOW, _("inflow (living here)")))


def with_open_arrival(queryset: PersonQuerySet) -> PersonQuerySet:
    """Each person with ``open_arrival``: the arrival date of the stay still open (one
    subquery in the same SELECT, so a list page needs no query per row)."""
    open_stay = ResidenceEpisode.objects.filter(person=OuterRef("pk"), departure_date__isnull=True)
    return queryset.annotate(open_arrival=Subquery(open_stay.values("arrival_date")[:1]))


def prefix_q(field: str, text: str) -> Q:
    """``field`` starts with ``text``, in a form each database answers from an index.

    SQLite's LIKE ignores case and so cannot use an index: a range of the column's binary
    order can (exact for a prefix). PostgreSQL's LIKE 'x%' uses the column's index when it
    sorts by bytes (name, people migration 0004) or has varchar_pattern_ops (the others).
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": text, f"{field}__lt": text + "\U0010ffff"})
    return Q(**{f"{field}__startswith": text})


def search_q(query: str) -> Q | None:
    """What the search box matches: an ID number (the whole number after normalising, or
    a prefix of at least 6 characters), a name prefix, pinyin initials ("zw" finds 张伟,
    for queries of ASCII letters only) or a phone number (prefix of at least 4 digits).
    None for an empty query."""
    text = unicodedata.normalize("NFKC", query).strip()
    if not text:
        return None
    compact = idnumbers.normalise(text)
    # Names hold no digits: a query of digits looks only at ID numbers and phones, so
    # the database answers it from their indexes alone. A query of Latin letters only
    # looks at the initials: a name starting with those letters has initials starting
    # with them too (services.name_initials keeps Latin letters, lower-cased), and one
    # column lets the database read the initials index in order and stop at the page.
    condition = (
        Q(pk__in=[])
        if _ID_LIKE.match(compact) or _PHONE_LIKE.match(text) or _INITIALS.match(text)
        else prefix_q("name", text)
    )
    if compact.isascii() and compact.isalpha():
        condition |= prefix_q("name_initials", compact.lower())
    if _ID_LIKE.match(compact):
        if len(compact) != 18:
            # 15 digits may be an old number (converted) or the start of a new one.
            condition |= prefix_q("id_number", compact)
        if len(compact) in (15, 18):
            try:
                condition |= Q(id_number=idnumbers.parse(compact).value)
            except idnumbers.IdNumberError:
                condition |= Q(id_number=compact)
    if _PHONE_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        # A phone has at most 12 digits (0571-12345678): longer digit strings are IDs.
        if PHONE_PREFIX_MIN <= len(digits) <= 12:
            condition |= prefix_q("phone", digits)
            if text != digits:
                condition |= prefix_q("phone", text)
    return condition


def search_persons(
    queryset: PersonQuerySet, query: str, region: str | None = None
) -> QuerySet[Person]:
    """``queryset`` narrowed to the files ``query`` finds. ``region``: the searcher's own
    (``actors.reach``), which lets a name search of a county or smaller read the region
    indexes (SQLite); it never widens ``queryset``."""
    condition = search_q(query)
    if condition is None:
        return queryset
    text = unicodedata.normalize("NFKC", query).strip()
    by_name = not (
        _ID_LIKE.match(idnumbers.normalise(text))
        or _PHONE_LIKE.match(text)
        or _INITIALS.match(text)
    )
    if by_name and region and len(region) >= NARROW_REGION_MIN and connection.vendor == "sqlite":
        # A name in a county or smaller: SQLite cannot tell how few of the province's
        # "王" live in the county and walked them all on the name index; this reads
        # each scope branch from its (region, name) index and nothing else. With the
        # name condition outside too, SQLite went back to walking the name index.
        # PostgreSQL's statistics find the region plan alone (a BitmapOr of the two),
        # and for a province or more the name order is the best plan.
        return queryset.matching_in_region(region, condition)
    found = queryset.filter(condition)
    if _INITIALS.match(text):
        # Pinyin initials ("zw"): list in the order of the index that finds them, which
        # holds the initials then the name (byte order on both databases). Ordered by
        # name, PostgreSQL walked the name index hoping for early hits and read 160,000
        # files for "zw" (290 ms at a million); this way it reads the page.
        found = found.order_by("name_initials", "name", "id")
    return found


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day ``years`` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_AGE})
class AgeFilter(django_filters.NumberFilter):
    """Whole years at today, as an integer 0-150 (anything else is a validation error)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_AGE)
        super().__init__(*args, **kwargs)


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q", label=_("ID number, name, pinyin initials or phone")
    )
    within = django_filters.CharFilter(
        method=filter_within_code,
        label=_("region code: household or residence in its subtree"),
    )
    flow = django_filters.ChoiceFilter(
        choices=FLOW_CHOICES,
        method="filter_flow",
        label=_("flow, relative to `within` or to your own region"),
    )
    sex = django_filters.ChoiceFilter(choices=SEX_CHOICES, label=_("sex"))
    marital_status = django_filters.ChoiceFilter(choices=MARITAL_CHOICES, label=_("marital status"))
    age_min = AgeFilter(method="filter_age_min", label=_("aged at least (whole years today)"))
    age_max = AgeFilter(method="filter_age_max", label=_("aged at most (whole years today)"))
    arrival_after = django_filters.DateFilter(
        method="filter_arrival_after", label=_("current stay began on or after")
    )
    arrival_before = django_filters.DateFilter(
        method="filter_arrival_before", label=_("current stay began on or before")
    )

    class Meta:
        model = Person
        fields = [
            "q",
            "within",
            "flow",
            "sex",
            "marital_status",
            "age_min",
            "age_max",
            "arrival_after",
            "arrival_before",
        ]

    def filter_q(self, queryset: PersonQuerySet, name: str, value: str) -> QuerySet[Person]:
        return search_persons(queryset, value, reach(getattr(self.request, "user", None)))

    def _flow_prefix(self) -> str | None:
        within = self.form.cleaned_data.get("within")
        if within:
            try:
                return clean_code(within)
            except CodeError:
                return None  # the within filter already narrows to nothing
        user = getattr(self.request, "user", None)
        return getattr(user, "region_id", None)

    def filter_flow(self, queryset: PersonQuerySet, name: str, value: str) -> QuerySet[Person]:
        prefix = self._flow_prefix()
        if not prefix:
            return queryset.none()
        if value == OUTFLOW:
            return queryset.outflow(prefix)
        return queryset.inflow(prefix)

    def filter_age_min(self, queryset: PersonQuerySet, name: str, value: int) -> QuerySet[Person]:
        # Aged at least N: born on or before today's date N years ago.
        return queryset.filter(birth_date__lte=years_before(timezone.localdate(), int(value)))

    def filter_age_max(self, queryset: PersonQuerySet, name: str, value: int) -> QuerySet[Person]:
        # Aged at most N: born after today's date N + 1 years ago.
        return queryset.filter(birth_date__gt=years_before(timezone.localdate(), int(value) + 1))

    @staticmethod
    def _arrivals(queryset: PersonQuerySet) -> PersonQuerySet:
        return (
            queryset
            if "open_arrival" in queryset.query.annotations
            else with_open_arrival(queryset)
        )

    def filter_arrival_after(
        self, queryset: PersonQuerySet, name: str, value: datetime.date
    ) -> QuerySet[Person]:
        return self._arrivals(queryset).filter(open_arrival__gte=value)

    def filter_arrival_before(
        self, queryset: PersonQuerySet, name: str, value: datetime.date
    ) -> QuerySet[Person]:
        return self._arrivals(queryset).filter(open_arrival__lte=value)


@extend_schema_field({"type": "integer", "minimum": 1})
class PersonKeyFilter(django_filters.NumberFilter):
    """A person's id as an integer (letters and huge numbers are validation errors)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class EpisodeFilter(django_filters.FilterSet):
    person = PersonKeyFilter(field_name="person_id", label=_("person id"))
    open = django_filters.BooleanFilter(
        field_name="departure_date", lookup_expr="isnull", label=_("current stay only")
    )
    region = django_filters.CharFilter(method="filter_region", label=_("region code (subtree)"))

    class Meta:
        model = ResidenceEpisode
        fields = ["person", "open", "region"]

    def filter_region(self, queryset: PersonQuerySet, name: str, value: str) -> QuerySet[Person]:
        try:
            return queryset.filter(subtree_q(clean_code(value), "region"))
        except CodeError:
            return queryset.none()


class ChildFilter(django_filters.FilterSet):
    parent = PersonKeyFilter(field_name="parent_id", label=_("parent person id"))

    class Meta:
        model = Child
        fields = ["parent"]
