from typing import Any

from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.people.duplicates import find_duplicates


class Command(LiudongCommand):
    help = (
        "Queue possible duplicates among the active files: same name and birth date with "
        "different ID numbers, or ID numbers one transposition apart."
    )

    def run(self, **options: Any) -> None:
        queued = find_duplicates()
        self.stdout.write(_("%(n)s new possible duplicates queued") % {"n": queued})
