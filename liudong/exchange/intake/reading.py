"""Department data intake (issue 7, part 5): lists of newcomers from the police, labour,
housing and commerce departments, read, reconciled against the registry and decided by a
specialist one row at a time.

Importing a list changes no person file. Each valid row becomes an :class:`IntakeRow` in one
of four categories: *new* (no file with that ID number: a proposed arrival), *changed* (her
file differs from what the department knows: name, residence, address, employer), *unchanged*
and *unmatched* (a person must look: the number is on file outside the importer's region, the
names contradict each other, the row's region lies outside the importer's). Confirming a row
goes through the people services (``save_arrival``, ``register_arrival``, ``update_person``);
dismissing one needs a reason. Every import, decision and export is in the audit log.

This module owns the reading and the reconciling: a list read, checked row by row, compared
with the files and kept as a batch (:func:`import_department`). It writes the batch, its rows
and their audit entries, never a person file; the decisions on the rows are ``services``'s.
"""

from __future__ import annotations

import dataclasses
import datetime
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.actors import Actor, account_of, is_operator, reach
from liudong.audit import context as audit_context
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.people import idnumbers
from liudong.people.models import Person, ResidenceEpisode
from liudong.people.rows import (
    RESIDENCE_LENGTHS,
    Problem,
    RowChecker,
    parse_date,
    text,
)
from liudong.places import creditcode
from liudong.regions.models import Region
from liudong.tabular import TableError, read_table, row_problems

from ..models import IntakeBatch, IntakeRow

Category = IntakeRow.Category
Status = IntakeRow.Status

# The template: Chinese header first (what the departments' own exports use), then English
# and the other names those exports give the same column.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "id_number": ("公民身份号码", "身份证号", "身份证号码"),
    "address": ("地址", "现居住地址", "居住地址", "住址"),
    "date": ("日期", "登记日期", "流入日期", "办理日期", "签订日期", "发照日期"),
    "employer": ("单位", "用工单位", "工作单位", "经营单位"),
    "residence_region": ("现居住地区划代码", "区划代码"),
}
REQUIRED = ("name", "id_number", "date")
IGNORABLE = ("序号", "备注", "no.", "notes")
NAME_MAX = 50
TEXT_MAX = 200
NOTE_MAX = 300


class IntakeFileError(TableError):
    """The list as a whole is refused (row 1, or duplicate ID numbers): nothing is saved."""


@dataclasses.dataclass(slots=True)
class ListRow:
    """A valid row of a department list, tidied."""

    row: int
    values: dict[str, str]
    id_number: str
    id_check_ok: bool
    name: str
    address: str
    date: datetime.date
    employer: str
    region: str

    def signature(self) -> tuple:
        """What a department says about her: two lists saying the same are one piece of work."""
        return (self.name, self.address, self.date, self.employer, self.region)


@dataclasses.dataclass
class Reading:
    rows: list[ListRow]
    rejected: list[dict]
    warnings: list[dict]


def _given(values: dict) -> dict[str, str]:
    """The cells as the department wrote them (dates as ISO text), for the page and export."""
    shown = {}
    for field, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime.datetime | datetime.date):
            value = value.isoformat()[:10]
        shown[field] = str(value)[:TEXT_MAX]
    return shown


def _short_text(value: Any, field: str, limit: int) -> str:
    result = text(value)
    if len(result) > limit:
        raise Problem(
            field,
            _("At most %(limit)d characters; this has %(n)d.") % {"limit": limit, "n": len(result)},
        )
    return result


def normalise_employer(value: str) -> str:
    """A unified social credit code as GB 32100 writes it (else the name as given)."""
    try:
        return creditcode.parse(value).code
    except creditcode.CreditCodeError:
        return value


def check_row(
    row_number: int,
    values: dict,
    *,
    default_region: str,
    known_region: Callable[[str], bool],
    today: datetime.date,
) -> tuple[ListRow | None, list[dict], list[dict]]:
    """The clean row (or None) and the problems and warnings of one row; no queries."""
    problems: list[dict] = []
    warnings: list[dict] = []
    clean: dict = {}

    def attempt(field: str, function: Callable[..., Any], *args: Any) -> None:
        try:
            clean[field] = function(*args)
        except Problem as problem:
            problems.append(
                {"row": row_number, "field": problem.field or field, "message": problem.message}
            )
        except idnumbers.IdNumberError as exc:
            problems.append({"row": row_number, "field": field, "message": str(exc)})

    def name(value: Any) -> str:
        result = _short_text(value, "name", NAME_MAX)
        if not result:
            raise Problem("name", _("A person's full name is required."))
        return result

    def date(value: Any) -> datetime.date:
        day = parse_date(value, "date")
        if day is None:
            raise Problem("date", _("A date is required: the day the department registered them."))
        if day > today:
            raise Problem("date", _("The date %(day)s is in the future.") % {"day": day})
        return day

    def region(value: Any) -> str:
        checker = RowChecker(known_region, today=today)
        if value in (None, ""):
            if not default_region:
                raise Problem("residence_region", _("A region code is required."))
            return default_region
        return checker.region(value, "residence_region", RESIDENCE_LENGTHS, True)

    attempt("id_number", idnumbers.parse, values.get("id_number"))
    attempt("name", name, values.get("name"))
    attempt("date", date, values.get("date"))
    attempt("address", _short_text, values.get("address"), "address", TEXT_MAX)
    attempt("employer", _short_text, values.get("employer"), "employer", TEXT_MAX)
    attempt("residence_region", region, values.get("residence_region"))
    identity = clean.get("id_number")
    if identity is not None and "date" in clean and clean["date"] < identity.birth_date:
        problems.append(
            {
                "row": row_number,
                "field": "date",
                "message": _("The date %(day)s is before the birth date in the ID number.")
                % {"day": clean["date"]},
            }
        )
    if identity is not None and not identity.check_ok:
        warnings.append(
            {
                "row": row_number,
                "field": "id_number",
                "message": _(
                    "The check character of this ID number is wrong; it is kept as given."
                ),
            }
        )
    if problems:
        return None, problems, []
    assert identity is not None  # no problems: every field parsed
    return (
        ListRow(
            row=row_number,
            values=_given(values),
            id_number=identity.value,
            id_check_ok=identity.check_ok,
            name=clean["name"],
            address=clean["address"],
            date=clean["date"],
            employer=normalise_employer(clean["employer"]) if clean["employer"] else "",
            region=clean["residence_region"],
        ),
        [],
        warnings,
    )


def read_department_file(
    path: str | Path,
    *,
    default_region: str,
    known_region: Callable[[str], bool],
    today: datetime.date | None = None,
) -> Reading:
    """Every row of the list, checked; raises :class:`IntakeFileError` (or TableError) when
    the whole list is refused: an unknown or missing column, or one ID number twice."""
    today = today or timezone.localdate()
    rows_in = read_table(path, COLUMNS, REQUIRED, strict=True, ignorable=IGNORABLE)
    rows: list[ListRow] = []
    rejected: list[dict] = []
    warnings: list[dict] = []
    first_row_of: dict[str, int] = {}
    duplicates: list[str] = []
    for row_number, values in rows_in:
        if cell_problems := row_problems(values):
            rejected += cell_problems  # a control character in a cell
            continue
        clean, problems, row_warnings = check_row(
            row_number,
            values,
            default_region=default_region,
            known_region=known_region,
            today=today,
        )
        try:
            number = idnumbers.parse(values.get("id_number"), today=today).value
        except idnumbers.IdNumberError:
            number = None
        if number is not None:
            if number in first_row_of:
                duplicates.append(
                    _("rows %(first)d and %(second)d hold the same ID number %(number)s")
                    % {
                        "first": first_row_of[number],
                        "second": row_number,
                        "number": idnumbers.mask(number),
                    }
                )
            else:
                first_row_of[number] = row_number
        rejected += problems
        warnings += row_warnings
        if clean is not None:
            rows.append(clean)
    if duplicates:
        shown = "; ".join(duplicates[:10])
        more = len(duplicates) - 10
        raise IntakeFileError(
            _("A list names each person once: %(pairs)s%(more)s. Nothing was saved.")
            % {"pairs": shown, "more": _(" and %(n)d more") % {"n": more} if more > 0 else ""}
        )
    return Reading(rows, rejected, warnings)


def _folded(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _sounds(name: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(_folded(name)))


def _regions_agree(file_region: str | None, list_region: str) -> bool:
    """A list that names her township while her file names the village (or the other way
    round) says the same thing less precisely: only regions apart from each other differ."""
    if not file_region:
        return False
    return file_region.startswith(list_region) or list_region.startswith(file_region)


@dataclasses.dataclass
class Outcome:
    category: str
    reason: str = ""
    message: str = ""
    person: Person | None = None
    differences: dict = dataclasses.field(default_factory=dict)


def _compare(row: ListRow, person: Person, stay: ResidenceEpisode | None) -> Outcome:
    differences: dict[str, dict] = {}
    if _folded(row.name) != _folded(person.name):
        if _sounds(row.name) != _sounds(person.name):
            return Outcome(
                Category.UNMATCHED,
                "name_differs",
                _(
                    "The list names “%(list)s” but the file with this ID number names "
                    "“%(file)s”: a person must look at the file and the department's record."
                )
                % {"list": row.name, "file": person.name},
                person=person,
            )
        # The same sounds (张玮 for 张伟): a spelling to correct, with confirmation.
        differences["name"] = {"file": person.name, "list": row.name}
    if stay is None or not _regions_agree(person.residence_region_id, row.region):
        differences["residence_region"] = {
            "file": person.residence_region_id or "",
            "list": row.region,
        }
    if row.address and row.address != person.residence_address:
        differences["address"] = {"file": person.residence_address, "list": row.address}
    current_employer = stay.employer if stay else ""
    if row.employer and normalise_employer(current_employer) != row.employer:
        differences["employer"] = {"file": current_employer, "list": row.employer}
    if differences:
        return Outcome(Category.CHANGED, person=person, differences=differences)
    return Outcome(Category.UNCHANGED, person=person)


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reconcile(rows: list[ListRow], *, acting_user: Actor) -> list[Outcome]:
    """Each row's category against the registry as the user may see it (read only)."""
    scoped = Person.objects.in_scope(acting_user)
    bound = getattr(acting_user, "region_id", "") or ""
    outcomes: list[Outcome] = []
    for chunk in _chunks(rows):
        numbers = [row.id_number for row in chunk]
        visible = {p.id_number: p for p in scoped.filter(id_number__in=numbers)}
        on_file = set(
            Person.objects.filter(id_number__in=numbers).values_list("id_number", flat=True)
        )
        # A merged file leads to the file it was merged into (as for an arrival).
        targets = {p.merged_into_id for p in visible.values() if p.merged_into_id}
        merged_into = {p.pk: p for p in scoped.filter(pk__in=targets)} if targets else {}
        people_ids = [p.pk for p in visible.values()] + list(merged_into)
        stays = {
            stay.person_id: stay
            for stay in ResidenceEpisode.objects.filter(
                person_id__in=people_ids, departure_date__isnull=True
            )
        }
        for row in chunk:
            if bound and not row.region.startswith(bound):
                outcomes.append(
                    Outcome(
                        Category.UNMATCHED,
                        "outside_region",
                        _("The residence region %(code)s lies outside your region %(region)s.")
                        % {"code": row.region, "region": bound},
                    )
                )
                continue
            person = visible.get(row.id_number)
            if person is not None and person.merged_into_id:
                person = merged_into.get(person.merged_into_id)
            if person is None and row.id_number in on_file:
                outcomes.append(
                    Outcome(
                        Category.UNMATCHED,
                        "elsewhere",
                        _(
                            "This ID number is on file outside your region; it cannot be "
                            "matched here. Ask the county office to hand the file over."
                        ),
                    )
                )
                continue
            if person is None:
                outcomes.append(Outcome(Category.NEW))
                continue
            outcomes.append(_compare(row, person, stays.get(person.pk)))
    return outcomes


def _batch_region(user: Actor, region: str, rows: list[ListRow]) -> str:
    """The region a batch belongs to: the --region, else the user's, else (the operator
    with regions in the file) the narrowest division that holds every row's region."""
    if region:
        return region
    if not is_operator(user):
        # A staff account past authorize() has its region; "" never happens.
        return user.region_id or ""
    codes = {row.region for row in rows}
    if not codes:
        return ""
    common = min(codes, key=len)
    for code in codes:
        while not code.startswith(common):
            common = common[:-1]
    for length in (15, 12, 9, 6, 4, 2):
        if len(common) >= length:
            return common[:length]
    return ""


def _known_region_lookup() -> Callable[[str], bool]:
    cache: dict[str, bool] = {}

    def known(code: str) -> bool:
        if code not in cache:
            cache[code] = Region.objects.filter(code=code).exists()
        return cache[code]

    return known


@transaction.atomic
def import_department(
    path: str | Path,
    *,
    source: str,
    acting_user: Actor,
    region: str = "",
    file_name: str = "",
) -> IntakeBatch:
    """Read and reconcile a department list and keep the batch and its rows; the registry
    is not changed. A row already pending (same ID number, same details) is kept as a repeat
    of that row and adds no work; one pending with other details is superseded by this one.
    """
    authorize(acting_user, CHANGE_PEOPLE, refused=_("Your role may not take in department lists."))
    if source not in IntakeBatch.Source.values:
        raise ValidationError(
            {
                "source": _("Unknown department “%(source)s”: police, labour, housing or commerce.")
                % {"source": source}
            }
        )
    if region:
        if not Region.objects.filter(code=region).exists():
            raise ValidationError(
                {"region": _("Unknown region code “%(code)s”.") % {"code": region}}
            )
        reachable = reach(acting_user)
        if not is_operator(acting_user) and (reachable is None or not region.startswith(reachable)):
            raise PermissionDenied(
                _("The region %(code)s lies outside your region %(region)s.")
                % {"code": region, "region": acting_user.region_id}
            )
    default_region = region or (acting_user.region_id or "" if not is_operator(acting_user) else "")
    reading = read_department_file(
        path, default_region=default_region, known_region=_known_region_lookup()
    )
    outcomes = reconcile(reading.rows, acting_user=acting_user)
    batch = IntakeBatch.objects.create(
        source=source,
        file_name=(file_name or Path(path).name)[:200],
        region=_batch_region(acting_user, region, reading.rows),
        uploaded_by=account_of(acting_user),
        operator="" if not is_operator(acting_user) else audit_context.current().operator or "",
        rejected=reading.rejected,
        warnings=reading.warnings,
    )
    pending = {
        each.id_number: each
        for chunk in _chunks([row.id_number for row in reading.rows])
        for each in IntakeRow.objects.filter(id_number__in=chunk, status=Status.PENDING)
    }
    now = timezone.now()
    bound = getattr(acting_user, "region_id", "") or ""
    created = []
    for row, outcome in zip(reading.rows, outcomes, strict=True):
        status = Status.PENDING
        if outcome.category == Category.UNCHANGED:
            status = Status.SETTLED
        repeat_of = None
        earlier = pending.get(row.id_number)
        if earlier is not None and status == Status.PENDING:
            if bound and not earlier.region.startswith(bound):
                # Another office's list awaits a decision on her: say so, not where.
                outcome = Outcome(
                    Category.UNMATCHED,
                    "pending_elsewhere",
                    _("This ID number awaits a decision in another office's department list."),
                )
                status = Status.REPEAT
                repeat_of = earlier
            elif _same_work(earlier, row, outcome):
                status = Status.REPEAT
                repeat_of = earlier
            else:
                earlier.status = Status.SUPERSEDED
                earlier.decided_at = now
                earlier.note = (
                    _("Superseded by list %(batch)d, row %(row)d.")
                    % {"batch": batch.pk, "row": row.row}
                )[:NOTE_MAX]
                earlier.save_versioned()
        created.append(
            IntakeRow(
                batch=batch,
                row_number=row.row,
                values=row.values,
                id_number=row.id_number,
                id_check_ok=row.id_check_ok,
                name=row.name,
                address=row.address,
                date=row.date,
                employer=row.employer,
                region=row.region,
                category=outcome.category,
                reason=outcome.reason,
                message=outcome.message[:NOTE_MAX],
                person=outcome.person,
                person_version=outcome.person.version if outcome.person else None,
                differences=outcome.differences,
                status=status,
                repeat_of=repeat_of,
            )
        )
    IntakeRow.objects.bulk_create(created, batch_size=1000)
    counts = {category: 0 for category in Category.values}
    repeated = 0
    for each in created:
        # Pending in another office's list: unmatched for this office (a person must look).
        if each.status == Status.REPEAT and each.reason != "pending_elsewhere":
            repeated += 1
        else:
            counts[each.category] += 1
    batch.new_count = counts[Category.NEW]
    batch.changed_count = counts[Category.CHANGED]
    batch.unchanged_count = counts[Category.UNCHANGED]
    batch.unmatched_count = counts[Category.UNMATCHED]
    batch.repeated_count = repeated
    batch.save(
        update_fields=[
            "new_count",
            "changed_count",
            "unchanged_count",
            "unmatched_count",
            "repeated_count",
        ]
    )
    audit.record(
        Action.IMPORT,
        acting_user=acting_user,
        obj=batch,
        region=batch.region,
        detail={
            "source": source,
            "file": batch.file_name,
            "new": batch.new_count,
            "changed": batch.changed_count,
            "unchanged": batch.unchanged_count,
            "unmatched": batch.unmatched_count,
            "already_pending": repeated,
            "rejected": len(reading.rejected),
        },
    )
    return batch


def _same_work(earlier: IntakeRow, row: ListRow, outcome: Outcome) -> bool:
    return (
        earlier.category == outcome.category
        and (
            earlier.name,
            earlier.address,
            earlier.date,
            earlier.employer,
            earlier.region,
        )
        == row.signature()
    )
