from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.people.generate import generate_rows, write_file
from liudong.regions.codes import Level


class Command(LiudongCommand):
    help = (
        "Write synthetic persons in the person import template: real division codes, "
        "plausible names, valid ID numbers (a share with known faults), real migration flows, "
        "families, certificates and verification dates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, required=True, help="how many rows")
        parser.add_argument("--out", required=True, help="FILE.csv or FILE.xlsx")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same rows")
        parser.add_argument(
            "--faults", type=float, default=0.01, help="share of rows with a known fault (0-1)"
        )
        parser.add_argument(
            "--residence-region",
            help="put everyone's residence in the villages (else townships) of this region "
            "(needs the database: run liudong migrate first)",
        )
        parser.add_argument(
            "--english-headers", action="store_true", help="English instead of Chinese headers"
        )

    def run(self, **options: Any) -> None:
        out = Path(options["out"])
        if out.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError(f"--out {out}: the file name must end in .csv or .xlsx")
        if options["persons"] < 0:
            raise CommandError("--persons must be 0 or more")
        if not 0 <= options["faults"] <= 1:
            raise CommandError("--faults is a share between 0 and 1")
        residence_codes = None
        if options["residence_region"]:
            residence_codes = self._residence_codes(options["residence_region"])
        rows = generate_rows(
            options["persons"],
            seed=options["seed"],
            residence_codes=residence_codes,
            fault_share=options["faults"],
        )
        with self.progress(_("writing persons"), total=options["persons"]) as bar:
            count = write_file(
                out,
                rows,
                header="english" if options["english_headers"] else "chinese",
                progress=(lambda done: bar.update(done=done)) if bar.shown else None,
            )
        self.stdout.write(_("written %(n)s persons to %(out)s") % {"n": count, "out": out})

    def _residence_codes(self, raw: str) -> list[str]:
        from liudong.regions.models import Region

        prefix = self.region_option(raw)
        below = Region.objects.subtree(prefix)
        codes = list(below.filter(level=Level.VILLAGE).values_list("code", flat=True))
        codes = codes or list(below.filter(level=Level.TOWNSHIP).values_list("code", flat=True))
        if not codes:
            raise CommandError(f"--residence-region {prefix}: no townships or villages below it")
        return codes
