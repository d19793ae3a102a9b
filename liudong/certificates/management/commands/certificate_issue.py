from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.certificates import issuing, keys
from liudong.certificates.models import Contraception
from liudong.commands import LiudongCommand
from liudong.tabular import TableError


class Command(LiudongCommand):
    help = (
        "Issue the electronic marriage-and-childbearing certificate to a woman aged 18-49 "
        "registered in your township: one (--id-number) or every ID number in a csv/xlsx "
        "file (--from, column 公民身份号码 / 身份证号 / id_number)."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--id-number", help="her resident ID number")
        which.add_argument("--from", dest="source", metavar="FILE", help="csv or xlsx file")
        parser.add_argument(
            "--contraception",
            choices=Contraception.values,
            help="her contraception as she chooses to declare it (never required)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        try:
            return self._issue(options)
        except keys.KeyFolderError as exc:
            raise CommandError(str(exc)) from exc

    def _issue(self, options: dict[str, Any]) -> None:
        if options["source"]:
            self._bulk(options["source"], options)
            return
        person = issuing.find_person(self.acting_user, options["id_number"])
        certificate = issuing.issue(
            person, acting_user=self.acting_user, contraception=options["contraception"]
        )
        if self.format == "json":
            self.print_json({"number": certificate.number, "payload": certificate.payload})
        else:
            self.stdout.write(
                f"issued {certificate.number} (valid until {certificate.valid_until})\n"
                f"{certificate.payload}"
            )

    def _bulk(self, source: str, options: dict[str, Any]) -> None:
        try:
            summary = issuing.issue_from_file(
                source,
                acting_user=self.acting_user,
                contraception=options["contraception"],
                progress=self._progress(),
            )
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        sys.stderr.write("\n" if sys.stderr.isatty() else "")
        if self.format == "json":
            self.print_json(summary.as_dict())
            return
        self.stdout.write(
            f"issued {summary.issued}, skipped {len(summary.skipped)}, "
            f"rejected {len(summary.rejected)}"
        )
        for item in summary.certificates:
            self.stdout.write(
                _("row %(row)s: %(number)s") % {"row": item["row"], "number": item["number"]}
            )
        for item in summary.skipped:
            self.stderr.write(f"row {item['row']}, skipped: {item['reason']}")
        for item in summary.rejected:
            self.stderr.write(f"row {item['row']}, {item['field']}: {item['message']}")

    def _progress(self) -> Callable[[int], None]:
        tty = sys.stderr.isatty()

        def show(done: int) -> None:
            if tty:
                sys.stderr.write(f"\r{done:,} rows done")
                sys.stderr.flush()
            elif done % 500 == 0:
                sys.stderr.write(f"{done:,} rows done\n")

        return show
