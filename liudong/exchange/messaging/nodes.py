"""This node and its peers as the database holds them: who this node is (``identity``) and
which trusted peer speaks for a region (``peer_for``, ``peer_keys``).

Read-only: setting up the node and trusting a peer are ``services`` functions. Kept apart so
the effects of received messages and the boundary rules can ask who this node is without
importing ``services`` (which applies them).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from liudong import crypto

from ..models import NodeIdentity, Peer


def identity() -> NodeIdentity:
    found = NodeIdentity.objects.select_related("region").first()
    if found is None:
        raise ValidationError(_("This node has no identity yet: run `liudong node init` first."))
    return found


def peer_keys(peer: Peer) -> list[crypto.PublicKey]:
    """The keys a message from ``peer`` may be signed with: its key, and the previous one
    while its changeover lasts."""
    found = [crypto.public_key_from_stored(peer.algorithm, peer.public_key)]
    if peer.previous_public_key:
        found.append(
            crypto.public_key_from_stored(peer.previous_algorithm, peer.previous_public_key)
        )
    return found


def peer_for(region_code: str) -> Peer | None:
    """The active peer whose prefix is the longest one the code starts with."""
    candidates = [region_code[:n] for n in range(len(region_code), 1, -1)]
    found = Peer.objects.filter(region_prefix__in=candidates, active=True)
    return max(found, key=lambda p: len(p.region_prefix), default=None)


def sender_keys(region_code: str) -> list[crypto.PublicKey]:
    peer = peer_for(region_code)
    return [] if peer is None else peer_keys(peer)
