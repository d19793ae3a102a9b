"""The backup file: a zip holding a manifest, one JSON-lines member per table and the
key material encrypted with a passphrase.

Layout (format version 1)::

    manifest.json          what the file holds: version, created, migration state,
                           per table its columns, row count and SHA-256, the KDF parameters
    manifest.hmac          HMAC-SHA256 of manifest.json under a key derived from the passphrase
    data/<app>.<model>.jsonl   one JSON array per row, columns as the manifest lists them,
                           rows in primary-key order
    keys.enc               AES-256-GCM of a JSON document holding the key files

One scrypt derivation of the passphrase gives two keys: one encrypts the key files, the
other signs the manifest. The manifest names every member's SHA-256, so a file corrupted
or edited anywhere (a table, the keys, the manifest) is refused before restore writes
anything; an attacker who edits a table and recomputes its checksum cannot re-sign the
manifest without the passphrase.

A zip, not a tar: a zip member can be written as a stream of unknown length (a million
rows never sit in memory or in a temporary file) and read back by name.
This module knows the format only; it never touches the database.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "liudong-backup"
VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.hmac"
KEYS = "keys.enc"
MIN_PASSPHRASE = 12
# scrypt cost: N=2^17, r=8 (128 MiB, about half a second here), OWASP's recommendation.
# Recorded in each manifest, so a later change still reads old files.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
# A manifest is read before it can be authenticated: bound what it may ask for, or an
# edited file could make restore allocate gigabytes in the KDF or read a huge manifest.
_N_RANGE = (2**14, 2**20)
_MAX_MANIFEST = 16 * 1024 * 1024
_CHECK = b"liudong-backup passphrase check"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """The file cannot be restored (the message says why); nothing was written."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class Keys:
    encryption: bytes
    signing: bytes

    @classmethod
    def derive(cls, passphrase: str, *, salt: bytes, n: int, r: int, p: int) -> Keys:
        raw = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode())
        return cls(raw[:32], raw[32:])

    def check_value(self) -> str:
        return hmac.new(self.signing, _CHECK, hashlib.sha256).hexdigest()

    def sign(self, data: bytes) -> str:
        return hmac.new(self.signing, data, hashlib.sha256).hexdigest()


class Writer:
    """Writes a backup file next to its final place and moves it there on success, so a
    failed backup never leaves a half-written file under the name asked for."""

    def __init__(self, out: Path, passphrase: str) -> None:
        self.out = out
        self.temporary = out.with_name(f".{out.name}.{os.getpid()}.partial")
        self.salt = os.urandom(16)
        self.keys = Keys.derive(passphrase, salt=self.salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
        # The file holds personal data: readable by its owner only, from the first byte.
        fd = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file = os.fdopen(fd, "wb")
        self.zip = zipfile.ZipFile(
            self._file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6, allowZip64=True
        )
        self.members: dict[str, dict[str, Any]] = {}

    def write_lines(self, name: str, lines: Iterator[bytes]) -> tuple[int, str]:
        """Stream lines into a member; returns (line count, SHA-256 of the member)."""
        digest = hashlib.sha256()
        count = 0
        with self.zip.open(name, "w", force_zip64=True) as member:
            # Rows are small: hand the compressor about a megabyte at a time.
            pending = bytearray()
            for line in lines:
                pending += line
                count += 1
                if len(pending) >= _CHUNK:
                    digest.update(pending)
                    member.write(pending)
                    pending.clear()
            digest.update(pending)
            member.write(pending)
        return count, digest.hexdigest()

    def write_keys(self, material: dict[str, dict]) -> dict[str, Any]:
        document = {
            name: {
                "kind": entry["kind"],
                "files": {path: _b64(content) for path, content in entry["files"].items()},
            }
            for name, entry in material.items()
        }
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys.encryption).encrypt(nonce, json.dumps(document).encode(), _CHECK)
        self.zip.writestr(KEYS, sealed)
        return {
            "member": KEYS,
            "cipher": "AES-256-GCM",
            "nonce": _b64(nonce),
            "sha256": hashlib.sha256(sealed).hexdigest(),
            "names": sorted(material),
        }

    def kdf(self) -> dict[str, Any]:
        return {
            "name": "scrypt",
            "salt": _b64(self.salt),
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "check": self.keys.check_value(),
        }

    def finish(self, manifest: dict[str, Any]) -> None:
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        self.zip.writestr(MANIFEST, data)
        self.zip.writestr(SIGNATURE, self.keys.sign(data))
        self.zip.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.temporary, self.out)

    def abandon(self) -> None:
        with contextlib.suppress(Exception):  # the file is removed below either way
            self.zip.close()
        self._file.close()
        self.temporary.unlink(missing_ok=True)


class Reader:
    """Opens a backup, authenticates it with the passphrase and checks every member.

    After :meth:`open` returns, the manifest is authentic and every member matches it;
    only then may a caller write anything."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except FileNotFoundError as exc:
            raise BackupError(f"{path}: no such file") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise BackupError(f"{path} is not a Liudong backup file (not a zip: {exc})") from exc
        self.manifest: dict[str, Any] = {}
        self.keys: Keys | None = None

    def close(self) -> None:
        self.zip.close()

    def _read_small(self, name: str) -> bytes:
        try:
            with self.zip.open(name) as member:
                data = member.read(_MAX_MANIFEST + 1)
        except KeyError as exc:
            raise BackupError(f"{self.path} is not a Liudong backup file (no {name})") from exc
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"{self.path} is damaged ({name}: {exc})") from exc
        if len(data) > _MAX_MANIFEST:
            raise BackupError(f"{self.path}: {name} is too large to be a backup manifest")
        return data

    def read_manifest(self) -> dict[str, Any]:
        """The manifest, not yet authenticated: enough to say what the file claims to be."""
        raw = self._read_small(MANIFEST)
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            raise BackupError(f"{self.path} is damaged (its manifest is not JSON)") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{self.path} is not a Liudong backup file")
        if manifest.get("version") != VERSION:
            raise BackupError(
                f"{self.path} is a backup of format version {manifest.get('version')}; "
                f"this Liudong reads version {VERSION}"
            )
        self.manifest = manifest
        return manifest

    def authenticate(self, passphrase: str) -> None:
        manifest = self.manifest or self.read_manifest()
        try:
            kdf = manifest["kdf"]
            n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
            salt = base64.b64decode(kdf["salt"])
            check = str(kdf["check"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(
                f"{self.path} is damaged (its key parameters are unreadable)"
            ) from exc
        if kdf.get("name") != "scrypt" or not (
            _N_RANGE[0] <= n <= _N_RANGE[1] and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 4
        ):
            raise BackupError(f"{self.path} is damaged (its key parameters are out of range)")
        keys = Keys.derive(passphrase, salt=salt, n=n, r=r, p=p)
        if not hmac.compare_digest(keys.check_value(), check):
            raise BackupError("wrong passphrase: it does not open this backup")
        signature = self._read_small(SIGNATURE).decode(errors="replace").strip()
        if not hmac.compare_digest(keys.sign(self._read_small(MANIFEST)), signature):
            raise BackupError(f"{self.path} was altered: its manifest does not match its signature")
        self.keys = keys

    def check_members(self) -> None:
        """Recompute every member's SHA-256 (a full read: CRC errors surface too)."""
        expected = {table["member"]: table["sha256"] for table in self.manifest["tables"]}
        expected[self.manifest["keys"]["member"]] = self.manifest["keys"]["sha256"]
        for name, digest in expected.items():
            actual = hashlib.sha256()
            try:
                with self.zip.open(name) as member:
                    while chunk := member.read(_CHUNK):
                        actual.update(chunk)
            except KeyError as exc:
                raise BackupError(f"{self.path} is damaged: {name} is missing") from exc
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
                raise BackupError(f"{self.path} is damaged ({name}: {exc})") from exc
            if not hmac.compare_digest(actual.hexdigest(), digest):
                raise BackupError(f"{self.path} was altered or damaged: {name} does not match")

    def key_material(self) -> dict[str, dict]:
        assert self.keys is not None, "authenticate first"
        info = self.manifest["keys"]
        sealed = self.zip.read(info["member"])
        try:
            plain = AESGCM(self.keys.encryption).decrypt(
                base64.b64decode(info["nonce"]), sealed, _CHECK
            )
        except InvalidTag as exc:
            raise BackupError(f"{self.path} was altered: its keys do not decrypt") from exc
        document = json.loads(plain)
        return {
            name: {
                "kind": entry["kind"],
                "files": {path: base64.b64decode(text) for path, text in entry["files"].items()},
            }
            for name, entry in document.items()
        }

    def lines(self, name: str) -> IO[bytes]:
        return self.zip.open(name)
