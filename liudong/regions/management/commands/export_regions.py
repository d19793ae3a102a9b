import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from liudong.commands import LiudongCommand
from liudong.regions.services import REGION_EXPORT_HEADER, export_regions
from liudong.safesheet import write_table


class Command(LiudongCommand):
    help = (
        "Export the villages and groups under a region in the import template "
        "(区划代码, 名称), so the file imports back unchanged."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--out", help="file to write (default: csv on stdout)")

    def run(self, **options: Any) -> None:
        prefix = self.region_option(options["region"])
        out, file_format = options.get("out"), options["format"]
        if out and Path(out).suffix.lower() != "." + file_format:
            raise CommandError(f"--out {out}: the file name must end in .{file_format}")
        if not out and file_format == "xlsx":
            raise CommandError("--out is required for xlsx")
        rows = export_regions(prefix, acting_user=self.acting_user, file_format=file_format)
        if out:
            write_table(Path(out), REGION_EXPORT_HEADER, rows, sheet_title="区划")
        else:
            write_table(sys.stdout, REGION_EXPORT_HEADER, rows)
