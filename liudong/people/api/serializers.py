"""Person files in the API. Lists carry the masked ID number only; one file (retrieve)
carries the full number and its reading is logged by the view.

Request serializers describe the input for the schema and check types; the rules are the
forms' (``people.forms``), so the web and the API refuse the same things with the same
messages.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.people import idnumbers
from liudong.people.models import EDUCATION_CHOICES, Child, Person, ResidenceEpisode, age_on
from liudong.people.template import (
    ETHNICITY_CHOICES,
    MARITAL_CHOICES,
    REASON_CHOICES,
    SEX_CHOICES,
)

CODE_SCHEMA = {
    "type": "string",
    "pattern": "^[0-9]{2,15}$",
    "example": "330106002",
    "description": "region code",
}


@extend_schema_field(CODE_SCHEMA)
class CodeField(serializers.CharField):
    """A region code in a response (the key of the region, no query)."""


@extend_schema_field({**CODE_SCHEMA, "description": "region code (zero-padded forms accepted)"})
class CodeInputField(serializers.CharField):
    """A region code in a request: checked by the form (known, right level)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)


class PersonListSerializer(serializers.ModelSerializer):
    id_number_masked = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()
    household_region = CodeField(source="household_region_id", read_only=True)
    household_region_name = serializers.CharField(source="household_region.name", read_only=True)
    residence_region = CodeField(source="residence_region_id", read_only=True, allow_null=True)
    residence_region_name = serializers.CharField(
        source="residence_region.name", read_only=True, allow_null=True, default=None
    )
    arrival_date = serializers.DateField(
        source="open_arrival",
        read_only=True,
        allow_null=True,
        help_text="arrival date of the current (open) stay",
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "sex",
            "id_number_masked",
            "id_check_failed",
            "age",
            "marital_status",
            "household_region",
            "household_region_name",
            "residence_region",
            "residence_region_name",
            "arrival_date",
            "is_floating",
            "version",
        ]
        read_only_fields = fields

    def get_id_number_masked(self, person: Person) -> str:
        return idnumbers.mask(person.id_number)

    @extend_schema_field(OpenApiTypes.INT)
    def get_age(self, person: Person) -> int:
        return age_on(person.birth_date, timezone.localdate())


class PersonSerializer(PersonListSerializer):
    """One whole file, with the full ID number."""

    merged_into: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta(PersonListSerializer.Meta):
        fields = [
            "id",
            "id_number",
            "id_number_masked",
            "id_check_failed",
            "name",
            "sex",
            "birth_date",
            "age",
            "ethnicity",
            "marital_status",
            "phone",
            "education",
            "household_region",
            "household_region_name",
            "household_address",
            "residence_region",
            "residence_region_name",
            "residence_address",
            "arrival_date",
            "is_floating",
            "spouse_id_number",
            "children_count",
            "merged_into",
            "version",
            "created",
            "updated",
        ]
        read_only_fields = fields


class PersonArrivedSerializer(PersonSerializer):
    """The file after an arrival, with what was saved but wants a second look."""

    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class PersonArrivalSerializer(serializers.Serializer):
    """An arrival: a new file, or a new stay on a file in the caller's scope."""

    id_number = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=50)
    sex = serializers.ChoiceField(
        choices=SEX_CHOICES, required=False, allow_blank=True, help_text="from the ID if empty"
    )
    birth_date = serializers.DateField(
        required=False, allow_null=True, help_text="from the ID if empty"
    )
    ethnicity = serializers.ChoiceField(choices=ETHNICITY_CHOICES, required=False, allow_blank=True)
    marital_status = serializers.ChoiceField(choices=MARITAL_CHOICES)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    household_region = CodeInputField()
    household_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    residence_region = CodeInputField()
    residence_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    arrival_date = serializers.DateField()
    reason = serializers.ChoiceField(choices=REASON_CHOICES, required=False, allow_blank=True)
    employer = serializers.CharField(max_length=200, required=False, allow_blank=True)


class PersonUpdateSerializer(serializers.Serializer):
    """A file's own fields; ``version`` is the one the change is based on (409 if stale)."""

    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    name = serializers.CharField(max_length=50, required=False)
    sex = serializers.ChoiceField(choices=SEX_CHOICES, required=False)
    birth_date = serializers.DateField(required=False)
    ethnicity = serializers.ChoiceField(choices=ETHNICITY_CHOICES, required=False, allow_blank=True)
    marital_status = serializers.ChoiceField(choices=MARITAL_CHOICES, required=False)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    education = serializers.ChoiceField(choices=EDUCATION_CHOICES, required=False, allow_blank=True)
    household_region = CodeInputField(required=False)
    household_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    spouse_id_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    children_count = serializers.IntegerField(
        min_value=0, max_value=15, required=False, allow_null=True
    )


class EpisodeSerializer(serializers.ModelSerializer):
    region = CodeField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    # Where she went when the stay ended, when the office was told (null, "": not known).
    destination_region = CodeField(source="destination_region_id", read_only=True, allow_null=True)
    destination_region_name = serializers.CharField(
        source="destination_region.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = ResidenceEpisode
        fields = [
            "id",
            "person",
            "region",
            "region_name",
            "address",
            "arrival_date",
            "departure_date",
            "destination_region",
            "destination_region_name",
            "destination_place",
            "reason",
            "employer",
            "housing",
            "verified_on",
            "version",
        ]
        read_only_fields = fields


class ChildSerializer(serializers.ModelSerializer):
    id_number_masked = serializers.SerializerMethodField()

    class Meta:
        model = Child
        fields = [
            "id",
            "parent",
            "name",
            "sex",
            "birth_date",
            "birth_order",
            "birth_place",
            "id_number_masked",
            "version",
        ]
        read_only_fields = fields

    def get_id_number_masked(self, child: Child) -> str:
        return idnumbers.mask(child.id_number) if child.id_number else ""


class ChildDetailSerializer(ChildSerializer):
    class Meta(ChildSerializer.Meta):
        fields = [*ChildSerializer.Meta.fields, "id_number"]
        read_only_fields = fields


class ChildCreateSerializer(serializers.Serializer):
    # (``parent`` is also the name of a field's parent serializer in the stubs.)
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Person.objects.none()
    )
    name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    sex = serializers.ChoiceField(choices=SEX_CHOICES)
    birth_date = serializers.DateField()
    birth_order = serializers.IntegerField(
        min_value=1, max_value=15, required=False, allow_null=True
    )
    birth_place = serializers.CharField(max_length=200, required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=40, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A child is added to a file in the caller's scope only; another region's
            # file id is "does not exist", like any unknown id.
            field = self.fields["parent"]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            field.queryset = Person.objects.in_scope(request.user).active()  # type: ignore[arg-type]
