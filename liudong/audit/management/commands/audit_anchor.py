"""`liudong audit anchor`: sign the audit chain's head and append it to the anchor file."""

from typing import Any

from django.core.management.base import CommandParser

from liudong.audit import anchors
from liudong.commands import LiudongCommand


class Command(LiudongCommand):
    help = (
        "Append a signed anchor of the audit log (entry count and last MAC) to the anchor "
        "file outside the database (LIUDONG_AUDIT_ANCHORS); `audit verify` holds the log "
        "against it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        anchor = anchors.write_anchor()
        path = anchors.anchor_path()
        if options["format"] == "json":
            fields = anchor.signed_fields()
            self.print_json(
                {name: fields[name] for name in ("at", "count", "head", "key_id")}
                | {"file": str(path)}
            )
        else:
            self.stdout.write(
                f"anchor written to {path}: {anchor.count} entries, last {anchor.head[:16]}…"
            )
