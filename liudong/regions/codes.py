"""Region codes as strings: their syntax, levels and subtree ranges. No database here.

Codes are the statistical division codes: province 2 digits, city 4, county 6, township 9,
village 12, and (locally) village group 15 = village code + 3 digits. A subtree is a
prefix, and a prefix is queried as a closed range of codes so that any B-tree index on the
code column answers it with a range scan, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum
import unicodedata
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


class Level(enum.IntEnum):
    PROVINCE = 1
    CITY = 2
    COUNTY = 3
    TOWNSHIP = 4
    VILLAGE = 5
    GROUP = 6

    @property
    def length(self) -> int:
        return LEVEL_LENGTHS[self]

    @property
    def label(self) -> _StrPromise:
        return LEVEL_LABELS[self]


LEVEL_LENGTHS = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
    Level.GROUP: 15,
}
LEVEL_BY_LENGTH = {length: level for level, length in LEVEL_LENGTHS.items()}
LEVEL_LABELS = {
    Level.PROVINCE: _("province"),
    Level.CITY: _("city"),
    Level.COUNTY: _("county"),
    Level.TOWNSHIP: _("township"),
    Level.VILLAGE: _("village"),
    Level.GROUP: _("village group"),
}
MAX_CODE_LENGTH = LEVEL_LENGTHS[Level.GROUP]


class CodeError(ValueError):
    """A string that cannot be a region code; the message names the rule."""


def clean_code(raw: object) -> str:
    """Normalise what people type or paste: full-width digits, spaces, Excel numbers.

    Returns the code as a digit string or raises :class:`CodeError`.
    """
    if raw is None:
        raise CodeError(_("A region code is required."))
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a code cell that Excel stored as a number
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    if not text:
        raise CodeError(_("A region code is required."))
    if not text.isascii() or not text.isdigit():
        raise CodeError(_("A region code has digits only, got “%(code)s”.") % {"code": text})
    if len(text) not in LEVEL_BY_LENGTH:
        raise CodeError(
            _("A region code has 2, 4, 6, 9, 12 or 15 digits; “%(code)s” has %(n)d.")
            % {"code": text, "n": len(text)}
        )
    return text


def level_of(code: str) -> Level:
    return LEVEL_BY_LENGTH[len(code)]


def parent_code(code: str) -> str | None:
    level = level_of(code)
    if level == Level.PROVINCE:
        return None
    return code[: Level(level - 1).length]


def ancestors(code: str) -> list[str]:
    """Codes from the province down to (not including) ``code``."""
    return [code[:n] for n in sorted(LEVEL_LENGTHS.values()) if n < len(code)]


def padded_forms(code: str) -> list[str]:
    """Shorter codes a zero-padded code may stand for, most specific first.

    Registers often write 12-digit padded codes (330106002000 for a township, 330106000000
    for a county) or 6-digit ones (330100 for a city). Whether the short form is meant is
    decided by the caller, who knows which codes exist (441900 is itself a county).
    """
    forms = []
    current = code
    while len(current) > 2:
        shorter = current[: Level(level_of(current) - 1).length]
        if current[len(shorter) :].strip("0"):
            break
        forms.append(shorter)
        current = shorter
    return forms


def is_in_subtree(code: str, prefix: str) -> bool:
    return code.startswith(prefix)


def subtree_bounds(prefix: str) -> tuple[str, str]:
    """The closed range [prefix, prefix + 9…9] holding exactly the digit codes under it."""
    return prefix, prefix + "9" * (MAX_CODE_LENGTH - len(prefix))


def subtree_q(prefix: str, field: str = "code") -> Q:
    low, high = subtree_bounds(prefix)
    return Q(**{f"{field}__gte": low, f"{field}__lte": high})
