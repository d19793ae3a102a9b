"""What the services API view sets share: the xlsx renderer, and the base view set that
lists and retrieves scoped rows and creates and PATCHes them through the service
functions. Reads need a staff role; writes need the capability to record services. A
record outside the caller's region is not found (404); naming a person outside it is
refused (403).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_for_writes
from liudong.accounts.roles import RECORD_SERVICES
from liudong.api.viewsets import ScopedModelViewSet
from liudong.base import TrackedModel
from liudong.people.api.views import KEY_REGEX

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

F = TypeVar("F", bound=Callable[..., Any])


class XLSXRenderer(BaseRenderer):
    """Lets a client ask for ``?format=xlsx``; the workbook itself is returned as is."""

    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes | bytearray):
            return bytes(data)
        return json.dumps(data, ensure_ascii=False).encode()  # an error body


class RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """List, retrieve, create and PATCH through the service functions.

    Subclasses name the model, the request serializer (``write_serializer``), the answer
    serializer (``serializer_class``), the related querysets a request may name
    (``scoped``), the fields fixed once created (``fixed``) and the service calls.
    """

    write_serializer: type
    fixed: tuple[str, ...] = ()
    permission_classes = [capability_for_writes(RECORD_SERVICES)]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = KEY_REGEX

    def scoped(self) -> dict:
        return {}

    @property
    def actor(self) -> User:
        """The caller as the services' actor: the permission classes let only a signed-in
        staff account this far."""
        user = self.request.user
        if not isinstance(user, User):
            raise NotAuthenticated
        return user

    def service_create(self, values: dict[str, Any]) -> TrackedModel:  # pragma: no cover - abstract
        raise NotImplementedError

    # ``obj`` is the view set's own model: Any, since each override names its model.
    def service_update(  # pragma: no cover - abstract
        self, obj: Any, version: int | None, values: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def _answer(self, obj: TrackedModel, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().filter(pk=obj.pk).first() or obj
        return Response(self.get_serializer_class()(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.write_serializer(data=request.data, scoped=self.scoped())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("version", None)
        return self._answer(self.service_create(values), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        data = self.write_serializer(obj, data=request.data, partial=True, scoped=self.scoped())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        fixed = sorted(set(values) & set(self.fixed))
        if fixed:
            raise ValidationError(
                {
                    name: [_("%(field)s cannot be changed once recorded.") % {"field": name}]
                    for name in fixed
                }
            )
        self.service_update(obj, version, values)
        return self._answer(obj)


def with_schema(
    write: type[serializers.Serializer], out: type[serializers.Serializer]
) -> Callable[[F], F]:
    """The request and answer serializers of create and PATCH, for the schema."""
    return extend_schema(request=write, responses={200: out, 201: out})
