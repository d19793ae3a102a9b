from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.certificates import issuing, printing
from liudong.commands import LiudongCommand


class Command(LiudongCommand):
    help = "Print a certificate: an A4 PDF in Chinese with the QR code of its signed payload."
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="certificate number, e.g. 330106002-2026-000001")
        parser.add_argument("--out", required=True, metavar="FILE.pdf")

    def run(self, number: str, **options: Any) -> None:
        out = Path(options["out"])
        if out.suffix.lower() != ".pdf":
            raise CommandError(f"--out {out}: the file name must end in .pdf")
        certificate = issuing.find_certificate(number, self.acting_user)
        data = printing.print_certificate(certificate, acting_user=self.acting_user)
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"--out {out}: {exc.strerror or exc}") from exc
        self.stdout.write(
            _("written %(number)s to %(out)s") % {"number": certificate.number, "out": out}
        )
