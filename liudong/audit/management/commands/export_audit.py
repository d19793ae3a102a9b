from pathlib import Path

from django.core.management.base import CommandError

from liudong.accounts.roles import VIEW_AUDIT, can
from liudong.audit.models import AuditEntry
from liudong.audit.services import export_xlsx
from liudong.commands import LiudongCommand
from liudong.regions.codes import CodeError, clean_code


class Command(LiudongCommand):
    help = "Export the audit log of a region to xlsx (the export is itself logged)."
    acts_as_user = True

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True)
        parser.add_argument("--out", required=True)

    def run(self, **options):
        try:
            prefix = clean_code(options["region"])
        except CodeError as exc:
            raise CommandError(f"--region: {exc}") from exc
        user = self.acting_user
        if user is not None and not can(user, VIEW_AUDIT):
            raise CommandError(f"account {user.username} may not read the audit log")
        if user is not None and not prefix.startswith(user.region_id):
            raise CommandError(
                f"--region {prefix} lies outside the region {user.region_id} of account {user.username}"
            )
        entries = AuditEntry.objects.in_region(prefix)
        Path(options["out"]).write_bytes(
            export_xlsx(entries, acting_user=user, filters={"region": prefix})
        )
        self.stdout.write(f"written {options['out']}")
