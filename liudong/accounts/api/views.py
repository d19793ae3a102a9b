import math
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action, api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from liudong.accounts import second_factor, services
from liudong.accounts.filters import UserFilter
from liudong.accounts.models import ApiToken, User
from liudong.accounts.permissions import HasRegion, IsStaffWithRegion, capability_for_writes
from liudong.accounts.roles import MANAGE_USERS, USE_WEB, VIEW_AUDIT, can
from liudong.api.viewsets import ScopedModelViewSet
from liudong.audit import services as audit
from liudong.audit.middleware import client_address
from liudong.base import scoped_object_or_404

from .serializers import (
    ApiTokenSerializer,
    CreatedUserSerializer,
    IssuedTokenSerializer,
    TokenIssueSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserCreateSerializer,
    UserSerializer,
)


def _account(request: Request) -> User:
    """The signed-in account: the permission classes (IsStaffWithRegion and those built on
    it) let no anonymous caller reach a view that changes something."""
    return cast(User, request.user)


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    ScopedModelViewSet,
):
    """Staff accounts in the caller's region; county administrators create and change them."""

    model = User

    serializer_class = UserSerializer
    permission_classes = [capability_for_writes(MANAGE_USERS)]
    filterset_class = UserFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        account = self.get_object()
        audit.record_view(
            acting_user=_account(request), obj=account, region=account.region_id, via="api"
        )
        return Response(self.get_serializer(account).data)

    @extend_schema(request=UserCreateSerializer, responses={201: CreatedUserSerializer})
    def create(self, request: Request) -> Response:
        data = UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("version", None)
        values.pop("is_active", None)
        user, password = services.create_user(acting_user=_account(request), **values)
        body = CreatedUserSerializer(user).data
        body["password"] = password
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        changes = dict(serializer.validated_data)
        expected = changes.pop("version", None)
        changes.pop("username", None)
        serializer.instance = services.update_user(
            acting_user=_account(self.request),
            user=serializer.instance,
            expected_version=expected,
            **changes,
        )


@extend_schema(responses=UserSerializer)
@api_view(["GET"])
@permission_classes([IsStaffWithRegion])
def me(request: Request) -> Response:
    return Response(UserSerializer(request.user).data)


@extend_schema(request=TokenRequestSerializer, responses={201: TokenSerializer}, auth=[])
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AnonRateThrottle])
def obtain_token(request: Request) -> Response:
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
        if exc.locked_until:
            # 429 with Retry-After: a client backs off instead of hammering a lock.
            wait = (exc.locked_until - timezone.now()).total_seconds()
            raise exceptions.Throttled(wait=max(1, math.ceil(wait)), detail=str(exc)) from exc
        raise exceptions.AuthenticationFailed(str(exc)) from exc
    if not (can(user, USE_WEB) or can(user, VIEW_AUDIT)):
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


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Your own API tokens and, for a staff administrator, those of the staff in your
    region: listed (never their keys), issued with an expiry, revoked."""

    serializer_class = ApiTokenSerializer
    permission_classes = [HasRegion]

    model = ApiToken

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return queryset.none()
        # One's own tokens lie in one's region; others' only for a staff administrator.
        visible = services.tokens_visible_to(self.request.user)
        return queryset.filter(pk__in=visible.values("pk")).select_related("user")

    @extend_schema(request=TokenIssueSerializer, responses={201: IssuedTokenSerializer})
    def create(self, request: Request) -> Response:
        data = TokenIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data.get("username")
        if username:
            account = scoped_object_or_404(User, request.user, username__iexact=username.strip())
        else:
            account = request.user
        issued = services.issue_token(
            acting_user=_account(request),
            user=account,
            name=data.validated_data.get("name", ""),
            days=data.validated_data.get("days"),
        )
        body = IssuedTokenSerializer(issued.token).data
        body["token"] = issued.key
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        token = services.revoke_token(acting_user=_account(request), token=self.get_object())
        return Response(ApiTokenSerializer(token).data)
