"""The field app's pages (issue 18): the shell a collector's phone installs, its manifest
and its service worker.

The shell carries no personal data: it is the same page for every field account, so the
service worker may keep it and open it without a network. What the phone works with (the
grid's people, to-dos, pick lists, the certificate keys) comes from ``/api/field/bundle/``
into the browser's IndexedDB (``static/field/store.js``); what the collector did offline
goes back through ``/api/field/sync/`` (``static/field/sync.js``). Business rules live in
the services the sync API calls; nothing here decides anything about a person.

Strings for the scripts: JavaScript has no gettext here, so the shell renders ``STRINGS``
(translated now, in the user's language) as a JSON block the scripts read.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from liudong.accounts.roles import CHANGE_PEOPLE, RECORD_SERVICES, VERIFY_CERTIFICATES, can
from liudong.field.verify_strings import VERIFY_STRINGS
from liudong.people.template import MARITAL_CHOICES

if TYPE_CHECKING:
    from collections.abc import Iterator

# Any one of these makes an account a field account (collector, village, township): the
# work done door to door is registering, verifying and recording services.
FIELD_CAPABILITIES = (CHANGE_PEOPLE, VERIFY_CERTIFICATES, RECORD_SERVICES)

# Static files the worker keeps for offline use: the app's own folder and the vendored
# libraries it loads (the QR decoder and the signature check), plus the site's look.
PRECACHED_FOLDERS = ("field/", "vendor/jsqr/", "vendor/tweetnacl/")
PRECACHED_FILES = ("vendor/pico/pico.min.css", "web/liudong.css", "web/favicon.svg")
# Licences and notes beside the vendored files are not loaded by the page.
NOT_LOADED = (".md", ".txt", "/LICENSE")

STRINGS = {
    "app_title": _("Field work"),
    "online": _("Online"),
    "offline": _("Offline"),
    "waiting": _("Waiting to send %(count)s"),
    "sync": _("Send now"),
    "syncing": _("Sending…"),
    "sign_out": _("Sign out"),
    "sign_in_again": _("Please sign in again"),
    "sign_in_again_help": _(
        "Your session has ended. The actions waiting on this phone are kept; sign in again "
        "and they will be sent."
    ),
    "sign_in_first": _(
        "This phone has no data for your grid yet. Open this page once while online and signed in."
    ),
    "signed_out": _("Signed out: the grid's data was removed from this phone."),
    "loaded": _("Grid data of %(when)s"),
    "tab_people": _("People"),
    "tab_todos": _("To-dos"),
    "tab_arrival": _("New arrival"),
    "tab_places": _("Rental houses"),
    "tab_verify": _("Verify"),
    "tab_queue": _("To send"),
    "search": _("Search by name or ID number"),
    "no_people": _("No one found."),
    "people_count": _("%(count)s people in your grid"),
    "arrived": _("Arrived %(date)s"),
    "verified_on": _("Certificate verified %(date)s"),
    "not_verified": _("Certificate not verified"),
    "back": _("Back"),
    "departure": _("Departure"),
    "service": _("Service"),
    "verification": _("Verify certificate"),
    "arrival": _("Arrival"),
    "hazard": _("Hazard found"),
    "rectification": _("Hazard rectified"),
    "unverified": _("Arrivals whose certificate is not verified"),
    "follow_ups": _("Follow-ups due"),
    "hazards": _("Open hazards"),
    "overdue": _("past due"),
    "due_on": _("due %(date)s"),
    "deadline": _("deadline %(date)s"),
    "nothing_due": _("Nothing due."),
    "save": _("Save on this phone"),
    "cancel": _("Cancel"),
    "saved": _("Saved on this phone: it will be sent when online."),
    "not_saved_full": _(
        "NOT saved: this phone's storage is full. What you typed is still in the form; free "
        "some space (or send the waiting actions) and save again."
    ),
    "not_saved": _("NOT saved: %(error)s"),
    "required": _("Required."),
    "id_number": _("ID number"),
    "name": _("Full name"),
    "sex": _("Sex"),
    "sex_from_id": _("from the ID number"),
    "birth_date": _("Birth date"),
    "marital_status": _("Marital status"),
    "phone": _("Phone"),
    "household_region": _("Household region code"),
    "household_region_help": _("6 to 12 digits; the ID number's first 6 when left empty."),
    "residence_region": _("Residence region"),
    "residence_address": _("Residence address"),
    "arrival_date": _("Arrival date"),
    "reason": _("Reason for moving"),
    "employer": _("Employer"),
    "departure_date": _("Departure date"),
    "destination_region": _("Destination region code"),
    "destination_place": _("Destination in words"),
    "service_type": _("Type of service"),
    "given_on": _("Given on"),
    "consent": _("She accepted this service, informed of what it is."),
    "consent_required": _("A service is recorded only when she accepted it."),
    "note": _("Note"),
    "rental_house": _("Rental house"),
    "found_on": _("Found on"),
    "description": _("Hazard"),
    "deadline_label": _("Rectification deadline"),
    "rectified_on": _("Rectified on"),
    "choose": _("— choose —"),
    "queue_empty": _("Nothing waiting: everything done on this phone was sent."),
    "done_at": _("done %(when)s"),
    "state_waiting": _("waiting to send"),
    "state_refused": _("refused"),
    "state_conflict": _("conflict"),
    "edit": _("Fix"),
    "discard": _("Discard"),
    "discard_confirm": _("Really discard: it will not be sent"),
    "discarded": _("Discarded."),
    "conflict_help": _(
        "The file changed on the server since this phone loaded it. Compare, then apply yours "
        "to the current file or discard it."
    ),
    "mine": _("On this phone"),
    "current": _("Current file"),
    "apply_mine": _("Apply mine to the current file"),
    "not_visible": _("The current file is not visible to your account."),
    "sent_summary": _("Sent: %(applied)s applied, %(refused)s refused, %(conflict)s conflicts."),
    "send_failed": _("Not sent (no network or the server is busy): all kept, try again later."),
    "send_error": _("The server did not accept the batch (%(status)s): all kept."),
    "skew_warning": _("This phone's clock is %(minutes)s minutes off the server's."),
    "storage_unavailable": _("This browser cannot keep data offline (private mode?)."),
    "person_unknown": _("person no. %(id)s"),
    "version": _("File version"),
    "choices": {
        "marital_status": [{"value": value, "label": label} for value, label in MARITAL_CHOICES]
    },
}


def _field_account(request: HttpRequest) -> HttpResponse | None:
    """None when the request may use the field app, else the answer to give."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not any(can(request.user, capability) for capability in FIELD_CAPABILITIES):
        raise PermissionDenied(_("Your role does not allow this page."))
    return None


def strings() -> dict[str, object]:
    """The scripts' strings, translated into the request's language (the QR helper's
    verification strings merged in)."""
    merged: dict[str, object] = {**STRINGS, **VERIFY_STRINGS}
    return json.loads(json.dumps(merged, default=str))


@require_GET
def shell(request: HttpRequest) -> HttpResponse:
    """The app's one page: everything on it is drawn by app.js from IndexedDB."""
    if (answer := _field_account(request)) is not None:
        return answer
    return render(
        request,
        "field/app.html",
        {
            "strings": strings(),
            "urls": {
                "bundle": "/api/field/bundle/",
                "sync": "/api/field/sync/",
                "login": f"{reverse('accounts:login')}?next={reverse('field:shell')}",
                "logout": reverse("accounts:logout"),
                "worker": reverse("field:worker"),
                "scope": reverse("field:shell"),
            },
        },
    )


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """What "add to home screen" installs (public: it names no one)."""
    data = {
        "name": "流动人口外勤",
        "short_name": "外勤",
        "lang": "zh-CN",
        "start_url": reverse("field:shell"),
        "scope": reverse("field:shell"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b6e4f",
        "icons": [
            {"src": static("field/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("field/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("field/icon.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            },
        ],
    }
    return HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/manifest+json"
    )


def precached_paths() -> Iterator[str]:
    """Static paths (relative to STATIC_URL) the worker keeps: found where the pages' own
    files are found, so a vendored folder another helper adds is included by being there."""
    seen: set[str] = set()
    for finder in finders.get_finders():
        for path, _storage in finder.list([]):
            path = path.replace("\\", "/")
            if path in seen or path.endswith(NOT_LOADED):
                continue
            if path in PRECACHED_FILES or path.startswith(PRECACHED_FOLDERS):
                seen.add(path)
                yield path


def _worker_source() -> str:
    return str(loader.get_template("field/sw.js").template.source)  # type: ignore[attr-defined]


def release() -> str:
    """The app's version: a hash of the worker's code and of every file it caches. A
    changed file is a new release, hence a new worker that replaces the old caches (and
    never touches IndexedDB, where the waiting actions are)."""
    digest = hashlib.sha256(_worker_source().encode())
    for path in sorted(precached_paths()):
        found = finders.find(path)
        digest.update(path.encode())
        if isinstance(found, str):
            with open(found, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:16]


@never_cache
@require_GET
def worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from /field/ so its scope is the app's folder. Public like
    a static file: an installed worker updates itself even after the session ended."""
    head = (
        f"const RELEASE = {json.dumps(release())};\n"
        f"const SHELL = {json.dumps(reverse('field:shell'))};\n"
        f"const ASSETS = {json.dumps(sorted(static(path) for path in precached_paths()))};\n"
    )
    return HttpResponse(
        head + _worker_source(), content_type="application/javascript; charset=utf-8"
    )
