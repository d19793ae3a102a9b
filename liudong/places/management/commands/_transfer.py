"""What the place commands share: reading and summarising an import, writing an
export in the import template (so it imports back unchanged)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand, import_summary_line, row_problem
from liudong.safesheet import write_table
from liudong.tabular import TableError


class PlaceImportCommand(LiudongCommand):
    acts_as_user = True
    # Set by each command (staticmethod): the file reader and the import service.
    read: Callable[..., Any]
    import_rows: Callable[..., Any]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check and count, save nothing")
        parser.add_argument(
            "--atomic", action="store_true", help="save nothing if any row is rejected"
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, file: str, **options: Any) -> None:
        try:
            rows = self.read(file)
        except TableError as exc:
            self.fail(str(exc), code="unreadable_file")
        summary = self.import_rows(
            rows,
            acting_user=self.acting_user,
            atomic=options["atomic"],
            dry_run=options["dry_run"],
        )
        if options["format"] == "json":
            self.print_json(summary.as_dict())
        else:
            self.stdout.write(import_summary_line(summary, dry_run=options["dry_run"]))
        for problem in summary.rejected:
            self.stderr.write(row_problem(problem))
        if summary.rejected:
            if options["atomic"]:
                self.stderr.write(_("nothing was saved (--atomic): correct these rows and retry"))
            raise SystemExit(1)


class PlaceExportCommand(LiudongCommand):
    acts_as_user = True
    header: list[str] = []
    sheet_title = "Sheet1"
    export_rows: Callable[..., Any]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--region", required=True)
        parser.add_argument(
            "--format", choices=["csv", "xlsx"], help="default: from the --out suffix, else csv"
        )
        parser.add_argument("--out", help="file to write (default: csv on stdout)")

    def run(self, **options: Any) -> None:
        prefix = self.region_option(options["region"])
        out = options.get("out")
        file_format = options.get("format") or (
            Path(out).suffix.lower().lstrip(".") if out else "csv"
        )
        if file_format not in ("csv", "xlsx"):
            raise CommandError(f"--out {out}: the file name must end in .csv or .xlsx")
        if out and Path(out).suffix.lower() != "." + file_format:
            raise CommandError(f"--out {out}: the file name must end in .{file_format}")
        if not out and file_format == "xlsx":
            raise CommandError("--out is required for xlsx")
        rows = self.export_rows(prefix, acting_user=self.acting_user, file_format=file_format)
        if out:
            write_table(Path(out), self.header, rows, sheet_title=self.sheet_title)
        else:
            write_table(sys.stdout, self.header, rows)
