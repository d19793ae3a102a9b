"""Help requests and their counts in the API (request and answer serializers). Must not
touch the other sub-domains.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.accounts.models import User
from liudong.people.api.serializers import CodeField
from liudong.people.models import Person
from liudong.services.api.serializers import (
    PersonMixin,
    RegionInputField,
    WritableSerializer,
    choice_field,
)
from liudong.services.models import (
    HelpCategory,
    HelpRequest,
    HelpStatus,
)

# --- help requests ---------------------------------------------------------------------------


class HelpRequestSerializer(WritableSerializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    # Not required here so that a missing category is refused by the service's rule, with
    # the same message as everywhere else.
    category = choice_field(HelpCategory, required=False, allow_blank=True)
    status = choice_field(HelpStatus, required=False)
    region = RegionInputField(required=False)
    handler = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.none(), required=False, allow_null=True
    )
    version = serializers.IntegerField(required=False)

    class Meta:
        model = HelpRequest
        fields = [
            "id",
            "person",
            "region",
            "category",
            "description",
            "received_on",
            "handler",
            "status",
            "deadline",
            "outcome",
            "resolved_on",
            "version",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"received_on": {"required": False}, "deadline": {"required": False}}


class HelpRequestOutSerializer(PersonMixin, serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    region = CodeField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    handler: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    category = choice_field(HelpCategory, read_only=True)
    status = choice_field(HelpStatus, read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = HelpRequest
        fields = [
            "id",
            "person",
            "person_name",
            "id_number_masked",
            "region",
            "region_name",
            "category",
            "description",
            "received_on",
            "handler",
            "status",
            "deadline",
            "overdue",
            "outcome",
            "resolved_on",
            "created",
            "updated",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, help_request: HelpRequest) -> bool:
        return help_request.is_overdue(timezone.localdate())


class HelpCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    by_category = serializers.DictField(child=serializers.IntegerField())
    by_status = serializers.DictField(child=serializers.IntegerField())
