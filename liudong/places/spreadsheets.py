"""Place records in and out of csv/xlsx (Chinese or English headers): employers, rental
houses, sites, agreements and the safety and rectification register.

Each kind of record is one :class:`RecordType`: its columns, how a row finds the record
it means, and how a record is written back. Valid rows are saved through
``places.services`` (so each is checked and audited as an edit would be), invalid rows
are saved nowhere and listed with row, field and rule. Re-importing a file, or importing
an export, changes nothing: an employer is matched by credit code, else by name within
its region; a rental house by region and address; a site by region, kind and name; an
agreement by its place, type and date signed; a hazard by its house, text and date found.
A blank cell keeps what is on file (nothing lost by a shorter sheet). An agreement or a
hazard names a place already on file in the caller's region: an import never adds one.

Codes, numbers and dates are folded as people type them (full-width digits); free text
(names, addresses, duties) is kept as written, so Chinese punctuation survives the trip.
"""

from __future__ import annotations

import dataclasses
import functools
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from liudong.actors import Actor, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people.rows import Problem, parse_date, text
from liudong.records import check_region
from liudong.regions.models import Region
from liudong.regions.services import resolve_region_noting
from liudong.tabular import ImportSummary, read_table, row_problems

from . import creditcode, filters, services
from .models import Agreement, Employer, RentalHouse, SafetyIssue, Site


class _Rejected(Exception):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().lower().replace(" ", "")


@dataclasses.dataclass(frozen=True)
class Words:
    """The words a column takes for each code (the code itself too); an export writes
    the first."""

    by_code: dict[str, tuple[str, ...]]

    def code(self, raw: str, field: str) -> str:
        wanted = _fold(raw)
        for code, words in self.by_code.items():
            if wanted in {_fold(w) for w in (code, *words)}:
                return str(code)
        raise _Rejected(
            field,
            _("“%(value)s” is not one of: %(choices)s.") % {"value": raw, "choices": self},
        )

    def word(self, code: str) -> str:
        return self.by_code[code][0]

    def __str__(self) -> str:
        return "、".join(words[0] for words in self.by_code.values())


@dataclasses.dataclass
class Row:
    """One row on its way in: its number, its cells as service values, the caller."""

    number: int
    values: dict
    user: Any
    summary: ImportSummary

    def warn(self, field: str, message: str) -> None:
        warning = {"row": self.number, "field": field, "message": message}
        # A row's region is read by more than one step (its place, then the record).
        if warning not in self.summary.warnings:
            self.summary.warnings.append(warning)


@dataclasses.dataclass(frozen=True)
class Match:
    """What a row stands for: its key within the file, the column a second row with the
    same key is refused on, and the record on file it updates (None: a new one)."""

    key: tuple
    field: str
    existing: models.Model | None


@dataclasses.dataclass(frozen=True)
class RecordType:
    """One kind of record in and out of spreadsheets. ``match`` turns a row's cells into
    the service's values (in place) and finds the record; ``export_row`` writes a record
    in the order of ``columns``, so an export imports back unchanged."""

    model: type[models.Model]
    # The columns as "field* 中文表头 alias; …": each column's field name (itself an
    # English header; * when a row must fill it), then the headers it is known by, the
    # first written by an export.
    spec: str
    match: Callable[[Row], Match]
    sheet_title: str
    file_name: str
    related: tuple[str, ...] = ()
    as_written: tuple[str, ...] = ()  # free text, kept as typed (no NFKC folding)
    multiline: tuple[str, ...] = ()  # free text that may hold tabs and line breaks
    choices: dict[str, Words] = dataclasses.field(default_factory=dict)
    # Service fields that a file names by another column (an agreement's employer: 场所).
    service_fields: dict[str, str] = dataclasses.field(default_factory=dict)
    # A record's cells, when they are not simply its fields of the columns' names.
    export_row: Callable[[Any], list] | None = None

    @functools.cached_property
    def columns(self) -> dict[str, tuple[str, ...]]:
        columns = (column.split() for column in self.spec.split(";"))
        return {field.rstrip("*"): tuple(headers) for field, *headers in columns}

    @functools.cached_property
    def required(self) -> tuple[str, ...]:
        columns = (column.split()[0] for column in self.spec.split(";"))
        return tuple(field.rstrip("*") for field in columns if field.endswith("*"))

    @functools.cached_property
    def dates(self) -> frozenset[str]:
        """The columns of the model's date fields (read as dates, Excel's or typed)."""
        return frozenset(
            f.name for f in self.model._meta.fields if isinstance(f, models.DateField)
        ) & set(self.columns)

    @property
    def header(self) -> list[str]:
        return [names[0] for names in self.columns.values()]

    def read(self, path: Any) -> list:
        return list(
            read_table(path, self.columns, required=self.required, free_text=self.multiline)
        )

    def run(
        self, rows: Iterable, *, acting_user: Actor, atomic: bool = False, dry_run: bool = False
    ) -> ImportSummary:
        """Import ``rows`` (row number, cells); ``atomic``: nothing saved if a row is
        refused; ``dry_run``: nothing saved at all (the preview)."""
        services.check_role(acting_user)
        summary = ImportSummary()
        seen: dict[tuple, int] = {}
        with transaction.atomic():
            for row_number, raw in rows:
                if problems := row_problems(raw):
                    summary.rejected.extend(problems)  # a control character in a cell
                    continue
                try:
                    row = Row(row_number, self._cells(raw), acting_user, summary)
                    found = self.match(row)
                    if found.key in seen:
                        raise _Rejected(found.field, self._twice(seen[found.key]))
                    seen[found.key] = row_number
                    self._save(summary, row, found.existing)
                except _Rejected as exc:
                    summary.rejected.append(
                        {"row": row_number, "field": exc.field, "message": exc.message}
                    )
            if (atomic and summary.rejected) or dry_run:
                transaction.set_rollback(True)
        return summary

    def export(
        self, prefix: str, *, acting_user: Actor, file_format: str = "csv", search: str = ""
    ) -> list[list]:
        """The records under ``prefix`` (matching ``search`` as the list's search box
        does) as import-template rows; the export is audited."""
        _check_export(acting_user, prefix)
        scoped = self.model._default_manager.in_region(prefix)  # type: ignore[attr-defined]
        # In the model's default order (the list's, but for the safety register's ranks).
        records = filters.search(scoped, search).select_related(*self.related)
        rows = [(self.export_row or self._fields)(record) for record in records]
        detail: dict = {"rows": len(rows), "format": file_format}
        if search:
            detail["search"] = search
        object_type = self.model._meta.label_lower
        audit.record(
            Action.EXPORT,
            acting_user=acting_user,
            object_type=object_type,
            object_repr=f"{object_type} under {prefix} ({len(rows)} rows)",
            region=prefix,
            detail=detail,
        )
        return rows

    def _twice(self, first_row: int) -> str:
        return _("This %(record)s appears twice in the file (first on row %(row)d).") % {
            "record": self.model._meta.verbose_name,
            "row": first_row,
        }

    def _fields(self, record: Any) -> list:
        """The record's fields named as the columns (a place by its name or address),
        choices as their words, None blank."""
        cells = []
        for field in self.columns:
            value = getattr(record, "region_id" if field == "region" else field)
            if field in self.choices:
                value = self.choices[field].word(value)
            elif isinstance(value, models.Model):
                value = str(value)  # a hazard's rental house: its address
            cells.append("" if value is None else value)
        return cells

    def _cells(self, raw: dict) -> dict:
        """The row's non-blank cells as values: text trimmed (formulas refused), dates
        and choices read; a required cell left blank is refused."""
        values: dict[str, Any] = {}
        for name, value in raw.items():
            try:
                cell = text(value)
                if name in self.dates and cell:
                    values[name] = parse_date(value, name)
                elif cell:
                    keep = name in self.as_written and isinstance(value, str)
                    values[name] = value.strip() if keep else cell
            except Problem as exc:
                raise _Rejected(name, exc.message) from exc
        for name in self.required:
            if name not in values:
                header = self.columns[name][0]
                raise _Rejected(name, _("%(field)s is required.") % {"field": header})
        for name, words in self.choices.items():
            if name in values:
                values[name] = words.code(values[name], name)
        return values

    def _save(self, summary: ImportSummary, row: Row, existing: Any) -> None:
        """Create or update the row's record through the services (a savepoint per row,
        so a refused row leaves nothing behind)."""
        try:
            with transaction.atomic():
                if existing is None:
                    services.create(self.model, acting_user=row.user, **row.values)
                    summary.imported += 1
                    return
                before = existing.version
                services.update(existing, acting_user=row.user, **row.values)
                if existing.version == before:
                    summary.unchanged += 1
                else:
                    summary.updated += 1
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for field, messages in errors.items():
                summary.rejected.append(
                    {
                        "row": row.number,
                        "field": self.service_fields.get(field, field) if field else None,
                        "message": " ".join(messages),
                    }
                )


# --- what rows share: a region, a count, a place on file ---------------------------------


def _region(row: Row) -> Region:
    """The row's region, which must lie in the caller's (the services' rule). An old code
    is taken as its successor, an unknown one as its nearest known parent, with a warning
    (as the person import does: a register kept for years holds such codes); a code whose
    province is unknown is refused."""
    try:
        region = resolve_region_noting(row.values["region"])
        check_region(row.user, region.code)
    except ValidationError as exc:
        raise _Rejected("region", " ".join(exc.messages)) from exc
    if region.resolution_warning:
        row.warn("region", region.resolution_warning)
    return region


def _count(raw: str, field: str) -> int:
    if not raw.isdigit() or int(raw) > 9999:
        raise _Rejected(
            field, _("“%(value)s” is not a whole number from 0 to 9999.") % {"value": raw}
        )
    return int(raw)


# How a file names a place on file: an employer by credit code or name, a rental house by
# its address, a site by its name, within the row's region.
PLACE_NAMES: dict[type[models.Model], str] = {
    Employer: "name",
    RentalHouse: "address",
    Site: "name",
}


def _place(row: Row, model: type[models.Model], field: str) -> Any:
    """The place the row names in column ``field``, looked for only under the row's
    region (itself inside the caller's): another region's place is never found, never
    named, and a missing one is never added."""
    region = _region(row)
    raw = row.values.pop(field)
    places = model._default_manager.in_region(region.code)  # type: ignore[attr-defined]
    found = []
    if model is Employer and len(creditcode.normalise(raw)) == 18:
        found = list(places.filter(credit_code=creditcode.normalise(raw))[:2])
    if not found:
        found = list(places.filter(**{PLACE_NAMES[model]: raw})[:2])
    what = {"place": model._meta.verbose_name, "value": raw, "region": region.code}
    if not found:
        raise _Rejected(
            field,
            _(
                "No %(place)s “%(value)s” is registered in region %(region)s: register it "
                "first (an import never adds one)."
            )
            % what,
        )
    if len(found) > 1:
        raise _Rejected(
            field,
            _(
                "More than one %(place)s is called “%(value)s” in region %(region)s: give "
                "the village code (an employer: its credit code)."
            )
            % what,
        )
    return found[0]


# --- employers ---------------------------------------------------------------------------


def _match_employer(row: Row) -> Match:
    values = row.values
    region = values["region"] = _region(row)
    code = ""
    if "credit_code" in values:
        try:
            parsed = creditcode.parse(values["credit_code"])
        except creditcode.CreditCodeError as exc:
            raise _Rejected("credit_code", str(exc)) from exc
        code = values["credit_code"] = parsed.code
        if not parsed.organisation_code_ok:
            row.warn(
                "credit_code",
                _(
                    "The organisation code inside (characters 9 to 17) has a wrong "
                    "GB 11714 check character; the code is kept as written."
                ),
            )
    existing = Employer.objects.filter(credit_code=code).first() if code else None
    if existing is None:
        existing = Employer.objects.filter(
            credit_code="", region=region, name=values["name"]
        ).first()
    field = "credit_code" if code else "name"
    # Another region's employer is not the caller's to change, nor to learn about.
    if (
        not is_operator(row.user)
        and existing is not None
        and not existing.region_id.startswith(row.user.region_id)
    ):
        raise _Rejected(field, _("This employer is registered outside your region."))
    key = ("code", code) if code else ("name", region.code, values["name"])
    return Match(key, field, existing)


EMPLOYERS = RecordType(
    model=Employer,
    spec=(
        "credit_code 统一社会信用代码; name* 单位名称; address 地址; region* 区划代码; "
        "contact_name 联系人 contact; phone 联系电话; industry 行业"
    ),
    match=_match_employer,
    sheet_title="用工单位",
    file_name="employers",
    as_written=("name", "address", "contact_name", "industry"),
)


# --- rental houses -----------------------------------------------------------------------


def _match_rental_house(row: Row) -> Match:
    values = row.values
    region = values["region"] = _region(row)
    for name in ("rooms", "capacity"):
        if name in values:
            values[name] = _count(values[name], name)
    existing = RentalHouse.objects.filter(region=region, address=values["address"]).first()
    return Match((region.code, values["address"]), "address", existing)


# A landlord on file is written by name and phone (a file carries no ID numbers).
RENTAL_HOUSES = RecordType(
    model=RentalHouse,
    spec=(
        "address* 地址; region* 区划代码; landlord_name 房东姓名; landlord_phone 房东电话; "
        "rooms 房间数; capacity 可住人数"
    ),
    match=_match_rental_house,
    sheet_title="出租房屋",
    file_name="rental-houses",
    as_written=("address", "landlord_name"),
)


# --- sites -------------------------------------------------------------------------------


def _match_site(row: Row) -> Match:
    values = row.values
    region = values["region"] = _region(row)
    kind, name = values["kind"], values["name"]
    existing = Site.objects.filter(region=region, kind=kind, name=name).order_by("id").first()
    return Match((region.code, kind, name), "name", existing)


SITE_KINDS = Words(
    {
        Site.Kind.MARKET: ("市场", "集贸市场", "农贸市场"),
        Site.Kind.CONSTRUCTION: ("建筑工地", "工地"),
        Site.Kind.SERVICE_STATION: ("服务站", "服务中心", "服务站（服务中心）"),
        Site.Kind.OTHER: ("其他",),
    }
)

SITES = RecordType(
    model=Site,
    spec=(
        "kind* 场所类型; name* 场所名称 名称; address 地址; region* 区划代码; "
        "contact_name 联系人 contact; phone 联系电话"
    ),
    match=_match_site,
    sheet_title="市场和工地",
    file_name="sites",
    as_written=("name", "address", "contact_name"),
    choices={"kind": SITE_KINDS},
)


# --- agreements --------------------------------------------------------------------------

PLACE_KINDS = Words(
    {
        "employer": ("用工单位", "单位"),
        "rental_house": ("出租房屋", "出租房", "房屋"),
        "site": ("场所", "市场或工地"),
    }
)
PLACE_MODELS = {"employer": Employer, "rental_house": RentalHouse, "site": Site}
AGREEMENT_KINDS = Words(
    {
        Agreement.Kind.SERVICE: ("计划生育服务协议", "服务协议"),
        Agreement.Kind.RESPONSIBILITY: ("管理责任书", "责任书"),
        Agreement.Kind.OTHER: ("其他",),
    }
)


def _match_agreement(row: Row) -> Match:
    values = row.values
    field = values.pop("place_kind")
    place = values[field] = _place(row, PLACE_MODELS[field], "place")
    del values["region"]
    kind, signed_on = values["kind"], values["signed_on"]
    existing = (
        Agreement.objects.filter(**{field: place}, kind=kind, signed_on=signed_on)
        .order_by("id")
        .first()
    )
    return Match((field, place.pk, kind, signed_on), "place", existing)


def _agreement_row(a: Agreement) -> list:
    field = next(name for name in PLACE_MODELS if getattr(a, f"{name}_id") is not None)
    place = a.place
    if isinstance(place, Employer):
        named = place.credit_code or place.name
    else:
        named = getattr(place, PLACE_NAMES[type(place)])
    return [
        PLACE_KINDS.word(field),
        named,
        place.region_id,
        AGREEMENT_KINDS.word(a.kind),
        a.signed_on,
        a.valid_until or "",
        a.duties,
    ]


AGREEMENTS = RecordType(
    model=Agreement,
    spec=(
        "place_kind* 场所类型; place* 场所; region* 区划代码; kind* 协议类型; signed_on* 签订日期; "
        "valid_until 有效期至; duties 责任内容"
    ),
    match=_match_agreement,
    export_row=_agreement_row,
    sheet_title="责任书和服务协议",
    file_name="agreements",
    related=("employer", "rental_house", "site"),
    as_written=("place", "duties"),
    multiline=("duties",),
    choices={"place_kind": PLACE_KINDS, "kind": AGREEMENT_KINDS},
    service_fields={"employer": "place", "rental_house": "place", "site": "place"},
)


# --- the safety and rectification register -----------------------------------------------


def _match_safety_issue(row: Row) -> Match:
    values = row.values
    house = values["rental_house"] = _place(row, RentalHouse, "rental_house")
    del values["region"]
    hazard, found_on = values["hazard"], values["found_on"]
    existing = (
        SafetyIssue.objects.filter(rental_house=house, hazard=hazard, found_on=found_on)
        .order_by("id")
        .first()
    )
    return Match((house.pk, hazard, found_on), "hazard", existing)


SAFETY_ISSUES = RecordType(
    model=SafetyIssue,
    spec=(
        "region* 区划代码; rental_house* 房屋地址 出租房屋地址; hazard* 安全隐患 隐患; "
        "found_on* 发现日期; deadline* 整改期限; rectified_on 整改完成日期 整改日期; notes 备注"
    ),
    match=_match_safety_issue,
    sheet_title="安全隐患整改登记",
    file_name="safety-issues",
    related=("rental_house",),
    as_written=("rental_house", "hazard", "notes"),
    multiline=("hazard", "notes"),
)


# The names the employer and rental-house commands import.
read_employers, import_employers, export_employers = (
    EMPLOYERS.read,
    EMPLOYERS.run,
    EMPLOYERS.export,
)
EMPLOYER_COLUMNS, EMPLOYER_HEADER = EMPLOYERS.columns, EMPLOYERS.header
read_rental_houses, import_rental_houses, export_rental_houses = (
    RENTAL_HOUSES.read,
    RENTAL_HOUSES.run,
    RENTAL_HOUSES.export,
)
RENTAL_HOUSE_COLUMNS, RENTAL_HOUSE_HEADER = RENTAL_HOUSES.columns, RENTAL_HOUSES.header


def _check_export(acting_user: Any, prefix: str) -> None:
    if not is_operator(acting_user):
        services.check_role(acting_user)
        if not prefix.startswith(acting_user.region_id):
            raise PermissionDenied(
                _("The region %(code)s lies outside your region %(region)s.")
                % {"code": prefix, "region": acting_user.region_id}
            )
