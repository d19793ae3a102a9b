from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.regions.codes import CodeError, clean_code
from liudong.services.records import services as record_services


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"“{value}” is not a date YYYY-MM-DD") from exc


class Command(LiudongCommand):
    help = (
        "Service records given under a region in a period as xlsx: one row per service "
        "(masked ID number, name, type, date, where, free or not, campaign; never the "
        "result). The export is logged."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, metavar="CODE", help="region (subtree)")
        parser.add_argument("--from", required=True, dest="start", metavar="YYYY-MM-DD")
        parser.add_argument("--to", required=True, dest="end", metavar="YYYY-MM-DD")
        parser.add_argument("--out", required=True, metavar="FILE.xlsx")

    def run(self, **options: Any) -> None:
        out = Path(options["out"])
        if out.suffix.lower() != ".xlsx":
            raise CommandError(f"--out {out}: the file name must end in .xlsx")
        try:
            region = clean_code(options["region"])
        except CodeError as exc:
            raise CommandError(f"--region: {exc}") from exc
        start, end = _day(options["start"]), _day(options["end"])
        try:
            rows = record_services.export_services_xlsx(
                out, acting_user=self.acting_user, region_code=region, start=start, end=end
            )
        except OSError as exc:
            raise CommandError(f"--out {out}: {exc.strerror or exc}") from exc
        self.stdout.write(_("written %(n)s service records to %(out)s") % {"n": rows, "out": out})
