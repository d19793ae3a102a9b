"""`liudong check quality --region CODE [--format json|table] [--rule CODE] [--user NAME]`.

Violations are findings, not errors: the command exits 0 when it found some; 1 when it
could not run (a region outside the account's, an unknown region or rule).
"""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.stats import quality


class Command(LiudongCommand):
    help = (
        "Data-quality rules over the files of a region: the count per rule and each "
        "violation with its grid and the page where it is fixed (masked ID numbers)."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True)
        parser.add_argument("--format", choices=["json", "table"], default="table")
        parser.add_argument("--rule", help="one rule's code (default: every active rule)")

    def run(self, **options: Any) -> None:
        rules = quality.selected_rules(options.get("rule"))
        report = quality.check_quality(
            region=options["region"], acting_user=self.acting_user, rules=rules
        )
        if options["format"] == "json":
            self.print_json(quality.as_json(report))
        else:
            self._table(report)

    def _table(self, report: quality.QualityReport) -> None:
        from rich.console import Console
        from rich.table import Table

        rules = Table(title=f"{report.region.name}（{report.region.code}）")
        rules.add_column(_("Rule"))
        rules.add_column(_("Severity"))
        rules.add_column(_("Violations"), justify="right")
        for result in report.results:
            rules.add_row(result.rule.name, result.rule.get_severity_display(), str(result.total))
        found = Table()
        columns = (_("Grid"), _("Rule"), _("Full name"), _("ID number"), _("Detail"), _("Fix at"))
        for column in columns:
            found.add_column(column)
        for group in report.by_grid():
            for v in group.violations:
                grid = group.grid.name if group.grid else _("Not in any grid")
                found.add_row(grid, v.rule.code, v.name, v.masked_id, v.detail, v.url)
        buffer = io.StringIO()
        console = Console(file=buffer, width=160)
        console.print(rules)
        if report.violations:
            console.print(found)
        self.stdout.write(buffer.getvalue(), ending="")
