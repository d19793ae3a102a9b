"""Security headers Django 5.2 does not set itself."""

from collections.abc import Callable
from contextlib import suppress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Swagger UI and ECharts set style attributes; scripts stay strictly same-origin.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(self), geolocation=(), microphone=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.user.is_authenticated if hasattr(request, "user") else False:
            # Pages with personal data must not linger in shared township PCs' caches.
            response.setdefault("Cache-Control", "no-store")
        return response


class UploadSizeMiddleware:
    """Refuses a request body larger than UPLOAD_MAX_BYTES before anything reads it (the
    CSRF check and the form parse come later), with a page naming the limit (413), not a
    500 and not a server busy writing a gigabyte to its temporary folder. Django's own
    DATA_UPLOAD_MAX_* settings bound the fields held in memory; this bounds files."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # A form's own fields and boundaries add a few kilobytes to the file.
        if length > settings.UPLOAD_MAX_BYTES + 64 * 1024:
            return upload_too_large(request, settings.UPLOAD_MAX_BYTES)
        return self.get_response(request)


def upload_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    from liudong.api.errors import json_error
    from liudong.filecheck import mib

    message = _("The upload is larger than %(limit)s MiB, the most this server accepts.") % {
        "limit": mib(limit)
    }
    if request.path.startswith("/api/"):
        return json_error(413, "too_large", message)
    # Nothing of the body was read: a form posted back would be refused anyway, so the
    # page says what happened and leads back.
    return render(
        request, "web/error.html", {"title": _("File too large"), "message": message}, status=413
    )


class ChosenLanguageMiddleware(LocaleMiddleware):
    """The pages are in Chinese (LANGUAGE_CODE) unless the user chose English with the
    language switch (its cookie, LANGUAGE_COOKIE_NAME): a township PC whose browser
    happens to ask for English still shows Chinese. The API (/api/) still answers in the
    language its client asks for (Accept-Language), as HTTP clients expect."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path.startswith("/api/"):
            return super().process_request(request)
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            # A cookie naming no language we have leaves the default.
            with suppress(LookupError):
                language = translation.get_supported_language_variant(chosen)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        return None
