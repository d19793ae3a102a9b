from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.people.models import Person
from liudong.residents import codes, services


class Command(LiudongCommand):
    help = (
        "Make a resident's access code for her own view (/me/sign-in/): shown once, valid "
        "RESIDENT_CODE_DAYS (or --days), revoking her earlier codes; audited, never the code."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id-number", required=True)
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        number = options["id_number"].strip().upper()
        person = Person.objects.in_scope(self.acting_user).filter(id_number=number).first()
        if person is None:
            # The number is not repeated: error output ends up in logs.
            raise CommandError("no file with this ID number in your region")
        days = options["days"]
        if days is not None and not 1 <= days <= 366:
            raise CommandError("--days must lie between 1 and 366")
        code, access = services.issue_code(acting_user=self.acting_user, person=person, days=days)
        if self.format == "json":
            self.print_json(
                {"code": codes.grouped(code), "valid_until": access.valid_until.isoformat()}
            )
        else:
            self.stdout.write(
                _("access code %(code)s, valid until %(until)s")
                % {"code": codes.grouped(code), "until": access.valid_until.isoformat()}
            )
