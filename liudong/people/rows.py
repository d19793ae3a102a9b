"""Checking one row of the person template (DESIGN.md §5) and turning it into clean values.

Pure Python over plain values, no queries: the importer calls it a million times, so the
known region codes come in as a set and every rule is a cheap check. Each broken rule is
reported as {"row", "field", "message"}; a row with any problem is saved nowhere.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.regions.codes import CodeError, clean_code, padded_forms
from liudong.regions.successors import place_unknown
from liudong.tabular import Formula

from . import idnumbers
from .template import (
    ETHNICITY_CHOICES,
    MARITAL_CHOICES,
    REASON_CHOICES,
    SEX_WORDS,
)

NAME_MAX = 50
ADDRESS_MAX = 200
CHILDREN_MAX = 15
HOUSEHOLD_LENGTHS = (6, 9, 12)
RESIDENCE_LENGTHS = (6, 9, 12, 15)

_DATE_SEPARATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3})-?(\d{7,8})(?:-(\d{1,6}))?$")

MARITAL_BY_WORD = {name: code for code, name in MARITAL_CHOICES} | {
    code: code for code, _name in MARITAL_CHOICES
}
MARITAL_BY_WORD["未说明"] = "90"
ETHNICITY_BY_WORD = (
    {name: code for code, name in ETHNICITY_CHOICES}
    | {name.removesuffix("族"): code for code, name in ETHNICITY_CHOICES if name.endswith("族")}
    | {code: code for code, _name in ETHNICITY_CHOICES}
    | {code.lstrip("0"): code for code, _name in ETHNICITY_CHOICES}
)
REASON_BY_WORD = {name: code for code, name in REASON_CHOICES} | {
    code: code for code, _name in REASON_CHOICES
}


class Problem(Exception):
    """One broken rule in one cell."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(slots=True)
class CleanRow:
    row: int
    name: str
    sex: str
    id_number: str
    id_check_ok: bool
    birth_date: datetime.date
    ethnicity: str
    marital_status: str
    household_region: str
    household_address: str
    residence_region: str
    residence_address: str
    arrival_date: datetime.date
    reason: str
    phone: str
    employer: str
    spouse_id_number: str
    children: int | None
    certificate_no: str
    certificate_issuer: str
    certificate_issued: datetime.date | None
    verified_on: datetime.date | None
    warnings: list[dict] = field(default_factory=list)


def text(value: object) -> str:
    """A cell as trimmed text: NFKC folds full-width letters and digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    if isinstance(value, Formula):
        raise Problem("", _("Formulas are not accepted: paste the value instead."))
    # Text that starts with "=" (an xlsx text cell, a csv cell an export neutralised) is
    # text: the reader marks what a spreadsheet would compute.
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_date(value: object, field_name: str) -> datetime.date | None:
    """Excel date cells, or text as 2025-03-05, 2025/3/5, 2025.03.05, 20250305 or 2025年3月5日."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raw = text(value)
    if not raw:
        return None
    match = _DATE_SEPARATED.match(raw) or _DATE_COMPACT.match(raw)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise Problem(
        field_name,
        _("“%(value)s” is not a date: write 2025-03-05, 2025/3/5, 2025.03.05 or 20250305.")
        % {"value": raw},
    )


def parse_phone(raw: str) -> str:
    digits = re.sub(r"[\s()]", "", raw)
    digits = re.sub(r"^(\+86|0086|86(?=1[3-9]\d{9}$))", "", digits)
    if _MOBILE.match(digits):
        return digits
    landline = _LANDLINE.match(digits)
    if landline:
        area, number, extension = landline.groups()
        return f"{area}-{number}" + (f"-{extension}" if extension else "")
    raise Problem(
        "phone",
        _(
            "“%(value)s” is neither a mainland mobile (11 digits, 1[3-9]…) nor a landline "
            "(area code and 7–8 digits)."
        )
        % {"value": raw},
    )


class RowChecker:
    """Checks rows against the template; ``known_region`` answers whether a code exists."""

    def __init__(
        self,
        known_region: Callable[[str], bool],
        *,
        today: datetime.date | None = None,
        within: str = "",
        place_unknown_regions: bool = False,
    ) -> None:
        self.known_region = known_region
        # The person import takes an old code as its successor and any other unknown code
        # as its nearest known parent, with a warning (regions.successors); other callers
        # refuse an unknown code.
        self.place_unknown_regions = place_unknown_regions
        self.region_notes: list[tuple[str, str]] = []  # (field, warning) of the last row
        # A staff member imports only files of their own region: each row must have its
        # household or its residence there ("" for the server operator: no bound).
        self.within = within
        # The office's calendar day (Asia/Shanghai), not the server clock's UTC date.
        self.today = today or timezone.localdate()

    def region(
        self, value: object, field_name: str, lengths: tuple[int, ...], required: bool
    ) -> str:
        raw = text(value)
        if not raw:
            if required:
                raise Problem(field_name, _("A region code is required."))
            return ""
        try:
            code = clean_code(raw)
        except CodeError as exc:
            raise Problem(field_name, str(exc)) from exc
        for candidate in (code, *padded_forms(code)):
            if len(candidate) in lengths and self.known_region(candidate):
                return candidate
        if self.place_unknown_regions and not any(
            map(self.known_region, (code, *padded_forms(code)))
        ):
            placed = place_unknown(code, self.known_region)
            if placed is not None:
                self.region_notes.append((field_name, placed.warning()))
                return placed.code
        raise Problem(
            field_name,
            _("Unknown region code “%(code)s”: no such division or village is registered.")
            % {"code": code},
        )

    def check(self, row_number: int, values: dict) -> tuple[CleanRow | None, list[dict]]:
        """The clean row, or None and the problems (all of them, not only the first)."""
        problems: list[dict] = []
        warnings: list[dict] = []
        clean: dict = {}
        self.region_notes = []

        def attempt(field_name: str, function: Callable[..., object], *args: Any) -> None:
            try:
                clean[field_name] = function(*args)
            except Problem as problem:
                problems.append(
                    {
                        "row": row_number,
                        "field": problem.field or field_name,
                        "message": problem.message,
                    }
                )
                clean[field_name] = None

        get = values.get
        attempt("name", self._name, get("name"))
        attempt("id", self._id_number, get("id_number"))
        attempt("sex", self._sex, get("sex"))
        attempt("birth_date", parse_date, get("birth_date"), "birth_date")
        attempt("ethnicity", self._coded, get("ethnicity"), "ethnicity", ETHNICITY_BY_WORD, False)
        attempt(
            "marital_status",
            self._coded,
            get("marital_status"),
            "marital_status",
            MARITAL_BY_WORD,
            True,
        )
        attempt(
            "household_region",
            self.region,
            get("household_region"),
            "household_region",
            HOUSEHOLD_LENGTHS,
            True,
        )
        attempt("household_address", self._address, get("household_address"), "household_address")
        attempt(
            "residence_region",
            self.region,
            get("residence_region"),
            "residence_region",
            RESIDENCE_LENGTHS,
            True,
        )
        attempt("residence_address", self._address, get("residence_address"), "residence_address")
        attempt("arrival_date", self._required_date, get("arrival_date"), "arrival_date")
        attempt("reason", self._coded, get("reason"), "reason", REASON_BY_WORD, False)
        attempt("phone", self._phone, get("phone"))
        attempt("employer", self._address, get("employer"), "employer")
        attempt("spouse", self._spouse, get("spouse_id_number"))
        attempt("children", self._children, get("children"))
        attempt("certificate_no", self._certificate_no, get("certificate_no"))
        attempt(
            "certificate_issuer",
            self.region,
            get("certificate_issuer"),
            "certificate_issuer",
            (6, 9),
            False,
        )
        attempt("certificate_issued", parse_date, get("certificate_issued"), "certificate_issued")
        attempt("verified_on", parse_date, get("verified_on"), "verified_on")

        warnings.extend(
            {"row": row_number, "field": field_name, "message": message}
            for field_name, message in self.region_notes
        )
        identity = clean["id"]
        if identity is not None:
            if not identity.province_known:
                warnings.append(
                    {
                        "row": row_number,
                        "field": "id_number",
                        "message": _(
                            "The first two digits of %(value)s name no province (GB/T 2260): "
                            "check the number; the file is kept with a warning."
                        )
                        % {"value": identity.value},
                    }
                )
            if not identity.check_ok:
                warnings.append(
                    {
                        "row": row_number,
                        "field": "id_number",
                        "message": _(
                            "The check digit of %(value)s is wrong; the file is kept "
                            "with a warning for staff to correct."
                        )
                        % {"value": identity.value},
                    }
                )
            if identity.converted_from_15:
                warnings.append(
                    {
                        "row": row_number,
                        "field": "id_number",
                        "message": _("A 15-digit number was converted to %(value)s.")
                        % {"value": identity.value},
                    }
                )
            self._cross_check_identity(row_number, identity, clean, problems)
        self._cross_check_dates(row_number, identity, clean, problems)
        self._check_within(row_number, clean, problems)
        spouse = clean["spouse"]
        if spouse and identity is not None and spouse.value == identity.value:
            problems.append(
                {
                    "row": row_number,
                    "field": "spouse_id_number",
                    "message": _("The spouse's ID number is the person's own."),
                }
            )
        if spouse and not spouse.check_ok:
            warnings.append(
                {
                    "row": row_number,
                    "field": "spouse_id_number",
                    "message": _("The check digit of the spouse's ID number is wrong."),
                }
            )
        if not clean["certificate_no"] and (
            clean["certificate_issuer"] or clean["certificate_issued"]
        ):
            problems.append(
                {
                    "row": row_number,
                    "field": "certificate_no",
                    "message": _("An issuing region or date needs the certificate number."),
                }
            )
        if problems:
            return None, problems
        return (
            CleanRow(
                row=row_number,
                name=clean["name"],
                sex=clean["sex"] or identity.sex,
                id_number=identity.value,
                id_check_ok=identity.check_ok,
                birth_date=identity.birth_date,
                ethnicity=clean["ethnicity"] or "",
                marital_status=clean["marital_status"],
                household_region=clean["household_region"],
                household_address=clean["household_address"],
                residence_region=clean["residence_region"],
                residence_address=clean["residence_address"],
                arrival_date=clean["arrival_date"],
                reason=clean["reason"] or "",
                phone=clean["phone"],
                employer=clean["employer"],
                spouse_id_number=spouse.value if spouse else "",
                children=clean["children"],
                certificate_no=clean["certificate_no"],
                certificate_issuer=clean["certificate_issuer"],
                certificate_issued=clean["certificate_issued"],
                verified_on=clean["verified_on"],
                warnings=warnings,
            ),
            warnings,
        )

    # --- single cells -----------------------------------------------------------------

    def _name(self, value: object) -> str:
        name = text(value)
        if not name:
            raise Problem("name", _("A person's full name is required."))
        if len(name) > NAME_MAX:
            raise Problem(
                "name",
                _("A name has at most %(max)d characters; this one has %(n)d.")
                % {"max": NAME_MAX, "n": len(name)},
            )
        return name

    def _id_number(self, value: object) -> idnumbers.IdNumber:
        try:
            return idnumbers.parse(value, today=self.today)
        except idnumbers.IdNumberError as exc:
            raise Problem("id_number", str(exc)) from exc

    def _sex(self, value: object) -> str:
        raw = text(value)
        if not raw:
            raise Problem("sex", _("Sex is required: 男 or 女 (M/F, 1/2)."))
        code = SEX_WORDS.get(raw.lower())
        if code is None:
            raise Problem(
                "sex", _("“%(value)s” is not a sex: write 男 or 女 (M/F, 1/2).") % {"value": raw}
            )
        return code

    def _coded(self, value: object, field_name: str, table: dict[str, str], required: bool) -> str:
        raw = text(value)
        if not raw:
            if required:
                raise Problem(field_name, _("This column is required."))
            return ""
        code = table.get(raw)
        if code is None:
            raise Problem(
                field_name, _("“%(value)s” is not one of the template's values.") % {"value": raw}
            )
        return code

    def _address(self, value: object, field_name: str) -> str:
        raw = text(value)
        if len(raw) > ADDRESS_MAX:
            raise Problem(field_name, _("At most %(max)d characters.") % {"max": ADDRESS_MAX})
        return raw

    def _required_date(self, value: object, field_name: str) -> datetime.date:
        day = parse_date(value, field_name)
        if day is None:
            raise Problem(field_name, _("This date is required."))
        return day

    def _phone(self, value: object) -> str:
        raw = text(value)
        return parse_phone(raw) if raw else ""

    def _spouse(self, value: object) -> idnumbers.IdNumber | None:
        # A float is given to the rule as read, as her own number is: one that a
        # spreadsheet made of the number has lost its last digits and is refused, where
        # its text ("421125198207067008") would pass with only a check-digit warning.
        raw = value if isinstance(value, float) else text(value)
        if not raw:
            return None
        try:
            return idnumbers.parse(raw, today=self.today)
        except idnumbers.IdNumberError as exc:
            raise Problem("spouse_id_number", str(exc)) from exc

    def _children(self, value: object) -> int | None:
        if value is None or value == "":
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        raw = text(value)
        if not raw.isdigit():
            raise Problem("children", _("“%(value)s” is not a whole number.") % {"value": raw})
        number = int(raw)
        if number > CHILDREN_MAX:
            raise Problem("children", _("At most %(max)d children.") % {"max": CHILDREN_MAX})
        return number

    def _certificate_no(self, value: object) -> str:
        raw = text(value)
        if len(raw) > 40:
            raise Problem("certificate_no", _("A certificate number has at most 40 characters."))
        return raw

    # --- rules across cells -----------------------------------------------------------

    def _cross_check_identity(
        self,
        row_number: int,
        identity: idnumbers.IdNumber,
        clean: dict[str, Any],
        problems: list[dict[str, Any]],
    ) -> None:
        if clean["sex"] and clean["sex"] != identity.sex:
            problems.append(
                {
                    "row": row_number,
                    "field": "sex",
                    "message": _(
                        "The sex does not agree with the ID number (its 17th digit says %(sex)s)."
                    )
                    % {"sex": "男" if identity.sex == "1" else "女"},
                }
            )
        if clean["birth_date"] and clean["birth_date"] != identity.birth_date:
            problems.append(
                {
                    "row": row_number,
                    "field": "birth_date",
                    "message": _("The birth date does not agree with the ID number (%(day)s).")
                    % {"day": identity.birth_date.isoformat()},
                }
            )

    def _check_within(
        self, row_number: int, clean: dict[str, Any], problems: list[dict[str, Any]]
    ) -> None:
        household, residence = clean["household_region"], clean["residence_region"]
        if not (self.within and household and residence):
            return
        if not (household.startswith(self.within) or residence.startswith(self.within)):
            problems.append(
                {
                    "row": row_number,
                    "field": "residence_region",
                    "message": _(
                        "Neither the household region nor the residence region lies in "
                        "your region %(region)s: another office keeps this file."
                    )
                    % {"region": self.within},
                }
            )

    def _cross_check_dates(
        self,
        row_number: int,
        identity: idnumbers.IdNumber,
        clean: dict[str, Any],
        problems: list[dict[str, Any]],
    ) -> None:
        birth = identity.birth_date if identity is not None else None
        arrival = clean["arrival_date"]
        for field_name in ("arrival_date", "certificate_issued", "verified_on"):
            day = clean[field_name]
            if day is None:
                continue
            if day > self.today:
                problems.append(
                    {
                        "row": row_number,
                        "field": field_name,
                        "message": _("The date %(day)s is in the future.") % {"day": day},
                    }
                )
            elif birth and day < birth:
                problems.append(
                    {
                        "row": row_number,
                        "field": field_name,
                        "message": _("The date %(day)s is before the birth date.") % {"day": day},
                    }
                )
        verified = clean["verified_on"]
        if verified and arrival and verified < arrival:
            problems.append(
                {
                    "row": row_number,
                    "field": "verified_on",
                    "message": _("The verification date is before the arrival."),
                }
            )
