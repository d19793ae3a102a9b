"""Sign-in steps after the password: a session that still owes its second factor, or whose
account must change a password someone else chose, reaches only the page that settles it
(and signing out, and the language switch). Every other page redirects there; the API
answers 403 in the one error shape.

Fail closed: an account whose role requires a second factor is held until its session is
verified (django-otp's OTPMiddleware, installed before this one), however the session was
opened. An account that enrolled by choice is held when the login page marked its session.
Requests authenticated by an API token carry no session user and pass untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from .roles import second_factor_required

# Set by the login view for an account that enrolled a device by choice.
SECOND_FACTOR_PENDING = "liudong_second_factor_pending"

SECOND_FACTOR = "second_factor"
PASSWORD = "password"  # noqa: S105 (a step's name)

ALWAYS_ALLOWED = {"accounts:logout", "accounts:login", "set_language"}
STEP_PAGES = {
    SECOND_FACTOR: {"accounts:second_factor", "accounts:second_factor_enrol"},
    PASSWORD: {"accounts:password_change"},
}
STEP_URL = {SECOND_FACTOR: "accounts:second_factor", PASSWORD: "accounts:password_change"}


def pending_step(request: HttpRequest) -> str | None:
    """The sign-in step this session still owes, if any."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    owes_factor = second_factor_required(user) or request.session.get(SECOND_FACTOR_PENDING)
    if owes_factor and not user.is_verified():
        return SECOND_FACTOR
    if user.must_change_password:
        return PASSWORD
    return None


class SignInStepsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = pending_step(request)
        # Read by the base template: no menu of pages the session cannot reach yet.
        request.sign_in_step = step  # type: ignore[attr-defined]
        if step is not None and not self._allowed(request, step):
            return self._hold(request, step)
        return self.get_response(request)

    @staticmethod
    def _allowed(request: HttpRequest, step: str) -> bool:
        try:
            name = resolve(request.path_info).view_name
        except Resolver404:
            return False
        return name in ALWAYS_ALLOWED or name in STEP_PAGES[step]

    @staticmethod
    def _hold(request: HttpRequest, step: str) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            message = (
                _("Finish signing in with your second factor first.")
                if step == SECOND_FACTOR
                else _("Change your password first.")
            )
            code = "second_factor_required" if step == SECOND_FACTOR else "password_change_required"
            return JsonResponse(
                {"errors": [{"field": None, "code": code, "message": message}]}, status=403
            )
        target = reverse(STEP_URL[step])
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request") == "true":
            # A fragment request: send the whole page there, not the form into a div.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
