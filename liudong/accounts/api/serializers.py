from rest_framework import serializers

from liudong.accounts.models import ApiToken, User
from liudong.accounts.roles import Role
from liudong.accounts.services import token_state
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


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as listed: never its key (only the hash is stored), with its state."""

    username = serializers.CharField(source="user.username", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "username",
            "name",
            "prefix",
            "created",
            "expires",
            "last_used",
            "revoked",
            "state",
        ]
        read_only_fields = fields

    def get_state(self, token: ApiToken) -> str:
        return token_state(token)


class TokenIssueSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    days = serializers.IntegerField(
        required=False, help_text="Days until it expires (default LIUDONG_API_TOKEN_DAYS)."
    )
    username = serializers.CharField(
        required=False, help_text="An account in your region (administrators); default: yours."
    )


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields
