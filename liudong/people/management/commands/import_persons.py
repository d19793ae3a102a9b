from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand, import_summary_line, row_problem
from liudong.people.importing import import_persons
from liudong.people.template import COLUMNS
from liudong.tabular import TableError, estimate_rows

# A refused row names the column as the template's header does (性别, not sex).
HEADERS = {column.field: column.chinese for column in COLUMNS}


class Command(LiudongCommand):
    help = (
        "Import persons from csv or xlsx in the person template (Chinese or English headers). "
        "Valid rows are saved, invalid rows are listed; importing the same file twice "
        "changes nothing."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check and count, save nothing")
        parser.add_argument(
            "--atomic", action="store_true", help="save nothing if any row is invalid"
        )
        parser.add_argument(
            "--errors", metavar="OUT.xlsx", help="write the rejected rows, with their problems"
        )
        parser.add_argument("--sheet", help="xlsx sheet to read (default: the first)")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, file: str, **options: Any) -> None:
        if options["errors"] and not options["errors"].lower().endswith(".xlsx"):
            self.fail("--errors: the file name must end in .xlsx", code="usage")
        total = estimate_rows(Path(file), sheet=options["sheet"]) if self.shows_progress() else None
        try:
            with self.progress(_("checking rows"), total=total) as bar:
                summary = import_persons(
                    file,
                    acting_user=self.acting_user,
                    dry_run=options["dry_run"],
                    atomic=options["atomic"],
                    errors_out=options["errors"],
                    sheet=options["sheet"],
                    progress=(lambda done: bar.update(done=done)) if bar.shown else None,
                )
        except TableError as exc:
            self.fail(str(exc), code="unreadable_file")
        if options["format"] == "json":
            self.print_json(summary.as_dict())
            return
        self.stdout.write(
            import_summary_line(
                summary,
                dry_run=options["dry_run"],
                note="" if summary.saved else _(" (--atomic: nothing saved)"),
                warnings=True,
            )
        )
        for problem in summary.rejected[:50]:
            self.stderr.write(row_problem(problem, HEADERS))
        if len(summary.rejected) > 50:
            self.stderr.write(
                _("… %(n)s more (see --errors or --format json)")
                % {"n": len(summary.rejected) - 50}
            )
