from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser

from liudong.commands import LiudongCommand
from liudong.web.demo import build_demo


class Command(LiudongCommand):
    help = (
        "Create var/, migrate, build a demo county (西湖区: 5 townships, 40 villages, groups, "
        "grids), create one account per role with printed passwords, and serve on :8000."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="set up only, do not serve")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def run(self, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        accounts = build_demo()
        self.stdout.write("Demo county 浙江省杭州市西湖区 (330106) is ready. Accounts:")
        self.stdout.write(f"  {'user name':<14} {'role':<10} {'region':<16} password")
        for account in accounts:
            name, role, region = account.username, account.role, account.region
            self.stdout.write(f"  {name:<14} {role:<10} {region:<16} {account.password}")
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"])
