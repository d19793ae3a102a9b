from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.certificates import issuing
from liudong.commands import LiudongCommand


class Command(LiudongCommand):
    help = "Revoke a certificate (its issuing township only); the reason is kept and logged."
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, number: str, **options: Any) -> None:
        certificate = issuing.revoke(number, options["reason"], acting_user=self.acting_user)
        if self.format == "json":
            self.print_json(
                {
                    "number": certificate.number,
                    "status": "revoked",
                    "revoked_at": certificate.revoked_at,
                }
            )
        else:
            self.stdout.write(_("revoked %(number)s") % {"number": certificate.number})
