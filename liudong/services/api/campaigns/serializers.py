"""Campaigns, their activities and the campaign summary in the API (request and answer
serializers). Must not touch the other sub-domains.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.people.api.serializers import CodeField
from liudong.services.api.serializers import RegionInputField, WritableSerializer, choice_field
from liudong.services.models import (
    Activity,
    Campaign,
    CampaignKind,
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


# --- campaigns -------------------------------------------------------------------------------


class CampaignSerializer(WritableSerializer):
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


class ActivitySerializer(WritableSerializer):
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
