"""`liudong exchange outbox --format json`: messages sent or waiting, with their state."""

from __future__ import annotations

from liudong.exchange.management.commands._mailbox import MailboxCommand
from liudong.exchange.models import OutboxMessage


class Command(MailboxCommand):
    help = "Outgoing messages, newest first: id, type, to, state (waiting or delivered), attempts."

    def rows(self, limit: int) -> list[dict]:
        return [
            {
                "id": str(m.id),
                "type": m.type,
                "to": m.to_region,
                "state": "delivered" if m.delivered_at else "waiting",
                "attempts": m.attempts,
                "last_error": m.last_error,
            }
            for m in OutboxMessage.objects.order_by("-created")[:limit]
        ]
