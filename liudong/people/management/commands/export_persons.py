from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.people.exporting import export_persons


class Command(LiudongCommand):
    help = (
        "Export the persons registered or living under a region in the person template "
        "(Chinese headers), so the file imports back unchanged."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--out", help="file to write (default: persons-REGION.FORMAT)")

    def run(self, **options: Any) -> None:
        prefix = self.region_option(options["region"])
        file_format = options["format"]
        out = Path(options["out"] or f"persons-{prefix}.{file_format}")
        if out.suffix.lower() != "." + file_format:
            raise CommandError(f"--out {out}: the file name must end in .{file_format}")
        with self.progress(_("writing persons")) as bar:
            count = export_persons(
                prefix,
                out,
                file_format=file_format,
                acting_user=self.acting_user,
                progress=(lambda done, total: bar.update(done=done, total=total))
                if bar.shown
                else None,
            )
        self.stdout.write(_("written %(n)s persons to %(out)s") % {"n": count, "out": out})
