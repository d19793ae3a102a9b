"""Control characters are refused at the edge, once for the whole project (issue 13,
item 3), not field by field.

A NUL or another C0 control character (U+0000-U+001F; tab, line feed and carriage return
aside, which text fields hold) is never what an office meant to type. PostgreSQL refuses
NUL in text and in queries (a raw database error, HTTP 500), and an xlsx file cannot hold
the others at all, so an export of such a value would fail. They are refused where a value
enters:

- every API request body, by the parsers of every API view (:class:`JSONParser`,
  :class:`FormParser`, :class:`MultiPartParser`, set as DRF's defaults): HTTP 400 in the
  one error shape, naming the field (``children.name`` inside nested data);
- every web form, in the form's field cleaning (:func:`install_form_guard`, run when the
  project starts): a form error on that field, before the field's own cleaning runs (a
  region chooser would otherwise look the value up in the database);
- every query string and URL path, by :class:`ControlCharacterMiddleware`: HTTP 400 (the
  one error shape under ``/api/``), so no filter or search sends one to the database;
- the few web views that read a posted value without a form (a reason, a note, a target),
  by :func:`post_guarded`: HTTP 400 naming the field.

``tests/test_controlchars.py`` enumerates every form, API view and parser in the project
and proves each goes through this module.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, TypeVar, cast

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers
from rest_framework.exceptions import ErrorDetail

CODE = "control_character"

# C0 controls except tab (09), line feed (0A) and carriage return (0D).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def message() -> str:
    return _("Control characters (such as NUL) are not accepted: retype the value.")


def found_in(value: Any) -> bool:
    """Whether ``value`` (text, or a list of texts as a multiple choice sends) holds one."""
    if isinstance(value, str):
        return CONTROL.search(value) is not None
    if isinstance(value, list | tuple):
        return any(found_in(item) for item in value)
    return False


def offending_paths(data: Any, path: str | None = None) -> Iterator[str | None]:
    """Where control characters are in parsed request data: ``name``, ``children.name``;
    a key that holds one is named itself. None: the body is a bare text."""
    if isinstance(data, dict) or hasattr(data, "lists"):
        items = data.lists() if hasattr(data, "lists") else data.items()
        for key, value in items:
            key_text = str(key)
            here = f"{path}.{key_text}" if path else key_text
            if CONTROL.search(key_text):
                yield CONTROL.sub("?", here)
            else:
                yield from offending_paths(value, here)
    elif isinstance(data, list | tuple):
        for item in data:  # as DRF's own errors name an item: by its list, no index
            yield from offending_paths(item, path)
    elif isinstance(data, str) and CONTROL.search(data):
        yield path


# --- API -----------------------------------------------------------------------------------


class GuardedParser:
    """Mixin for a DRF parser: the parsed body is refused (400, the one error shape) when
    any key or text in it holds a control character."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parsed = super().parse(stream, media_type, parser_context)  # type: ignore[misc]
        data = getattr(parsed, "data", parsed)  # multipart: DataAndFiles
        paths = list(dict.fromkeys(offending_paths(data)))
        if paths:
            detail = ErrorDetail(message(), CODE)
            named = {path: [detail] for path in paths if path is not None}
            raise exceptions.ValidationError(named or {"non_field_errors": [detail]})
        return parsed


class JSONParser(GuardedParser, parsers.JSONParser):
    pass


class FormParser(GuardedParser, parsers.FormParser):
    pass


class MultiPartParser(GuardedParser, parsers.MultiPartParser):
    pass


# --- web forms -----------------------------------------------------------------------------


def _clean_fields(self: forms.BaseForm) -> None:
    """Django's ``BaseForm._clean_fields`` (5.2) with the refusal first: a field whose
    submitted value holds a control character gets the error and is not cleaned."""
    for name, bf in self._bound_items():  # type: ignore[attr-defined]  # Django's own, untyped
        field = bf.field
        try:
            if not field.disabled and found_in(bf.data):
                raise ValidationError(message(), code=CODE)
            self.cleaned_data[name] = field._clean_bound_field(bf)
            if hasattr(self, f"clean_{name}"):
                self.cleaned_data[name] = getattr(self, f"clean_{name}")()
        except ValidationError as error:
            self.add_error(name, error)


def install_form_guard() -> None:
    """Every form (ours, django-filter's, Django's own) refuses control characters.
    Patched on the base class, not inherited from a mixin of ours, so that a form added
    tomorrow, or a library's, cannot be left out."""
    forms.BaseForm._clean_fields = _clean_fields  # type: ignore[attr-defined]


# The view keeps its own type through the guard (as functools.wraps keeps its name).
_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def post_guarded(view: _View) -> _View:
    """For a view that reads ``request.POST`` without a form: a posted value holding a
    control character is refused with 400 naming the field, before the view runs."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        for key, values in request.POST.lists():
            if CONTROL.search(key) or found_in(values):
                return HttpResponseBadRequest(
                    f"{CONTROL.sub('?', key)}: {message()}",
                    content_type="text/plain; charset=utf-8",
                )
        return view(request, *args, **kwargs)

    return cast(_View, guarded)


# --- query strings and paths --------------------------------------------------------------


class ControlCharacterMiddleware:
    """Refuse a request whose URL path or query string holds a control character."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = self._offending(request)
        if where is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            # Here, not at the top: liudong.api.errors imports DRF's views, which read the
            # parser setting naming this module.
            from liudong.api.errors import error_body

            return JsonResponse(
                error_body([{"field": where or None, "code": CODE, "message": message()}]),
                status=400,
            )
        return HttpResponseBadRequest(message(), content_type="text/plain; charset=utf-8")

    @staticmethod
    def _offending(request: HttpRequest) -> str | None:
        """The query parameter holding a control character, "" for the path; None: none."""
        if CONTROL.search(request.path):
            return ""
        for key, values in request.GET.lists():
            if CONTROL.search(key) or found_in(values):
                return CONTROL.sub("?", key)
        return None
