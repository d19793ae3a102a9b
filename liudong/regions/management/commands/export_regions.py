from pathlib import Path

from django.core.management.base import CommandError

from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.commands import LiudongCommand
from liudong.regions.codes import Level
from liudong.regions.models import Region
from liudong.tabular import write_table


class Command(LiudongCommand):
    help = (
        "Export the villages and groups under a region in the import template "
        "(区划代码, 名称), so the file imports back unchanged."
    )
    acts_as_user = True

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True)
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--out", help="file to write (default: csv on stdout)")

    def run(self, **options):
        prefix = self.region_option(options["region"])
        user = self.acting_user
        regions = Region.objects.subtree(prefix).filter(level__gte=Level.VILLAGE).order_by("code")
        rows = [(r.code, r.name) for r in regions]
        header = ["区划代码", "名称"]
        out = options.get("out")
        if out and Path(out).suffix.lower() != "." + options["format"]:
            raise CommandError(f"--out {out}: the file name must end in .{options['format']}")
        if out:
            write_table(Path(out), header, rows, sheet_title="区划")
        elif options["format"] == "xlsx":
            raise CommandError("--out is required for xlsx")
        else:
            import csv
            import sys

            writer = csv.writer(sys.stdout)
            writer.writerow(header)
            writer.writerows(rows)
        audit.record(
            Action.EXPORT,
            acting_user=user,
            object_type="regions.region",
            object_repr=f"regions under {prefix} ({len(rows)} rows)",
            region=prefix,
            detail={"rows": len(rows), "format": options["format"]},
        )
