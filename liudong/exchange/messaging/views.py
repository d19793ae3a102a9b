"""The node-to-node endpoint (another node POSTs a signed message here), and the staff's
mailbox: what came in for their region and what went out about it.

No account and no session: the message's signature (Ed25519 or SM2), checked against the
keys of the peer trusted for its sender region, is the authentication (so no CSRF token either).
Answers: 200 ``{"status": "accepted"|"duplicate", "id"}``, or 400 in the one error shape
naming the refusal (``bad_signature``, ``unknown_sender``, ``stale``, ``replayed``, ...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.contrib import messages as django_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from liudong import controlchars
from liudong.accounts.roles import ASSISTANCE, CHANGE_PEOPLE, RUN_MATCHING, can
from liudong.api.errors import json_error
from liudong.audit.middleware import client_address
from liudong.certificates import throttle
from liudong.people.template import SEX_CHOICES
from liudong.servicetypes import ServiceType
from liudong.web.decorators import staff_required

from ..models import InboxMessage
from . import services
from .messages import Refused

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


MAX_MESSAGE_BYTES = 64 * 1024  # no message type comes near it
# An address whose messages were refused this many times in ten minutes is answered 429
# until the window ends: whoever sends unsigned or forged messages cannot fill the refusal
# log or keep the node busy checking signatures. A peer's good messages count nothing.
REFUSALS_ALLOWED = 60
REFUSAL_WINDOW = 10 * 60


@csrf_exempt
@require_POST
def inbox(request: SignedInRequest) -> HttpResponse:
    address = client_address(request)
    allowance = throttle.peek(
        address, limit=REFUSALS_ALLOWED, window=REFUSAL_WINDOW, scope="exchange-refusals"
    )
    if not allowance.allowed:
        response = json_error(429, "too_many_refusals", "too many refused messages; wait")
        response["Retry-After"] = str(allowance.retry_after)
        return response
    if len(request.body) > MAX_MESSAGE_BYTES:
        return _refused(address, 413, "too_large", "a message is at most 64 KiB")
    try:
        envelope = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _refused(address, 400, "malformed", "the body is not JSON")
    if any(True for _where in controlchars.offending_paths(envelope)):
        # Neither stored nor logged: PostgreSQL's jsonb refuses a NUL ("\u0000").
        return _refused(address, 400, controlchars.CODE, controlchars.message())
    try:
        message, new = services.receive(envelope)
    except Refused as exc:
        return _refused(address, 400, exc.reason, exc.detail or exc.reason)
    return JsonResponse({"status": "accepted" if new else "duplicate", "id": str(message.id)})


def _refused(address: str, status: int, code: str, message: str) -> HttpResponse:
    throttle.hit(address, limit=REFUSALS_ALLOWED, window=REFUSAL_WINDOW, scope="exchange-refusals")
    return json_error(status, code, message)


# --- the mailbox for staff --------------------------------------------------------------------

TYPE_LABELS = {
    "arrival": _("arrival notice"),
    "departure": _("departure notice"),
    "certificate_issued": _("certificate issued"),
    "certificate_revoked": _("certificate revoked"),
    "verification": _("verification notice"),
    "birth": _("birth notice"),
    "service": _("service notice"),
    "assistance_request": _("assistance request"),
    "assistance_answer": _("assistance answer"),
}
FACT_LABELS = {
    "residence_region": _("residence"),
    "arrival_date": _("arrived"),
    "departure_date": _("left"),
    "number": _("certificate"),
    "issued_on": _("issued"),
    "revoked_on": _("revoked"),
    "verified_on": _("verified"),
    "birth_date": _("born"),
    "sex": _("sex"),
    "service_type": _("service"),
    "date": _("date"),
    "question": _("question"),
    "urgency": _("urgency"),
    "answered_on": _("answered"),
}
PAGE_SIZE = 50
SEX_LABELS = dict(SEX_CHOICES)


def _rows(messages: Sequence[Any], box: str) -> list[dict]:
    """Each message with its masked ID number, its facts labelled, and region codes shown
    as the names of the nearest regions this node knows (a peer's villages are not here)."""
    listed = [(m, services.listed(m.envelope)) for m in messages]
    codes = {m.from_region if box == "in" else m.to_region for m in messages}
    codes |= {facts["residence_region"] for _m, facts in listed if "residence_region" in facts}
    names = services.region_names(codes)
    rows = []
    for message, facts in listed:
        id_number = facts.pop("id_number")
        if "residence_region" in facts:
            facts["residence_region"] = names[facts["residence_region"]]
        if "sex" in facts:
            facts["sex"] = SEX_LABELS.get(facts["sex"], facts["sex"])
        if "service_type" in facts:
            facts["service_type"] = ServiceType(facts["service_type"]).label
        rows.append(
            {
                "message": message,
                "id_number": id_number,
                "place": names[message.from_region if box == "in" else message.to_region],
                "facts": [(FACT_LABELS.get(name, name), value) for name, value in facts.items()],
            }
        )
    return rows


@require_GET
@staff_required()
def home(request: SignedInRequest) -> HttpResponse:
    """The menu's one "exchange" entry: the first of its sections the user may open."""
    for capability, url in (
        (CHANGE_PEOPLE, "exchange:mailbox"),
        (ASSISTANCE, "assistance:list"),
        (RUN_MATCHING, "matching:new"),
    ):
        if can(request.user, capability):
            return redirect(url)
    raise PermissionDenied(_("Your role does not allow this page."))


@require_GET
@staff_required(CHANGE_PEOPLE)
def mailbox(request: SignedInRequest) -> HttpResponse:
    """Messages received for the user's region (those needing attention first) or sent
    about it (those still waiting first), each with its masked facts and its state."""
    box = "out" if request.GET.get("box") == "out" else "in"
    if box == "in":
        found: QuerySet[Any] = services.inbox_for(request.user).order_by("state", "-received_at")
        if request.GET.get("state") == "problem":
            found = found.filter(state=InboxMessage.State.PROBLEM)
    else:
        found = services.outbox_for(request.user).order_by(
            F("delivered_at").desc(nulls_first=True), "-created"
        )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _rows(list(page), box)
    counts = {
        "problem": services.inbox_for(request.user)
        .filter(state=InboxMessage.State.PROBLEM)
        .count(),
        "waiting": services.outbox_for(request.user).filter(delivered_at__isnull=True).count(),
    }
    return render(
        request,
        "exchange/mailbox.html",
        {
            "box": box,
            "page": page,
            "rows": rows,
            "counts": counts,
            "labels": TYPE_LABELS,
            "section": "mailbox",
        },
    )


@require_POST
@staff_required(CHANGE_PEOPLE)
def apply_again(request: SignedInRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(services.inbox_for(request.user), pk=pk)
    try:
        message = services.apply_again(acting_user=request.user, message=message)
    except (ValidationError, PermissionDenied) as exc:
        django_messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        if message.state == InboxMessage.State.APPLIED:
            django_messages.success(request, _("The message was applied."))
        else:
            django_messages.error(request, message.problem)
    return redirect(reverse("exchange:mailbox") + "?box=in")
