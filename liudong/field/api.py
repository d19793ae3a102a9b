"""The field API: ``GET /api/field/bundle/`` (what the phone caches) and
``POST /api/field/sync/`` (what it did offline). Session (with the CSRF header) or bearer
token, as the rest of the API. Session authentication is asked first, so a phone whose
session expired gets 403 JSON (not 401 with a Bearer challenge) and keeps its queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from liudong.accounts.authentication import BearerTokenAuthentication
from liudong.accounts.models import User
from liudong.accounts.roles import USE_WEB, can

from .bundle import KIND_CAPABILITY, bundle_for
from .serializers import (
    FieldBundleSerializer,
    FieldSyncAnswerSerializer,
    FieldSyncRequestSerializer,
)
from .sync import EnvelopeError, sync

if TYPE_CHECKING:
    from rest_framework.views import APIView as View

FIELD_CAPABILITIES = frozenset(KIND_CAPABILITY.values())


class FieldWorker(BasePermission):
    """An account that uses the web and may do at least one kind of field action; a node,
    an auditor or an inspector may not."""

    def has_permission(self, request: Request, view: View) -> bool:
        user = request.user
        return can(user, USE_WEB) and any(can(user, c) for c in FIELD_CAPABILITIES)


class FieldView(APIView):
    authentication_classes = [SessionAuthentication, BearerTokenAuthentication]
    permission_classes = [FieldWorker]


class BundleView(FieldView):
    @extend_schema(responses={200: FieldBundleSerializer}, operation_id="field_bundle")
    def get(self, request: Request) -> Response:
        """Everything the phone keeps for the account's own grid(s): people living there
        (masked ID numbers), to-dos, rental houses, pick lists and certificate keys. The
        read is audited."""
        bundle = bundle_for(cast(User, request.user))
        bundle["csrf_token"] = get_token(request._request)
        return Response(bundle)


class SyncView(FieldView):
    @extend_schema(
        request=FieldSyncRequestSerializer,
        responses={200: FieldSyncAnswerSerializer},
        operation_id="field_sync",
    )
    def post(self, request: Request) -> Response:
        """Apply up to 100 actions done offline, in order, each once (by its client id):
        each answered applied, refused (a rule; fix or discard) or conflict (the file
        changed; the server's version is shown)."""
        try:
            answer = sync(cast(User, request.user), request.data)
        except EnvelopeError as exc:
            raise exceptions.ValidationError(exc.errors) from exc
        return Response(answer)
