from typing import Any

from rest_framework import serializers

from liudong.audit.masking import mask_value
from liudong.audit.models import AuditEntry

# What may hold an ID number someone typed or a file's before/after image: shown masked.
MASKED_FIELDS = ("object_id", "object_repr", "before", "after", "detail")


class AuditEntrySerializer(serializers.ModelSerializer):
    """An entry as the log's readers see it: ID numbers masked (``audit.masking``)."""

    class Meta:
        model = AuditEntry
        fields = [
            "seq",
            "at",
            "actor_username",
            "actor_role",
            "address",
            "request_id",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "region",
            "before",
            "after",
            "detail",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields

    def to_representation(self, instance: AuditEntry) -> dict[str, Any]:
        data = super().to_representation(instance)
        for name in MASKED_FIELDS:
            data[name] = mask_value(data[name])
        return data
