from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.audit.services import verify_chain
from liudong.backup.archive import BackupError
from liudong.backup.services import restore
from liudong.commands import LiudongCommand

from ._passphrase import read_passphrase


class Command(LiudongCommand):
    help = (
        "Restore a backup into an empty database (a new one: restore creates its tables) "
        "and put its keys in place. The passphrase is read from standard input. A damaged "
        "or altered file, a wrong passphrase or a database holding data is refused before "
        "anything is written."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup file")
        parser.add_argument(
            "--replace-keys",
            action="store_true",
            help="put the backup's keys in place even where this machine has different "
            "ones (those are kept beside them as NAME.replaced-TIME)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        passphrase = read_passphrase(options.get("stdin"), confirm=False)
        try:
            report = restore(
                Path(options["file"]), passphrase=passphrase, replace_keys=options["replace_keys"]
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        chain = verify_chain()
        if self.format == "json":
            self.print_json(
                {
                    "backup_id": report.backup_id,
                    "backup_created": report.created,
                    "rows": report.rows,
                    "keys_written": report.keys_written,
                    "keys_replaced": report.keys_replaced,
                    "schema_created": report.schema_created,
                    "migrations_applied_after": report.upgraded,
                    "anchors_set_aside": report.anchors_set_aside,
                    "audit": chain.as_dict(),
                }
            )
        else:
            self.stdout.write(
                f"restored {report.total} rows in {len(report.rows)} tables from the backup "
                f"made {report.created}"
            )
            for path in report.keys_written:
                self.stdout.write(_("key written: %(path)s") % {"path": path})
            if report.upgraded:
                self.stdout.write(
                    _("schema upgraded: %(n)s migrations applied") % {"n": report.upgraded}
                )
            if report.anchors_set_aside:
                self.stdout.write(
                    f"anchors of the replaced log kept as {report.anchors_set_aside}; "
                    "the restored log is anchored afresh"
                )
            if chain.ok:
                self.stdout.write(
                    _("audit log intact: %(n)s entries checked") % {"n": chain.checked}
                )
            else:
                self.stderr.write(f"audit log BROKEN at entry #{chain.broken_seq}: {chain.reason}")
        if not chain.ok:
            raise SystemExit(1)
