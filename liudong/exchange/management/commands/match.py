from pathlib import Path

from django.core.management.base import CommandError

from liudong.commands import LiudongCommand
from liudong.exchange.matching import DEFAULT_THRESHOLD, MatchInputError, match_files


class Command(LiudongCommand):
    help = (
        "Match two registries' person files (person template, csv or xlsx) for two-way "
        "assessment: the same ID number, then ID numbers one transposition apart or in the "
        "legacy 15-digit form, then name (simplified or traditional, homophones) with birth "
        "date and sex, scored by a probabilistic model; each row is matched at most once."
    )

    def add_arguments(self, parser):
        parser.add_argument("outflow", help="the outflow register (place of registration)")
        parser.add_argument("inflow", help="the inflow register (place of residence)")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--threshold",
            type=float,
            default=DEFAULT_THRESHOLD,
            help=f"lowest score of a match, above 0 and at most 1 (default {DEFAULT_THRESHOLD})",
        )

    def run(self, **options):
        threshold = options["threshold"]
        if not 0 < threshold <= 1:
            raise CommandError(f"--threshold {threshold}: give a score above 0 and at most 1")
        try:
            result = match_files(options["outflow"], options["inflow"], threshold=threshold)
        except MatchInputError as exc:
            self.fail(
                str(exc), errors=[{"field": exc.field, "code": exc.code, "message": str(exc)}]
            )
        if self.format == "json":
            self.print_json(result.as_dict())
            return
        self.stdout.write(
            f"{len(result.matches)} matched, {len(result.outflow_unmatched)} only in "
            f"{Path(options['outflow']).name}, {len(result.inflow_unmatched)} only in "
            f"{Path(options['inflow']).name}"
        )
        for entry in result.summary:
            self.stdout.write(
                f"{entry['outflow_region']} -> {entry['inflow_region']}: "
                f"{entry['matched']} matched, {entry['only_outflow']} only outflow, "
                f"{entry['only_inflow']} only inflow"
            )
