import sys
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.certificates import verification
from liudong.commands import LiudongCommand
from liudong.people.template import MARITAL_CHOICES

LABELS = {"marital_status": dict(MARITAL_CHOICES)}


class Command(LiudongCommand):
    help = (
        "Check a certificate's QR payload offline: exit 0 and print its fields when the "
        "signature is good and it is neither revoked (as far as this node knows) nor "
        "expired; exit 1 naming the reason (malformed, unknown_key, bad_signature, revoked, "
        "expired) otherwise. PAYLOAD '-' reads it from standard input."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("payload")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, payload: str, **options: Any) -> None:
        text = sys.stdin.read() if payload == "-" else payload
        result = verification.check_payload(text, acting_user=self.acting_user, via="cli")
        if not result.ok:
            self.fail(
                f"{result.reason}: {result.message}",
                errors=[{"field": "payload", "code": result.reason, "message": result.message}],
            )
        if self.format == "json":
            self.print_json(result.as_dict())
            return
        self.stdout.write(_("valid: %(message)s") % {"message": result.message})
        for name, value in (result.fields or {}).items():
            # A code has its label (20 is 初婚); the json answer keeps the codes.
            self.stdout.write(f"{name}: {LABELS.get(name, {}).get(value, value)}")
