from rest_framework import serializers

from liudong.audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
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
