"""The signed payload a certificate's QR code carries, so a verifier needs no network.

Text form: ``LD1.<BODY>.<SIGNATURE>`` (Ed25519, the first version, still written for an
Ed25519 key so every verifier ever shipped reads it) or ``LD2.<ALGORITHM>.<BODY>.<SIGNATURE>``
(the version that names its algorithm: ``LD2.SM2...`` under ``LIUDONG_CRYPTO=sm``).
BODY and SIGNATURE are unpadded RFC 4648 base32 (upper-case
letters and digits 2-7: a QR code stores them in its dense alphanumeric mode, and they
survive copy and paste through any terminal). The body is UTF-8 text, fields separated by
``|`` in this order::

    number|id_number|birth_date|marital_status|children|issued_on|valid_until|key_id|name

with dates as ``YYYYMMDD``. The name comes last, so it may hold any character. The issuing
region is the number's first 9 digits. The signature (64 bytes for both algorithms) is
over ``domain + body``: the domain tag keeps a certificate signature from ever passing as an
exchange message signed by the same node key, and in LD2 it names the algorithm, so the
algorithm is signed too. The key id must name a key of the payload's algorithm.

The QR code carries the payload as a link to the public check page with the payload in the
fragment (:func:`link`): ``https://HOST/verify/#LD1.BODY.SIGNATURE``. A phone camera opens it;
the fragment never leaves the phone (browsers do not send it, so her name and ID number reach
no proxy log), and the page's own script posts it. A scanner that types the link into a staff
page is understood too (:func:`from_scanned`).

Decoding is strict: any text that is not exactly what :func:`encode` would produce (one
character changed, a lower-case letter, stray padding) is malformed or fails the
signature; it never raises anything but :class:`Malformed`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

PREFIX = "LD1"
PREFIXES = ("LD1", "LD2")
DOMAIN = b"liudong certificate v1\n"
ED25519 = "ed25519"
# LD2's algorithm names, as written in the text (upper case: QR alphanumeric mode).
ALGORITHMS = {"ED25519": "ed25519", "SM2": "sm2"}
SIGNATURE_LENGTH = 64
NUMBER_RE = re.compile(r"^(\d{9})-(\d{4})-(\d{6,})$")
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_KEY_RE = re.compile(r"^[0-9a-z]{1,16}$")
_B32_RE = re.compile(r"^[A-Z2-7]+$")
_FIELD_COUNT = 9


class Malformed(ValueError):
    """The text is not a certificate payload (the message says where it went wrong)."""


@dataclass(frozen=True)
class Contents:
    number: str
    id_number: str
    birth_date: datetime.date
    marital_status: str
    children_count: int
    issued_on: datetime.date
    valid_until: datetime.date
    key_id: str
    name: str

    @property
    def issuing_region(self) -> str:
        return self.number[:9]

    def as_dict(self) -> dict:
        return {
            "number": self.number,
            "issuing_region": self.issuing_region,
            "name": self.name,
            "id_number": self.id_number,
            "birth_date": self.birth_date.isoformat(),
            "marital_status": self.marital_status,
            "children_count": self.children_count,
            "issued_on": self.issued_on.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "key_id": self.key_id,
        }


def body_bytes(contents: Contents) -> bytes:
    parts = [
        contents.number,
        contents.id_number,
        contents.birth_date.strftime("%Y%m%d"),
        contents.marital_status,
        str(contents.children_count),
        contents.issued_on.strftime("%Y%m%d"),
        contents.valid_until.strftime("%Y%m%d"),
        contents.key_id,
        contents.name,
    ]
    for part in parts[:-1]:
        if "|" in part:
            raise ValueError(f"a payload field may not contain '|': {part!r}")
    return "|".join(parts).encode("utf-8")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _unb32(text: str, what: str) -> bytes:
    if not _B32_RE.match(text):
        raise Malformed(_("the %(what)s is not base32 text") % {"what": what})
    try:
        data = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise Malformed(_("the %(what)s is not base32 text") % {"what": what}) from exc
    # Unused low bits of the last character must be zero: one text per byte string.
    if _b32(data) != text:
        raise Malformed(_("the %(what)s is not in canonical form") % {"what": what})
    return data


def encode(contents: Contents, signature: bytes, algorithm: str = ED25519) -> str:
    body, sig = _b32(body_bytes(contents)), _b32(signature)
    if algorithm == ED25519:
        return f"{PREFIX}.{body}.{sig}"
    return f"LD2.{algorithm.upper()}.{body}.{sig}"


def signed_message(body: bytes, algorithm: str = ED25519) -> bytes:
    if algorithm == ED25519:
        return DOMAIN + body
    return f"liudong certificate v2 {algorithm}\n".encode() + body


def _date(text: str, what: str) -> datetime.date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise Malformed(_("the %(what)s is not a date") % {"what": what})
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise Malformed(_("the %(what)s is not a date") % {"what": what}) from exc


PUBLIC_CHECK_PATH = "/verify/"


def link(text: str) -> str:
    """What the QR code carries: the public check page with the payload in the fragment."""
    return f"{settings.PUBLIC_URL}{PUBLIC_CHECK_PATH}#{text}"


def from_scanned(text: str) -> str:
    """The payload in what a scanner or camera read: the payload itself, or the link of
    :func:`link` (anything before the fragment is ignored: the signature is what counts)."""
    text = text.strip()
    return text.rsplit("#", 1)[1].strip() if "#" in text else text


def decode(text: str) -> tuple[Contents, bytes, bytes]:
    """(contents, body, signature) of a payload of either version, or its link (:func:`decode_any`
    also says its algorithm), or :class:`Malformed`."""
    contents, body, signature, _algorithm = decode_any(text)
    return contents, body, signature


def decode_any(text: str) -> tuple[Contents, bytes, bytes, str]:
    """(contents, body, signature, algorithm) of a payload of either version or its link, or
    :class:`Malformed`."""
    if not isinstance(text, str):
        raise Malformed(_("a payload is text"))
    text = from_scanned(text)
    pieces = text.split(".")
    if len(pieces) == 3 and pieces[0] == PREFIX:
        algorithm = ED25519
    elif len(pieces) == 4 and pieces[0] == "LD2" and pieces[1] in ALGORITHMS:
        algorithm = ALGORITHMS[pieces[1]]
        pieces = pieces[:1] + pieces[2:]
    else:
        raise Malformed(_("a certificate payload has the form LD1.BODY.SIGNATURE"))
    body = _unb32(pieces[1], "body")
    signature = _unb32(pieces[2], "signature")
    if len(signature) != SIGNATURE_LENGTH:
        raise Malformed(_("the signature has the wrong length"))
    try:
        fields = body.decode("utf-8").split("|", _FIELD_COUNT - 1)
    except UnicodeDecodeError as exc:
        raise Malformed(_("the body is not UTF-8 text")) from exc
    if len(fields) != _FIELD_COUNT:
        raise Malformed(_("the body has the wrong number of fields"))
    number, id_number, birth, marital, children, issued, until, key_id, name = fields
    if not NUMBER_RE.match(number):
        raise Malformed(_("the certificate number is not TOWNSHIP-YEAR-SEQUENCE"))
    if not _ID_RE.match(id_number):
        raise Malformed(_("the ID number is not 18 characters"))
    if len(marital) != 2 or not marital.isascii() or not marital.isdigit():
        raise Malformed(_("the marital status is not a 2-digit code"))
    if not (1 <= len(children) <= 2 and children.isascii() and children.isdigit()):
        raise Malformed(_("the number of children is not a small number"))
    if not _KEY_RE.match(key_id):
        raise Malformed(_("the key id is not valid"))
    if not 1 <= len(name) <= 50:
        raise Malformed(_("the name is empty or too long"))
    contents = Contents(
        number=number,
        id_number=id_number,
        birth_date=_date(birth, "birth date"),
        marital_status=marital,
        children_count=int(children),
        issued_on=_date(issued, "issue date"),
        valid_until=_date(until, "valid-until date"),
        key_id=key_id,
        name=name,
    )
    if body_bytes(contents) != body:
        raise Malformed(_("the body is not in canonical form"))
    return contents, body, signature, algorithm
