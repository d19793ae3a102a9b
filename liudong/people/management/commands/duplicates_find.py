from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.people.duplicates import find_duplicates


class Command(LiudongCommand):
    help = (
        "Queue possible duplicates among the active files: same name and birth date with "
        "different ID numbers, or ID numbers one transposition apart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        with self.progress(_("comparing files")) as bar:
            queued = find_duplicates(
                progress=(lambda done, total: bar.update(done=done, total=total))
                if bar.shown
                else None
            )
        if self.format == "json":
            self.print_json({"queued": queued})
            return
        self.stdout.write(_("%(n)s new possible duplicates queued") % {"n": queued})
