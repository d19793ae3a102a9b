"""Her session is read-only: a resident session changes nothing outside her own pages.

Any request other than GET/HEAD/OPTIONS from a resident session is refused (403) unless it
goes to her pages under /me/ (namespace ``residents``: her sign-out and the requests she may
make, which check themselves) or to the few pages anyone may post to (the language switch;
the staff sign-in, which ends her session first). Staff pages and the API see no user with
her session (``request.user`` is anonymous: ``session.begin`` flushed any staff sign-in), so
they give her nothing either way.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from . import session

SAFE = {"GET", "HEAD", "OPTIONS"}
OPEN_TO_POST = {"set_language"}
# A staff member signing in on a browser she used: her session ends, theirs begins.
ENDS_HER_SESSION = {"accounts:login"}


class ResidentReadOnlyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE and session.current(request) is not None:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            name = match.view_name if match else ""
            if name in ENDS_HER_SESSION:
                session.end(request)
            elif not (match and match.namespace == "residents") and name not in OPEN_TO_POST:
                raise PermissionDenied("a resident's session is read-only")
        return self.get_response(request)
