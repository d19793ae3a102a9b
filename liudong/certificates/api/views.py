"""Certificates, verifications at the residence and notices in the API, scoped to the
caller (``certificates.queries``); every change goes through the services (``issuing``,
``verification``, ``notices``).

Lists show the masked ID number; reading one certificate returns its full contents and
is logged. Issuing and revoking need the township role (the service then checks it is her
registration township); verifying and notices need a role that verifies (the service
checks she lives in the caller's region). Refusals come back in the one error shape
(``liudong.api.errors``) with their codes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from liudong.accounts.models import User
from liudong.accounts.permissions import capability_for_all, capability_required
from liudong.accounts.roles import ISSUE_CERTIFICATES, VERIFY_CERTIFICATES
from liudong.api.viewsets import ScopedModelViewSet
from liudong.people.api.views import KEY_REGEX

from .. import issuing, notices, printing, queries, verification
from ..models import Certificate, Method, Notice, Verification
from .filters import CertificateFilter, NoticeFilter, VerificationFilter
from .serializers import (
    CertificateIssueSerializer,
    CertificateListSerializer,
    CertificateSerializer,
    NoticeCreateSerializer,
    NoticeSerializer,
    PayloadSerializer,
    RevokeSerializer,
    VerificationCreateSerializer,
    VerificationSerializer,
    VerifyResultSerializer,
)


# TOWNSHIP-YEAR-SEQUENCE (issuing.allocate_number); anything else is simply not found.
def _actor(request: Request) -> User:
    """The account behind an API request: the view sets' permission classes let no
    anonymous caller in."""
    return cast(User, request.user)


NUMBER_REGEX = r"[0-9]{9}-[0-9]{4}-[0-9]{6,12}"


def refusal(exc: DjangoValidationError, field: str | None = None) -> ValidationError:
    """A service's ValidationError as a DRF one, keeping each message's code. Errors that
    name no field are put on ``field`` (the input they are about) when given."""
    detail: dict[str, list[ErrorDetail]] = {}
    groups: list[tuple[str, list[DjangoValidationError]]]
    if hasattr(exc, "error_dict"):
        groups = list(exc.error_dict.items())
    else:
        groups = [(field or "non_field_errors", exc.error_list)]
    for name, errors in groups:
        key = (field or "non_field_errors") if name in ("__all__", "non_field_errors") else name
        detail.setdefault(key, []).extend(
            ErrorDetail(message, code=error.code or "invalid")
            for error in errors
            for message in error.messages
        )
    return ValidationError(detail)


class PDFRenderer(BaseRenderer):
    """Lets a client ask for ``application/pdf``; the PDF itself is returned as is."""

    media_type = "application/pdf"
    format = "pdf"
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


class CertificateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Certificates issued by, or held by women registered or living in, the caller's
    region."""

    filterset_class = CertificateFilter
    http_method_names = ["get", "post", "head", "options"]
    lookup_field = "number"
    lookup_value_regex = NUMBER_REGEX

    model = Certificate

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("issuing_region", "person")

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("create", "revoke"):
            return [capability_required(ISSUE_CERTIFICATES)()]
        # Reading a certificate needs what its pages need (VERIFY_CERTIFICATES): it carries
        # her marital status and contraception method.
        return [capability_for_all(VERIFY_CERTIFICATES)()]

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return CertificateListSerializer if self.action == "list" else CertificateSerializer

    def _fresh(self, certificate: Certificate) -> CertificateSerializer:
        return CertificateSerializer(self.get_queryset().get(pk=certificate.pk))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One certificate with its full contents and signed payload (the read is logged)."""
        certificate = self.get_object()
        queries.view_certificate(acting_user=_actor(request), certificate=certificate, via="api")
        return Response(CertificateSerializer(certificate).data)

    @extend_schema(request=CertificateIssueSerializer, responses={201: CertificateSerializer})
    def create(self, request: Request) -> Response:
        """Issue her certificate (the township of her household registration only). She
        is found by ID number among the files in the caller's region; a refusal about her
        (a man, under 18 or over 49, already holding one) names the ``id_number`` field."""
        data = CertificateIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            person = issuing.find_person(_actor(request), data.validated_data["id_number"])
            certificate = issuing.issue(
                person,
                acting_user=_actor(request),
                contraception=data.validated_data.get("contraception"),
            )
        except DjangoValidationError as exc:
            raise refusal(exc, "id_number") from exc
        return Response(self._fresh(certificate).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevokeSerializer, responses={200: CertificateSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, number: str | None = None) -> Response:
        """Revoke a certificate (its issuing township only), giving the reason."""
        certificate = self.get_object()
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            issuing.revoke(
                certificate.number, data.validated_data["reason"], acting_user=_actor(request)
            )
        except DjangoValidationError as exc:
            raise refusal(exc) from exc
        return Response(self._fresh(certificate).data)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="the A4 certificate with its QR code"
            )
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def pdf(self, request: Request, number: str | None = None) -> HttpResponse:
        """The printable certificate (every print is logged)."""
        certificate = self.get_object()
        data = printing.print_certificate(certificate, acting_user=_actor(request))
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{certificate.number}.pdf"'
        return response

    @extend_schema(request=PayloadSerializer, responses={200: VerifyResultSerializer})
    @action(detail=False, methods=["post"])
    def verify(self, request: Request) -> Response:
        """Check a QR payload offline: signature, key, revocation (as this node knows it)
        and expiry. Answers 200 with ``valid`` false and the ``reason`` for a bad one; the
        check is logged."""
        data = PayloadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = verification.check_payload(
            data.validated_data["payload"], acting_user=_actor(request), via="api"
        )
        return Response(VerifyResultSerializer(result).data)


class VerificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Verifications (查验) made in, or of women registered or living in, the caller's
    region."""

    serializer_class = VerificationSerializer
    filterset_class = VerificationFilter
    permission_classes = [capability_for_all(VERIFY_CERTIFICATES)]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = KEY_REGEX

    model = Verification

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("person", "region", "certificate", "verified_by")

    @extend_schema(request=VerificationCreateSerializer, responses={201: VerificationSerializer})
    def create(self, request: Request) -> Response:
        """Record that her certificate was checked during her current stay (the residence
        only): by ``payload`` (qr), by ``number``, or the record exchanged with her
        registration place for ``person`` (exchanged). Answers with
        ``days_after_arrival``."""
        data = VerificationCreateSerializer(
            data=request.data, people=queries.people_for(_actor(request))
        )
        data.is_valid(raise_exception=True)
        values = data.validated_data
        field = {Method.QR: "payload", Method.NUMBER: "number"}.get(values["method"], "person")
        try:
            recorded = verification.verify_at_residence(
                acting_user=_actor(request),
                method=values["method"],
                person=values.get("person"),
                payload=values.get("payload"),
                number=values.get("number"),
            )
        except DjangoValidationError as exc:
            raise refusal(exc, field) from exc
        fresh = self.get_queryset().get(pk=recorded.pk)
        return Response(VerificationSerializer(fresh).data, status=status.HTTP_201_CREATED)


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedModelViewSet):
    """Notices to obtain a certificate (限期办理通知书) given in the caller's region;
    ``?overdue=true`` is the worklist."""

    serializer_class = NoticeSerializer
    filterset_class = NoticeFilter
    permission_classes = [capability_for_all(VERIFY_CERTIFICATES)]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = KEY_REGEX

    model = Notice

    def narrow(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("person", "region", "episode")

    @extend_schema(request=NoticeCreateSerializer, responses={201: NoticeSerializer})
    def create(self, request: Request) -> Response:
        """Give her a notice with a three-month deadline (where she lives). Asking again
        during the same stay answers with the notice already open."""
        data = NoticeCreateSerializer(data=request.data, people=queries.people_for(_actor(request)))
        data.is_valid(raise_exception=True)
        try:
            notice = notices.issue_notice(
                data.validated_data["person"], acting_user=_actor(request)
            )
        except DjangoValidationError as exc:
            raise refusal(exc, "person") from exc
        fresh = self.get_queryset().get(pk=notice.pk)
        return Response(NoticeSerializer(fresh).data, status=status.HTTP_201_CREATED)
