from typing import Any

from django.core.management.base import CommandParser

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
            self.stdout.write(f"divisions: up to date ({report.unchanged} rows)")
        else:
            self.stdout.write(
                f"divisions: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged"
            )
