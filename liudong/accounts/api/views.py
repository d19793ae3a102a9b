from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from liudong.accounts import second_factor, services
from liudong.accounts.filters import UserFilter
from liudong.accounts.models import User
from liudong.accounts.permissions import IsStaffWithRegion, capability_for_writes
from liudong.accounts.roles import MANAGE_USERS, USE_WEB, can
from liudong.audit import services as audit
from liudong.audit.middleware import client_address

from .serializers import (
    CreatedUserSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserCreateSerializer,
    UserSerializer,
)


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Staff accounts in the caller's region; county administrators create and change them."""

    serializer_class = UserSerializer
    permission_classes = [capability_for_writes(MANAGE_USERS)]
    filterset_class = UserFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return User.objects.in_scope(self.request.user)

    def retrieve(self, request, *args, **kwargs):
        account = self.get_object()
        audit.record_view(
            acting_user=request.user, obj=account, region=account.region_id, via="api"
        )
        return Response(self.get_serializer(account).data)

    @extend_schema(request=UserCreateSerializer, responses={201: CreatedUserSerializer})
    def create(self, request):
        data = UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("version", None)
        values.pop("is_active", None)
        user, password = services.create_user(acting_user=request.user, **values)
        body = CreatedUserSerializer(user).data
        body["password"] = password
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        changes = dict(serializer.validated_data)
        expected = changes.pop("version", None)
        changes.pop("username", None)
        serializer.instance = services.update_user(
            acting_user=self.request.user,
            user=serializer.instance,
            expected_version=expected,
            **changes,
        )


@extend_schema(responses=UserSerializer)
@api_view(["GET"])
@permission_classes([IsStaffWithRegion])
def me(request):
    return Response(UserSerializer(request.user).data)


@extend_schema(request=TokenRequestSerializer, responses={201: TokenSerializer}, auth=[])
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AnonRateThrottle])
def obtain_token(request):
    """Exchange a user name and password for a bearer token (same lockout as the login page)."""
    data = TokenRequestSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        user = services.login_with_password(
            request,
            data.validated_data["username"],
            data.validated_data["password"],
            address=client_address(request),
        )
    except services.LoginRefused as exc:
        raise exceptions.AuthenticationFailed(str(exc)) from exc
    if not can(user, USE_WEB):
        raise exceptions.PermissionDenied(_("This account may not use the API."))
    if user.must_change_password:
        raise exceptions.PermissionDenied(
            _("Change the password someone else set for you on the web first.")
        )
    if second_factor.is_required(user) or second_factor.has_second_factor(user):
        code = data.validated_data.get("code") or ""
        if not code:
            raise exceptions.AuthenticationFailed(
                _("This account signs in with a second factor: send the code as “code”.")
            )
        try:
            second_factor.verify_code(user=user, code=code)
        except DjangoValidationError as exc:
            raise exceptions.AuthenticationFailed(" ".join(exc.messages)) from exc
    issued = services.issue_token(acting_user=user, user=user, name="api login")
    return Response(
        {"token": issued.key, "expires": issued.token.expires}, status=status.HTTP_201_CREATED
    )
