"""A serializer field for region codes: checked as codes before any query, so malformed
input (letters, NUL bytes, 40 digits) gets the code rule as its message, not a database
error."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import PKOnlyObject

from liudong.regions.codes import CodeError, clean_code
from liudong.regions.models import Region


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^[0-9]{2,15}$",
        "example": "330106002",
        "description": "region code",
    }
)
class RegionCodeField(serializers.RelatedField):
    default_error_messages = {
        "unknown": _("Unknown region code “{code}”."),
        "malformed": "{message}",
    }

    def __init__(self, **kwargs: Any) -> None:
        # Division codes are reference data every account may name (scoping of what a
        # code may be used for is the service's rule, with its own message).
        kwargs.setdefault("queryset", Region.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> Region:
        try:
            code = clean_code(data)
        except CodeError as exc:
            self.fail("malformed", message=str(exc))
        region = Region.objects.filter(code=code).first()
        if region is None:
            self.fail("unknown", code=code)
        return region

    def use_pk_only_optimization(self) -> bool:
        # The code is the key: show it without loading the region (no N+1 in lists).
        return True

    def to_representation(self, value: Region | PKOnlyObject) -> str:
        return value.pk
