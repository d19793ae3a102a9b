"""The public check page /verify/: anyone (no login) pastes the code of a certificate's QR,
or opens the QR's link ``/verify/#LD1...`` with a phone camera, and learns whether it is valid.

The code carries her name and full ID number, so it never travels in a URL a server or proxy
sees: the link holds it in the fragment, which browsers keep to themselves; the page's own
script (``public_verify.js``) reads it and submits the form by POST. A ``?p=`` query (the old
link form) is not checked: the page asks for the code instead.

What an anonymous caller sees is the answer, its reason, and the masked name and ID
number (``VerifyResult.masked_fields``) so she can tell it is hers: never the other
contents, nor the certificate number or its dates (the last valid day would give her
birth date away), DESIGN.md §2.2. Each check is logged as a view by an anonymous caller
from the client's address; each address gets ``throttle.LIMIT`` checks per window, then a
429 page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from liudong.audit.middleware import client_address

from . import throttle, verification
from .api.serializers import PAYLOAD_MAX
from .models import Status

TEMPLATE = "certificates/public_verify.html"


class PublicCheckForm(forms.Form):
    payload = forms.CharField(
        label=gettext_lazy("Certificate code"),
        max_length=PAYLOAD_MAX,
        strip=True,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "spellcheck": "false",
                "autocomplete": "off",
                "autocapitalize": "off",
                "placeholder": "LD…",
            }
        ),
        help_text=gettext_lazy(
            "Paste the text read from the QR code on the certificate; it begins with LD1 or LD2."
        ),
    )


@dataclass(frozen=True)
class PublicAnswer:
    valid: bool
    status: str  # valid / invalid: the headline
    reason: str
    masked_name: str = ""
    masked_id_number: str = ""


def _reason(result: verification.VerifyResult) -> str:
    """The reason in words that name nothing but the rule (no number, no dates)."""
    if result.ok:
        return _(
            "The signature is genuine and, as far as this office knows, the certificate "
            "has been neither revoked nor expired."
        )
    if result.reason == verification.REVOKED:
        return _("This certificate has been revoked by the office that issued it.")
    if result.reason == verification.EXPIRED:
        return _("This certificate has expired.")
    # The services' own messages for these name only the format or the key.
    return result.message


def answer(result: verification.VerifyResult) -> PublicAnswer:
    masked = result.masked_fields() or {}
    return PublicAnswer(
        valid=result.ok,
        status=str(Status.VALID.label) if result.ok else _("invalid"),
        reason=_reason(result),
        masked_name=masked.get("name", ""),
        masked_id_number=masked.get("id_number", ""),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def public_verify(request: HttpRequest) -> HttpResponse:
    """The form; a POST of ``payload`` checks a code."""
    data = {"payload": request.POST.get("payload", "")} if request.method == "POST" else None
    form = PublicCheckForm(data)
    context: dict = {"form": form, "limit": throttle.LIMIT, "window": throttle.WINDOW // 60}
    if data is None or not form.is_valid():
        return render(request, TEMPLATE, context, status=200 if data is None else 400)
    allowance = throttle.hit(client_address(request))
    if not allowance.allowed:
        context["throttled"] = True
        context["retry_minutes"] = max(1, math.ceil(allowance.retry_after / 60))
        response = render(request, TEMPLATE, context, status=429)
        response["Retry-After"] = str(allowance.retry_after)
        return response
    result = verification.check_payload(
        form.cleaned_data["payload"], acting_user=None, via="public"
    )
    context["answer"] = answer(result)
    return render(request, TEMPLATE, context)
