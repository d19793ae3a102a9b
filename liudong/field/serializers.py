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


class FieldGridSerializer(serializers.Serializer):
    # None: a village or group account in no grid works its own area (bundle.field_grids).
    id = serializers.IntegerField(allow_null=True)
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


class FieldUnverifiedSerializer(serializers.Serializer):
    person = serializers.IntegerField()
    arrival_date = serializers.DateField()
    overdue = serializers.BooleanField()


class FieldFollowUpTodoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField()
    due_on = serializers.DateField()
    what = serializers.CharField()


class FieldHazardTodoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rental_house = serializers.IntegerField()
    house = serializers.CharField()
    description = serializers.CharField()
    deadline = serializers.DateField()
    overdue = serializers.BooleanField()


class FieldTodosSerializer(serializers.Serializer):
    unverified = FieldUnverifiedSerializer(many=True)
    follow_ups = FieldFollowUpTodoSerializer(many=True)
    hazards = FieldHazardTodoSerializer(many=True)


class FieldRentalHouseEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    address = serializers.CharField()
    landlord = serializers.CharField(allow_blank=True)
    region = serializers.CharField()


class FieldRegionEntrySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class FieldChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class FieldPicklistsSerializer(serializers.Serializer):
    regions = FieldRegionEntrySerializer(many=True)
    reasons = FieldChoiceSerializer(many=True)
    service_types = FieldChoiceSerializer(many=True)
    sexes = FieldChoiceSerializer(many=True)


class FieldKeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="Raw public key, base64 (Ed25519: 32 bytes).")
    issuer = serializers.CharField()


class FieldBundleSerializer(serializers.Serializer):
    user = FieldUserSerializer()
    generated_at = serializers.DateTimeField()
    csrf_token = serializers.CharField()
    actions = serializers.ListField(child=serializers.ChoiceField(choices=Kind.choices))
    grids = FieldGridSerializer(many=True)
    people = FieldPersonSerializer(many=True)
    todos = FieldTodosSerializer()
    rental_houses = FieldRentalHouseEntrySerializer(many=True)
    picklists = FieldPicklistsSerializer()
    keys = FieldKeySerializer(many=True)


class FieldSyncActionSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    done_at = serializers.DateTimeField()
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="The action's fields, by kind (see the README)."
    )


class FieldSyncRequestSerializer(serializers.Serializer):
    device_time = serializers.DateTimeField()
    actions = FieldSyncActionSerializer(many=True, min_length=1, max_length=100)  # type: ignore[call-arg]


class FieldChangedObjectSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    version = serializers.IntegerField(required=False)
    person = serializers.IntegerField(required=False)


class FieldSyncResultSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Status.choices)
    repeat = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )
    object = FieldChangedObjectSerializer(allow_null=True)
    server = FieldPersonSerializer(allow_null=True)
    received_at = serializers.DateTimeField()


class FieldSyncAnswerSerializer(serializers.Serializer):
    server_time = serializers.DateTimeField()
    clock_skew_seconds = serializers.IntegerField()
    results = FieldSyncResultSerializer(many=True)
