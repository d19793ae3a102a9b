"""The node-to-node endpoint: another node POSTs a signed message here.

No account and no session: the message's Ed25519 signature, checked against the key of the
peer trusted for its sender region, is the authentication (so no CSRF token either).
Answers: 200 ``{"status": "accepted"|"duplicate", "id"}``, or 400 in the one error shape
naming the refusal (``bad_signature``, ``unknown_sender``, ``stale``, ``replayed``, ...).
"""

from __future__ import annotations

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from liudong.api.errors import json_error

from . import services
from .messages import Refused

MAX_MESSAGE_BYTES = 64 * 1024  # no message type comes near it


@csrf_exempt
@require_POST
def inbox(request):
    if len(request.body) > MAX_MESSAGE_BYTES:
        return json_error(413, "too_large", "a message is at most 64 KiB")
    try:
        envelope = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return json_error(400, "malformed", "the body is not JSON")
    try:
        message, new = services.receive(envelope)
    except Refused as exc:
        return json_error(400, exc.reason, exc.detail or exc.reason)
    return JsonResponse({"status": "accepted" if new else "duplicate", "id": str(message.id)})
