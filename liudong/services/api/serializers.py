"""Campaigns, activities, association branches, memberships, association activities and
help requests in the API. Serializers check types for the schema; the rules are the
services' (each sub-domain's ``services``), so every client is refused the same things with the
same messages.

Choice fields are described by a pattern, not an enum: enums named ``status``, ``role`` or
``kind`` would collide in the schema with other apps' fields of those names.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.accounts.models import User
from liudong.people import idnumbers
from liudong.people.api.serializers import CodeField, CodeInputField
from liudong.people.models import Person
from liudong.places.models import Site
from liudong.regions.codes import CodeError, clean_code
from liudong.regions.models import Region

from ..models import (
    Activity,
    AssociationActivity,
    AssociationBranch,
    Campaign,
    CampaignKind,
    ContraceptiveMethod,
    FollowUp,
    HelpCategory,
    HelpRequest,
    HelpStatus,
    MemberRole,
    Membership,
    ServiceRecord,
    ServiceType,
)

# A campaign as written and as answered: the same fields.
CAMPAIGN_FIELDS = [
    "id",
    "name",
    "kind",
    "starts_on",
    "ends_on",
    "regions",
    "organiser_region",
    "organiser_region_name",
    "description",
    "created",
    "updated",
    "version",
]


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


def _scope(serializer: serializers.Serializer, querysets: dict) -> None:
    for name, queryset in querysets.items():
        if queryset is not None and name in serializer.fields:
            field = serializer.fields[name]
            assert isinstance(field, serializers.RelatedField)
            field.queryset = queryset  # type: ignore[arg-type]


class _Writable(serializers.ModelSerializer):
    """Model serializers whose related fields are narrowed to the caller's records."""

    def __init__(self, *args: Any, scoped: dict | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scope(self, scoped or {})


# --- campaigns -------------------------------------------------------------------------------


class CampaignSerializer(_Writable):
    """A campaign as written (requests); answers use :class:`CampaignOutSerializer`."""

    kind = choice_field(CampaignKind)
    regions = serializers.ListField(
        child=RegionInputField(),
        required=False,
        help_text="codes of the regions covered (their subtrees); default: the organiser's",
    )
    organiser_region = CodeField(source="organiser_region_id", read_only=True)
    organiser_region_name = serializers.CharField(source="organiser_region.name", read_only=True)
    version = serializers.IntegerField(
        required=False, help_text="on PATCH: the version read (409 when it has changed)"
    )

    class Meta:
        model = Campaign
        fields = CAMPAIGN_FIELDS
        read_only_fields = ["id", "created", "updated"]


class CampaignOutSerializer(serializers.ModelSerializer):
    """A campaign as answered (regions as their codes)."""

    regions = serializers.SerializerMethodField()
    organiser_region = CodeField(source="organiser_region_id", read_only=True)
    organiser_region_name = serializers.CharField(source="organiser_region.name", read_only=True)
    kind = choice_field(CampaignKind, read_only=True)

    class Meta:
        model = Campaign
        fields = CAMPAIGN_FIELDS
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": {"type": "string", "pattern": "^[0-9]{2,15}$"}})
    def get_regions(self, campaign: Campaign) -> list[str]:
        return sorted(region.code for region in campaign.regions.all())


class SummaryRowSerializer(serializers.Serializer):
    region = CodeField()
    region_name = serializers.CharField()
    activities = serializers.IntegerField()
    participants = serializers.IntegerField()
    materials = serializers.IntegerField()
    contraceptives = serializers.IntegerField()


class CampaignSummarySerializer(serializers.Serializer):
    campaign = serializers.IntegerField(source="campaign.pk")
    name = serializers.CharField(source="campaign.name")
    starts_on = serializers.DateField(source="campaign.starts_on")
    ends_on = serializers.DateField(source="campaign.ends_on")
    region = CodeField(source="region.code")
    region_name = serializers.CharField(source="region.name")
    rows = SummaryRowSerializer(many=True)
    total = SummaryRowSerializer()


class ActivitySerializer(_Writable):
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.none())
    region = RegionInputField()
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Activity
        fields = [
            "id",
            "campaign",
            "date",
            "place",
            "region",
            "participants_count",
            "materials_count",
            "free_contraceptives_count",
            "notes",
            "created",
            "updated",
            "version",
        ]
        read_only_fields = ["id", "created", "updated"]


class ActivityOutSerializer(serializers.ModelSerializer):
    region = CodeField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "campaign",
            "date",
            "place",
            "region",
            "region_name",
            "participants_count",
            "materials_count",
            "free_contraceptives_count",
            "notes",
            "created",
            "updated",
            "version",
        ]
        read_only_fields = fields


# --- associations ----------------------------------------------------------------------------


class BranchSerializer(_Writable):
    region = RegionInputField()
    version = serializers.IntegerField(required=False)

    class Meta:
        model = AssociationBranch
        fields = ["id", "name", "region", "place", "founded_on", "created", "updated", "version"]
        read_only_fields = ["id", "created", "updated"]


class BranchOutSerializer(serializers.ModelSerializer):
    region = CodeField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = AssociationBranch
        fields = [
            "id",
            "name",
            "region",
            "region_name",
            "place",
            "founded_on",
            "created",
            "updated",
            "version",
        ]
        read_only_fields = fields


class _PersonMixin:
    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number_masked(self, obj: Any) -> str:
        return idnumbers.mask(obj.person.id_number)


class MembershipSerializer(_Writable):
    branch = serializers.PrimaryKeyRelatedField(queryset=AssociationBranch.objects.none())
    # Any file: one outside the caller's region is refused by the service (403, named).
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    role = choice_field(MemberRole, required=False)
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Membership
        fields = ["id", "branch", "person", "joined_on", "role", "left_on", "version"]
        read_only_fields = ["id"]


class MembershipOutSerializer(_PersonMixin, serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    role = choice_field(MemberRole, read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "branch",
            "person",
            "person_name",
            "id_number_masked",
            "joined_on",
            "role",
            "left_on",
            "created",
            "updated",
            "version",
        ]
        read_only_fields = fields


class AssociationActivitySerializer(_Writable):
    branch = serializers.PrimaryKeyRelatedField(queryset=AssociationBranch.objects.none())
    version = serializers.IntegerField(required=False)

    class Meta:
        model = AssociationActivity
        fields = [
            "id",
            "branch",
            "date",
            "title",
            "participants_count",
            "notes",
            "created",
            "updated",
            "version",
        ]
        read_only_fields = ["id", "created", "updated"]


class AssociationActivityOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssociationActivity
        fields = AssociationActivitySerializer.Meta.fields
        read_only_fields = fields


# --- help requests ---------------------------------------------------------------------------


class HelpRequestSerializer(_Writable):
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


class HelpRequestOutSerializer(_PersonMixin, serializers.ModelSerializer):
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


# --- service records and follow-ups ----------------------------------------------------------


class ServiceRecordSerializer(_Writable):
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


class ServiceRecordOutSerializer(_PersonMixin, serializers.ModelSerializer):
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


class FollowUpSerializer(_Writable):
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
