"""Re-qualification rounds and re-qualifications in the API (issue 17 item 3): what a list
shows (her ID number masked) and what the actions take. Must not touch the other
sub-domains."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.people.idnumbers import mask
from liudong.services.api.serializers import choice_field
from liudong.services.programmes.models import Requalification, RequalificationRound
from liudong.services.programmes.requalification import EndCause


class RequalificationRoundSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    opened_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = RequalificationRound
        fields = [
            "id",
            "region",
            "region_name",
            "year",
            "deadline",
            "opened_by",
            "closed_on",
            "created",
            "version",
        ]
        read_only_fields = fields


class RequalificationRoundOpenSerializer(serializers.Serializer):
    county = serializers.CharField(max_length=6, help_text="the county's 6-digit code")
    year = serializers.IntegerField()
    deadline = serializers.DateField()


class RequalificationRoundCloseSerializer(serializers.Serializer):
    suspended = serializers.IntegerField(help_text="benefits suspended by this close")
    round = RequalificationRoundSerializer()


class RequalificationSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="round.year", read_only=True)
    deadline = serializers.DateField(source="round.deadline", read_only=True)
    programme = serializers.CharField(source="benefit.programme.code", read_only=True)
    name = serializers.CharField(source="benefit.name", read_only=True)
    id_number = serializers.SerializerMethodField()
    household_region = serializers.CharField(
        source="benefit.family.household_region_id", read_only=True
    )
    benefit_status = serializers.CharField(source="benefit.status", read_only=True)
    outcome = choice_field(Requalification.Outcome, read_only=True)
    decided_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    residence_asked = serializers.SerializerMethodField()

    class Meta:
        model = Requalification
        fields = [
            "id",
            "round",
            "year",
            "deadline",
            "benefit",
            "programme",
            "name",
            "id_number",
            "household_region",
            "benefit_status",
            "outcome",
            "outcome_reason",
            "decided_on",
            "decided_by",
            "residence_asked",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number(self, item: Requalification) -> str:
        return mask(item.benefit.id_number)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_residence_asked(self, item: Requalification) -> bool:
        return item.assistance_request_id is not None


class RequalificationConfirmSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="the day confirmed (today)")
    version = serializers.IntegerField(required=False)


class BenefitEndSerializer(serializers.Serializer):
    # Not required here so that a missing cause is refused by the rule, with its message.
    cause = choice_field(EndCause, required=False, allow_blank=True)
    on = serializers.DateField(help_text="the day of the event (a death: the day she died)")
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)
    version = serializers.IntegerField(required=False, help_text="the benefit's version")
