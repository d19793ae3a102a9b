"""Serializers and filters of the programmes API (families, applications, village
notices): types for the schema, ID numbers and bank cards masked where listed. The rules
are ``programmes.services``'.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.people import idnumbers
from liudong.people.template import SEX_CHOICES
from liudong.regions.codes import CodeError, clean_code, subtree_q
from liudong.services.api.serializers import RegionInputField, choice_field
from liudong.services.programmes.models import (
    Application,
    Benefit,
    ChildState,
    Family,
    FamilyChild,
    HouseholdType,
    Programme,
    PublicNotice,
)
from liudong.services.programmes.payments import mask_card

Status = Application.Status


class ProgrammeChildSerializer(serializers.ModelSerializer):
    sex = serializers.ChoiceField(choices=SEX_CHOICES)
    state = choice_field(ChildState, required=False)

    class Meta:
        model = FamilyChild
        fields = [
            "id",
            "name",
            "sex",
            "birth_date",
            "state",
            "death_date",
            "disability_grade",
            "adopted",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {
            "disability_grade": {"min_value": None, "max_value": None},
        }


class ProgrammeFamilySerializer(serializers.ModelSerializer):
    """A family as a list shows it: ID numbers masked."""

    applicant_id_number = serializers.SerializerMethodField()
    spouse_id_number = serializers.SerializerMethodField()
    household_type = choice_field(HouseholdType, read_only=True)
    household_region = serializers.CharField(source="household_region_id", read_only=True)
    household_region_name = serializers.CharField(source="household_region.name", read_only=True)
    births_certified = serializers.BooleanField(read_only=True)

    class Meta:
        model = Family
        fields = [
            "id",
            "applicant_name",
            "applicant_id_number",
            "spouse_name",
            "spouse_id_number",
            "household_type",
            "household_region",
            "household_region_name",
            "births_certified",
            "births_certified_on",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_applicant_id_number(self, family: Family) -> str:
        return idnumbers.mask(family.applicant_id_number)

    @extend_schema_field(OpenApiTypes.STR)
    def get_spouse_id_number(self, family: Family) -> str:
        return idnumbers.mask(family.spouse_id_number) if family.spouse_id_number else ""


class ProgrammeFamilyDetailSerializer(ProgrammeFamilySerializer):
    """One family opened: full ID numbers (the read is logged), children, certification."""

    applicant_id_number = serializers.CharField(read_only=True)  # type: ignore[assignment]
    spouse_id_number = serializers.CharField(read_only=True)  # type: ignore[assignment]
    household_address = serializers.CharField(read_only=True)
    births_certified_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    births_certified_note = serializers.CharField(read_only=True)
    children = ProgrammeChildSerializer(many=True, read_only=True)

    class Meta(ProgrammeFamilySerializer.Meta):
        fields = [
            *ProgrammeFamilySerializer.Meta.fields,
            "household_address",
            "births_certified_by",
            "births_certified_note",
            "children",
        ]
        read_only_fields = fields


class ProgrammeFamilyWriteSerializer(serializers.Serializer):
    applicant_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    applicant_id_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    spouse_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    spouse_id_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    # Not required here so that a missing one is refused by the service's rule.
    household_type = serializers.CharField(max_length=20, required=False, allow_blank=True)
    household_region = RegionInputField(required=False)
    household_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    person_id_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    children = ProgrammeChildSerializer(many=True, required=False)
    version = serializers.IntegerField(required=False)


class ProgrammeCertifySerializer(serializers.Serializer):
    certified_on = serializers.DateField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False)


class ProgrammeChildAddSerializer(ProgrammeChildSerializer):
    version = serializers.IntegerField(required=False, write_only=True)

    class Meta(ProgrammeChildSerializer.Meta):
        fields = [*ProgrammeChildSerializer.Meta.fields, "version"]


class ProgrammeFamilyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("name or ID number"))
    region = django_filters.CharFilter(method="filter_region", label=_("region code (subtree)"))

    class Meta:
        model = Family
        fields = ["q", "region"]

    def filter_q(self, queryset: QuerySet[Family], name: str, value: str) -> QuerySet[Family]:
        number = idnumbers.normalise(value)
        return queryset.filter(
            Q(applicant_name__contains=value)
            | Q(spouse_name__contains=value)
            | Q(applicant_id_number__startswith=number)
            | Q(spouse_id_number__startswith=number)
        )

    def filter_region(self, queryset: QuerySet[Family], name: str, value: str) -> QuerySet[Family]:
        try:
            code = clean_code(value)
        except CodeError as exc:
            raise serializers.ValidationError({"region": [str(exc)]}) from exc
        return queryset.filter(subtree_q(code, "household_region_id"))


class ProgrammeApplicationSerializer(serializers.ModelSerializer):
    """An application: the ID number and bank card masked (a detail too: the full ones
    are the family's and the payment file's)."""

    id_number = serializers.SerializerMethodField()
    bank_card = serializers.SerializerMethodField()
    programme: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    programme_name = serializers.CharField(source="programme.name", read_only=True)
    status = choice_field(Status, read_only=True)
    household_region = serializers.CharField(source="family.household_region_id", read_only=True)
    reviewed_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    decided_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    appeal_decided_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "family",
            "programme",
            "programme_name",
            "id_number",
            "name",
            "household_region",
            "applied_on",
            "bank_card",
            "status",
            "notice",
            "reviewed_on",
            "reviewed_by",
            "decided_on",
            "decided_by",
            "refusal_reason",
            "appealed_on",
            "appeal_reason",
            "appeal_decided_on",
            "appeal_decided_by",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number(self, application: Application) -> str:
        return idnumbers.mask(application.id_number)

    @extend_schema_field(OpenApiTypes.STR)
    def get_bank_card(self, application: Application) -> str:
        return mask_card(application.bank_card)


class ProgrammeApplySerializer(serializers.Serializer):
    family = serializers.PrimaryKeyRelatedField(queryset=Family.objects.none())
    programme: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", queryset=Programme.objects.filter(active=True)
    )
    # Which parent applies: "applicant" or "spouse" (an ID number stays out of the request
    # where a role says it).
    who = serializers.ChoiceField(choices=["applicant", "spouse"], default="applicant")
    applied_on = serializers.DateField(required=False)
    bank_card = serializers.CharField(max_length=40, required=False, allow_blank=True)

    def __init__(self, *args: Any, families: QuerySet[Family] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if families is not None:
            field = self.fields["family"]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            field.queryset = families  # type: ignore[arg-type]


class ProgrammeStepSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    on = serializers.DateField(required=False)
    version = serializers.IntegerField(required=False)


class ProgrammeReviewSerializer(ProgrammeStepSerializer):
    passed = serializers.BooleanField()


class ProgrammeAppealSerializer(serializers.Serializer):
    grounds = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    on = serializers.DateField(required=False)
    version = serializers.IntegerField(required=False)


class ProgrammeAppealDecisionSerializer(ProgrammeStepSerializer):
    granted = serializers.BooleanField()


class ProgrammeVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False)


class ProgrammeApplicationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices, label=_("status"))

    class Meta:
        model = Application
        fields = ["status", "family"]


class ProgrammeNoticeApplicationSerializer(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField()
    programme: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )

    class Meta:
        model = Application
        fields = ["id", "name", "id_number", "programme"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number(self, application: Application) -> str:
        return idnumbers.mask(application.id_number)


class ProgrammeNoticeSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    posted_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = PublicNotice
        fields = ["id", "region", "region_name", "posted_on", "ends_on", "posted_by", "version"]
        read_only_fields = fields


class ProgrammeNoticeDetailSerializer(ProgrammeNoticeSerializer):
    applications = ProgrammeNoticeApplicationSerializer(many=True, read_only=True)

    class Meta(ProgrammeNoticeSerializer.Meta):
        fields = [*ProgrammeNoticeSerializer.Meta.fields, "applications"]
        read_only_fields = fields


class ProgrammeNoticeWriteSerializer(serializers.Serializer):
    region = RegionInputField()
    posted_on = serializers.DateField()
    ends_on = serializers.DateField()
    # The applications to post (by id); all of the village's waiting ones when left out.
    applications = serializers.ListField(child=serializers.IntegerField(), required=False)


class ProgrammeBenefitSerializer(serializers.ModelSerializer):
    """A beneficiary: ID number and bank card masked (the full ones are the family's
    record and the payment file)."""

    id_number = serializers.SerializerMethodField()
    bank_card = serializers.SerializerMethodField()
    programme: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    programme_name = serializers.CharField(source="programme.name", read_only=True)
    status = choice_field(Benefit.Status, read_only=True)
    household_region = serializers.CharField(source="family.household_region_id", read_only=True)

    class Meta:
        model = Benefit
        fields = [
            "id",
            "family",
            "application",
            "programme",
            "programme_name",
            "id_number",
            "name",
            "household_region",
            "bank_card",
            "starts_on",
            "status",
            "status_reason",
            "status_changed_on",
            "ends_on",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number(self, benefit: Benefit) -> str:
        return idnumbers.mask(benefit.id_number)

    @extend_schema_field(OpenApiTypes.STR)
    def get_bank_card(self, benefit: Benefit) -> str:
        return mask_card(benefit.bank_card)


class ProgrammeBenefitFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Benefit.Status.choices, label=_("status"))
    programme = django_filters.CharFilter(field_name="programme__code", label=_("programme"))

    class Meta:
        model = Benefit
        fields = ["status", "programme", "family"]
