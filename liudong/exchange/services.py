"""Exchange rules: this node's identity, trusted peers and routing, the outbox a change
queues its notice in (same transaction), and receiving: checked, idempotent, refusals
logged with their reason (DESIGN.md §6).

The node signs with its certificate key (``certificates.keys``): one identity per node,
rotated in one place; a peer trusts the public key it was given with ``node trust``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.certificates import keys
from liudong.regions.services import resolve_region

from . import messages
from .messages import Refused
from .models import InboxMessage, NodeIdentity, OutboxMessage, Peer, RefusedMessage


def public_key_text(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def init_node(*, region_code: str, url: str) -> tuple[NodeIdentity, str]:
    """This node's identity (created or changed) and its public key to hand to peers."""
    region = resolve_region(region_code)
    key = keys.current_key()
    identity = NodeIdentity.objects.first() or NodeIdentity()
    identity.region, identity.url, identity.key_id = region, url, key.key_id
    identity.full_clean()
    identity.save()
    return identity, public_key_text(key.private.public_key())


def identity() -> NodeIdentity:
    found = NodeIdentity.objects.select_related("region").first()
    if found is None:
        raise ValidationError(_("This node has no identity yet: run `liudong node init` first."))
    return found


def _public_from_text(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(
            {"key": _("Not an Ed25519 public key: give the base64 text `node init` printed.")}
        ) from exc


def trust_peer(*, region_code: str, url: str, key: str, acting_user=None) -> Peer:
    """Trust the node at ``url`` for the regions under ``region_code`` (a new key for a
    known prefix replaces the old one)."""
    region = resolve_region(region_code)
    public = _public_from_text(key)
    peer = Peer.objects.filter(region_prefix=region.code).first() or Peer(region_prefix=region.code)
    peer.url, peer.public_key = url, public_key_text(public)
    peer.key_id, peer.active, peer.added_by = keys.key_id_of(public), True, acting_user
    peer.full_clean()
    peer.save()
    return peer


def peer_for(region_code: str) -> Peer | None:
    """The active peer whose prefix is the longest one the code starts with."""
    candidates = [region_code[:n] for n in range(len(region_code), 1, -1)]
    found = Peer.objects.filter(region_prefix__in=candidates, active=True)
    return max(found, key=lambda p: len(p.region_prefix), default=None)


def _sender_key(region_code: str) -> Ed25519PublicKey | None:
    peer = peer_for(region_code)
    return (
        None
        if peer is None
        else Ed25519PublicKey.from_public_bytes(base64.b64decode(peer.public_key))
    )


def queue(
    message_type: str,
    *,
    to_region: str,
    payload: dict,
    deadline: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> OutboxMessage:
    """Sign a message and put it in the outbox. Call it inside the transaction of the
    change it reports: both are saved, or neither."""
    me = identity()
    key = keys.current_key()
    envelope = messages.build(
        message_type,
        sender=me.region_id,
        to=to_region,
        payload=payload,
        sign=key.sign,
        now=now or timezone.now(),
        deadline=deadline,
    )
    return OutboxMessage.objects.create(
        id=uuid.UUID(envelope["id"]), type=message_type, to_region=to_region, envelope=envelope
    )


def _refuse(envelope, exc: Refused) -> None:
    RefusedMessage.objects.create(
        message_id=str(envelope.get("id", ""))[:64] if isinstance(envelope, dict) else "",
        from_region=str(envelope.get("from", ""))[:15] if isinstance(envelope, dict) else "",
        reason=exc.reason,
        detail=exc.detail[:300],
        digest=messages.digest(envelope if isinstance(envelope, dict) else {"raw": str(envelope)}),
    )


def receive(envelope, *, now: datetime.datetime | None = None) -> tuple[InboxMessage, bool]:
    """Accept a message for this node: ``(message, new)``. The same message again is the
    same message (``new`` False, no second effect); another content under a known id, a
    bad signature, an unknown sender, a stale timestamp, a region this node does not serve
    or a payload out of its schema is refused (``Refused``) and the refusal logged."""
    try:
        checked = messages.check_envelope(
            envelope, sender_key=_sender_key, now=now or timezone.now()
        )
        me = identity()
        if not checked["to"].startswith(me.region_id):
            raise Refused("not_ours", f"this node serves {me.region_id}, not {checked['to']}")
        fingerprint = messages.digest(checked)
        known = InboxMessage.objects.filter(id=checked["id"]).first()
        if known is not None:
            if known.digest != fingerprint:
                raise Refused("replayed", "another message was received under this id")
            return known, False
        try:
            with transaction.atomic():
                message = InboxMessage.objects.create(
                    id=uuid.UUID(checked["id"]),
                    type=checked["type"],
                    from_region=checked["from"],
                    to_region=checked["to"],
                    envelope=checked,
                    digest=fingerprint,
                )
        except IntegrityError:  # the same message arriving twice at once
            return InboxMessage.objects.get(id=checked["id"]), False
        return message, True
    except Refused as exc:
        _refuse(envelope, exc)
        raise
