from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.accounts.roles import VIEW_AUDIT, can
from liudong.audit.models import AuditEntry
from liudong.audit.services import export_xlsx
from liudong.commands import LiudongCommand


class Command(LiudongCommand):
    help = "Export the audit log of a region to xlsx (the export is itself logged)."
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True)
        parser.add_argument("--out", required=True)

    def run(self, **options: Any) -> None:
        prefix = self.region_option(options["region"])
        user = self.acting_user
        if not can(user, VIEW_AUDIT):  # the operator (no --user) holds every capability
            raise CommandError(f"account {user.username} may not read the audit log")
        entries = AuditEntry.objects.in_region(prefix)
        Path(options["out"]).write_bytes(
            export_xlsx(entries, acting_user=user, filters={"region": prefix})
        )
        self.stdout.write(_("written %(out)s") % {"out": options["out"]})
