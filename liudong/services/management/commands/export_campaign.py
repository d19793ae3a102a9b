from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.services.campaigns import services as campaign_services


class Command(LiudongCommand):
    help = (
        "A campaign's summary as xlsx: activities, participants, materials and free "
        "contraceptives handed out per child region, with a total row (the export is logged)."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", required=True, type=int, dest="campaign", help="campaign id")
        parser.add_argument("--out", required=True, metavar="FILE.xlsx")

    def run(self, **options: Any) -> None:
        out = Path(options["out"])
        if out.suffix.lower() != ".xlsx":
            raise CommandError(f"--out {out}: the file name must end in .xlsx")
        campaign = campaign_services.find_campaign(options["campaign"], self.acting_user)
        summary = campaign_services.campaign_summary(campaign, user=self.acting_user)
        try:
            campaign_services.write_summary_xlsx(summary, out, acting_user=self.acting_user)
        except OSError as exc:
            raise CommandError(f"--out {out}: {exc.strerror or exc}") from exc
        self.stdout.write(
            _("written the summary of campaign %(pk)s to %(out)s") % {"pk": campaign.pk, "out": out}
        )
