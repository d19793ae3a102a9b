"""Her session: who she is for the rest of a short visit, kept apart from staff sign-in.

One place decides how she proved who she is (``liudong.residents.signin``, the access code
today; an SMS or the national app's login later) and then calls :func:`begin`; every page
of hers asks :func:`current` (or uses :func:`resident_required`). The session holds her
file's key and when it ends, never her ID number. It is short (``RESIDENT_SESSION_SECONDS``)
and read-only but for the requests she may make (her pages check that themselves).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from liudong.actors import Resident

SESSION_KEY = "liudong_resident"
DEFAULT_SECONDS = 15 * 60


def lifetime() -> int:
    return int(getattr(settings, "RESIDENT_SESSION_SECONDS", DEFAULT_SECONDS))


def begin(request: HttpRequest, person_id: int) -> Resident:
    """Start her session: any staff session in this browser ends first (a new session key,
    nothing of the old one kept), so one browser is never both."""
    request.session.flush()
    request.session[SESSION_KEY] = {"person": person_id, "until": time.time() + lifetime()}
    request.session.set_expiry(lifetime())
    return Resident(person_id)


def current(request: HttpRequest) -> Resident | None:
    """The resident signed in on this request, or None (none, or her time is over)."""
    held = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(held, dict) or not isinstance(held.get("person"), int):
        return None
    if float(held.get("until", 0)) < time.time():
        end(request)
        return None
    return Resident(held["person"])


def end(request: HttpRequest) -> None:
    request.session.flush()


def resident_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Her pages: the view gets ``resident`` as its second argument; without a session,
    the sign-in page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        resident = current(request)
        if resident is None:
            return redirect("residents:sign_in")
        return view(request, resident, *args, **kwargs)

    return wrapped
