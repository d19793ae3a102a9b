"""The unified social credit code (统一社会信用代码, GB 32100-2015) of an employer.

Eighteen characters from a 31-character alphabet (digits and capitals without I, O, Z, S,
V, which are too easily misread): registration authority (1st), organisation type (2nd),
the six-digit region code of the registering office (3rd-8th), the organisation code
(9th-17th, GB 11714, itself ending in a check character) and a check character (18th).

A typo in a code registered by hand is caught by the 18th character; that is a refusal.
The organisation code's own check (GB 11714) is reported, not enforced: the 18th check
already covers those characters, and a code that passes it is the one on the licence.
No database here.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {character: value for value, character in enumerate(ALPHABET)}
# 3^(i-1) mod 31 for positions 1..17 (GB 32100-2015, 4.2).
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18

# GB 11714-1997: the organisation code's body uses digits and A-Z (A = 10 ... Z = 35).
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


class CreditCodeError(ValueError):
    """A string that is not a valid credit code; ``rule`` names the rule it breaks."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        super().__init__(message)


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (all from ALPHABET)."""
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check(body8: str) -> str:
    """The GB 11714 check character of an organisation code's first 8 characters."""
    total = sum(int(c, 36) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def normalise(raw: Any) -> str:
    """Full-width characters folded (NFKC), spaces and hyphens dropped, upper case."""
    text = unicodedata.normalize("NFKC", "" if raw is None else str(raw))
    return "".join(text.split()).replace("-", "").upper()


@dataclasses.dataclass(frozen=True)
class CreditCode:
    code: str

    @property
    def registration_authority(self) -> str:
        return self.code[0]

    @property
    def organisation_type(self) -> str:
        return self.code[1]

    @property
    def region_code(self) -> str:
        return self.code[2:8]

    @property
    def organisation_code(self) -> str:
        return self.code[8:17]

    @property
    def organisation_code_ok(self) -> bool:
        """Whether the 9th-17th characters carry a right GB 11714 check character."""
        body, check = self.organisation_code[:8], self.organisation_code[8]
        return check == organisation_check(body)

    def __str__(self) -> str:
        return self.code


def parse(raw: Any) -> CreditCode:
    """The code in ``raw`` or :class:`CreditCodeError` naming the rule it breaks."""
    code = normalise(raw)
    if len(code) != LENGTH:
        raise CreditCodeError(
            "length",
            _("A unified social credit code has 18 characters; “%(code)s” has %(n)d.")
            % {"code": code, "n": len(code)},
        )
    wrong = sorted({c for c in code if c not in VALUES})
    if wrong:
        raise CreditCodeError(
            "characters",
            _(
                "A unified social credit code uses digits and capital letters except I, O, Z, "
                "S and V; “%(code)s” contains %(wrong)s."
            )
            % {"code": code, "wrong": " ".join(wrong)},
        )
    if not code[2:8].isdigit():
        raise CreditCodeError(
            "region",
            _(
                "Characters 3 to 8 of a unified social credit code are a 6-digit region code; "
                "“%(code)s” has “%(part)s”."
            )
            % {"code": code, "part": code[2:8]},
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise CreditCodeError(
            "check",
            _(
                "The check character (18th) of unified social credit code “%(code)s” is wrong: "
                "the first 17 characters give “%(expected)s”. Check the code for a typo."
            )
            % {"code": code, "expected": expected},
        )
    return CreditCode(code)
