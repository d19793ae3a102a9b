from rest_framework import serializers

from liudong.accounts.models import User
from liudong.accounts.roles import Role
from liudong.regions.api.fields import RegionCodeField


class UserSerializer(serializers.ModelSerializer):
    region = RegionCodeField()
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "full_name",
            "role",
            "region",
            "phone",
            "is_active",
            "last_login",
            "version",
        ]
        read_only_fields = ["id", "last_login"]
        extra_kwargs = {"version": {"required": False}}


class UserCreateSerializer(UserSerializer):
    password = serializers.CharField(
        write_only=True, required=False, help_text="Generated and returned once when omitted."
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]


class CreatedUserSerializer(UserSerializer):
    password = serializers.CharField(read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})
    # The authenticator's code: required for an account that signs in with a second factor,
    # or a password alone would buy what the web refuses it.
    code = serializers.CharField(required=False, allow_blank=True, max_length=10)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires = serializers.DateTimeField(allow_null=True)
