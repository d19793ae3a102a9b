"""Places in the API. Request serializers check types for the schema; the rules are the
services' (``places.services``), so the API, the importers and the command line refuse
the same things with the same messages.

Choice fields are described by a pattern, not an enum: drf-spectacular makes every enum
a component named after its field, and ``kind`` would collide with other apps' kinds.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.people.api.serializers import CODE_SCHEMA, CodeField, CodeInputField
from liudong.people.models import Person

from ..models import Agreement, Employer, RentalHouse, SafetyIssue, Site


def inline_choice(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    values = [value for value, _label in choices]

    @extend_schema_field(
        {
            "type": "string",
            "pattern": "^(" + "|".join(values) + ")$",
            "description": "one of " + ", ".join(values),
        }
    )
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


class _RegionMixin(serializers.Serializer):
    region = CodeField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)


class EmployerSerializer(_RegionMixin, serializers.ModelSerializer):
    class Meta:
        model = Employer
        fields = [
            "id",
            "credit_code",
            "name",
            "address",
            "region",
            "region_name",
            "contact_name",
            "phone",
            "industry",
            "version",
            "created",
            "updated",
        ]
        read_only_fields = fields


class RentalHouseSerializer(_RegionMixin, serializers.ModelSerializer):
    landlord_person_name = serializers.CharField(
        source="landlord.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = RentalHouse
        fields = [
            "id",
            "address",
            "region",
            "region_name",
            "landlord",
            "landlord_person_name",
            "landlord_name",
            "landlord_phone",
            "rooms",
            "capacity",
            "version",
            "created",
            "updated",
        ]
        read_only_fields = fields


class SiteSerializer(_RegionMixin, serializers.ModelSerializer):
    kind = inline_choice(Site.Kind.choices, read_only=True)

    class Meta:
        model = Site
        fields = [
            "id",
            "kind",
            "name",
            "address",
            "region",
            "region_name",
            "contact_name",
            "phone",
            "version",
            "created",
            "updated",
        ]
        read_only_fields = fields


class AgreementSerializer(serializers.ModelSerializer):
    kind = inline_choice(Agreement.Kind.choices, read_only=True)
    place_name = serializers.SerializerMethodField()
    region = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = [
            "id",
            "employer",
            "rental_house",
            "site",
            "place_name",
            "region",
            "kind",
            "signed_on",
            "valid_until",
            "duties",
            "version",
            "created",
            "updated",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_place_name(self, agreement: Agreement) -> str:
        return str(agreement.place)

    @extend_schema_field(CODE_SCHEMA)
    def get_region(self, agreement: Agreement) -> str:
        return agreement.place.region_id


class SafetyIssueSerializer(serializers.ModelSerializer):
    address = serializers.CharField(source="rental_house.address", read_only=True)
    region = CodeField(source="rental_house.region_id", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = SafetyIssue
        fields = [
            "id",
            "rental_house",
            "address",
            "region",
            "hazard",
            "found_on",
            "deadline",
            "rectified_on",
            "overdue",
            "notes",
            "version",
            "created",
            "updated",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, issue: SafetyIssue) -> bool:
        return issue.rectified_on is None and issue.deadline < timezone.localdate()


# --- requests ------------------------------------------------------------------------------


class _ScopedInput(serializers.Serializer):
    """Related records (places, a landlord's file) are looked up in the caller's scope
    only: another region's id is "does not exist", like any unknown id."""

    def __init__(self, *args: Any, scopes: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, queryset in (scopes or {}).items():
            field = self.fields.get(name)
            if isinstance(field, serializers.PrimaryKeyRelatedField):
                field.queryset = queryset  # type: ignore[arg-type]


class _UpdateMixin(serializers.Serializer):
    """Every field optional except ``version``, the one the change is based on (409 if
    stale)."""

    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)

    def get_fields(self) -> Any:
        fields = super().get_fields()
        for name, field in fields.items():
            if name != "version":
                field.required = False
        return fields


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return serializers.CharField(max_length=max_length, **kwargs)


class EmployerInputSerializer(_ScopedInput):
    credit_code = _text(40, help_text="unified social credit code (may be blank)")
    name = serializers.CharField(max_length=200)
    address = _text(200)
    region = CodeInputField()
    contact_name = _text(50)
    phone = _text(30)
    industry = _text(100)


class EmployerUpdateSerializer(_UpdateMixin, EmployerInputSerializer):
    pass


class RentalHouseInputSerializer(_ScopedInput):
    address = serializers.CharField(max_length=200)
    region = CodeInputField()
    landlord = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.none(),
        required=False,
        allow_null=True,
        help_text="the landlord's person file, if on file",
    )
    landlord_name = _text(50)
    landlord_phone = _text(30)
    rooms = serializers.IntegerField(min_value=0, max_value=9999, required=False, allow_null=True)
    capacity = serializers.IntegerField(
        min_value=0, max_value=9999, required=False, allow_null=True
    )


class RentalHouseUpdateSerializer(_UpdateMixin, RentalHouseInputSerializer):
    pass


class SiteInputSerializer(_ScopedInput):
    kind = inline_choice(Site.Kind.choices)
    name = serializers.CharField(max_length=200)
    address = _text(200)
    region = CodeInputField()
    contact_name = _text(50)
    phone = _text(30)


class SiteUpdateSerializer(_UpdateMixin, SiteInputSerializer):
    pass


class AgreementInputSerializer(_ScopedInput):
    employer = serializers.PrimaryKeyRelatedField(
        queryset=Employer.objects.none(), required=False, allow_null=True
    )
    rental_house = serializers.PrimaryKeyRelatedField(
        queryset=RentalHouse.objects.none(), required=False, allow_null=True
    )
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.none(), required=False, allow_null=True
    )
    kind = inline_choice(Agreement.Kind.choices)
    signed_on = serializers.DateField()
    valid_until = serializers.DateField(required=False, allow_null=True)
    duties = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class AgreementUpdateSerializer(_UpdateMixin, AgreementInputSerializer):
    pass


class SafetyIssueInputSerializer(_ScopedInput):
    rental_house = serializers.PrimaryKeyRelatedField(queryset=RentalHouse.objects.none())
    hazard = serializers.CharField(max_length=2000)
    found_on = serializers.DateField()
    deadline = serializers.DateField()
    rectified_on = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class SafetyIssueUpdateSerializer(_UpdateMixin, SafetyIssueInputSerializer):
    pass
