from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand, import_summary_line, row_problem
from liudong.regions.services import import_regions, read_region_file
from liudong.tabular import TableError


class Command(LiudongCommand):
    help = (
        "Import villages (12-digit codes) and village groups (15 digits) from csv or xlsx "
        "with columns 区划代码/code and 名称/name. All rows or none are saved; "
        "importing the same file twice changes nothing."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check and count, save nothing")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, file: str, **options: Any) -> None:
        try:
            rows = read_region_file(file)
        except TableError as exc:
            self.fail(str(exc), code="unreadable_file")
        summary = import_regions(rows, acting_user=self.acting_user, dry_run=options["dry_run"])
        if options["format"] == "json":
            self.print_json(summary.as_dict())
        else:
            self.stdout.write(import_summary_line(summary, dry_run=options["dry_run"]))
        for problem in summary.rejected:
            self.stderr.write(row_problem(problem))
        if summary.rejected:
            self.stderr.write(_("nothing was saved: correct these rows and import the file again"))
            raise SystemExit(1)
