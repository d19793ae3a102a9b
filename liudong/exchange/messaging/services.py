"""Exchange rules: this node's identity, trusted peers and routing, the outbox a change
queues its notice in (same transaction: ``send_notices`` is the exchange's subscriber to the
domain events of ``liudong.events``), and receiving: checked, idempotent, refusals logged
with their reason, the effect applied by its type's handler (``apply``) (DESIGN.md §6).

The node signs with its certificate key (``certificates.keys``): one identity per node,
rotated in one place; a peer trusts the public key it was given with ``node trust``. A key
is Ed25519 or SM2 (``liudong.crypto``); during a peer's changeover from one key to the next
(of either algorithm) its previous key is still accepted.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong import crypto, events
from liudong.actors import Actor, account_of
from liudong.audit import context as audit_context
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.certificates import keys
from liudong.certificates.models import SigningKey
from liudong.people.idnumbers import mask
from liudong.people.models import Person
from liudong.regions.codes import ancestors
from liudong.regions.models import Region
from liudong.regions.services import resolve_region

from ..models import InboxMessage, NodeIdentity, OutboxMessage, Peer, RefusedMessage
from . import boundary, catalogue, messages
from .messages import Refused

# Re-exported: callers and tests name the node and its peers through this module.
from .nodes import identity as identity
from .nodes import peer_for as peer_for
from .nodes import peer_keys as peer_keys
from .nodes import sender_keys as _sender_key


def public_key_text(public: crypto.PublicKey) -> str:
    """Bare base64 for Ed25519 (as ever), ``sm2:BASE64`` for SM2."""
    return public.text()


def init_node(*, region_code: str, url: str) -> tuple[NodeIdentity, str]:
    """This node's identity (created or changed) and its public key to hand to peers."""
    region = resolve_region(region_code)
    key = keys.current_key()
    identity = NodeIdentity.objects.first() or NodeIdentity()
    identity.region, identity.url, identity.key_id = region, url, key.key_id
    identity.full_clean()
    identity.save()
    return identity, public_key_text(key.public)


def _public_from_text(text: str) -> crypto.PublicKey:
    try:
        return crypto.public_key_from_text(text)
    except crypto.CryptoError as exc:
        raise ValidationError(
            {"key": _("Not a public key: give the text `node init` printed.")}
        ) from exc


PEER_AUDIT_FIELDS = [
    "region_prefix",
    "url",
    "algorithm",
    "public_key",
    "key_id",
    "previous_key_id",
    "active",
]


def trust_peer(
    *,
    region_code: str,
    url: str,
    key: str,
    retire_previous: bool = False,
    acting_user: Actor,
) -> Peer:
    """Trust the node at ``url`` for the regions under ``region_code``. A new key for a
    known prefix becomes the one its messages are signed with; the key it replaces is
    still accepted (the peer's changeover, to SM2 say) until ``retire_previous``."""
    region = resolve_region(region_code)
    public = _public_from_text(key)
    peer = Peer.objects.filter(region_prefix=region.code).first() or Peer(region_prefix=region.code)
    before = None if peer.pk is None else audit.snapshot(peer, PEER_AUDIT_FIELDS)
    if peer.pk is not None and peer.key_id != public.key_id:
        peer.previous_algorithm, peer.previous_public_key = peer.algorithm, peer.public_key
        peer.previous_key_id = peer.key_id
    if retire_previous or peer.previous_key_id == public.key_id:
        peer.previous_algorithm = peer.previous_public_key = peer.previous_key_id = ""
    peer.url, peer.algorithm, peer.public_key = url, public.algorithm, public.stored()
    peer.key_id, peer.active, peer.added_by = public.key_id, True, account_of(acting_user)
    peer.full_clean()
    peer.save()
    audit.record(
        Action.UPDATE if before else Action.CREATE,
        acting_user=acting_user,
        obj=peer,
        region=peer.region_prefix,
        before=before,
        after=audit.snapshot(peer, PEER_AUDIT_FIELDS),
        detail={"action": "trust_peer"},
    )
    # The peer's node signs its certificates with the same key: a certificate it issued
    # then verifies here offline, from its QR code alone.
    SigningKey.objects.get_or_create(
        key_id=peer.key_id,
        defaults={"public_key": peer.public_key, "algorithm": peer.algorithm, "own": False},
    )
    return peer


def queue(
    message_type: str,
    *,
    to_region: str,
    payload: dict,
    region: str = "",
    deadline: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> OutboxMessage:
    """Sign a message and put it in the outbox. Call it inside the transaction of the
    change it reports: both are saved, or neither. ``region``: the region here whose
    change it reports (its offices see the message)."""
    return queue_many([(message_type, to_region, payload, region)], deadline=deadline, now=now)[0]


def queue_many(
    items: list[tuple[str, str, dict, str]],
    *,
    deadline: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> list[OutboxMessage]:
    """:func:`queue` for many ``(type, to_region, payload, region)`` at once (an import's
    batch of arrivals): one identity and key lookup, one insert."""
    me = identity()
    key = keys.current_key()
    now = now or timezone.now()
    queued = []
    for message_type, to_region, payload, region in items:
        envelope = messages.build(
            message_type,
            sender=me.region_id,
            to=to_region,
            payload=payload,
            sign=key.sign,
            now=now,
            deadline=deadline,
            algorithm=key.algorithm,
        )
        queued.append(
            OutboxMessage(
                id=uuid.UUID(envelope["id"]),
                type=message_type,
                to_region=to_region,
                region=region,
                envelope=envelope,
            )
        )
    return OutboxMessage.objects.bulk_create(queued, batch_size=1000)


def apply(message: InboxMessage) -> None:
    """Apply the message's effect (its type's handler in ``catalogue.TYPES``), in the
    caller's transaction, and record how it went. Every type has a handler (``catalogue``
    refuses to start otherwise), so no message is marked applied without its effect."""
    handler = catalogue.TYPES[message.type].handler
    message.state, message.problem = InboxMessage.State.APPLIED, ""
    try:
        with (
            transaction.atomic(),
            audit_context.bind(
                request_id=message.id.hex,
                address=audit_context.current().address,
                operator=f"node {message.from_region}",
            ),
        ):
            handler(message)
    except ValidationError as exc:
        message.state = InboxMessage.State.PROBLEM
        message.problem = "; ".join(exc.messages)[:300]
        if message.person_id and not Person.objects.filter(pk=message.person_id).exists():
            message.person = None  # a file made by the rolled-back effect
    message.save(update_fields=["state", "problem", "person"])


def send_notices(published: Sequence[events.Event]) -> None:
    """The exchange's subscriber to the domain events (``apps.ExchangeConfig.ready``):
    queue the notices they owe the other place, in the publisher's transaction, so the
    outbox row is saved with the change or not at all. A node without an identity
    exchanges nothing."""
    me = NodeIdentity.objects.only("region_id").first()
    if me is None:
        return
    items = [
        (message_type, notice.to_region, notice.payload, notice.region)
        for event in published
        for message_type, build in catalogue.sent_on(type(event))
        if (notice := build(event, me.region_id)) is not None
    ]
    if items:
        queue_many(items)


def _refuse(envelope: Any, exc: Refused) -> None:
    RefusedMessage.objects.create(
        message_id=str(envelope.get("id", ""))[:64] if isinstance(envelope, dict) else "",
        from_region=str(envelope.get("from", ""))[:15] if isinstance(envelope, dict) else "",
        reason=exc.reason,
        detail=exc.detail[:300],
        digest=messages.digest(envelope if isinstance(envelope, dict) else {"raw": str(envelope)}),
    )


def receive(envelope: Any, *, now: datetime.datetime | None = None) -> tuple[InboxMessage, bool]:
    """Accept a message for this node: ``(message, new)``. The same message again is the
    same message (``new`` False, no second effect); another content under a known id, a
    bad signature, an unknown sender, a stale timestamp, a region this node does not serve,
    a payload out of its schema or an assertion outside the sender's regions
    (``boundary``) is refused (``Refused``) and the refusal logged."""
    try:
        checked = messages.check_envelope(
            envelope, sender_key=_sender_key, now=now or timezone.now()
        )
        me = identity()
        if not checked["to"].startswith(me.region_id):
            raise Refused("not_ours", f"this node serves {me.region_id}, not {checked['to']}")
        fingerprint = messages.content_digest(checked)
        known = InboxMessage.objects.filter(id=checked["id"]).first()
        if known is not None:
            if known.digest != fingerprint:
                raise Refused("replayed", "another message was received under this id")
            return known, False
        sender = peer_for(checked["from"])
        assert sender is not None  # check_envelope found its key
        # Accepted and applied together: a crash between the two cannot leave a message
        # taken but without its effect (the sender, unanswered, delivers it again). What
        # the sender may assert is checked first, in the same transaction: a message it
        # may not send is refused before anything of it is stored or applied.
        with transaction.atomic():
            boundary.check(checked, sender=sender.region_prefix, node=me.region_id)
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
            apply(message)
        return message, True
    except Refused as exc:
        _refuse(envelope, exc)
        raise


# --- delivery ------------------------------------------------------------------------------

# Waits between attempts grow 1, 2, 4, ... minutes up to an hour: a peer down for a day
# is tried 30-odd times, and its messages wait in order (nothing lost, none twice: the
# peer keeps one copy of a message whatever the number of deliveries).
LONGEST_WAIT = datetime.timedelta(hours=1)
TIMEOUT_SECONDS = 15


def _wait(attempts: int) -> datetime.timedelta:
    first = datetime.timedelta(seconds=settings.EXCHANGE_FIRST_RETRY)
    return min(LONGEST_WAIT, first * (2 ** max(0, attempts - 1)))


def _post(url: str, envelope: dict) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):  # a peer's URL is http(s), never file:
        raise ValueError(f"not an http(s) address: {url}")
    body = json.dumps(envelope, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read() or b"{}")
        except ValueError:
            answer = {}
        return exc.code, answer


def _unreachable(message: OutboxMessage, url: str) -> bool:
    """The message's last attempt found the peer down (not a refusal of the message)."""
    return message.attempts > 0 and message.last_error.startswith(url)


def flush(
    *,
    now: datetime.datetime | None = None,
    limit: int = 500,
    post: Callable[..., Any] | None = None,
) -> dict[str, int]:
    """Deliver the outbox messages that are due, oldest first; a failure is kept with its
    reason and tried again later. Returns counts of delivered and failed attempts.
    ``post(url, envelope) -> (status, answer)`` sends one message (default: HTTP).

    A peer's messages arrive in the order they were queued (an arrival before the
    departure that ends it): while an older message waits for a peer that was down, the
    newer ones for that peer wait behind it. A message the peer refused does not hold up
    the others."""
    post = post or _post
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(delivered_at__isnull=True).order_by("created")
    counts = {"delivered": 0, "failed": 0}
    down: set[str] = set()  # peers found down in this round, or waited for
    for message in pending.iterator(chunk_size=200):
        if counts["delivered"] + counts["failed"] >= limit:
            break
        peer = peer_for(message.to_region)
        url = peer.url.rstrip("/") + "/exchange/inbox/" if peer else ""
        if url in down:
            continue
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            if _unreachable(message, url):
                down.add(url)
            continue
        error = ""
        if peer is None:
            error = f"no trusted peer for {message.to_region}"
        else:
            key = keys.current_key()
            envelope = messages.stamp(
                message.envelope, sign=key.sign, now=now, algorithm=key.algorithm
            )
            try:
                status, answer = post(url, envelope)
            except (OSError, ValueError) as exc:  # refused, timed out, unreachable
                error = f"{url}: {exc}"
            else:
                if status == 200:
                    message.delivered_at = now
                elif status >= 500:  # the peer is there but not working: wait for it
                    error = f"{url}: HTTP {status}"
                else:
                    errors = answer.get("errors") or [{}]
                    error = f"{status} {errors[0].get('code', '')}: {errors[0].get('message', '')}"
            if error.startswith(url):
                down.add(url)
        message.attempts += 1
        if message.delivered_at is None:
            message.last_error = error[:300]
            message.next_attempt_at = now + _wait(message.attempts)
            counts["failed"] += 1
        else:
            message.last_error = ""
            counts["delivered"] += 1
        message.save(update_fields=["attempts", "delivered_at", "last_error", "next_attempt_at"])
    return counts


def delivery_round() -> dict[str, int] | None:
    """One flush round of `liudong worker`'s delivery (None: this is no node yet)."""
    if not NodeIdentity.objects.exists():
        return None
    return flush()


def delivery_loop(stop: threading.Event, *, interval: float, log: Callable[[str], Any]) -> None:
    """`liudong serve`'s background delivery: a flush round every ``interval`` seconds
    until ``stop`` (a threading.Event) is set. A round that fails (the database busy, say)
    is logged and the next one tries again: what waits is in the outbox, nothing is lost."""
    from django.db import close_old_connections

    while not stop.wait(interval):
        try:
            counts = delivery_round()
            if counts and (counts["delivered"] or counts["failed"]):
                log(f"exchange: delivered {counts['delivered']}, not yet {counts['failed']}")
        except Exception as exc:
            log(f"exchange: delivery round failed: {exc}")
        finally:
            close_old_connections()


# --- the mailbox for staff ------------------------------------------------------------------

# The facts a list shows of a message (its ID numbers masked): never the whole payload.
LISTED_FIELDS = (
    "residence_region",
    "arrival_date",
    "departure_date",
    "number",
    "issued_on",
    "revoked_on",
    "verified_on",
    "birth_date",
    "sex",
    "service_type",
    "date",
    "question",
    "urgency",
    "answered_on",
)


def listed(envelope: dict) -> dict:
    """What a mailbox list shows of a message: masked ID number and its listed facts."""
    payload = envelope.get("payload") or {}
    id_number = payload.get("id_number") or payload.get("parent_id_number") or ""
    return {
        "id_number": mask(id_number) if id_number else "",
        **{name: payload[name] for name in LISTED_FIELDS if name in payload},
    }


def inbox_for(user: Actor) -> QuerySet[InboxMessage]:
    return InboxMessage.objects.in_scope(user).select_related("person")


def outbox_for(user: Actor) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.in_scope(user)


@transaction.atomic
def apply_again(*, acting_user: Actor, message: InboxMessage) -> InboxMessage:
    """Apply a message whose effect could not be applied when it arrived (the file it
    names was made since, a wrong date corrected at the sender's, ...)."""
    from liudong.accounts.roles import CHANGE_PEOPLE

    not_yours = _("This message was not sent to your region.")
    authorize(acting_user, CHANGE_PEOPLE, message.to_region, refused=not_yours, outside=not_yours)
    message = InboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.state != InboxMessage.State.PROBLEM:
        raise ValidationError(_("This message was applied already."), code="applied")
    # Her file may have moved since the message came: the sender must still speak for the
    # place and the file must still be on this node's side.
    sender = peer_for(message.from_region)
    try:
        if sender is None:
            raise Refused("unknown_sender", f"no trusted peer for {message.from_region}")
        boundary.check(message.envelope, sender=sender.region_prefix, node=identity().region_id)
    except Refused as exc:
        raise ValidationError(
            _("This message cannot be applied: %(reason)s (%(detail)s).")
            % {"reason": exc.reason, "detail": exc.detail},
            code=exc.reason,
        ) from exc
    before = {"state": message.state, "problem": message.problem}
    apply(message)
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=message,
        region=message.to_region,
        before=before,
        after={"state": message.state, "problem": message.problem},
        detail={"action": "apply_again"},
    )
    return message


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """``code -> name`` for display: the region's own name, else the nearest region this
    node knows with the code beside it (a peer's villages are not in this node's tree)."""
    lineage = {code: [code, *reversed(ancestors(code))] for code in codes}
    known = dict(
        Region.objects.filter(code__in={c for line in lineage.values() for c in line}).values_list(
            "code", "name"
        )
    )
    names = {}
    for code, line in lineage.items():
        nearest = next((c for c in line if c in known), None)
        names[code] = (
            known[code] if nearest == code else f"{known[nearest]} ({code})" if nearest else code
        )
    return names
