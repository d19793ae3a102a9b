"""What the services importers and exports share: parsing a cell (dates, counts, regions,
choices), finding the person a row names within the caller's scope, running the rows of
a file in one transaction with a summary of their problems, and writing a logged xlsx.
The sub-domains' ``spreadsheets`` build on it; it knows none of them.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet, TextChoices
from django.utils.translation import gettext as _

from liudong.accounts.models import User
from liudong.actors import Actor, Caller
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people import idnumbers
from liudong.people.models import Person
from liudong.regions.models import Region
from liudong.regions.services import resolve_region_noting
from liudong.safesheet import write_table
from liudong.services.models import (
    MemberRole,
)
from liudong.services.servicesheet import SheetTarget
from liudong.tabular import ImportSummary, row_problems

#: What a cell of an uploaded table holds once read (``liudong.tabular.read_table``).
Cell = str | int | float | datetime.date | None
M = TypeVar("M", bound=Model)

# The warnings of the row being read (field, message), collected by ``run_rows``: the
# cell parsers are called deep inside each sub-domain's row function, which knows no
# summary, and a warning belongs to the row only if the row is saved.
_row_warnings: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar(
    "row_warnings", default=None
)


def warn(field: str, message: str) -> None:
    """A warning on the row being imported (outside ``run_rows``: nowhere to list it)."""
    collected = _row_warnings.get()
    if collected is not None and (field, message) not in collected:
        collected.append((field, message))


class RowProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_date(value: Cell, field: str) -> datetime.date:
    """A date cell: an Excel date, or text 2025-01-15, 2025/1/15 or 20250115."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowProblem(field, _("“%(value)s” is not a date (write 2025-01-15).") % {"value": text})


def parse_count(value: Cell, field: str) -> int:
    if value in (None, ""):
        return 0
    try:
        number = float(str(value).strip())
    except ValueError:
        number = -1.5
    if number < 0 or number != int(number):
        raise RowProblem(
            field, _("“%(value)s” is not a whole number of 0 or more.") % {"value": value}
        )
    return int(number)


def parse_role(value: Cell) -> str:
    if value in (None, ""):
        return MemberRole.MEMBER
    text = str(value).strip()
    for code, label in MemberRole.choices:
        if text.lower() in (code, str(label).lower()):
            return code
    # The Chinese labels, whatever language the server answers in.
    chinese = {"会员": "member", "理事": "council", "会长": "chair", "志愿者": "volunteer"}
    if text in chinese:
        return chinese[text]
    raise RowProblem(
        "role",
        _("“%(value)s” is not a role; use one of: %(roles)s.")
        % {"value": text, "roles": ", ".join(str(label) for _code, label in MemberRole.choices)},
    )


def find_person(user: Caller, raw: Cell) -> Person:
    """The file with this ID number in the caller's scope (a merged file leads on)."""
    if "*" in str(raw or ""):
        raise RowProblem(
            "id_number",
            _(
                "A masked ID number (as an export writes it) does not say whose it is: "
                "give the full number, or the record's 编号."
            ),
        )
    try:
        value = idnumbers.parse(str(raw or "")).value
    except idnumbers.IdNumberError as exc:
        raise RowProblem("id_number", str(exc)) from exc
    persons = Person.objects.in_scope(user)
    person = persons.filter(id_number=value).first()
    if person is not None and person.merged_into_id:
        person = persons.filter(pk=person.merged_into_id).first()
    if person is None:
        raise RowProblem(
            "id_number",
            _("No file with ID number %(number)s in your region.")
            % {"number": idnumbers.mask(value)},
        )
    return person


def reject_row(summary: ImportSummary, row: int, exc: Exception, denied_field: str) -> None:
    if isinstance(exc, PermissionDenied):
        summary.rejected.append({"row": row, "field": denied_field, "message": str(exc)})
    elif isinstance(exc, RowProblem):
        summary.rejected.append({"row": row, "field": exc.field, "message": exc.message})
    elif isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            for message in messages:
                summary.rejected.append({"row": row, "field": field, "message": message})
    elif isinstance(exc, ValidationError):
        for message in exc.messages:
            summary.rejected.append({"row": row, "field": "", "message": message})


def run_rows(
    rows: Iterable, one_row: Callable[[dict[str, Cell]], str], *, commit: bool, denied_field: str
) -> ImportSummary:
    """Each row in its own savepoint: a bad row is listed and saves nothing; with
    ``commit`` False (the preview) everything is rolled back at the end."""
    summary = ImportSummary()
    with transaction.atomic():
        for row, values in rows:
            if problems := row_problems(values):
                summary.rejected.extend(problems)  # a control character in a cell
                continue
            warnings: list[tuple[str, str]] = []
            token = _row_warnings.set(warnings)
            try:
                with transaction.atomic():
                    outcome = one_row(values)
            except (RowProblem, ValidationError, PermissionDenied) as exc:
                reject_row(summary, row, exc, denied_field)
                continue
            finally:
                _row_warnings.reset(token)
            setattr(summary, outcome, getattr(summary, outcome) + 1)
            summary.warnings.extend(
                {"row": row, "field": field, "message": message} for field, message in warnings
            )
        if not commit:
            transaction.set_rollback(True)
    return summary


def save_row(
    current: Model | None,
    values: dict,
    *,
    acting_user: Actor,
    create: Callable[..., object],
    update: tuple,
    read: Callable[[Any, str], object] = getattr,
) -> str:
    """One imported row through the services: ``create(acting_user=…, **values)`` when
    nothing matches the row's key (``current`` None); else the service ``update[0]`` with
    the record as its keyword ``update[1]`` and the values that differ; else nothing. A
    value None is a blank cell: left as it is (a new record takes the service's default),
    so an export, which leaves out what it does not show, re-imports unchanged."""
    given = {name: value for name, value in values.items() if value is not None}
    if current is None:
        create(acting_user=acting_user, **given)
        return "imported"
    changes = {name: value for name, value in given.items() if read(current, name) != value}
    if not changes:
        return "unchanged"
    service, keyword = update
    service(acting_user=acting_user, **{keyword: current}, **changes)
    return "updated"


def parse_region(value: Cell, field: str = "region") -> Region:
    """The region a cell names. An old code is taken as its successor, an unknown one as
    its nearest known parent, with a warning on the row (as the person import does);
    a code whose province is unknown is refused."""
    try:
        region = resolve_region_noting(str(value or "").strip())
    except ValidationError as exc:
        raise RowProblem(field, " ".join(exc.messages)) from exc
    if region.resolution_warning:
        warn(field, region.resolution_warning)
    return region


def parse_text(value: Cell) -> str | None:
    """A text cell; None when blank (left as it is)."""
    text = str(value if value is not None else "").strip()
    return text or None


def parse_optional_date(value: Cell, field: str) -> datetime.date | None:
    return None if value in (None, "") else parse_date(value, field)


def parse_optional_count(value: Cell, field: str) -> int | None:
    return None if value in (None, "") else parse_count(value, field)


def by_number(records: QuerySet[M], value: Cell, field: str = "number") -> M | None:
    """The record a file's 编号 column names among ``records`` (the caller's); None when
    the cell is blank. An export writes this number because its ID numbers are masked:
    a masked number cannot say whose record a row is, the record's own number can."""
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number cell Excel keeps as 12.0
    text = str(value).strip()
    valid = text.isascii() and text.isdigit() and 0 < len(text) < 19
    record = records.filter(pk=int(text)).first() if valid else None
    if record is None:
        raise RowProblem(
            field, _("No record number “%(number)s” in your region.") % {"number": text}
        )
    return record


def check_same_person(value: Cell, person: Person, number: int) -> None:
    """A row naming a record by its number must not name another person: the ID number
    cell, when filled, is hers in full or masked as the export wrote it."""
    text = str(value or "").strip().upper()
    if text and text not in (person.id_number, idnumbers.mask(person.id_number)):
        raise RowProblem(
            "id_number",
            _("%(given)s is not the ID number of the person of record %(number)s.")
            % {"given": text, "number": number},
        )


def zh_name(names: dict, code: str) -> str:
    """The first Chinese name of ``code`` in ``names`` (the one an export writes)."""
    return next((name for name, value in names.items() if value == code), code)


def day_cell(value: datetime.date | None) -> datetime.date | None:
    """A date column's cell: a date cell in the xlsx (liudong.safesheet), blank for none."""
    return value


def write_logged(
    target: SheetTarget,
    header: list[str],
    rows: Iterable[list],
    *,
    sheet_title: str,
    acting_user: Actor,
    region: str,
    what: str,
    obj: Model | None = None,
    model: type[Model] | None = None,
) -> int:
    """Write the rows as xlsx and log the export (who, where, what, how many rows)."""
    rows = list(rows)
    write_table(target, header, rows, sheet_title=sheet_title)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=obj,
        object_type="" if model is None else model._meta.label_lower,
        object_repr="" if obj is not None else f"{what} under {region} ({len(rows)} rows)",
        region=region,
        detail={"rows": len(rows), "format": "xlsx", "what": what},
    )
    return len(rows)


def region_choices(user: User, *, within: Iterable[str] = (), max_length: int = 12) -> list[Region]:
    """The user's region and the regions below it (down to villages), optionally only
    those inside one of ``within`` (a campaign's regions)."""
    from liudong.regions.codes import subtree_q

    if user.region_id is None:
        return []  # an account without a region has no region to offer
    regions = Region.objects.filter(subtree_q(user.region_id, "code")).order_by("code")
    codes = list(within)
    return [
        region
        for region in regions
        if len(region.code) <= max_length
        and (not codes or any(region.code.startswith(code) for code in codes))
    ]


def parse_choice(
    value: Cell, choices: type[TextChoices], names: dict, field: str, what: str
) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    if text in names:
        return str(names[text])
    for code, label in choices.choices:
        if text.lower() in (code, str(label).lower()):
            return code
    raise RowProblem(
        field,
        _("“%(value)s” is not a %(what)s; use one of: %(names)s.")
        % {"value": text, "what": what, "names": "、".join(str(n) for n in names)},
    )


def one_of(records: QuerySet[M], field: str, message: str) -> M | None:
    """The record matching a row's key, None when none does; several is the row's problem."""
    found = list(records[:2])
    if len(found) > 1:
        raise RowProblem(field, message)
    return found[0] if found else None


@dataclasses.dataclass(frozen=True)
class Sheet:
    """An export: its header, how a record becomes a row, the sheet's title, and what the
    audit log calls it. Each sub-domain's ``spreadsheets`` defines its own."""

    header: list[str]
    rows: Callable[[Iterable], Iterable[list]]
    title: str
    what: str
    model: type


def write_sheet(
    sheet: Sheet,
    records: Iterable,
    target: SheetTarget,
    *,
    acting_user: Actor,
    region: str,
    obj: Model | None = None,
) -> int:
    """The records (as the caller's page lists them) as the xlsx ``sheet``, the export
    logged under ``obj`` (the campaign or branch they belong to) or the region."""
    return write_logged(
        target,
        sheet.header,
        sheet.rows(records),
        sheet_title=sheet.title,
        acting_user=acting_user,
        region=region,
        what=sheet.what,
        obj=obj,
        model=None if obj is not None else sheet.model,
    )
