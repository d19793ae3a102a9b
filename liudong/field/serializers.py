"""The field API's shapes for the OpenAPI schema (drf-spectacular): what the phone caches
(``bundle.bundle_for``) and what it sends and is answered at sync (``sync.sync``). The
envelope itself is checked by ``sync.check_envelope`` (one place for its rules); these
classes describe the documents exactly so a generated client parses real answers."""

from __future__ import annotations

from rest_framework import serializers

from .models import Kind, Status


class FieldUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    region = serializers.CharField()
    region_name = serializers.CharField(allow_blank=True)


class GridSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    areas = serializers.ListField(child=serializers.CharField())


class FieldPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    masked_id = serializers.CharField()
    sex = serializers.CharField()
    birth_year = serializers.IntegerField()
    region = serializers.CharField()
    region_name = serializers.CharField()
    address = serializers.CharField(allow_blank=True)
    arrival_date = serializers.DateField()
    reason = serializers.CharField(allow_blank=True)
    verified_on = serializers.DateField(allow_null=True)
    household_region_name = serializers.CharField()


class UnverifiedSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    arrival_date = serializers.DateField()
    overdue = serializers.BooleanField()


class FollowUpTodoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField()
    due_on = serializers.DateField()
    what = serializers.CharField()


class HazardTodoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rental_house = serializers.IntegerField()
    house = serializers.CharField()
    description = serializers.CharField()
    deadline = serializers.DateField()
    overdue = serializers.BooleanField()


class TodosSerializer(serializers.Serializer):
    unverified = UnverifiedSerializer(many=True)
    follow_ups = FollowUpTodoSerializer(many=True)
    hazards = HazardTodoSerializer(many=True)


class RentalHouseEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    address = serializers.CharField()
    landlord = serializers.CharField(allow_blank=True)
    region = serializers.CharField()


class RegionEntrySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class PicklistsSerializer(serializers.Serializer):
    regions = RegionEntrySerializer(many=True)
    reasons = ChoiceSerializer(many=True)
    service_types = ChoiceSerializer(many=True)
    sexes = ChoiceSerializer(many=True)


class KeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="Raw public key, base64 (Ed25519: 32 bytes).")
    issuer = serializers.CharField()


class BundleSerializer(serializers.Serializer):
    user = FieldUserSerializer()
    generated_at = serializers.DateTimeField()
    csrf_token = serializers.CharField()
    actions = serializers.ListField(child=serializers.ChoiceField(choices=Kind.choices))
    grids = GridSerializer(many=True)
    people = FieldPersonSerializer(many=True)
    todos = TodosSerializer()
    rental_houses = RentalHouseEntrySerializer(many=True)
    picklists = PicklistsSerializer()
    keys = KeySerializer(many=True)


class SyncActionSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    done_at = serializers.DateTimeField()
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="The action's fields, by kind (see the README)."
    )


class SyncRequestSerializer(serializers.Serializer):
    device_time = serializers.DateTimeField()
    actions = SyncActionSerializer(many=True, min_length=1, max_length=100)  # type: ignore[call-arg]


class ChangedObjectSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    version = serializers.IntegerField(required=False)
    person = serializers.IntegerField(required=False)


class SyncResultSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Status.choices)
    repeat = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )
    object = ChangedObjectSerializer(allow_null=True)
    server = FieldPersonSerializer(allow_null=True)
    received_at = serializers.DateTimeField()


class SyncAnswerSerializer(serializers.Serializer):
    server_time = serializers.DateTimeField()
    clock_skew_seconds = serializers.IntegerField()
    results = SyncResultSerializer(many=True)
