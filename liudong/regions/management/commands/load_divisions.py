from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.regions.services import load_divisions


class Command(LiudongCommand):
    help = "Load the shipped national divisions (province to township); idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--province", action="append", help="load only these province codes")
        parser.add_argument("--force", action="store_true", help="compare every row again")

    def run(self, **options: Any) -> None:
        prefixes = tuple(options["province"]) if options["province"] else None
        report = load_divisions(prefixes=prefixes, force=options["force"])
        if report.skipped:
            self.stdout.write(_("divisions: up to date (%(n)s rows)") % {"n": report.unchanged})
        else:
            self.stdout.write(
                _("divisions: %(created)s created, %(updated)s updated, %(unchanged)s unchanged")
                % {
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                }
            )
