"""One JSON error shape for every API error (STYLE.md §7):

    {"errors": [{"field": "name" | null, "code": "required", "message": "…"}]}

Validation errors list every field; other errors carry one entry with field null.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from liudong.base import StaleWrite


def _flatten(detail: Any, field: str | None = None) -> Iterator[dict[str, Any]]:
    """DRF's nested error details as a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__") else key
            yield from _flatten(value, f"{field}.{name}" if field and name else (name or field))
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, field)
    else:
        yield {
            "field": field,
            "code": getattr(detail, "code", None) or "invalid",
            "message": str(detail),
        }


def error_body(errors: list[dict]) -> dict:
    return {"errors": errors}


class Conflict(exceptions.APIException):
    """A write based on a version of the record that is no longer current."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "stale"


def _keeping_codes(exc: DjangoValidationError) -> dict[str, list[ErrorDetail]]:
    """A service's ValidationError as DRF details, each message with the code the service
    gave it (``same_node``, ``answered``, ...) so a client can tell refusals apart."""

    def details(errors: list[DjangoValidationError]) -> list[ErrorDetail]:
        return [
            ErrorDetail(message, error.code or "invalid")
            for error in errors
            for message in error.messages
        ]

    if hasattr(exc, "error_dict"):
        return {field: details(errors) for field, errors in exc.error_dict.items()}
    return {"non_field_errors": details(exc.error_list)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn the services' Django exceptions into DRF ones, then flatten to one shape."""
    if isinstance(exc, StaleWrite):
        exc = Conflict(str(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_keeping_codes(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = error_body(list(_flatten(response.data)))
    # An error is JSON even where a file was asked for (``?format=xlsx``, a PDF): rendered by
    # the xlsx renderer it went out as JSON text labelled as a spreadsheet.
    request = context.get("request")
    if request is not None and getattr(request, "accepted_media_type", "") != "application/json":
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = "application/json"
    return response


def json_error(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        error_body([{"field": None, "code": code, "message": message}]), status=status_code
    )
