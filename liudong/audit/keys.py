"""The audit chain's secret key and the MAC that links one entry to the next.

Whoever can write the database can recompute a plain SHA-256 chain after editing an entry;
a MAC keyed with a secret that is *not* in the database cannot be recomputed without that
secret. ``LIUDONG_AUDIT_KEY`` names the key file (default ``var/audit-key``): 32 random
bytes as hex, created on first use with mode 0600, like the node key. Back it up with the
database: an entry keyed with a lost key can no longer be checked.

Every entry names the algorithm that chained it (:data:`PLAIN` for entries written before
keyed chaining, one of :data:`MACS` after), so a later algorithm (an SM3-HMAC under
``LIUDONG_CRYPTO=sm``) is one more entry in :data:`MACS` and a different answer from
:func:`chain_algorithm`; verification needs no other change.

This module reads and writes the key file and computes MACs; it knows nothing of entries.
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from liudong import crypto

PLAIN = "sha256"  # entries chained before keyed chaining: unkeyed, kept verifiable
HMAC_SHA256 = "hmac-sha256"
HMAC_SM3 = "hmac-sm3"  # LIUDONG_CRYPTO=sm (GB/T 32905 SM3 in RFC 2104 HMAC)

KEY_BYTES = 32

# algorithm -> fn(key, data) -> 64 hex digits. Add an algorithm here (and return it from
# chain_algorithm when configured); entries already written keep theirs.
MACS: dict[str, Callable[[bytes, bytes], str]] = {
    # hmac.digest: OpenSSL's one-shot HMAC, no Python object per entry.
    HMAC_SHA256: lambda key, data: hmac.digest(key, data, "sha256").hex(),
    HMAC_SM3: crypto.sm3_hmac,
}

_lock = threading.Lock()
# Path -> (inode, mtime, key): one stat per append instead of one read; a replaced file
# (restored from a backup) is read again.
_cache: dict[Path, tuple[int, int, bytes]] = {}


class AuditKeyError(RuntimeError):
    """The key file cannot be used (named in the message)."""


class AuditKeyMissing(AuditKeyError):
    """There is no key file yet."""


def key_path() -> Path:
    raw = os.environ.get("LIUDONG_AUDIT_KEY")
    return Path(raw) if raw else Path(settings.VAR_DIR) / "audit-key"


def chain_algorithm() -> str:
    """The algorithm new entries are chained with: HMAC-SM3 under ``LIUDONG_CRYPTO=sm``.
    A chain may change algorithm (each entry names its own); it never goes back to plain."""
    return HMAC_SM3 if crypto.configured_algorithm() == crypto.SM2 else HMAC_SHA256


def _read(path: Path) -> bytes:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise AuditKeyMissing(f"the audit key file {path} does not exist") from None
    cached = _cache.get(path)
    if cached and cached[0] == stat.st_ino and cached[1] == stat.st_mtime_ns:
        return cached[2]
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError) as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc}") from exc
    if len(key) < KEY_BYTES:
        raise AuditKeyError(
            f"the audit key file {path} holds {len(key)} bytes; at least {KEY_BYTES} are needed"
        )
    _cache[path] = (stat.st_ino, stat.st_mtime_ns, key)
    return key


def chain_key(*, create: bool = True) -> bytes:
    """The secret the chain is keyed with. With ``create`` (the default) a missing key file
    is created; without it, :class:`AuditKeyMissing` is raised instead."""
    path = key_path()
    with _lock:
        try:
            return _read(path)
        except AuditKeyMissing:
            if not create:
                raise
        if path.exists() and path.is_dir():
            raise AuditKeyError(f"LIUDONG_AUDIT_KEY={path} is a folder: it must name a file")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            # Mode 0600 from the first byte; O_EXCL: of two processes starting at once, one
            # writes the key and the other reads it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read(path)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(os.urandom(KEY_BYTES).hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return _read(path)


def chain_mac(key: bytes, previous: str, body: bytes, *, algorithm: str = HMAC_SHA256) -> str:
    """The MAC of one entry: its body bound to the MAC (or hash) of the entry before it."""
    try:
        mac = MACS[algorithm]
    except KeyError:
        raise AuditKeyError(f"unknown audit chain algorithm {algorithm!r}") from None
    return mac(key, previous.encode("ascii") + b"\n" + body)


def forget_cache() -> None:
    """For tests that switch key files."""
    _cache.clear()
