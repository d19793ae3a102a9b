from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.exchange.matching import county_report as match_report
from liudong.exchange.matching.engine import (
    DEFAULT_THRESHOLD,
    MatchInputError,
    match,
    read_register,
)


class Command(LiudongCommand):
    help = (
        "Match two registries' person files (person template, csv or xlsx) for two-way "
        "assessment: the same ID number, then ID numbers one transposition apart or in the "
        "legacy 15-digit form, then name (simplified or traditional, homophones) with birth "
        "date and sex, scored by a probabilistic model; each row is matched at most once. "
        "Reports, per pair of counties, who both or only one register holds and the rate "
        "each side is assessed on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("outflow", help="the outflow register (place of registration)")
        parser.add_argument("inflow", help="the inflow register (place of residence)")
        parser.add_argument(
            "--format",
            choices=["text", "json", "table", "xlsx"],
            default="text",
            help="json (DESIGN.md §5 with the per-pair summary), a table, or xlsx (--out)",
        )
        parser.add_argument("--out", help="the xlsx file to write (with --format xlsx)")
        parser.add_argument(
            "--threshold",
            type=float,
            default=DEFAULT_THRESHOLD,
            help=f"lowest score of a match, above 0 and at most 1 (default {DEFAULT_THRESHOLD})",
        )
        parser.add_argument(
            "--engine",
            choices=["duckdb", "spark"],
            default="duckdb",
            help="duckdb (one machine, the default) or spark (PySpark with splink's SparkAPI; "
            "SPARK_MASTER or local[*])",
        )

    def run(self, **options: Any) -> None:
        threshold = options["threshold"]
        if not 0 < threshold <= 1:
            raise CommandError(f"--threshold {threshold}: give a score above 0 and at most 1")
        if self.format == "xlsx" and not options.get("out"):
            raise CommandError("--format xlsx needs --out FILE.xlsx")
        try:
            outflow = read_register(options["outflow"])
            inflow = read_register(options["inflow"])
        except MatchInputError as exc:
            self.fail(
                str(exc), errors=[{"field": exc.field, "code": exc.code, "message": str(exc)}]
            )
        if options["engine"] == "spark":
            try:
                import pyspark  # noqa: F401
            except ImportError:
                raise CommandError(
                    "--engine spark needs PySpark (pip install pyspark) and a Java 17+ runtime"
                ) from None
            from liudong.exchange.matching.spark import match_spark

            result = match_spark(outflow, inflow, threshold=threshold)
        else:
            result = match(outflow, inflow, threshold=threshold)
        if self.format == "json":
            self.print_json(result.as_dict())
            return
        outflow_name, inflow_name = Path(options["outflow"]).name, Path(options["inflow"]).name
        if self.format in ("table", "xlsx"):
            from liudong.exchange.matching.services import county_names

            report = match_report.build_report(outflow, inflow, result)
            names = county_names(match_report.county_codes(report))
            if self.format == "table":
                self.stdout.write(match_report.render_table(report, names=names))
                return
            match_report.write_xlsx(
                report,
                options["out"],
                outflow_name=outflow_name,
                inflow_name=inflow_name,
                threshold=threshold,
                names=names,
            )
            self.stdout.write(_("written %(out)s") % {"out": options["out"]})
            return
        self.stdout.write(
            f"{len(result.matches)} matched, {len(result.outflow_unmatched)} only in "
            f"{outflow_name}, {len(result.inflow_unmatched)} only in {inflow_name}"
        )
        for entry in result.summary:
            self.stdout.write(
                f"{entry['outflow_region']} -> {entry['inflow_region']}: "
                f"{entry['matched']} matched, {entry['only_outflow']} only outflow, "
                f"{entry['only_inflow']} only inflow; residence rate "
                f"{_rate(entry['residence_rate'])}, origin rate {_rate(entry['origin_rate'])}"
            )


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}%"
