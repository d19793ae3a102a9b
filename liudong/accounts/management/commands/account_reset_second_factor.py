from typing import Any

from django.core.management.base import CommandError, CommandParser

from liudong.accounts import second_factor
from liudong.accounts.models import User
from liudong.commands import LiudongCommand


class Command(LiudongCommand):
    help = (
        "Remove a staff account's second factor (authenticator and recovery codes) after a "
        "lost phone; the account sets up a new one at its next sign-in. Audited."
    )
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, username: str, **options: Any) -> None:
        # The operator's way back in when the only county administrator lost both the phone
        # and the recovery codes; an administrator may run it too (--user, within scope).
        account = User.objects.filter(username__iexact=username.strip()).first()
        if account is None:
            raise CommandError(f"no staff account “{username}”")
        second_factor.reset_second_factor(acting_user=self.acting_user, user=account)
        result = {"username": account.username, "second_factor": "reset"}
        if options["format"] == "json":
            self.print_json(result)
        else:
            self.stdout.write(
                f"{account.username}: second factor removed; they set up a new one at next sign-in"
            )
