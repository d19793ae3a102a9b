from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from liudong.backup.archive import BackupError
from liudong.backup.services import backup
from liudong.commands import LiudongCommand

from ._passphrase import read_passphrase


class Command(LiudongCommand):
    help = (
        "Write the whole database and this node's keys to one file. The keys are encrypted "
        "with a passphrase read from standard input (one line); keep it apart from the file."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="the backup file to write")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        passphrase = read_passphrase(options.get("stdin"), confirm=True)
        out = Path(options["out"])
        try:
            report = backup(out, passphrase=passphrase)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if self.format == "json":
            self.print_json(
                {
                    "file": str(report.path),
                    "backup_id": report.backup_id,
                    "rows": report.rows,
                    "keys": report.keys,
                    "keys_not_found": report.missing_keys,
                }
            )
            return
        self.stdout.write(
            f"backup written to {report.path}: {report.total} rows in {len(report.rows)} "
            f"tables, keys: {', '.join(report.keys) or 'none'}"
        )
        for name in report.missing_keys:
            self.stdout.write(
                f"note: no {name} on this machine, so none in the backup "
                "(e.g. the secret key set by LIUDONG_SECRET_KEY: keep it with your settings)"
            )
