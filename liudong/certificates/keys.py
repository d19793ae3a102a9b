"""This node's signing keys (Ed25519, or SM2 under ``LIUDONG_CRYPTO=sm``): where they
live, creation on first use, rotation, and the public keys that verify what any of them
signed.

``LIUDONG_NODE_KEY`` names a folder (default ``var/node-keys``) holding one PKCS#8 PEM file
per private key (``<key id>.pem``, mode 0600) and a file ``current`` naming the key that
signs now. The folder may hold keys of both algorithms: a new key (the first, or a
rotation) is of the algorithm ``LIUDONG_CRYPTO`` names, and old keys are never deleted.
Every public key is also kept in the database (:class:`SigningKey`, with its algorithm), so
a certificate signed before a rotation or a changeover keeps verifying, on this node and on
any node holding the table.

The key id is the first 8 hex digits of the SHA-256 of the raw public key. This module
reads and writes key files and key rows; it knows nothing of certificates.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings

from liudong import crypto

from .models import SigningKey

CURRENT = "current"
_lock = threading.Lock()
# Public keys by id: verifying 100,000 payloads must not ask the database 100,000 times.
_public: dict[str, crypto.PublicKey] = {}


class KeyFolderError(RuntimeError):
    """The key folder cannot be used (named in the message)."""


@dataclass(frozen=True)
class NodeKey:
    key_id: str
    private: crypto.PrivateKey

    @property
    def algorithm(self) -> str:
        return self.private.algorithm

    @property
    def public(self) -> crypto.PublicKey:
        return self.private.public

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def key_folder() -> Path:
    raw = os.environ.get("LIUDONG_NODE_KEY")
    return Path(raw) if raw else Path(settings.VAR_DIR) / "node-keys"


def key_id_of(public: Any) -> str:
    """The id of a :class:`crypto.PublicKey`, or of a ``cryptography`` Ed25519 public key."""
    if isinstance(public, crypto.PublicKey):
        return public.key_id
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


def _folder_ready() -> Path:
    folder = key_folder()
    if folder.exists() and not folder.is_dir():
        raise KeyFolderError(
            f"LIUDONG_NODE_KEY={folder} is a file: it must name a folder for the node's keys"
        )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _write_private(folder: Path, private: crypto.PrivateKey) -> str:
    key_id = private.public.key_id
    pem = private.pem()
    # Created with mode 0600 from the first byte: never readable by others, not even briefly.
    fd = os.open(folder / f"{key_id}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key_id


def _set_current(folder: Path, key_id: str) -> None:
    temporary = folder / f".{CURRENT}.{os.getpid()}.{threading.get_ident()}"
    temporary.write_text(key_id + "\n")
    os.replace(temporary, folder / CURRENT)


def _read_private(folder: Path, key_id: str) -> crypto.PrivateKey:
    path = folder / f"{key_id}.pem"
    try:
        return crypto.load_private_pem(path.read_bytes())
    except (OSError, crypto.CryptoError) as exc:
        raise KeyFolderError(f"cannot read the signing key {path}: {exc}") from exc


def _register(key_id: str, public: crypto.PublicKey) -> None:
    """Keep the public half in the database (idempotent) and in the process cache."""
    SigningKey.objects.get_or_create(
        key_id=key_id,
        defaults={"public_key": public.stored(), "algorithm": public.algorithm, "own": True},
    )
    _public[key_id] = public


def _new_private() -> crypto.PrivateKey:
    try:
        return crypto.generate(crypto.configured_algorithm())
    except crypto.CryptoError as exc:
        raise KeyFolderError(str(exc)) from exc


def current_key() -> NodeKey:
    """The key that signs now; the first call on a new node creates it."""
    with _lock:
        folder = _folder_ready()
        pointer = folder / CURRENT
        if pointer.exists():
            key_id = pointer.read_text().strip()
            private = _read_private(folder, key_id)
        else:
            private = _new_private()
            key_id = _write_private(folder, private)
            _set_current(folder, key_id)
        _register(key_id, private.public)
        return NodeKey(key_id, private)


def rotate() -> NodeKey:
    """Make a new key (of the algorithm ``LIUDONG_CRYPTO`` names) the current one. The old
    ones stay (files and public keys): what they signed keeps verifying."""
    with _lock:
        folder = _folder_ready()
        # Keep the outgoing key's public half registered before it stops signing.
        pointer = folder / CURRENT
        if pointer.exists():
            old_id = pointer.read_text().strip()
            _register(old_id, _read_private(folder, old_id).public)
        private = _new_private()
        key_id = _write_private(folder, private)
        _register(key_id, private.public)
        _set_current(folder, key_id)
        return NodeKey(key_id, private)


def public_key(key_id: str) -> crypto.PublicKey | None:
    """The public key with this id: cached, else from the database, else from this node's
    own key folder (registering it). None when no key of that id is known."""
    cached = _public.get(key_id)
    if cached is not None:
        return cached
    row = SigningKey.objects.filter(key_id=key_id).values_list("algorithm", "public_key").first()
    if row is not None:
        public = crypto.public_key_from_stored(*row)
        _public[key_id] = public
        return public
    folder = key_folder()
    if key_id.isalnum() and (folder / f"{key_id}.pem").is_file():
        public = _read_private(folder, key_id).public
        _register(key_id, public)
        return public
    return None


def signature_ok(public: crypto.PublicKey, signature: bytes, data: bytes) -> bool:
    return public.verify(signature, data)


def forget_cache() -> None:
    """For tests that switch key folders or databases."""
    _public.clear()
