"""The access code's form: 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L,
2/Z, 5/S, 8/B, 6/G), shown in two groups of five. 23**10 is about 4e13 codes (45 bits):
with the sign-in throttled per ID number and per address, guessing is hopeless, and a hash
of it is all the database holds."""

from __future__ import annotations

import secrets

ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
LENGTH = 10
GROUP = 5


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(code: str) -> str:
    """``ACDEF-HJKMN``: easier to read aloud and to copy from paper."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise(typed: str) -> str:
    """What she typed, as issued: case, spaces and dashes do not matter."""
    return "".join(ch for ch in typed.upper() if ch not in " -\u3000\t")
