"""`liudong stats rebuild [--region CODE] [--from YYYY-MM]`: recount the statistics store."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.regions.codes import CodeError, clean_code
from liudong.stats.engine import Period
from liudong.stats.services import parse_period
from liudong.stats.store.rebuild import Busy, rebuild


class Command(LiudongCommand):
    help = (
        "Recount the pre-counted statistics (every month from the store's first to the "
        "current one) for a region's subtree or everything; after region changes, or to "
        "move the first stored month (--from)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", default="", help="a region code (default: everything)")
        parser.add_argument("--from", dest="first", help="YYYY-MM: the first month kept")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        region = ""
        if options["region"]:
            try:
                region = clean_code(options["region"])
            except CodeError as exc:
                raise CommandError(f"--region: {exc}") from exc
        first: Period | None = None
        if options["first"]:
            try:
                first = parse_period(options["first"])
            except ValidationError as exc:
                raise CommandError(f"--from: {' '.join(exc.messages)}") from exc
        quiet = options["format"] == "json"
        with self.progress(_("counting")) as bar:
            try:
                summary = rebuild(
                    region=region,
                    first=first,
                    planned=lambda n: bar.update(total=n),
                    step=lambda code, month: bar.update(advance=1, description=f"{month} {code}"),
                )
            except Busy as exc:
                raise CommandError(str(exc)) from exc
        if quiet:
            self.print_json(summary)
        else:
            self.stdout.write(
                f"rebuilt {summary['region']}: {summary['months']} months in "
                f"{summary['steps']} steps, {summary['cells']} cells in "
                f"{summary['seconds']} s"
            )
