"""Rate limit of the public check page (/verify/): at most ``LIMIT`` checks per client
address in each ``WINDOW``-second window, counted in Django's cache.

With the default cache (LocMemCache) the count is kept per server process: a server with
several worker processes allows ``LIMIT`` per address in each of them. Configure a shared
cache (CACHES in settings) where that matters. A count lost with a restarted process only
lets a caller start over; it never refuses anyone wrongly. Windows are fixed (aligned to
the clock), so a caller may make up to twice ``LIMIT`` checks across a window's edge.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache

LIMIT = 30
WINDOW = 10 * 60  # seconds


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    used: int
    retry_after: int  # seconds until the window ends (0 while allowed)


def _key(address: str, window_index: int, scope: str) -> str:
    # Addresses are not kept in the cache in the clear (and any text fits a key).
    digest = hashlib.sha256(address.encode()).hexdigest()
    return f"liudong:{scope}:{digest}:{window_index}"


def peek(address: str, *, limit: int, window: int, scope: str) -> Allowance:
    """Whether ``address`` is still allowed in this window, counting nothing."""
    now = int(time.time())
    used = cache.get(_key(address, now // window, scope)) or 0
    return Allowance(used < limit, used, 0 if used < limit else window - now % window)


def hit(
    address: str,
    *,
    limit: int | None = None,
    window: int | None = None,
    scope: str = "public-check",
) -> Allowance:
    """Count one check from ``address``; refused once more than ``limit`` (default
    :data:`LIMIT`) fall in the current window of ``window`` seconds (:data:`WINDOW`).
    ``scope`` names what is counted (each scope its own count)."""
    limit = LIMIT if limit is None else limit
    window = WINDOW if window is None else window
    now = int(time.time())
    key = _key(address, now // window, scope)
    # add() then incr(): atomic in LocMemCache, Redis and Memcached.
    cache.add(key, 0, timeout=window)
    try:
        used = cache.incr(key)
    except ValueError:  # the entry expired between add and incr
        cache.add(key, 1, timeout=window)
        used = 1
    if used > limit:
        return Allowance(False, used, window - now % window)
    return Allowance(True, used, 0)
