"""This node's Ed25519 signing keys: where they live, creation on first use, rotation,
and the public keys that verify what any of them signed.

``LIUDONG_NODE_KEY`` names a folder (default ``var/node-keys``) holding one PEM file per
private key (``<key id>.pem``, mode 0600) and a file ``current`` naming the key that signs
now. Rotating adds a key and points ``current`` at it; old keys are never deleted, and
every public key is also kept in the database (:class:`SigningKey`), so a certificate
signed before a rotation keeps verifying, on this node and on any node holding the table.

The key id is the first 8 hex digits of the SHA-256 of the raw public key. This module
reads and writes key files and key rows; it knows nothing of certificates.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from .models import SigningKey

CURRENT = "current"
_lock = threading.Lock()
# Public keys by id: verifying 100,000 payloads must not ask the database 100,000 times.
_public: dict[str, Ed25519PublicKey] = {}


class KeyFolderError(RuntimeError):
    """The key folder cannot be used (named in the message)."""


@dataclass(frozen=True)
class NodeKey:
    key_id: str
    private: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def key_folder() -> Path:
    raw = os.environ.get("LIUDONG_NODE_KEY")
    return Path(raw) if raw else Path(settings.VAR_DIR) / "node-keys"


def _raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(public)).hexdigest()[:8]


def _folder_ready() -> Path:
    folder = key_folder()
    if folder.exists() and not folder.is_dir():
        raise KeyFolderError(
            f"LIUDONG_NODE_KEY={folder} is a file: it must name a folder for the node's keys"
        )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _write_private(folder: Path, private: Ed25519PrivateKey) -> str:
    key_id = key_id_of(private.public_key())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created with mode 0600 from the first byte: never readable by others, not even briefly.
    fd = os.open(folder / f"{key_id}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key_id


def _set_current(folder: Path, key_id: str) -> None:
    temporary = folder / f".{CURRENT}.{os.getpid()}.{threading.get_ident()}"
    temporary.write_text(key_id + "\n")
    os.replace(temporary, folder / CURRENT)


def _read_private(folder: Path, key_id: str) -> Ed25519PrivateKey:
    path = folder / f"{key_id}.pem"
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise KeyFolderError(f"cannot read the signing key {path}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFolderError(f"{path} is not an Ed25519 private key")
    return private


def _register(key_id: str, public: Ed25519PublicKey) -> None:
    """Keep the public half in the database (idempotent) and in the process cache."""
    encoded = base64.b64encode(_raw_public(public)).decode()
    SigningKey.objects.get_or_create(key_id=key_id, defaults={"public_key": encoded, "own": True})
    _public[key_id] = public


def current_key() -> NodeKey:
    """The key that signs now; the first call on a new node creates it."""
    with _lock:
        folder = _folder_ready()
        pointer = folder / CURRENT
        if pointer.exists():
            key_id = pointer.read_text().strip()
            private = _read_private(folder, key_id)
        else:
            private = Ed25519PrivateKey.generate()
            key_id = _write_private(folder, private)
            _set_current(folder, key_id)
        _register(key_id, private.public_key())
        return NodeKey(key_id, private)


def rotate() -> NodeKey:
    """Make a new key the current one. The old ones stay (files and public keys)."""
    with _lock:
        folder = _folder_ready()
        # Keep the outgoing key's public half registered before it stops signing.
        pointer = folder / CURRENT
        if pointer.exists():
            old_id = pointer.read_text().strip()
            _register(old_id, _read_private(folder, old_id).public_key())
        private = Ed25519PrivateKey.generate()
        key_id = _write_private(folder, private)
        _register(key_id, private.public_key())
        _set_current(folder, key_id)
        return NodeKey(key_id, private)


def public_key(key_id: str) -> Ed25519PublicKey | None:
    """The public key with this id: cached, else from the database, else from this node's
    own key folder (registering it). None when no key of that id is known."""
    cached = _public.get(key_id)
    if cached is not None:
        return cached
    row = SigningKey.objects.filter(key_id=key_id).values_list("public_key", flat=True).first()
    if row is not None:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(row))
        _public[key_id] = public
        return public
    folder = key_folder()
    if key_id.isalnum() and (folder / f"{key_id}.pem").is_file():
        public = _read_private(folder, key_id).public_key()
        _register(key_id, public)
        return public
    return None


def signature_ok(public: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def forget_cache() -> None:
    """For tests that switch key folders or databases."""
    _public.clear()
