"""`liudong import department FILE --source ...`: take in a department's list of newcomers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from liudong.commands import LiudongCommand
from liudong.exchange.intake import reading
from liudong.exchange.intake import services as intake
from liudong.exchange.models import IntakeBatch
from liudong.tabular import TableError


class Command(LiudongCommand):
    help = (
        "Take in a department's list of newcomers (csv or xlsx: 姓名/name, "
        "公民身份号码/id_number, 地址/address, 日期/date, 单位/employer, optionally "
        "现居住地区划代码/residence_region) and reconcile it against the registry: new, "
        "changed, unchanged and unmatched rows wait for a specialist's decision; no person "
        "file is changed. A list with unknown columns or one ID number twice is refused whole."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--source",
            required=True,
            choices=IntakeBatch.Source.values,
            help="the department that sent the list",
        )
        parser.add_argument(
            "--region",
            help="residence region of rows without a 现居住地区划代码 (default: your region)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, file: str, **options: Any) -> None:
        region = self.region_option(options["region"]) if options.get("region") else ""
        try:
            batch = reading.import_department(
                file, source=options["source"], acting_user=self.acting_user, region=region
            )
        except TableError as exc:
            self.fail(str(exc), code="unreadable_file")
        summary = intake.report(batch, acting_user=self.acting_user)
        if options["format"] == "json":
            self.print_json(summary)
            return
        self.stdout.write(
            f"list {batch.pk} ({batch.get_source_display()}): new {batch.new_count}, "
            f"changed {batch.changed_count}, unchanged {batch.unchanged_count}, "
            f"unmatched {batch.unmatched_count}, already pending {batch.repeated_count}, "
            f"rejected {len(batch.rejected)}; nothing in the registry was changed: "
            f"confirm or dismiss the rows at /exchange/intake/{batch.pk}/"
        )
        for problem in batch.rejected[:50]:
            self.stderr.write(f"row {problem['row']}, {problem['field']}: {problem['message']}")
        if len(batch.rejected) > 50:
            self.stderr.write(f"… {len(batch.rejected) - 50} more (see --format json)")
