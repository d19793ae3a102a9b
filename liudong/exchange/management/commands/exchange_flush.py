"""`liudong exchange flush`: deliver the outbox messages that are due (retries back off)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.exchange.messaging import services as messaging


class Command(LiudongCommand):
    help = (
        "Deliver waiting messages to their peers, oldest first; a message that cannot be "
        "delivered waits (1, 2, 4 ... minutes, at most an hour) and is tried again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        counts = messaging.flush()
        if options["format"] == "json":
            self.print_json(counts)
        else:
            self.stdout.write(_("delivered %(delivered)s, not yet %(failed)s") % counts)
