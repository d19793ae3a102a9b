import sys
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from liudong.accounts import services
from liudong.accounts.roles import Role
from liudong.commands import LiudongCommand
from liudong.regions.services import resolve_region


class Command(LiudongCommand):
    help = "Create a staff account with one role and one region; prints its password."
    acts_as_user = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--region", required=True, help="region code the account works in")
        parser.add_argument("--full-name", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
        parser.add_argument("--token", action="store_true", help="also issue an API token")
        parser.add_argument(
            "--token-days",
            type=int,
            default=None,
            help="days until that token expires (default LIUDONG_API_TOKEN_DAYS, 90)",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, username: str, **options: Any) -> None:
        from django.core.exceptions import ValidationError

        try:
            region = resolve_region(options["region"])
        except ValidationError as exc:
            raise ValidationError({"region": exc.messages}) from exc
        password = sys.stdin.readline().rstrip("\n") if options["password_stdin"] else None
        # One transaction: a refused token (e.g. --token-days 0) leaves no account behind.
        with transaction.atomic():
            user, password = services.create_user(
                acting_user=self.acting_user,
                username=username,
                role=options["role"],
                region=region,
                password=password,
                full_name=options["full_name"],
                phone=options["phone"],
            )
            issued = (
                services.issue_token(
                    acting_user=self.acting_user, user=user, days=options["token_days"]
                )
                if options["token"]
                else None
            )
        result = {
            "username": user.username,
            "role": user.role,
            "region": user.region_id,
            # Whoever ran this knows the password: the holder changes it at first sign-in.
            "must_change_password": user.must_change_password,
        }
        if not options["password_stdin"]:
            result["password"] = password
        if issued:
            result["token"] = issued.key
            result["token_expires"] = issued.token.expires.isoformat()
        if options["format"] == "json":
            self.print_json(result)
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")
