"""What `exchange inbox` and `exchange outbox` share: a list of messages with their state."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from liudong.commands import LiudongCommand


class MailboxCommand(LiudongCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--limit", type=int, default=200)

    def rows(self, limit: int) -> list[dict]:
        raise NotImplementedError

    def run(self, **options: Any) -> None:
        rows = self.rows(options["limit"])
        if options["format"] == "json":
            self.print_json({"messages": rows})
            return
        for row in rows:
            self.stdout.write(" ".join(str(value) for value in row.values()))
