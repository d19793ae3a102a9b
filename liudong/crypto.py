"""The signature algorithms a node signs and verifies with, and SM3 / HMAC-SM3.

Two algorithms, named ``ed25519`` (the default) and ``sm2`` (GB/T 32918.2 with the SM3
digest and the default signer id ``1234567812345678`` of GB/T 35276). ``LIUDONG_CRYPTO=sm``
makes a node's new keys SM2 (:func:`configured_algorithm`); what a node verifies is chosen
by the key, never by the setting, so a node accepts both during a changeover.

Ed25519 goes through ``cryptography``; SM2 through GmSSL 3.2 (``gmssl-pyx``: compiled in,
no system library; imported on first use). bench/certificate_verify.py measured the
candidates. GmSSL's one-shot ``sm2_sign(message)`` pre-computes a table for many
signatures and throws it away (50/s against 560/s), so a signature is made over the digest
``e = SM3(Z || M)`` computed here: Z is fixed per public key (GB/T 32918.2 §5.5) and pinned
by the standard's example.

One shape for every key: a public key is ``(algorithm, raw bytes)`` (Ed25519: 32 bytes;
SM2: the point's x || y, 64 bytes), written ``sm2:BASE64`` for SM2 and bare base64 for
Ed25519 (what `node init` printed before SM2 existed). A signature is 64 bytes for both
(SM2: r || s, each 32 bytes big-endian). Private keys are PKCS#8 PEM for both, so
``openssl pkey`` reads either. This module knows nothing of certificates or messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from types import ModuleType

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ED25519 = "ed25519"
SM2 = "sm2"
ALGORITHMS = (ED25519, SM2)
# GB/T 35276-2017 §7.3: the signer id when the parties agreed on none.
SM2_DEFAULT_ID = b"1234567812345678"
SIGNATURE_LENGTH = 64

# The recommended curve of GB/T 32918.5-2017: what Z hashes besides the key.
_SM2_P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
_SM2_A = bytes.fromhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
_SM2_B = bytes.fromhex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
_SM2_G = bytes.fromhex(
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
)
_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)

# PKCS#8 of an SM2 key as OpenSSL writes it (id-ecPublicKey on the curve 1.2.156.10197.1.301):
# fixed bytes around the private scalar and the public point.
_PKCS8_HEAD = bytes.fromhex(
    "308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420"
)
_PKCS8_MIDDLE = bytes.fromhex("a14403420004")
_PKCS8_LENGTH = len(_PKCS8_HEAD) + 32 + len(_PKCS8_MIDDLE) + 64


class CryptoError(ValueError):
    """A key or a setting that cannot be used (the message names it)."""


def _gmssl() -> ModuleType:
    """GmSSL, imported when SM2 is first used: an Ed25519 node runs where no gmssl-pyx
    wheel exists (Linux on ARM64: its source package lacks GmSSL and cannot build)."""
    try:
        import gmssl_pyx
    except ImportError as exc:
        raise CryptoError(
            "SM2 needs the gmssl-pyx package, which has no build for this platform"
        ) from exc
    return gmssl_pyx


def configured_algorithm() -> str:
    """The algorithm of this node's new keys: ``LIUDONG_CRYPTO=sm`` gives SM2."""
    raw = os.environ.get("LIUDONG_CRYPTO", "").strip().lower()
    if raw in ("", ED25519):
        return ED25519
    if raw in ("sm", SM2):
        return SM2
    raise CryptoError(f"LIUDONG_CRYPTO={raw!r}: use 'sm' (SM2/SM3) or leave it unset (Ed25519)")


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_hmac(key: bytes, data: bytes) -> str:
    """HMAC-SM3 (RFC 2104 over GB/T 32905), hex: the national option's keyed audit chain."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


def sm2_z(public_raw: bytes, signer_id: bytes = SM2_DEFAULT_ID) -> bytes:
    """Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) (GB/T 32918.2 §5.5)."""
    entl = (len(signer_id) * 8).to_bytes(2, "big")
    return sm3(entl + signer_id + _SM2_A + _SM2_B + _SM2_G + public_raw)


def _sm2_point(raw: bytes) -> bytes:
    """The 64-byte point, checked to lie on the curve (GmSSL would misbehave otherwise)."""
    gmssl = _gmssl()
    try:
        return gmssl.normalize_sm2_public_key(raw)
    except gmssl.InvalidValueError as exc:
        raise CryptoError("not a point of the SM2 curve") from exc


@dataclass(frozen=True)
class PublicKey:
    algorithm: str
    raw: bytes

    @property
    def key_id(self) -> str:
        """First 8 hex digits of the SHA-256 of the raw key (as before SM2 existed)."""
        return hashlib.sha256(self.raw).hexdigest()[:8]

    def text(self) -> str:
        """What `node init` prints and `node trust --key` reads."""
        encoded = base64.b64encode(self.raw).decode()
        return encoded if self.algorithm == ED25519 else f"{self.algorithm}:{encoded}"

    def stored(self) -> str:
        """The base64 kept in a key table beside a column naming the algorithm."""
        return base64.b64encode(self.raw).decode()

    def verify(self, signature: bytes, data: bytes) -> bool:
        if len(signature) != SIGNATURE_LENGTH:
            return False
        if self.algorithm == ED25519:
            try:
                Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
            except InvalidSignature:
                return False
            return True
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        if not (0 < r < _SM2_N and 0 < s < _SM2_N):
            return False
        digest = sm3(sm2_z(self.raw) + data)
        gmssl = _gmssl()
        try:
            return bool(gmssl.sm2_verify_sm3_digest(self.raw, digest, encode_dss_signature(r, s)))
        except (gmssl.InvalidValueError, gmssl.GmsslInnerError):
            return False


@dataclass(frozen=True)
class PrivateKey:
    algorithm: str
    # Ed25519: the cryptography key; SM2: the 32-byte scalar.
    secret: Ed25519PrivateKey | bytes
    public: PublicKey

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.secret, Ed25519PrivateKey):
            return self.secret.sign(data)
        digest = sm3(sm2_z(self.public.raw) + data)
        r, s = decode_dss_signature(_gmssl().sm2_sign_sm3_digest(self.secret, digest))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def pem(self) -> bytes:
        if isinstance(self.secret, Ed25519PrivateKey):
            return self.secret.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        der = _PKCS8_HEAD + self.secret + _PKCS8_MIDDLE + self.public.raw
        lines = [base64.b64encode(der[i : i + 48]).decode() for i in range(0, len(der), 48)]
        return (
            "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"
        ).encode()


def generate(algorithm: str) -> PrivateKey:
    if algorithm == ED25519:
        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return PrivateKey(ED25519, private, PublicKey(ED25519, raw))
    if algorithm == SM2:
        public_raw, secret = _gmssl().sm2_key_generate()
        return PrivateKey(SM2, secret, PublicKey(SM2, public_raw))
    raise CryptoError(f"unknown signature algorithm {algorithm!r}")


def load_private_pem(data: bytes) -> PrivateKey:
    """An Ed25519 or SM2 private key from PKCS#8 PEM (CryptoError if neither)."""
    text = data.decode("ascii", "replace")
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("not a PEM private key") from exc
    if len(der) == _PKCS8_LENGTH and der.startswith(_PKCS8_HEAD):
        secret = der[len(_PKCS8_HEAD) : len(_PKCS8_HEAD) + 32]
        middle_at = len(_PKCS8_HEAD) + 32
        if der[middle_at : middle_at + len(_PKCS8_MIDDLE)] != _PKCS8_MIDDLE:
            raise CryptoError("not an SM2 private key in the form OpenSSL writes")
        public = PublicKey(SM2, _sm2_point(der[middle_at + len(_PKCS8_MIDDLE) :]))
        return PrivateKey(SM2, secret, public)
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CryptoError(f"not a private key: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise CryptoError("neither an Ed25519 nor an SM2 private key")
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return PrivateKey(ED25519, private, PublicKey(ED25519, raw))


def public_key(algorithm: str, raw: bytes) -> PublicKey:
    """A public key from its raw bytes, checked for its algorithm."""
    if algorithm == ED25519:
        try:
            Ed25519PublicKey.from_public_bytes(raw)
        except ValueError as exc:
            raise CryptoError("not an Ed25519 public key") from exc
        return PublicKey(ED25519, bytes(raw))
    if algorithm == SM2:
        return PublicKey(SM2, _sm2_point(raw))
    raise CryptoError(f"unknown signature algorithm {algorithm!r}")


def public_key_from_text(text: str) -> PublicKey:
    """``sm2:BASE64`` or ``ed25519:BASE64`` or bare base64 (Ed25519, the older form)."""
    algorithm, _, encoded = text.strip().rpartition(":")
    algorithm = algorithm.lower() or ED25519
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("the key is not base64 text") from exc
    return public_key(algorithm, raw)


def public_key_from_stored(algorithm: str, encoded: str) -> PublicKey:
    """A key read back from a table: trusted when written, so decoded without the curve
    check (verifying 100,000 payloads must not redo it)."""
    if algorithm not in ALGORITHMS:
        raise CryptoError(f"unknown signature algorithm {algorithm!r}")
    return PublicKey(algorithm, base64.b64decode(encoded))
