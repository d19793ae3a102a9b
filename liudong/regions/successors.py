"""Codes that are no longer divisions, and what an unknown code is taken to mean.

ID numbers keep the county code of where they were first issued: a woman born in 1980 in
the county-level city of 宜宾 carries 512501 for life, a code abolished in 1996. The shipped
``data/divisions/successors.csv`` says which division took over an abolished code (old
code, its name, successor, month of the change, the act that made it); SOURCE.md beside it
says where the rows come from. Rows may chain (512527 宜宾县 → 511521 → 511504 叙州区).

A code that is neither known nor listed is placed at its nearest known parent (a typed
village under a known township, an old county under a known city or province): the
caller records that region and shows the warning, never silently.

Pure Python over the shipped file and a ``known`` callable: the importer calls it once per
unknown cell, the forms once per field. No database here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from django.utils.translation import gettext as _

from .codes import ancestors

SUCCESSORS_FILE = "successors.csv"


@dataclass(frozen=True)
class Successor:
    old_code: str
    old_name: str
    code: str
    changed: str  # YYYY-MM or YYYY-MM-DD, as the act gives it
    source: str


@dataclass(frozen=True)
class Placed:
    """Where an unknown code was placed: ``code`` (a known region) and why."""

    given: str
    code: str
    successor: Successor | None  # None: the nearest known parent

    def warning(self, name: str = "") -> str:
        target = f"{self.code} {name}".strip()
        if self.successor is not None:
            return _(
                "Region code %(old)s (%(old_name)s) was replaced by %(new)s in %(changed)s; "
                "%(new)s is recorded."
            ) % {
                "old": self.given,
                "old_name": self.successor.old_name,
                "new": target,
                "changed": self.successor.changed,
            }
        return _(
            "Region code %(old)s is not in the list of divisions; its nearest known parent "
            "%(new)s is recorded. Check the code and pick the exact region if you can."
        ) % {"old": self.given, "new": target}


@lru_cache(maxsize=1)
def successors() -> dict[str, Successor]:
    folder = resources.files("liudong.regions") / "data" / "divisions"
    text = (folder / SUCCESSORS_FILE).read_text(encoding="utf-8")
    return {
        row["old_code"].strip(): Successor(
            old_code=row["old_code"].strip(),
            old_name=row["old_name"].strip(),
            code=row["successor"].strip(),
            changed=row["changed"].strip(),
            source=row["source"].strip(),
        )
        for row in csv.DictReader(io.StringIO(text))
    }


def successor_of(code: str) -> Successor | None:
    """The listed successor of ``code`` or of its nearest listed ancestor.

    A township of an abolished county has no row of its own; its county's successor is
    where it now lies (the township itself may have been renumbered, so we do not guess
    its new 9-digit code). Chains are followed to their end.
    """
    table = successors()
    for candidate in (code, *reversed(ancestors(code))):
        found = table.get(candidate)
        if found is None:
            continue
        seen = {candidate}
        while found.code in table and found.code not in seen:  # a chain of changes
            seen.add(found.code)
            later = table[found.code]
            found = Successor(
                found.old_code, found.old_name, later.code, later.changed, later.source
            )
        return found
    return None


def place_unknown(code: str, known: Callable[[str], bool]) -> Placed | None:
    """Where an unknown, well-formed ``code`` is taken to lie: its successor when the
    changes say so, else its nearest known parent (9 → 6 → 4 → 2 digits); None when not
    even its province is known (a typing error, not an old code)."""
    successor = successor_of(code)
    if successor is not None and known(successor.code):
        return Placed(given=code, code=successor.code, successor=successor)
    for parent in reversed(ancestors(code)):
        if known(parent):
            return Placed(given=code, code=parent, successor=None)
    return None
