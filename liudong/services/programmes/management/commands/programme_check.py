import datetime
import io
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand, row_problem
from liudong.people.idnumbers import mask
from liudong.services.programmes.familylist import (
    COLUMNS,
    EXTRA_COLUMNS,
    FamilyList,
    check_list,
    read_family_list,
)
from liudong.services.programmes.models import Programme
from liudong.tabular import TableError

# A refused row names the column as the template's header does (子女1出生日期, not the field).
HEADERS = {column.field: column.chinese for column in (*COLUMNS, *EXTRA_COLUMNS)}


class Command(LiudongCommand):
    help = (
        "Check a family list (csv or xlsx, the family list template, Chinese or English "
        "headers): for each row, the reward and assistance programmes it qualifies for on "
        "--on and, for each it does not, the first rule it fails. Rows breaking the "
        "template are listed as rejected; the exit status is 0 when the file was read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--on", required=True, metavar="YYYY-MM-DD", help="the date eligibility is judged on"
        )
        parser.add_argument("--sheet", help="xlsx sheet to read (default: the first)")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, file: str, **options: Any) -> None:
        try:
            on = datetime.date.fromisoformat(options["on"])
        except ValueError:
            self.fail(
                _("--on: “%(value)s” is not a date written YYYY-MM-DD") % {"value": options["on"]},
                code="usage",
            )
        try:
            family_list = read_family_list(file, sheet=options["sheet"])
        except TableError as exc:
            self.fail(str(exc), code="unreadable_file")
        programmes = list(Programme.objects.filter(active=True))
        checked = check_list(family_list, on, programmes)
        if options["format"] == "json":
            self.print_json(checked)
            return
        self._table(family_list, checked, programmes, on)
        qualifying = sum(1 for row in checked["rows"] if row["programmes"])
        self.stdout.write(
            _(
                "checked %(rows)s rows on %(on)s: %(qualifying)s qualify for a programme, "
                "%(none)s for none; rejected %(rejected)s, warnings %(warnings)s"
            )
            % {
                "rows": len(checked["rows"]),
                "on": on.isoformat(),
                "qualifying": qualifying,
                "none": len(checked["rows"]) - qualifying,
                "rejected": len(checked["rejected"]),
                "warnings": len(checked["warnings"]),
            }
        )
        for problem in checked["rejected"][:50]:
            self.stderr.write(row_problem(problem, HEADERS))
        if len(checked["rejected"]) > 50:
            self.stderr.write(
                _("… %(n)s more (see --format json)") % {"n": len(checked["rejected"]) - 50}
            )
        for warning in checked["warnings"][:50]:
            self.stderr.write(row_problem(warning, HEADERS))

    def _table(
        self,
        family_list: FamilyList,
        checked: dict[str, Any],
        programmes: list[Programme],
        on: datetime.date,
    ) -> None:
        from rich.console import Console
        from rich.table import Table

        read = {row.row: row for row in family_list.rows}
        names = {programme.code: programme.name for programme in programmes}
        table = Table(title=_("Programme eligibility on %(on)s") % {"on": on.isoformat()})
        table.add_column("行", justify="right")
        table.add_column("姓名")
        table.add_column("公民身份号码")
        table.add_column(_("qualifies for"))
        table.add_column(_("does not qualify: the first rule failed"))
        for row in checked["rows"]:
            family = read[row["row"]]
            table.add_row(
                str(row["row"]),
                family.name,
                mask(family.id_number),  # lists show masked numbers (PIPL)
                "\n".join(names.get(code, code) for code in row["programmes"]) or "—",
                "\n".join(f"{code}: {reason}" for code, reason in row["not"].items()) or "—",
            )
        buffer = io.StringIO()
        Console(file=buffer, width=160).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
