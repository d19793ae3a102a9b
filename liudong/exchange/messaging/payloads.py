"""What a message's payload may hold, field by field, and what a peer asserts with it.

Owns the field checks a message type's payload is declared with (``catalogue.TYPES``), the
``Refused`` error every check raises, and the two vocabularies a type declares: where its
sender acted (``ActedAt``) and which file it may change (``FileSide``; ``boundary`` holds
the rules). It is the bottom of the exchange: it imports no other exchange module and no
app but the ID-number rules and the service types.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Callable
from typing import Any

from liudong.people.idnumbers import IdNumberError, parse
from liudong.servicetypes import ServiceType

REGION = re.compile(r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3}(\d{3})?)?)?)?)?$")


class Refused(Exception):
    """Why a message is not accepted: ``reason`` is a code, ``detail`` says more."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


def id_number(value: Any) -> str:
    try:
        return parse(value).value
    except (IdNumberError, TypeError) as exc:
        raise ValueError("not an ID number") from exc


def region(value: Any) -> str:
    if not isinstance(value, str) or not REGION.match(value):
        raise ValueError("not a region code")
    return value


def day(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a date")
    datetime.date.fromisoformat(value)
    return value


def text(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise ValueError(f"text of 1 to {limit} characters")
        return value

    return check


def choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError("one of " + ", ".join(allowed))
        return value

    return check


SEX = choice("1", "2")
# The service types the services app records (one list: a type added there can be sent).
SERVICE = choice(*ServiceType.values)


class ActedAt(enum.Enum):
    """The place in a message where its sender acted: what a peer asserts happened there.
    A peer is believed only about its own regions (DESIGN.md §6), so this place must lie
    under the prefix the sender is trusted for (``boundary`` resolves and checks it)."""

    RESIDENCE_NAMED = "the residence the message names (residence_region)"
    RESIDENCE_ON_FILE = "her residence as this node's file shows it (the arrival notice's)"
    ISSUING_TOWNSHIP = "the township that issued the certificate (its number's first part)"
    HER_REGION_THERE = "her registration or residence on this node's file, the sender's one"
    PLACE_ASKED = "the place this node's request asked (the request's other place)"


class FileSide(enum.Enum):
    """Which file the message may change: the one on this node's side of her move."""

    REGISTERED_HERE = "her file is registered on this node (an arrival may make one)"
    REGISTERED_HERE_STAYING_THERE = (
        "her file is registered on this node and its current stay, if any, is the sender's"
    )
    LIVES_HERE_NOT_OURS = (
        "she lives on this node, is registered elsewhere, and the certificate is not one this "
        "node issued"
    )
    HOLDS_IT_HERE_NOT_OURS = (
        "she lives on this node or her file here holds the certificate, and it is not one "
        "this node issued"
    )
    OTHER_SIDE_HERE = "the other of her registration and residence is on this node"
    ASKED_BY_THIS_NODE = "the request answered is one this node sent"
