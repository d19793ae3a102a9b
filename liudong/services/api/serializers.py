"""What the services API serializers share: choice fields described by a pattern, region
codes answered as regions, the writable base that narrows the related querysets a request
may name to the caller's scope, and the masked ID number of a person. Serializers check
types for the schema; the rules are the sub-domains' ``services``, so every client is
refused the same things with the same messages.

Choice fields are described by a pattern, not an enum: enums named ``status``, ``role`` or
``kind`` would collide in the schema with other apps' fields of those names.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.people import idnumbers
from liudong.people.api.serializers import CodeInputField
from liudong.regions.codes import CodeError, clean_code
from liudong.regions.models import Region


def choice_field(choices: type[models.TextChoices], **kwargs: Any) -> serializers.ChoiceField:
    """A ChoiceField whose schema is a pattern listing the values (see the module doc)."""
    schema = {
        "type": "string",
        "pattern": "^(" + "|".join(choices.values) + ")$",
        "description": "one of: " + ", ".join(choices.values),
    }
    cls = extend_schema_field(schema)(
        type(f"{choices.__name__}Field", (serializers.ChoiceField,), {})
    )
    return cls(choices=choices.choices, **kwargs)


def region_for(value: str) -> Region:
    """A region code from a request as the region, or a validation error naming the rule."""
    try:
        code = clean_code(value)
    except CodeError as exc:
        raise serializers.ValidationError(str(exc)) from exc
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise serializers.ValidationError(f"no region {code}")
    return region


class RegionInputField(CodeInputField):
    """A region code in a request, answered as the region (after the string's checks)."""

    def run_validation(self, data: Any = serializers.empty) -> Region | None:
        value = super().run_validation(data)
        return value if value is None else region_for(value)


def scope_querysets(serializer: serializers.Serializer, querysets: dict) -> None:
    for name, queryset in querysets.items():
        if queryset is not None and name in serializer.fields:
            field = serializer.fields[name]
            assert isinstance(field, serializers.RelatedField)
            field.queryset = queryset  # type: ignore[arg-type]


class WritableSerializer(serializers.ModelSerializer):
    """Model serializers whose related fields are narrowed to the caller's records."""

    def __init__(self, *args: Any, scoped: dict | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope_querysets(self, scoped or {})


class PersonMixin:
    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number_masked(self, obj: Any) -> str:
        return idnumbers.mask(obj.person.id_number)
