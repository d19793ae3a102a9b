"""The resident ID number (公民身份号码, GB 11643-1999): its syntax, check character, birth date
and sex, the conversion of 15-digit legacy numbers, masking for lists, and the building of valid
numbers for tests and synthetic data. Pure functions on strings and dates.

This module owns the rules of the number itself. It must not touch the database, know about
persons or files, or decide what an importer does with a warning: a wrong check character is
reported as ``check_ok=False`` and the caller chooses.
"""

from __future__ import annotations

import datetime
import math
import operator
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

# ISO 7064 MOD 11-2 as GB 11643 states it: weight of position i (1-based, left to right) is
# 2**(18-i) mod 11; the remainder of the weighted sum picks the check character.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
_ZERO_WEIGHT = ord("0") * sum(WEIGHTS)

_DIGITS = frozenset("0123456789")
# The first two digits of the address code (GB/T 2260): the 31 provinces of the mainland,
# 71 Taiwan, 81 Hong Kong and 82 Macau (residence permits of their residents), 83 Taiwan
# residents' residence permits. Anything else (00, 99, …) names no province: a number
# typed wrongly or made up, kept with a warning as a wrong check digit is.
# fmt: off
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
    "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
    "63", "64", "65", "71", "81", "82", "83",
})
# fmt: on
# Characters that people paste between groups of digits or that ride along from Word and web
# pages: ASCII and Unicode hyphens and dashes, zero-width spaces, the byte-order mark.
_SEPARATORS = {ord(c): None for c in "-‐‑‒–—―−\u200b\u200c\u200d\u2060\ufeff"}


def _today() -> datetime.date:
    """The calendar day where the offices are (settings.TIME_ZONE), not the server's UTC day."""
    if settings.configured:
        from django.utils import timezone

        return timezone.localdate()
    return datetime.date.today()


def _(message: str) -> str:
    # Translated when Django is set up; plain English when the module is used bare (a
    # benchmark or a worker process without settings), instead of ImproperlyConfigured.
    return gettext(message) if settings.configured else message


class IdNumberError(ValueError):
    """A value that cannot be an ID number; str(exc) names the rule (English, via gettext)."""

    code: str  # one of: "required", "length", "characters", "birth_date"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IdNumber:
    value: str  # the normalised 18-character number (upper-case X)
    region: str  # its first 6 digits (address code at issue)
    birth_date: datetime.date
    sex: str  # "1" male, "2" female (GB/T 2261.1)
    check_ok: bool  # False when the 18th character is not the MOD 11-2 check character
    converted_from_15: bool

    @property
    def province_known(self) -> bool:
        # The foreigners' permanent residence ID card of 2023 (GB/T 2659 country code inside)
        # begins with 9 followed by the issuing province's two digits.
        if self.value[0] == "9":
            return self.value[1:3] in PROVINCE_CODES
        return self.value[:2] in PROVINCE_CODES


def normalise(raw: object) -> str:
    """The text of an ID number as typed, pasted or read from a cell, tidied but not checked.

    Full-width digits and letters become ASCII (NFKC), spaces, hyphens and dashes go, a
    lower-case ``x`` becomes ``X``, and a leading apostrophe (Excel's "keep this as text"
    mark, which survives in some csv exports) is dropped. ``None`` gives ``""``.

    An integer cell gives its digits. A float cell is trusted only when it is a whole number
    below 10**15 (a 15-digit legacy number survives as a float): an 18-digit number stored as a
    float has lost its last digits (floats hold 15-16 significant digits), so it is returned as
    Python prints it and :func:`parse` refuses it. NaN (an empty cell in pandas or polars)
    gives ``""``.
    """
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if math.isnan(raw):
            return ""  # an empty cell as pandas and polars read it
        if raw.is_integer() and abs(raw) < 10**15:
            return str(int(raw))
        return repr(raw)
    text = unicodedata.normalize("NFKC", str(raw)).translate(_SEPARATORS)
    text = "".join(text.split())
    if text.startswith("'"):
        text = text[1:]
    return text.replace("x", "X")


def _lost_digits(raw: object) -> bool:
    """A float too large to hold every digit of an ID number: Excel's 1.10105199003070E+17."""
    return isinstance(raw, float) and math.isfinite(raw) and abs(raw) >= 10**15


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character ("0"-"9" or "X") of 17 ASCII digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError(f"check_character needs 17 ASCII digits, got {first17!r}")
    # On the bytes, each digit counts 48 ("0") too much; taking that off once keeps this fast
    # enough for a million synthetic numbers.
    total = sum(map(operator.mul, first17.encode(), WEIGHTS)) - _ZERO_WEIGHT
    return CHECK_CHARACTERS[total % 11]


def parse(raw: object, *, today: datetime.date | None = None) -> IdNumber:
    """Read an ID number or raise :class:`IdNumberError` naming the first rule it breaks.

    A 15-digit legacy number (region, YYMMDD born in the 1900s, 3-digit sequence) is converted
    to 18 characters. A wrong check character is not an error: the result says
    ``check_ok=False``, because real registers hold such numbers and staff must be able to keep
    the file and correct the number later.
    """
    if _lost_digits(raw):
        # Say what happened instead of "got 22 characters" for 1.1010519900307002e+17.
        raise IdNumberError(
            "characters",
            _(
                "The ID number was stored as a number and has lost its last digits; "
                "enter it as text."
            ),
        )
    value = normalise(raw)
    if not value:
        raise IdNumberError("required", _("An ID number is required."))
    if len(value) not in (15, 18):
        raise IdNumberError(
            "length",
            _("An ID number has 18 characters (or 15 for an old one); got %(n)d.")
            % {"n": len(value)},
        )
    if len(value) == 15:
        if not _DIGITS.issuperset(value):
            raise IdNumberError(
                "characters",
                _("An old 15-character ID number has digits only; got “%(value)s”.")
                % {"value": value},
            )
        first17 = value[:6] + "19" + value[6:]
        value = first17 + check_character(first17)
        converted = True
    else:
        if not _DIGITS.issuperset(value[:17]) or value[17] not in CHECK_CHARACTERS:
            raise IdNumberError(
                "characters",
                _("An ID number has 17 digits and then a digit or X; got “%(value)s”.")
                % {"value": value},
            )
        converted = False
    birth_date = _birth_date(value[6:14], today or _today())
    return IdNumber(
        value=value,
        region=value[:6],
        birth_date=birth_date,
        sex="1" if int(value[16]) % 2 else "2",
        check_ok=value[17] == check_character(value[:17]),
        converted_from_15=converted,
    )


def _birth_date(digits: str, today: datetime.date) -> datetime.date:
    try:
        born = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise IdNumberError(
            "birth_date",
            _("The birth date %(date)s in the ID number is not a real date.") % {"date": digits},
        ) from None
    if born < EARLIEST_BIRTH_DATE:
        raise IdNumberError(
            "birth_date",
            _("The birth date %(date)s in the ID number is before 1900.") % {"date": digits},
        )
    if born > today:
        raise IdNumberError(
            "birth_date",
            _("The birth date %(date)s in the ID number is in the future.") % {"date": digits},
        )
    return born


def is_valid(raw: object) -> bool:
    """True when ``raw`` parses and its check character is right."""
    try:
        return parse(raw).check_ok
    except IdNumberError:
        return False


def mask(value: str) -> str:
    """The number as lists show it (PIPL minimum necessary): ``110105********0021``."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "********" + value[-4:]


def make(region: str, birth_date: datetime.date, sequence: int, sex: str) -> str:
    """Build a valid 18-character number for tests and synthetic data.

    ``sequence`` (0-999) is moved up by one when its parity disagrees with ``sex`` ("1" odd,
    "2" even); 999 for a woman becomes 998, so every input gives a number in range. Two
    sequences that differ only in their last bit can therefore give the same number: callers
    who need distinct numbers should vary ``sequence`` in steps of two.
    """
    if len(region) != 6 or not _DIGITS.issuperset(region):
        raise ValueError(f"region must be 6 ASCII digits, got {region!r}")
    if not isinstance(birth_date, datetime.date) or not (
        EARLIEST_BIRTH_DATE.year <= birth_date.year <= 9999
    ):
        raise ValueError(f"birth_date must be a date from 1900 on, got {birth_date!r}")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be an integer 0-999, got {sequence!r}")
    if sex not in ("1", "2"):
        raise ValueError(f"sex must be '1' (male) or '2' (female), got {sex!r}")
    if sequence % 2 != (1 if sex == "1" else 0):
        sequence = sequence + 1 if sequence < 999 else 998
    first17 = (
        f"{region}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{sequence:03d}"
    )
    return first17 + check_character(first17)


def one_transposition_away(value: str, *, today: datetime.date | None = None) -> set[str]:
    """The valid numbers that differ from ``value`` by two adjacent characters swapped among
    the first 17, each with its check character recomputed.

    A clerk who swaps two digits usually keeps the check character of the paper in front of
    them, and MOD 11-2 catches every such swap; these are the numbers they probably meant, to
    look up as possible duplicates. Swaps that give an impossible birth date are left out: no
    register can hold such a number.
    """
    if len(value) != 18 or not _DIGITS.issuperset(value[:17]):
        raise ValueError(f"value must be a normalised 18-character ID number, got {value!r}")
    today = today or _today()
    first17 = value[:17]
    found = set()
    for i in range(16):
        a, b = first17[i], first17[i + 1]
        if a == b:
            continue  # swapping equal digits is no transposition
        swapped = first17[:i] + b + a + first17[i + 2 :]
        try:
            _birth_date(swapped[6:14], today)
        except IdNumberError:
            continue
        candidate = swapped + check_character(swapped)
        if candidate != value:
            found.add(candidate)
    return found
