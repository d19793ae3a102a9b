"""`liudong report monthly --region CODE --period YYYY-MM --format json|xlsx|table`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.stats import services
from liudong.stats.spreadsheets import header_names, table_rows, write_monthly_report

if TYPE_CHECKING:
    from liudong.stats.models import Indicator


class Command(LiudongCommand):
    help = (
        "The monthly report of a region (DESIGN.md §5): its indicators and one row per "
        "child region. json on stdout, xlsx in the offices' form (--out), or a table."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True)
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--format", choices=["json", "xlsx", "table"], default="table")
        parser.add_argument("--out", help="file to write (required for xlsx)")

    def run(self, **options: Any) -> None:
        file_format = options["format"]
        out = options.get("out")
        if file_format == "xlsx" and (not out or Path(out).suffix.lower() != ".xlsx"):
            raise CommandError("--format xlsx needs --out FILE.xlsx")
        prefix = self.region_option(options["region"])
        try:
            period = services.parse_period(options["period"])
        except ValidationError as exc:
            raise CommandError(f"--period: {' '.join(exc.messages)}") from exc
        indicators = services.report_indicators()
        report = services.monthly_report(
            prefix, period, acting_user=self.acting_user, indicators=indicators
        )
        if file_format == "json":
            if out:
                Path(out).write_text(
                    json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
                )
            else:
                self.print_json(report)
        elif file_format == "xlsx":
            assert out is not None  # checked above
            write_monthly_report(report, indicators, Path(out))
            self.stdout.write(
                _("%(out)s: %(n)s rows and the total") % {"out": out, "n": len(report["rows"])}
            )
        else:
            self._table(report, indicators)

    def _table(self, report: dict[str, Any], indicators: list[Indicator]) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{report['name']}（{report['region']}） {report['period']}")
        # Indicators down, regions across would be too wide: one line per indicator.
        table.add_column("指标")
        table.add_column("合计", justify="right")
        rows = table_rows(report, indicators)
        for row in rows[:-1]:
            table.add_column(row[1], justify="right")
        names = header_names(indicators)[2:]
        for index, name in enumerate(names):
            cells = [rows[-1][index + 2]] + [row[index + 2] for row in rows[:-1]]
            rate = indicators[index].unit != "count"
            table.add_row(name, *(_cell(v, rate) for v in cells))
        buffer = io.StringIO()
        Console(file=buffer, width=max(120, 14 * (len(rows) + 2))).print(table)
        self.stdout.write(buffer.getvalue(), ending="")


def _cell(value: object, rate: bool) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if rate else str(value)
