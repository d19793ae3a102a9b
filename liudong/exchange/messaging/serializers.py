"""The mailbox in the API: a message's type, places, state and its listed facts (ID
numbers masked), never the whole signed payload."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import InboxMessage, OutboxMessage
from . import services


class FactsField(serializers.Field):
    def to_representation(self, value: Any) -> Any:
        return services.listed(value)


FACTS = extend_schema_field(OpenApiTypes.OBJECT)(FactsField)


class InboxMessageSerializer(serializers.ModelSerializer):
    facts = FACTS(source="envelope", read_only=True, help_text="masked ID number and dates")
    person: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = InboxMessage
        fields = [
            "id",
            "type",
            "from_region",
            "to_region",
            "received_at",
            "state",
            "problem",
            "person",
            "facts",
        ]


class OutboxMessageSerializer(serializers.ModelSerializer):
    facts = FACTS(source="envelope", read_only=True, help_text="masked ID number and dates")
    state = serializers.SerializerMethodField()

    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "type",
            "region",
            "to_region",
            "created",
            "state",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_error",
            "facts",
        ]

    def get_state(self, message: OutboxMessage) -> str:
        return "delivered" if message.delivered_at else "waiting"
