"""A peer may assert only what happens in its own regions (DESIGN.md §6, issue 13).

A correctly signed message proves who sent it, not that the sender may say it: a peer
trusted for 广东 (44) could otherwise move a file to one of this node's townships, close a
stay here or revoke a certificate this node issued. So each message type declares, in
``catalogue.TYPES``, where its sender acted (``ActedAt``) and which file it may change
(``FileSide``); :func:`check` resolves both against this node's records and refuses the
message (``outside_sender_region``) unless

- that place lies under the prefix the sender is trusted for, is not one this node serves,
  and no other peer is trusted more narrowly for it (longest prefix, as for routing), and
- the file it would change lies on this node's side of her move.

It runs in ``services.receive`` before the message is stored, inside the transaction that
would accept it: a refused message has no effect and is logged like any other refusal. A
message with no file here to change passes (its effect names the problem and waits, as
before); it is checked again when a specialist applies it later.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

from liudong.certificates.models import Certificate
from liudong.people.models import HeldCertificate, Person

from ..models import AssistanceRequest
from .catalogue import TYPES
from .effects import file_here
from .nodes import peer_for
from .payloads import REGION, ActedAt, FileSide, Refused

OUTSIDE = "outside_sender_region"
# Liudong numbers a certificate TOWNSHIP-YEAR-SEQUENCE (certificates.issuing.allocate_number):
# its first part is the township that issued it.
ISSUER = re.compile(r"^(\d+)-")


@dataclasses.dataclass
class Seen:
    """A message as this node sees it: who may speak for which regions, and her file here."""

    type: str
    payload: dict
    sender: str  # the region prefix the sending peer is trusted for
    node: str  # the region this node serves
    person: Person | None = None
    request: AssistanceRequest | None = None

    def here(self, code: str | None) -> bool:
        return bool(code) and str(code).startswith(self.node)

    def senders(self, code: str | None) -> bool:
        """A region the sender speaks for: under its prefix, not this node's, and not
        another peer's more narrowly trusted prefix."""
        if not code or self.here(code) or not str(code).startswith(self.sender):
            return False
        responsible = peer_for(str(code))
        return responsible is not None and responsible.region_prefix == self.sender


def _refuse(seen: Seen, why: str) -> Refused:
    return Refused(OUTSIDE, f"{seen.type}: {why}")


# --- where the sender acted ---------------------------------------------------------------
# Each returns the region code, or None when no file here names it (nothing to change: the
# effect reports the missing file); a place that cannot be told refuses.


def _residence_named(seen: Seen) -> str | None:
    return seen.payload["residence_region"]


def _residence_on_file(seen: Seen) -> str | None:
    if seen.person is None:
        return None
    if not seen.person.residence_region_id:
        raise _refuse(seen, "her file here shows no current residence the sender could serve")
    return seen.person.residence_region_id


def _issuing_township(seen: Seen) -> str | None:
    found = ISSUER.match(seen.payload["number"])
    if found is None or not REGION.match(found.group(1)):
        raise _refuse(seen, f"certificate number {seen.payload['number']} names no issuing place")
    return found.group(1)


def _her_region_there(seen: Seen) -> str | None:
    if seen.person is None:
        return None  # not on file here: it is answered "not known here", no file changes
    for code in (seen.person.household_region_id, seen.person.residence_region_id):
        if seen.senders(code):
            return code
    raise _refuse(seen, "her file here is neither registered nor living in the sender's regions")


def _place_asked(seen: Seen) -> str | None:
    try:
        request_id = uuid.UUID(str(seen.payload["request_id"]))
    except ValueError:
        raise _refuse(seen, f"no request {seen.payload['request_id']} is known here") from None
    seen.request = AssistanceRequest.objects.filter(request_id=request_id).first()
    if seen.request is None:
        raise _refuse(seen, f"no request {seen.payload['request_id']} is known here")
    return seen.request.other_region


PLACES: dict[ActedAt, Callable[[Seen], str | None]] = {
    ActedAt.RESIDENCE_NAMED: _residence_named,
    ActedAt.RESIDENCE_ON_FILE: _residence_on_file,
    ActedAt.ISSUING_TOWNSHIP: _issuing_township,
    ActedAt.HER_REGION_THERE: _her_region_there,
    ActedAt.PLACE_ASKED: _place_asked,
}


# --- which file it may change -------------------------------------------------------------
# Each returns why the file is not on this node's side, or "" when it is.


def _registered_here(seen: Seen, place: str | None) -> str:
    person = seen.person
    if person is None or seen.here(person.household_region_id):
        return ""  # an arrival makes her file registered here; others wait for one
    return f"her file here is registered in {person.household_region_id}, not on this node"


def _registered_here_staying_there(seen: Seen, place: str | None) -> str:
    why = _registered_here(seen, place)
    stay = seen.person.residence_region_id if seen.person else None
    if not why and stay and not seen.senders(stay):
        # The verification is recorded against her current stay: never one here, nor one
        # in another peer's regions.
        return f"her current stay on file here is at {stay}, not in the sender's regions"
    return why


def _ours(seen: Seen) -> str:
    number = seen.payload["number"]
    if Certificate.objects.filter(number=number).exists():
        return f"certificate {number} was issued by this node: only this node changes it"
    return ""


def _lives_here_not_ours(seen: Seen, place: str | None) -> str:
    person = seen.person
    if why := _ours(seen):
        return why
    if person is None:
        return ""
    if seen.here(person.household_region_id):
        return "she is registered on this node, whose townships issue her certificates"
    if not seen.here(person.residence_region_id):
        return "she does not live on this node"
    return ""


def _holds_it_here_not_ours(seen: Seen, place: str | None) -> str:
    if why := _ours(seen):
        return why
    person = seen.person
    if person is None:
        return ""
    held = HeldCertificate.objects.filter(person=person, number=seen.payload["number"])
    if held.exists():
        return ""  # kept on her file from its issue: its revocation follows it
    return _lives_here_not_ours(seen, place)


def _other_side_here(seen: Seen, place: str | None) -> str:
    person = seen.person
    if person is None:
        return ""
    others = {person.household_region_id, person.residence_region_id} - {place}
    if any(seen.here(code) for code in others):
        return ""
    return "neither her registration nor her residence on file here is on this node"


def _asked_by_this_node(seen: Seen, place: str | None) -> str:
    request = seen.request
    if request is not None and request.direction == AssistanceRequest.Direction.OUTGOING:
        return ""
    return f"request {seen.payload['request_id']} was not asked by this node"


SIDES: dict[FileSide, Callable[[Seen, str | None], str]] = {
    FileSide.REGISTERED_HERE: _registered_here,
    FileSide.REGISTERED_HERE_STAYING_THERE: _registered_here_staying_there,
    FileSide.LIVES_HERE_NOT_OURS: _lives_here_not_ours,
    FileSide.HOLDS_IT_HERE_NOT_OURS: _holds_it_here_not_ours,
    FileSide.OTHER_SIDE_HERE: _other_side_here,
    FileSide.ASKED_BY_THIS_NODE: _asked_by_this_node,
}

# A declaration without its rule would let every message of its types through unchecked:
# refuse to start instead.
_unruled = [str(d) for d in ActedAt if d not in PLACES] + [
    str(d) for d in FileSide if d not in SIDES
]
if _unruled:
    raise ImproperlyConfigured("exchange.boundary has no rule for " + ", ".join(_unruled))


def check(envelope: dict, *, sender: str, node: str) -> None:
    """Refuse (``Refused("outside_sender_region")``) a message whose sender, trusted for
    ``sender``, asserts something outside its regions or about a file not on this node's
    (``node``) side; return None when it may be applied."""
    declared = TYPES[envelope["type"]]
    payload = envelope["payload"]
    seen = Seen(type=envelope["type"], payload=payload, sender=sender, node=node)
    id_number = payload.get("id_number") or payload.get("parent_id_number")
    if id_number:
        seen.person = file_here(id_number)
    place = PLACES[declared.acted_at](seen)
    if why := SIDES[declared.file_side](seen, place):
        raise _refuse(seen, why)
    if place is not None and not seen.senders(place):
        raise _refuse(seen, f"{place} is not in the regions the sender is trusted for ({sender})")
