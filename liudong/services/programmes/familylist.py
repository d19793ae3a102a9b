"""The family list (issue 17 item 2): its template, and reading it into the facts eligibility
judges (``liudong programme check``; the web and the API read a list with the same function).

A row is one family: the applicant and spouse by ID number (birth dates and sexes come from
the numbers), the household type and region, whether the births were certified, and up to
four children. A row breaking a rule of the template is *rejected* with the row, the field
and the rule; a row that merely fails a programme's rule (three children, a grade-4
disability, aged 59) is read, and ``judge`` says which rule it fails. This module only
reads: it never decides eligibility (``eligibility.judge`` is the one answer).

Decisions the issue leaves open, written down here (and tested):

- a child's state left blank is 健在 (living); a death date or a disability grade with a
  blank state is then refused as it is with 健在, naming the state the date or grade needs;
- 死亡 without a death date is accepted: the date is unknown, the child counts as dead on
  every date (``rules._state_on``), as the register it came from says;
- columns for a fifth child and beyond (子女5出生日期 …, up to the fifteenth) are read so
  that a row using them is rejected, naming the column: the template holds four, and the
  row is not judged as if the family had four. Any other unknown column refuses the file,
  as the person import does (a mistyped header would otherwise be read as empty).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from liudong import tabular
from liudong.people import idnumbers
from liudong.people.rows import Problem, RowChecker, parse_date, text
from liudong.people.template import SEX_WORDS
from liudong.regions.models import Region
from liudong.regions.successors import place_unknown
from liudong.tabular import read_table

from .eligibility import judge
from .models import ChildState, HouseholdType, Programme
from .rules import ChildFacts, FamilyFacts

# The children the template has columns for; columns up to EXTRA_CHILDREN are recognised
# only to reject a row that uses them (see the module docstring).
CHILDREN = 4
EXTRA_CHILDREN = 15
NAME_MAX = 50
HOUSEHOLD_REGION_LENGTHS = (6, 9, 12)


@dataclasses.dataclass(frozen=True)
class Column:
    field: str
    chinese: str
    rule: str  # what the column holds, in the template's words
    required: bool = False


def _child_columns(n: int) -> tuple[Column, ...]:
    return (
        Column(f"child_{n}_birth_date", f"子女{n}出生日期", "date; required for a child"),
        Column(f"child_{n}_sex", f"子女{n}性别", "男/女 (M/F, 1/2); required for a child"),
        Column(f"child_{n}_state", f"子女{n}状况", "健在, 死亡 or 伤残 (blank: 健在)"),
        Column(
            f"child_{n}_death_date",
            f"子女{n}死亡日期",
            "date, with 死亡 only; not before the birth, not in the future (may be blank)",
        ),
        Column(
            f"child_{n}_disability_grade",
            f"子女{n}伤残等级",
            "1-4, with 伤残 only, and required with it",
        ),
    )


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "the applicant's name, 1-50 characters", True),
    Column(
        "id_number",
        "公民身份号码",
        "the applicant's ID number (a 15-digit one is converted; a wrong check digit is a "
        "warning); once per file",
        True,
    ),
    Column("spouse_id_number", "配偶身份号码", "ID number, not the applicant's own (may be blank)"),
    Column("household_type", "户口性质", "农业, 非农业, 居民(农村) or 居民(城镇)", True),
    Column(
        "household_region",
        "户籍地区划代码",
        "a known region code (6, 9 or 12 digits; an old code is taken as its successor "
        "with a warning)",
        True,
    ),
    Column("births_certified", "政策内生育确认", "是 or 否", True),
    *(column for n in range(1, CHILDREN + 1) for column in _child_columns(n)),
)
FIELDS = tuple(column.field for column in COLUMNS)
REQUIRED = tuple(column.field for column in COLUMNS if column.required)
CHILD_PARTS = ("birth_date", "sex", "state", "death_date", "disability_grade")
EXTRA_COLUMNS = tuple(
    column for n in range(CHILDREN + 1, EXTRA_CHILDREN + 1) for column in _child_columns(n)
)
# Columns offices add that carry nothing to the check.
IGNORABLE = ("序号", "no", "编号", "备注", "remarks", "问题", "problems")

HOUSEHOLD_TYPES = {str(label): value for value, label in HouseholdType.choices} | {
    value: value for value in HouseholdType.values
}
# The brackets as a Chinese keyboard types them (full width) fold to these under NFKC.
CHILD_STATES = {str(label): value for value, label in ChildState.choices} | {
    value: value for value in ChildState.values
}
YES = ("是", "yes", "y", "1", "true")
NO = ("否", "no", "n", "0", "false")
_GRADE = re.compile(r"^([1-4])(?:级)?$")


@dataclasses.dataclass(frozen=True)
class FamilyRow:
    """A row read: its number as the spreadsheet shows it, the applicant, the facts."""

    row: int
    name: str
    id_number: str
    facts: FamilyFacts


@dataclasses.dataclass
class FamilyList:
    rows: list[FamilyRow] = dataclasses.field(default_factory=list)
    rejected: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    warnings: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def headers() -> dict[str, tuple[str, ...]]:
    """Each field and the headers that name it (its Chinese header; the English one is the
    field itself, which the reader accepts too)."""
    return {column.field: (column.chinese,) for column in (*COLUMNS, *EXTRA_COLUMNS)}


def read_family_list(
    path: str | os.PathLike[str],
    *,
    today: datetime.date | None = None,
    sheet: str | None = None,
) -> FamilyList:
    """Every row of a family list, read or rejected. Raises ``tabular.TableError`` (a
    message naming the problem) when the file as a whole cannot be read."""
    rows = read_table(
        path, headers(), REQUIRED, strict=True, ignorable=IGNORABLE, sheet=sheet, streamed=False
    )
    codes = set(Region.objects.values_list("code", flat=True))
    return read_rows(rows, known_region=codes.__contains__, today=today)


def read_rows(
    rows: Iterable[tuple[int, dict[str, Any]]],
    *,
    known_region: Callable[[str], bool],
    today: datetime.date | None = None,
) -> FamilyList:
    """The rows (row number, {field: cell}) read into facts: pure, no queries."""
    reader = _RowReader(known_region, today or timezone.localdate())
    result = FamilyList()
    first_row: dict[str, int] = {}
    for row_number, values in rows:
        if problems := tabular.row_problems(values):
            result.rejected.extend(problems)
            continue
        read, problems, warnings = reader.read(row_number, values)
        if read is not None:
            first = first_row.setdefault(read.id_number, row_number)
            if first != row_number:
                problems = [_twice(row_number, read.id_number, first)]
                read = None
        if read is None:
            result.rejected.extend(problems)
        else:
            result.rows.append(read)
            result.warnings.extend(warnings)
    return result


def _twice(row_number: int, id_number: str, first: int) -> dict[str, Any]:
    return {
        "row": row_number,
        "field": "id_number",
        "message": _(
            "The ID number %(value)s appears twice in the file (first on row %(first)d): "
            "one row per family."
        )
        % {"value": idnumbers.mask(id_number), "first": first},
    }


@dataclasses.dataclass(frozen=True)
class _Child:
    slot: int
    facts: ChildFacts


class _RowReader:
    def __init__(self, known_region: Callable[[str], bool], today: datetime.date) -> None:
        self.today = today
        self.known_region = known_region
        # The person import's reading of a code (clean_code, the padded forms, the lengths).
        self.regions = RowChecker(known_region, today=today)

    def read(
        self, row_number: int, values: dict[str, Any]
    ) -> tuple[FamilyRow | None, list[dict[str, Any]], list[dict[str, Any]]]:
        problems: list[dict[str, Any]] = []
        warnings: list[dict[str, Any]] = []

        def problem(field: str, message: str) -> None:
            problems.append({"row": row_number, "field": field, "message": message})

        def attempt(field: str, function: Callable[..., Any], *args: Any) -> Any:
            try:
                return function(*args)
            except Problem as found:
                problem(found.field or field, found.message)
                return None

        get = values.get
        name = attempt("name", self._name, get("name"))
        applicant = attempt("id_number", self._id_number, get("id_number"), "id_number", True)
        spouse = attempt(
            "spouse_id_number", self._id_number, get("spouse_id_number"), "spouse_id_number", False
        )
        household_type = attempt("household_type", self._household_type, get("household_type"))
        attempt("household_region", self._region, get("household_region"), row_number, warnings)
        certified = attempt("births_certified", self._yes_no, get("births_certified"))
        children = []
        for slot in range(1, CHILDREN + 1):
            child = self._child(slot, values, problem)
            if child is not None:
                children.append(child)
        for column in EXTRA_COLUMNS:
            if get(column.field) not in (None, ""):
                problem(
                    column.field,
                    _(
                        "The template has columns for %(n)d children; a family with more "
                        "is not judged as if it had %(n)d."
                    )
                    % {"n": CHILDREN},
                )
                break

        for field, identity in (("id_number", applicant), ("spouse_id_number", spouse)):
            if identity is None:
                continue
            if not identity.check_ok:
                warnings.append(
                    {
                        "row": row_number,
                        "field": field,
                        "message": _(
                            "The check digit of %(value)s is wrong; the row is checked with "
                            "a warning for staff to correct."
                        )
                        % {"value": idnumbers.mask(identity.value)},
                    }
                )
            if identity.converted_from_15:
                warnings.append(
                    {
                        "row": row_number,
                        "field": field,
                        "message": _("A 15-digit number was converted to %(value)s.")
                        % {"value": idnumbers.mask(identity.value)},
                    }
                )
        if applicant is not None and spouse is not None and spouse.value == applicant.value:
            problem("spouse_id_number", _("The spouse's ID number is the applicant's own."))
        parents = [identity for identity in (applicant, spouse) if identity is not None]
        for child in children:
            for parent in parents:
                if child.facts.birth_date < parent.birth_date:
                    problem(
                        f"child_{child.slot}_birth_date",
                        _(
                            "Child %(n)d was born on %(born)s, before a parent (born "
                            "%(parent)s): check the dates and the ID numbers."
                        )
                        % {
                            "n": child.slot,
                            "born": child.facts.birth_date.isoformat(),
                            "parent": parent.birth_date.isoformat(),
                        },
                    )
                    break
        if problems:
            return None, problems, []
        assert applicant is not None and household_type is not None and certified is not None
        facts = FamilyFacts(
            applicant_birth_date=applicant.birth_date,
            applicant_sex=applicant.sex,
            spouse_birth_date=spouse.birth_date if spouse else None,
            spouse_sex=spouse.sex if spouse else None,
            household_type=household_type,
            births_certified=certified,
            children=tuple(child.facts for child in children),
        )
        return FamilyRow(row_number, name, applicant.value, facts), [], warnings

    # --- cells ------------------------------------------------------------------------------

    def _name(self, value: object) -> str:
        name = text(value)
        if not name:
            raise Problem("name", _("The applicant's name is required."))
        if len(name) > NAME_MAX:
            raise Problem(
                "name",
                _("A name has at most %(max)d characters; this one has %(n)d.")
                % {"max": NAME_MAX, "n": len(name)},
            )
        return name

    def _id_number(self, value: object, field: str, required: bool) -> idnumbers.IdNumber | None:
        # A float is given to the rule as read (as the person import does): a number a
        # spreadsheet made of it has lost its last digits and is refused.
        raw = value if isinstance(value, float) else text(value)
        if not raw:
            if required:
                raise Problem(field, _("The applicant's ID number is required."))
            return None
        try:
            return idnumbers.parse(raw, today=self.today)
        except idnumbers.IdNumberError as exc:
            raise Problem(field, str(exc)) from exc

    def _region(self, value: object, row_number: int, warnings: list[dict[str, Any]]) -> str:
        """A known code; an old one (abolished, with a successor in the shipped changes) as
        its successor, with a warning. Unlike the person import, any other unknown code is
        refused, not placed at a parent: the household region names the township keeping
        the family, never a guess."""
        try:
            return self.regions.region(value, "household_region", HOUSEHOLD_REGION_LENGTHS, True)
        except Problem:
            code = text(value)
            placed = place_unknown(code, self.known_region) if code.isdigit() else None
            if placed is None or placed.successor is None:
                raise
            warnings.append(
                {"row": row_number, "field": "household_region", "message": placed.warning()}
            )
            return placed.code

    def _household_type(self, value: object) -> str:
        raw = text(value)
        if not raw:
            raise Problem("household_type", _("The household type is required."))
        found = HOUSEHOLD_TYPES.get(raw) or HOUSEHOLD_TYPES.get(raw.replace(" ", ""))
        if found is None:
            raise Problem(
                "household_type",
                _("“%(value)s” is not a household type: write %(types)s.")
                % {"value": raw, "types": "、".join(str(label) for label in HouseholdType.labels)},
            )
        return found

    def _yes_no(self, value: object) -> bool:
        raw = text(value).lower()
        if raw in YES:
            return True
        if raw in NO:
            return False
        raise Problem(
            "births_certified",
            _("“%(value)s”: write 是 (the births were certified within the policy) or 否.")
            % {"value": raw}
            if raw
            else _("Write 是 (the births were certified within the policy) or 否."),
        )

    def _child(
        self, n: int, values: dict[str, Any], problem: Callable[[str, str], None]
    ) -> _Child | None:
        """Child ``n`` of the row, None when its columns are blank or it breaks a rule
        (each broken rule reported through ``problem``)."""
        cells = {part: values.get(f"child_{n}_{part}") for part in CHILD_PARTS}
        if all(cell in (None, "") for cell in cells.values()):
            return None
        field = f"child_{n}_{{}}".format
        broken = False

        def attempt(part: str, function: Callable[..., Any], *args: Any) -> Any:
            nonlocal broken
            try:
                return function(*args)
            except Problem as found:
                problem(field(part), found.message)
                broken = True
                return None

        born = attempt("birth_date", parse_date, cells["birth_date"], field("birth_date"))
        if born is None and not broken:
            problem(
                field("birth_date"),
                _("Child %(n)d has other columns filled but no birth date.") % {"n": n},
            )
            broken = True
        sex = attempt("sex", self._sex, cells["sex"], n)
        state = attempt("state", self._state, cells["state"])
        died = attempt("death_date", parse_date, cells["death_date"], field("death_date"))
        grade = attempt("disability_grade", self._grade, cells["disability_grade"])
        for part, day in (("birth_date", born), ("death_date", died)):
            if day is not None and day > self.today:
                problem(field(part), _("The date %(day)s is in the future.") % {"day": day})
                broken = True
        if born is not None and died is not None and died < born:
            problem(
                field("death_date"),
                _("The death date %(died)s is before the birth date %(born)s.")
                % {"died": died.isoformat(), "born": born.isoformat()},
            )
            broken = True
        if state is not None:
            if died is not None and state != ChildState.DEAD:
                problem(
                    field("death_date"),
                    _("A death date goes with the state 死亡 (the state is %(state)s).")
                    % {"state": ChildState(state).label},
                )
                broken = True
            if grade is not None and state != ChildState.DISABLED:
                problem(
                    field("disability_grade"),
                    _("A disability grade goes with the state 伤残 (the state is %(state)s).")
                    % {"state": ChildState(state).label},
                )
                broken = True
            if (
                grade is None
                and state == ChildState.DISABLED
                and cells["disability_grade"]
                in (
                    None,
                    "",
                )
            ):
                problem(
                    field("disability_grade"),
                    _("The state 伤残 needs the disability grade (1-4) of the certificate."),
                )
                broken = True
        if broken:
            return None
        assert born is not None and sex is not None and state is not None
        return _Child(
            n,
            ChildFacts(
                birth_date=born,
                sex=sex,
                state=state,
                death_date=died,
                disability_grade=grade,
            ),
        )

    def _sex(self, value: object, n: int) -> str:
        raw = text(value)
        if not raw:
            raise Problem("", _("Child %(n)d needs a sex: 男 or 女 (M/F, 1/2).") % {"n": n})
        code = SEX_WORDS.get(raw.lower())
        if code is None:
            raise Problem(
                "", _("“%(value)s” is not a sex: write 男 or 女 (M/F, 1/2).") % {"value": raw}
            )
        return code

    def _state(self, value: object) -> str:
        raw = text(value)
        if not raw:
            return ChildState.LIVING
        found = CHILD_STATES.get(raw) or CHILD_STATES.get(raw.lower())
        if found is None:
            raise Problem(
                "",
                _("“%(value)s” is not a child's state: write 健在, 死亡 or 伤残.") % {"value": raw},
            )
        return found

    def _grade(self, value: object) -> int | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        raw = text(value)
        if not raw:
            return None
        found = _GRADE.match(raw)
        if found is None:
            raise Problem(
                "",
                _("“%(value)s” is not a disability grade: write 1, 2, 3 or 4.") % {"value": raw},
            )
        return int(found.group(1))


def check_list(
    family_list: FamilyList, on: datetime.date, programmes: list[Programme] | None = None
) -> dict[str, Any]:
    """Each row's programmes on ``on`` and, for each it does not qualify for, the first
    rule it fails (``eligibility.judge``, the one answer), with the rejected rows:
    ``{"rows": [{"row", "programmes", "not"}], "rejected": [...], "warnings": [...]}``."""
    chosen = programmes if programmes is not None else list(Programme.objects.filter(active=True))
    return {
        "rows": [
            {"row": read.row, **judge(read.facts, on, chosen).as_json()}
            for read in family_list.rows
        ],
        "rejected": family_list.rejected,
        "warnings": family_list.warnings,
    }


def template_rows() -> Iterator[tuple[str, str, str]]:
    """(Chinese header, English header, rule) of every column, for documentation."""
    for column in COLUMNS:
        yield column.chinese, column.field, column.rule
