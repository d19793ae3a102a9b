"""Login throttling beyond one account: per address across account names, and a ceiling
for everyone together (password spraying), for the login page and the API token endpoint.

The per-account lock (five failures for one name from one address) lives in
``services.login_with_password``; this module owns the counters that ignore the name.
Counts run over fixed windows of ``LOGIN_LOCK_MINUTES`` aligned to the clock, so every
counter of a window closes at the same moment and one audit entry can sum the window up.

Failures that name no account are counted here and never written one audit row each:
an attacker trying a dictionary of names must not be able to fill the audit log. What the
log gets is bounded: one entry when an address or the whole site is locked, and one summary
per window in which anything failed or was refused.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from liudong.audit import services as audit
from liudong.audit.models import Action

from .models import LoginCounter

ADDRESS, GLOBAL = LoginCounter.ADDRESS, LoginCounter.GLOBAL
# The summary names the busiest addresses of the window, not all of them: its size is fixed.
SUMMARY_ADDRESSES = 20


def address_key(address: str) -> str:
    """The unit an address lock applies to: an IPv4 address, or the /64 an IPv6 address lies
    in (one subscriber gets a whole /64, so single IPv6 addresses cost an attacker nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (address or "")[:45]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCK_MINUTES)


def window_start(now: datetime) -> datetime:
    seconds = int(_window().total_seconds())
    stamp = int(now.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(stamp, tz=now.tzinfo)


def locked_until(address: str, *, now: datetime | None = None) -> datetime | None:
    """When the address's or the site-wide lock ends, if one holds now."""
    now = now or timezone.now()
    ends = [
        until
        for until in LoginCounter.objects.filter(
            Q(scope=ADDRESS, key=address_key(address)) | Q(scope=GLOBAL),
            locked_until__gt=now,
        ).values_list("locked_until", flat=True)
        if until is not None
    ]
    return max(ends, default=None)


def _counter(scope: str, key: str, now: datetime) -> LoginCounter:
    counter, _created = LoginCounter.objects.select_for_update().get_or_create(
        scope=scope, key=key, defaults={"window_start": window_start(now)}
    )
    if counter.window_start < window_start(now):
        # A window that closed before anyone summed it up (no login since): sum it now.
        if counter.scope == GLOBAL:
            _summarise(counter)
        counter.window_start = window_start(now)
        counter.failures = counter.unknown_names = counter.refused = 0
    return counter


@dataclass
class Counted:
    locks: list[tuple[str, datetime]] = field(default_factory=list)


def count_failure(address: str, *, known: bool) -> Counted:
    """Count one failed login (in the caller's transaction); lock the address or the site
    when its limit is reached. Returns the locks this failure set."""
    now = timezone.now()
    result = Counted()
    # The global counter first: should its window have closed unsummed, the summary still
    # finds this window's address counters as they were.
    limits = {
        GLOBAL: ("", settings.LOGIN_GLOBAL_MAX_FAILURES),
        ADDRESS: (address_key(address), settings.LOGIN_ADDRESS_MAX_FAILURES),
    }
    for scope, (key, limit) in limits.items():
        counter = _counter(scope, key, now)
        counter.failures += 1
        if not known:
            counter.unknown_names += 1
        if counter.failures >= limit and not (counter.locked_until and counter.locked_until > now):
            counter.locked_until = now + _window()
            result.locks.append((scope, counter.locked_until))
            audit.record(
                Action.FAILED_LOGIN,
                object_type="accounts.login",
                object_repr=key or "*",
                region=_node_region(),
                detail={
                    "reason": "address locked" if scope == ADDRESS else "all logins locked",
                    "address": key or None,
                    "failures": counter.failures,
                    "unknown_names": counter.unknown_names,
                    "locked_until": counter.locked_until.isoformat(),
                },
            )
        counter.save()
    return result


def count_refused(address: str) -> None:
    """An attempt refused under a lock: counted for the window's summary, not logged alone."""
    now = timezone.now()
    with transaction.atomic():
        for scope, key in ((GLOBAL, ""), (ADDRESS, address_key(address))):
            counter = _counter(scope, key, now)
            counter.refused += 1
            counter.save()


def flush(*, now: datetime | None = None) -> int:
    """Write the summary of every closed window and drop address counters no longer needed;
    called on each login attempt (cheap: one indexed look-up when nothing closed)."""
    now = now or timezone.now()
    current = window_start(now)
    written = 0
    if not LoginCounter.objects.filter(window_start__lt=current).exists():
        return 0
    with transaction.atomic():
        for counter in LoginCounter.objects.select_for_update().filter(
            scope=GLOBAL, window_start__lt=current
        ):
            written += _summarise(counter)
            counter.window_start = current
            counter.failures = counter.unknown_names = counter.refused = 0
            counter.save()
        stale = LoginCounter.objects.filter(scope=ADDRESS, window_start__lt=current)
        stale.filter(locked_until__isnull=True).delete()
        stale.filter(locked_until__lte=now).delete()
    return written


def _summarise(counter: LoginCounter) -> int:
    """One audit entry for the window ``counter`` (the global one) counted, if anything
    failed or was refused in it; the busiest addresses of that window are named."""
    if not (counter.failures or counter.refused):
        return 0
    busiest = (
        LoginCounter.objects.filter(scope=ADDRESS, window_start=counter.window_start)
        .order_by("-failures", "-refused", "key")
        .values_list("key", "failures", "refused")[:SUMMARY_ADDRESSES]
    )
    audit.record(
        Action.FAILED_LOGIN,
        object_type="accounts.login",
        object_repr="summary",
        region=_node_region(),
        detail={
            "reason": "summary",
            "window_start": counter.window_start.isoformat(),
            "window_end": (counter.window_start + _window()).isoformat(),
            "failures": counter.failures,
            "unknown_names": counter.unknown_names,
            "refused_while_locked": counter.refused,
            "addresses": [
                {"address": key, "failures": failures, "refused": refused}
                for key, failures, refused in busiest
            ],
        },
    )
    return 1


def _node_region() -> str:
    """The node's own region, so the entries land in its auditors' scope (no region before
    `liudong node init`: then only the command-line export shows them)."""
    identity = apps.get_model("exchange", "NodeIdentity").objects.only("region_id").first()
    return identity.region_id if identity else ""
