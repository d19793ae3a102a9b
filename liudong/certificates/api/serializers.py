"""Certificates, verifications and notices in the API.

Lists carry the masked ID number only; one certificate (retrieve, issue, revoke) carries
its full contents and its signed payload, and reading it is logged by the view. Request
serializers check types for the schema; the rules are the services' (``issuing``,
``verification``, ``notices``), so the web, the API and the command line refuse the same
things with the same messages.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from liudong.people import idnumbers
from liudong.people.api.serializers import CodeField
from liudong.people.models import Person

from ..models import Certificate, Contraception, Method, Notice, Status, Verification
from ..verification import REASONS

# A payload is about 200 characters (payload.py); anything far longer is not one.
PAYLOAD_MAX = 2000


class _MaskedIdMixin:
    """``id_number_masked`` of the certificate or of the person a row names."""

    @extend_schema_field(OpenApiTypes.STR)
    def get_id_number_masked(self, obj: Any) -> str:
        number = obj.id_number if isinstance(obj, Certificate) else obj.person.id_number
        return idnumbers.mask(number)


class CertificateListSerializer(_MaskedIdMixin, serializers.ModelSerializer):
    id_number_masked = serializers.SerializerMethodField()
    issuing_region = CodeField(source="issuing_region_id", read_only=True)
    issuing_region_name = serializers.CharField(source="issuing_region.name", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "number",
            "person",
            "name",
            "id_number_masked",
            "issuing_region",
            "issuing_region_name",
            "issued_on",
            "valid_until",
            "status",
            "revoked_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Status.choices))
    def get_status(self, certificate: Certificate) -> str:
        return str(certificate.status_on(timezone.localdate()))


class ChildEntrySerializer(serializers.Serializer):
    birth_date = serializers.DateField()
    sex = serializers.CharField()
    order = serializers.IntegerField()


class CertificateSerializer(CertificateListSerializer):
    """One certificate with everything it certifies, and the payload its QR carries."""

    children = ChildEntrySerializer(many=True, read_only=True)
    issued_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    revoked_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta(CertificateListSerializer.Meta):
        fields = [
            *CertificateListSerializer.Meta.fields,
            "id_number",
            "sex",
            "birth_date",
            "marital_status",
            "spouse_name",
            "spouse_id_number",
            "children_count",
            "children",
            "contraception",
            "key_id",
            "payload",
            "issued_by",
            "revoked_by",
            "revoke_reason",
            "created",
            "updated",
        ]
        read_only_fields = fields


class CertificateIssueSerializer(serializers.Serializer):
    """Issue her certificate: her file by ID number (in the caller's scope)."""

    id_number = serializers.CharField(max_length=40)
    contraception = serializers.ChoiceField(
        choices=Contraception.choices,
        required=False,
        allow_null=True,
        help_text="as she chooses to declare it; never required (default: not stated)",
    )


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class PayloadSerializer(serializers.Serializer):
    payload = serializers.CharField(max_length=PAYLOAD_MAX, trim_whitespace=True)


class SignedFieldsSerializer(serializers.Serializer):
    """What the payload's signature covers."""

    number = serializers.CharField()
    issuing_region = CodeField()
    name = serializers.CharField()
    id_number = serializers.CharField()
    birth_date = serializers.DateField()
    marital_status = serializers.CharField()
    children_count = serializers.IntegerField()
    issued_on = serializers.DateField()
    valid_until = serializers.DateField()
    key_id = serializers.CharField()


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(" + "|".join(REASONS) + ")$",
        "nullable": True,
        "description": "why it is not valid, one of " + ", ".join(REASONS) + "; null when valid",
    }
)
class ReasonField(serializers.CharField):
    """One of verification.REASONS. Described by a pattern, not an enum: an enum named
    ``reason`` would collide with the residence episodes' reasons in the schema."""


class VerifyResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField(source="ok")
    reason = ReasonField(allow_null=True)
    message = serializers.CharField()
    # The metaclass takes declared fields out of the class, so this does not hide
    # Serializer.fields.
    fields = SignedFieldsSerializer(  # type: ignore[assignment]
        allow_null=True, help_text="the signed contents whenever the signature is good"
    )

    def to_representation(self, instance: Any) -> Any:
        return {
            "valid": instance.ok,
            "reason": instance.reason or None,
            "message": instance.message,
            "fields": instance.fields,
        }


class VerificationSerializer(_MaskedIdMixin, serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    certificate: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="number", read_only=True
    )
    region = CodeField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    verified_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Verification
        fields = [
            "id",
            "person",
            "person_name",
            "id_number_masked",
            "episode",
            "certificate",
            "number",
            "method",
            "region",
            "region_name",
            "verified_on",
            "verified_at",
            "days_after_arrival",
            "verified_by",
            "version",
        ]
        read_only_fields = fields


class VerificationCreateSerializer(serializers.Serializer):
    """What was checked: a scanned or pasted ``payload`` (method qr), a certificate
    ``number`` (method number), or the record exchanged with her registration place for
    ``person`` (method exchanged). Without ``method`` it follows from what is given."""

    method = serializers.ChoiceField(choices=Method.choices, required=False)
    payload = serializers.CharField(max_length=PAYLOAD_MAX, required=False)
    number = serializers.CharField(max_length=40, required=False)
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none(), required=False)

    def __init__(self, *args: Any, people: QuerySet[Person] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only a file in the caller's scope may be named: another region's id is "does
        # not exist", like any unknown id.
        if people is not None:
            field = self.fields["person"]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            field.queryset = people  # type: ignore[arg-type]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "method" not in attrs:
            attrs["method"] = (
                Method.QR
                if attrs.get("payload")
                else Method.NUMBER
                if attrs.get("number")
                else Method.EXCHANGED
            )
        return attrs


class NoticeSerializer(_MaskedIdMixin, serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    id_number_masked = serializers.SerializerMethodField()
    region = CodeField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = [
            "id",
            "person",
            "person_name",
            "id_number_masked",
            "episode",
            "region",
            "region_name",
            "issued_on",
            "deadline",
            "fulfilled_on",
            "overdue",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_overdue(self, notice: Notice) -> bool:
        return (
            notice.fulfilled_on is None
            and notice.deadline < timezone.localdate()
            and notice.episode.departure_date is None
        )


class NoticeCreateSerializer(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none())

    def __init__(self, *args: Any, people: QuerySet[Person] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if people is not None:
            field = self.fields["person"]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            field.queryset = people  # type: ignore[arg-type]
