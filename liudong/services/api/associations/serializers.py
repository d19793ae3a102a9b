"""Association branches, memberships and association activities in the API (request and
answer serializers). Must not touch the other sub-domains.
"""

from __future__ import annotations

from rest_framework import serializers

from liudong.people.api.serializers import CodeField
from liudong.people.models import Person
from liudong.services.api.serializers import (
    PersonMixin,
    RegionInputField,
    WritableSerializer,
    choice_field,
)
from liudong.services.models import (
    AssociationActivity,
    AssociationBranch,
    MemberRole,
    Membership,
)

# --- associations ----------------------------------------------------------------------------


class BranchSerializer(WritableSerializer):
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


class MembershipSerializer(WritableSerializer):
    branch = serializers.PrimaryKeyRelatedField(queryset=AssociationBranch.objects.none())
    # Any file: one outside the caller's region is refused by the service (403, named).
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    role = choice_field(MemberRole, required=False)
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Membership
        fields = ["id", "branch", "person", "joined_on", "role", "left_on", "version"]
        read_only_fields = ["id"]


class MembershipOutSerializer(PersonMixin, serializers.ModelSerializer):
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


class AssociationActivitySerializer(WritableSerializer):
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
