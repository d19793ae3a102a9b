"""Signed anchors of the audit chain's head, kept outside the database.

A keyed chain shows an edited entry, but not a log emptied (TRUNCATE) or cut short at the
end: what is gone cannot fail a check. An anchor records, at one moment, how many entries
the log had and the MAC of the last one; ``audit.services.verify_chain`` then refuses a
log shorter than any anchor, or one whose entry at an anchor's position is not the one
anchored.

``LIUDONG_AUDIT_ANCHORS`` names the file (default ``var/audit-anchors.jsonl``): one JSON
object a line, appended and never rewritten, each signed with this node's key (Ed25519, or
SM2 under ``LIUDONG_CRYPTO=sm``; ``certificates.keys``), so anyone holding the node's
public key can check it. Lines are written by ``liudong audit anchor``, by ``liudong serve`` every
``LIUDONG_AUDIT_ANCHOR_INTERVAL`` seconds, and once when keyed chaining begins (so the
switch-over point is on record outside the database from its first moment).

There is no parent node in the exchange (peers are equals trusted for region prefixes),
so anchors are not sent anywhere: put the file on storage the database's users cannot
write (another machine, an append-only mount) to make it worth more.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from liudong import crypto

from . import keys
from .models import GENESIS_HASH, AuditEntry

VERSION = 1


class AnchorError(RuntimeError):
    """The anchor file cannot be trusted as it stands (named in the message)."""


@dataclass(frozen=True)
class Anchor:
    at: str  # ISO time the anchor was written
    count: int  # entries in the log then (the last one is entry #count)
    head: str  # that entry's MAC (GENESIS_HASH when count is 0)
    # Entries #1..#legacy_until were chained with plain SHA-256 before keyed chaining began:
    # any later entry chained that way was rewritten by someone without the key.
    legacy_until: int
    key_id: str  # node key that signed it
    line: int = 0  # line of the file (not signed)

    def signed_fields(self) -> dict:
        return {
            "v": VERSION,
            "at": self.at,
            "count": self.count,
            "head": self.head,
            "legacy_until": self.legacy_until,
            "key_id": self.key_id,
        }

    def as_dict(self) -> dict:
        return {"at": self.at, "count": self.count, "head": self.head, "line": self.line}


def anchor_path() -> Path:
    raw = os.environ.get("LIUDONG_AUDIT_ANCHORS")
    return Path(raw) if raw else Path(settings.VAR_DIR) / "audit-anchors.jsonl"


def _signed_bytes(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


# Entries before keyed chaining never change legitimately, so where it began is looked up
# once per process (a scan of the plain prefix) and kept.
_legacy_until: int | None = None


def legacy_until(count: int) -> int:
    """How many entries at the start of the log are plain SHA-256 (``count`` if none is
    keyed yet)."""
    global _legacy_until
    if _legacy_until is not None:
        return _legacy_until
    first_keyed = (
        AuditEntry.objects.exclude(algorithm=keys.PLAIN)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if first_keyed is None:
        return count
    _legacy_until = first_keyed - 1
    return _legacy_until


def forget_cache() -> None:
    """For tests that switch databases."""
    global _legacy_until
    _legacy_until = None


def current_head() -> tuple[int, str]:
    """The log's last entry (number and MAC) as committed; (0, GENESIS_HASH) when empty.
    The entry itself, not the head row: the anchor records what a check will walk."""
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return (last[0], last[1]) if last else (0, GENESIS_HASH)


def write_anchor(
    *, count: int | None = None, head: str | None = None, legacy: int | None = None
) -> Anchor:
    """Sign the chain's head and append it to the anchor file (the current head unless
    given: ``audit.services.append`` gives it when keyed chaining begins)."""
    from liudong.certificates import keys as node_keys  # the node key, not a listener

    if count is None or head is None:
        count, head = current_head()
    if legacy is None:
        legacy = legacy_until(count)
    legacy = min(legacy, count)  # a log emptied since: its anchor still parses (and fails it)
    signer = node_keys.current_key()
    anchor = Anchor(
        at=timezone.now().isoformat(timespec="seconds"),
        count=count,
        head=head,
        legacy_until=legacy,
        key_id=signer.key_id,
    )
    fields = anchor.signed_fields()
    signature = base64.b64encode(signer.sign(_signed_bytes(fields))).decode()
    line = json.dumps({**fields, "signature": signature}, sort_keys=True) + "\n"
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND and one write: lines from the serve loop and the command never interleave,
    # and nothing already written is opened for rewriting.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return anchor


def _public_key(key_id: str, cache: dict[str, crypto.PublicKey]) -> crypto.PublicKey:
    """The node's own public key of that id (Ed25519 or SM2), from its key folder. Not from
    the database's table of public keys: whoever writes the database could add one there."""
    from liudong.certificates import keys as node_keys

    if key_id in cache:
        return cache[key_id]
    path = node_keys.key_folder() / f"{key_id}.pem"
    if not key_id.isalnum() or not path.is_file():
        raise AnchorError(f"signed by key {key_id!r}, which is not in {node_keys.key_folder()}")
    try:
        private = crypto.load_private_pem(path.read_bytes())
    except (OSError, crypto.CryptoError) as exc:
        raise AnchorError(f"cannot read the node key {path}: {exc}") from exc
    cache[key_id] = private.public
    return cache[key_id]


def _parse(number: int, text: str, cache: dict[str, crypto.PublicKey]) -> Anchor:
    from liudong.certificates import keys as node_keys

    try:
        data = json.loads(text)
        anchor = Anchor(
            at=str(data["at"]),
            count=int(data["count"]),
            head=str(data["head"]),
            legacy_until=int(data["legacy_until"]),
            key_id=str(data["key_id"]),
            line=number,
        )
        signature = base64.b64decode(data["signature"], validate=True)
        version = data["v"]
    # OverflowError: JSON's Infinity as the count (int() of an infinite float).
    except (ValueError, KeyError, TypeError, OverflowError, binascii.Error) as exc:
        raise AnchorError(f"line {number} is not an anchor ({exc})") from exc
    if version != VERSION or anchor.count < 0 or not 0 <= anchor.legacy_until <= anchor.count:
        raise AnchorError(f"line {number} is not an anchor of this version")
    public = _public_key(anchor.key_id, cache)
    if not node_keys.signature_ok(public, signature, _signed_bytes(anchor.signed_fields())):
        raise AnchorError(f"line {number}'s signature does not match its contents")
    return anchor


def read_anchors() -> list[Anchor]:
    """Every anchor on record, each signature checked; [] when there is no file yet.
    Raises AnchorError naming the first line that is not a genuine anchor."""
    path = anchor_path()
    try:
        text = path.read_bytes().decode("utf-8")  # no newline translation
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorError(f"cannot read {path}: {exc}") from exc
    cache: dict[str, crypto.PublicKey] = {}
    found = []
    # Lines end in "\n" alone: what json.dumps writes never holds one, while splitlines()
    # would also split at characters a forged line might carry (\x1c, \u2028, ...).
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                found.append(_parse(number, line, cache))
            except AnchorError as exc:
                raise AnchorError(f"{path}: {exc}") from exc
    return found


# The head this process anchored last: a worker writes a new anchor only when the log grew.
_last_anchored: list[tuple[int, str]] = []


def anchor_round() -> Anchor | None:
    """One round of `liudong worker`'s anchoring: an anchor when the log grew since this
    process's last one (a worker taking the job over writes one at once)."""
    head = current_head()
    if _last_anchored and _last_anchored[-1] == head:
        return None
    anchor = write_anchor(count=head[0], head=head[1])
    _last_anchored[:] = [head]
    return anchor


def anchor_loop(stop: threading.Event, *, interval: float, log: Callable[[str], object]) -> None:
    """`liudong serve`'s anchoring: one anchor at start, then one every ``interval``
    seconds while the log has grown, until ``stop`` (a threading.Event) is set. A failed
    round is logged; the next one tries again."""
    from django.db import close_old_connections

    last: tuple[int, str] | None = None
    while True:
        try:
            if current_head() != last:
                anchor = write_anchor()
                last = (anchor.count, anchor.head)
        except Exception as exc:
            log(f"audit: anchor not written: {exc}")
        finally:
            close_old_connections()
        if stop.wait(interval):
            return
