"""`liudong exchange inbox --format json`: messages received, and those refused with why."""

from __future__ import annotations

from liudong.exchange.management.commands._mailbox import MailboxCommand
from liudong.exchange.models import InboxMessage, RefusedMessage


class Command(MailboxCommand):
    help = (
        "Incoming messages, newest first: applied, accepted with a problem (its effect not "
        "applied, the problem named), or refused with the reason."
    )

    def rows(self, limit: int) -> list[dict]:
        accepted = [
            {
                "id": str(m.id),
                "type": m.type,
                "from": m.from_region,
                "state": m.state,  # applied, or problem (accepted, its effect not applied)
                "problem": m.problem,
                "at": m.received_at.isoformat(timespec="seconds"),
            }
            for m in InboxMessage.objects.order_by("-received_at")[:limit]
        ]
        refused = [
            {
                "id": m.message_id,
                "type": "",
                "from": m.from_region,
                "state": f"refused: {m.reason}",
                "problem": m.detail,
                "at": m.at.isoformat(timespec="seconds"),
            }
            for m in RefusedMessage.objects.order_by("-at")[:limit]
        ]
        return sorted(accepted + refused, key=lambda r: r["at"], reverse=True)[:limit]
