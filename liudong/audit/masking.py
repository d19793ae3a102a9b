"""ID numbers in the audit log are masked wherever the log is read (PIPL minimum necessary).

The log keeps full before/after images of a person's file so a change can be traced and
undone; but nobody reading the log (its pages, its API, its xlsx export) needs her full ID
number, and a descriptive ``detail`` (a search term, a filter, a snapshot sent to another
place) never needs it at all, so :func:`mask_value` is applied to ``detail`` when an entry is
written and to every shown field when one is read.

Self-contained on purpose: every app writes to the audit log, so it imports no app.
"""

from __future__ import annotations

import re
from typing import Any

# An 18-character resident ID number (the last may be X) or a 15-digit legacy one, standing
# alone: not part of a longer run of letters and digits (a hash, a credit code, a UUID).
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")


def _mask(match: re.Match) -> str:
    # The same form as lists of files show (people.idnumbers.mask): 110105********0021.
    number = match.group(0)
    return number[:6] + "********" + number[-4:]


def mask_text(text: str) -> str:
    """``text`` with every ID number in it masked."""
    return ID_NUMBER_RE.sub(_mask, text)


def mask_value(value: Any) -> Any:
    """A JSON-like value (dict, list, text, number) with every ID number in its text masked;
    keys are masked too (a filter's name never is an ID number, a mapping by ID number is)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_text(str(key)): mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    return value
