"""Service records (the result only for those who may see it) and follow-ups in the API
(request and answer serializers). Must not touch campaigns or associations.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.people import idnumbers
from liudong.people.api.serializers import CodeField
from liudong.people.models import Person
from liudong.places.models import Site
from liudong.services.api.serializers import (
    PersonMixin,
    RegionInputField,
    WritableSerializer,
    choice_field,
)
from liudong.services.models import (
    Campaign,
    ContraceptiveMethod,
    FollowUp,
    ServiceRecord,
    ServiceType,
)

# --- service records and follow-ups ----------------------------------------------------------


class ServiceRecordSerializer(WritableSerializer):
    """A service record as written. The rules (consent, dates, spouse, her chosen method,
    campaign period, who may keep a result) are the service's."""

    # Any file: one outside the caller's region is refused by the service (403, named).
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    service_type = choice_field(ServiceType, required=False, allow_blank=True)
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.filter(kind=Site.Kind.SERVICE_STATION),
        required=False,
        allow_null=True,
        help_text="a registered service station (site of kind service_station)",
    )
    region = RegionInputField(
        required=False, help_text="where it was given; default: where she lives"
    )
    contraceptive_method = choice_field(ContraceptiveMethod, required=False, allow_blank=True)
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.none(), required=False, allow_null=True
    )
    version = serializers.IntegerField(
        required=False, help_text="on PATCH: the version read (409 when it has changed)"
    )

    class Meta:
        model = ServiceRecord
        fields = [
            "id",
            "person",
            "service_type",
            "date",
            "provider",
            "provider_name",
            "region",
            "free_of_charge",
            "consent_recorded",
            "contraceptive_method",
            "contraceptive_method_other",
            "campaign",
            "result",
            "version",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"date": {"required": False}}


class ServiceRecordOutSerializer(PersonMixin, serializers.ModelSerializer):
    """A service record as answered. ``result`` is present only for a service station
    and her township specialist (``show_result`` in the context), and only on one
    record, never in lists."""

    person_name = serializers.CharField(source="person.name", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    service_type = choice_field(ServiceType, read_only=True)
    contraceptive_method = choice_field(ContraceptiveMethod, read_only=True)
    provider_station = serializers.CharField(
        source="provider.name", read_only=True, default="", allow_null=True
    )
    region = CodeField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    spouse_id_number_masked = serializers.SerializerMethodField()
    recorded_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    # Not read-only so the schema may say what is true: the key is absent for most
    # callers (a read-only field is always "required" in the schema). Never written here.
    result = serializers.CharField(
        required=False,
        help_text="only for a service station and her township specialist, on one record",
    )

    class Meta:
        model = ServiceRecord
        fields = [
            "id",
            "person",
            "person_name",
            "id_number_masked",
            "service_type",
            "date",
            "provider",
            "provider_station",
            "provider_name",
            "region",
            "region_name",
            "free_of_charge",
            "consent_recorded",
            "contraceptive_method",
            "contraceptive_method_other",
            "spouse_id_number_masked",
            "campaign",
            "result",
            "recorded_by",
            "created",
            "updated",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_spouse_id_number_masked(self, record: ServiceRecord) -> str:
        return idnumbers.mask(record.spouse_id_number) if record.spouse_id_number else ""

    def to_representation(self, instance: ServiceRecord) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not self.context.get("show_result"):
            data.pop("result", None)
        return data


class FollowUpSerializer(WritableSerializer):
    service = serializers.PrimaryKeyRelatedField(queryset=ServiceRecord.objects.none())
    version = serializers.IntegerField(required=False)

    class Meta:
        model = FollowUp
        fields = ["id", "service", "due_on", "done_on", "notes", "version"]
        read_only_fields = ["id"]
        extra_kwargs = {"due_on": {"required": False}}


class FollowUpOutSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="service.person_id", read_only=True)
    person_name = serializers.CharField(source="service.person.name", read_only=True)
    service_type = choice_field(ServiceType, source="service.service_type", read_only=True)
    service_date = serializers.DateField(source="service.date", read_only=True)
    done_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "service",
            "person",
            "person_name",
            "service_type",
            "service_date",
            "due_on",
            "done_on",
            "overdue",
            "notes",
            "done_by",
            "created",
            "updated",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, follow_up: FollowUp) -> bool:
        return follow_up.done_on is None and follow_up.due_on < timezone.localdate()
