"""Person files, residence episodes and children in the API, scoped to the caller.

Lists show the masked ID number; reading one file returns the full number and is logged
(``services.view_person(via="api")``). Writes validate with the web forms and change
through ``people.services``; a stale version is a 409 (``liudong.api.errors``).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from liudong.accounts.models import User
from liudong.api.errors import Conflict
from liudong.api.viewsets import ScopedModelViewSet
from liudong.people import services
from liudong.people.filters import ChildFilter, EpisodeFilter, PersonFilter, with_open_arrival
from liudong.people.forms import ArrivalForm, ChildForm, PersonEditForm, person_initial
from liudong.people.models import Child, Person, PersonQuerySet, ResidenceEpisode

from .pagination import CappedPagination, PersonPagination
from .serializers import (
    ChildCreateSerializer,
    ChildDetailSerializer,
    ChildSerializer,
    EpisodeSerializer,
    PersonArrivalSerializer,
    PersonArrivedSerializer,
    PersonListSerializer,
    PersonSerializer,
    PersonUpdateSerializer,
)

# Database keys are 64-bit; a longer number in the path is simply not found.
KEY_REGEX = r"[0-9]{1,18}"


def _actor(request: Request) -> User:
    """The account behind an API request: the view sets' permission classes let no
    anonymous caller in."""
    return cast(User, request.user)


def form_errors(form: forms.Form) -> ValidationError:
    """A Django form's errors as a DRF validation error (same fields, codes, messages)."""
    detail: dict[str, list[ErrorDetail]] = {}
    for field, errors in form.errors.as_data().items():
        name = "non_field_errors" if field == "__all__" else field
        detail[name] = [
            ErrorDetail(message, code=error.code or "invalid")
            for error in errors
            for message in error.messages
        ]
    return ValidationError(detail)


def form_data(validated: dict) -> dict:
    """Serializer output as form input (regions and dates as the strings a form reads)."""
    return {
        name: ("" if value is None else value.isoformat() if hasattr(value, "isoformat") else value)
        for name, value in validated.items()
    }


class PersonViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedModelViewSet,
):
    """Person files whose household or residence lies in the caller's region."""

    filterset_class = PersonFilter
    pagination_class = PersonPagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = KEY_REGEX

    model = Person

    def narrow(self, persons: QuerySet[Person]) -> QuerySet[Person]:
        if self.action == "list":
            # Merged files are opened one by one, not listed. The page's regions come in
            # one query for its 20 codes: joined in, PostgreSQL hashed all 45,000 regions
            # for each search (20 ms at a million files).
            # Person.objects.in_scope() gave a PersonQuerySet; the base class types it plainly.
            persons = (
                cast(PersonQuerySet, persons)
                .active()
                .prefetch_related("household_region", "residence_region")
            )
        else:
            persons = persons.select_related("household_region", "residence_region")
        return with_open_arrival(cast(PersonQuerySet, persons))

    def get_serializer_class(self) -> type[BaseSerializer]:
        return PersonListSerializer if self.action == "list" else PersonSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        services.view_person(acting_user=_actor(request), person=person, via="api")
        return Response(PersonSerializer(person).data)

    def _fresh(self, pk: int | str) -> Person:
        return self.get_queryset().get(pk=pk)

    @extend_schema(request=PersonArrivalSerializer, responses={201: PersonArrivedSerializer})
    def create(self, request: Request) -> Response:
        """Register an arrival: a new file, or a new stay on a file in the caller's scope
        (whose own fields are updated where given). An ID number on file outside the
        caller's region is refused without saying whose it is."""
        data = PersonArrivalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        form = ArrivalForm(form_data(data.validated_data), user=_actor(request))
        if not form.is_valid():
            raise form_errors(form)
        episode = form.save()
        person = self._fresh(episode.person_id)
        person.warnings = form.warnings  # type: ignore[attr-defined]
        return Response(PersonArrivedSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PersonUpdateSerializer, responses={200: PersonSerializer})
    def partial_update(self, request: Request, pk: int | str | None = None) -> Response:
        """Change a file's own fields, based on ``version`` (409 when the file has changed
        since)."""
        person = self.get_object()
        data = PersonUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {**form_data(person_initial(person)), **form_data(data.validated_data)}
        form = PersonEditForm(values, person=person)
        if not form.is_valid():
            raise form_errors(form)
        changes = form.changes()
        if changes:
            services.update_person(
                acting_user=_actor(request),
                person=person,
                expected_version=form.cleaned_data["version"],
                **changes,
            )
        elif form.cleaned_data["version"] != person.version:
            raise Conflict(
                _("This record was changed by someone else (version %(theirs)s, yours %(yours)s).")
                % {"theirs": person.version, "yours": form.cleaned_data["version"]}
            )
        return Response(PersonSerializer(self._fresh(person.pk)).data)


class EpisodeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Stays (arrival to departure) in the caller's region, or of persons registered there."""

    serializer_class = EpisodeSerializer
    filterset_class = EpisodeFilter
    pagination_class = CappedPagination
    lookup_value_regex = KEY_REGEX

    model = ResidenceEpisode

    def narrow(self, queryset: QuerySet[ResidenceEpisode]) -> QuerySet[ResidenceEpisode]:
        return queryset.select_related("region", "destination_region")


class ChildViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    ScopedModelViewSet,
):
    """Children of persons on file in the caller's region (vital statistics only)."""

    filterset_class = ChildFilter
    pagination_class = CappedPagination
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = KEY_REGEX

    model = Child

    def narrow(self, queryset: QuerySet[Child]) -> QuerySet[Child]:
        return queryset.order_by("parent_id", "birth_date", "id")

    def get_serializer_class(self) -> type[BaseSerializer]:
        return ChildSerializer if self.action == "list" else ChildDetailSerializer

    @extend_schema(request=ChildCreateSerializer, responses={201: ChildDetailSerializer})
    def create(self, request: Request) -> Response:
        data = ChildCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        parent = values.pop("parent")
        form = ChildForm(form_data(values), parent=parent)
        if not form.is_valid():
            raise form_errors(form)
        child = form.save(acting_user=_actor(request))
        return Response(ChildDetailSerializer(child).data, status=status.HTTP_201_CREATED)
