"""Helpers shared by the apps' form views."""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.base import StaleWrite

T = TypeVar("T")


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form fields it names."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)


def apply_service(form: forms.BaseForm, change: Callable[[], T]) -> T | None:
    """Run a service function for a valid form. Its refusals (a broken rule, a stale
    version, a record outside the user's scope) become form errors and None is returned,
    so the page shows what to correct instead of an error page."""
    try:
        return change()
    except ValidationError as exc:
        add_service_errors(form, exc)
    except (StaleWrite, PermissionDenied) as exc:
        form.add_error(None, str(exc))
    return None
