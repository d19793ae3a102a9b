"""One permission check for every service: :func:`authorize`.

``authorize(actor, capability, *regions)`` passes when the actor's role holds the capability
(``liudong.accounts.roles.CAPABILITIES``) and, if regions are given, one of them lies in the
actor's region subtree (a record placed by several region fields — registration, residence —
is the actor's when any of them is). Otherwise it raises Django's ``PermissionDenied``, which
the web (403), the API (403, one error shape) and the CLI (``liudong: error: …``) already
turn into their answers.

The operator (``liudong.actors.Operator``) holds every capability inside its region; a peer
node holds none (it only exchanges messages); ``None`` is nobody and is refused.

Messages: each capability has its default "your role may not" sentence; a caller whose
users know a more precise sentence passes ``refused=`` / ``outside=`` (both may use
``%(role)s``, ``%(region)s`` — the actor's region — and ``%(code)s`` — the first region
given). A helper is kept only where a rule goes beyond capability and region (e.g. only a
township-level office issues certificates), and it calls authorize() first.

This module owns the check, not the roles (accounts.roles) nor the actors (liudong.actors).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from liudong.accounts import roles
from liudong.actors import Caller, Operator, PeerNode, reach

# What a refused caller reads, per capability (the sentences the services raised before
# they all called authorize(), kept word for word: tests and translations know them).
REFUSED: dict[str, Promise] = {
    roles.CHANGE_PEOPLE: _("Your role may not change person files."),
    roles.VERIFY_CERTIFICATES: _("Your role may not verify certificates."),
    roles.RECORD_SERVICES: _("Your role may not record services, campaigns or help requests."),
    roles.SPOT_CHECK: _("Your role may not make spot checks."),
    roles.MANAGE_USERS: _("Only a county administrator may manage staff accounts."),
    roles.VIEW_REPORTS: _("Your role may not do this with monthly reports."),
    roles.SUBMIT_REPORTS: _("Your role may not do this with monthly reports."),
    roles.APPROVE_REPORTS: _("Your role may not do this with monthly reports."),
    roles.MANAGE_INDICATORS: _("Your role may not do this with monthly reports."),
}
OUTSIDE: Promise = _("This record lies outside your region %(region)s.")


def has_capability(actor: Caller, capability: str) -> bool:
    """Whether the actor's role holds ``capability`` (no region asked)."""
    if isinstance(actor, Operator):
        return True
    if isinstance(actor, PeerNode):
        return capability in roles.CAPABILITIES.get(roles.Role.NODE, set())
    return roles.can(actor, capability)


def authorize(
    actor: Caller,
    capability: str,
    *regions: str | None,
    refused: str | Promise | None = None,
    outside: str | Promise | None = None,
    field: str = "",
) -> None:
    """Raise PermissionDenied unless ``actor`` may use ``capability`` in one of ``regions``.

    ``field`` names the input the region came from, for messages that say ``%(field)s``."""
    role = getattr(actor, "role", "") or ""
    code = _first(regions)
    if not has_capability(actor, capability) or (prefix := reach(actor)) is None:
        message = refused or REFUSED.get(capability) or _("You may not do this.")
        raise PermissionDenied(_format(message, role=role, region="", code=code, field=field))
    if regions and not any((code or "").startswith(prefix) for code in regions):
        raise PermissionDenied(
            _format(outside or OUTSIDE, role=role, region=prefix, code=code, field=field)
        )


def allowed(actor: Caller, capability: str, *regions: str | None) -> bool:
    """Whether :func:`authorize` would let the actor through (pages decide what to offer)."""
    try:
        authorize(actor, capability, *regions)
    except PermissionDenied:
        return False
    return True


def _first(regions: tuple[str | None, ...]) -> str:
    return next((code for code in regions if code), "—")


def _format(message: str | Promise, **values: str) -> str:
    text = str(message)
    try:
        return text % values
    except (KeyError, TypeError, ValueError):
        return text
