"""Reading the spreadsheets offices actually keep: csv (UTF-8 with or without BOM, or
GB18030 as Chinese Excel saves it) and xlsx, with Chinese or English headers.

Rows come out as (row_number, {field: value}) where row_number is what the spreadsheet
shows (header = row 1), so every message can name the row a person will look at.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from liudong import filecheck

# Defined with the file check (it raises them before any parser here runs); every importer
# names them from here.
from liudong.filecheck import FileRefused, TableError
from liudong.safesheet import from_csv_text

if TYPE_CHECKING:
    from liudong.filecheck import Limits


@dataclasses.dataclass
class ImportSummary:
    """What an import did, in the JSON shape DESIGN.md §5 gives for `--format json`."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = dataclasses.field(default_factory=list)
    warnings: list[dict] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "warnings": self.warnings,
        }


# C0 control characters: never in a cell a person typed. A database refuses NUL in text
# (PostgreSQL) or keeps it where no one can see it (SQLite); both are a row problem here.
# Tab and line breaks only where the importer names the field as free text.
_CONTROL = re.compile(r"[\x00-\x1f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class ProblemRow(list):
    """A row of cells of which some hold a control character: ``problems`` lists them as
    {"row", "field", "message"}, in the shape every importer's summary lists rejections.
    The importer rejects the row (:func:`row_problems`) before anything else reads it."""

    __slots__ = ("problems",)

    def __init__(self, cells: Iterable, problems: list[dict]) -> None:
        super().__init__(cells)
        self.problems = problems


class ProblemValues(dict):
    """As ProblemRow, for a row given as {field: value} (:func:`read_table`)."""

    __slots__ = ("problems",)

    def __init__(self, values: Mapping, problems: list[dict]) -> None:
        super().__init__(values)
        self.problems = problems


def row_problems(cells: object) -> list[dict]:
    """The problems the reader found in a row's cells themselves (a control character):
    the row is refused with these, whatever the importer would say of its values."""
    return getattr(cells, "problems", None) or []


def _control_problem(row_number: int, field: str, value: str, pattern: re.Pattern) -> dict | None:
    found = pattern.search(value)
    if found is None:
        return None
    from django.utils.translation import gettext as _

    return {
        "row": row_number,
        "field": field,
        "message": _(
            "The cell holds a control character (U+%(code)04X) at character %(position)d; "
            "remove it and import the row again."
        )
        % {"code": ord(found.group()), "position": found.start() + 1},
    }


def _column_letter(index: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    return get_column_letter(index + 1) if index < 18278 else str(index + 1)


def _header_key(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).strip().lower().replace(" ", "")


def _raw_rows(path: Path, sheet: str | None = None) -> tuple[str, list[str], Iterator[list]]:
    """(sheet name, all sheet names, rows) of a csv or xlsx file, streamed."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            # data_only=False: a formula arrives as its text ("=A1+1") and is refused,
            # instead of a cached value the office never saw.
            workbook = load_workbook(path, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises several unrelated types for bad files
            raise TableError(f"not a readable xlsx file: {exc}") from exc
        names = workbook.sheetnames
        if sheet is not None and sheet not in names:
            workbook.close()
            raise TableError(f"no sheet “{sheet}” in this file; its sheets: {', '.join(names)}")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        # Read-only mode does not see merged cells: without this, the rows under a merged
        # cell would arrive blank ("required") although Excel shows them filled.
        try:
            merged = _merged_ranges(path, worksheet.title)
        except Exception:
            workbook.close()
            raise
        in_header = [each.ref for each in merged if each.min_row == 1]
        if in_header:
            workbook.close()
            raise TableError(
                f"row 1 of sheet “{worksheet.title}”: merged cells {', '.join(in_header)}; "
                "the first row must hold one header per column: unmerge them"
            )

        def rows() -> Iterator[list]:
            try:
                cells = (_excel_unescaped(row) for row in _xlsx_values(worksheet))
                yield from _mark_merged(cells, merged) if merged else cells
            finally:
                workbook.close()

        return worksheet.title, names, rows()
    if suffix in (".csv", ".txt"):
        return path.name, [path.name], _csv_rows(path)
    raise TableError(f"unsupported file type “{suffix or path.name}”: use .csv or .xlsx")


class Formula(str):
    """A cell a spreadsheet program would compute: an xlsx formula cell, or csv text
    starting with ``=``. Importers refuse it ("paste the value instead"); text that merely
    starts with ``=`` (an xlsx text cell, a csv cell our exports neutralised) is text.
    Trimming keeps the mark."""

    __slots__ = ()

    def strip(self, chars: str | None = None) -> Formula:
        return Formula(super().strip(chars))


def _xlsx_values(worksheet: Any) -> Iterator[list]:
    """The sheet's rows as values, formula cells marked as :class:`Formula`."""
    for row in worksheet.iter_rows():
        yield [
            Formula(getattr(cell.value, "text", cell.value))
            if cell.data_type == "f"
            else cell.value
            for cell in row
        ]


def _csv_cells(row: list[str]) -> list:
    """A csv row's cells: the neutralising quote our exports add taken off again
    (:mod:`liudong.safesheet`), text starting with ``=`` marked as a formula."""
    # One C-level scan finds the rare row with such a cell, so a million-row file pays
    # almost nothing; a cell holding the separator itself only sends its row to the loop.
    joined = "\x1f" + "\x1f".join(row)
    if "\x1f'" not in joined and "\x1f=" not in joined:
        return row
    for index, cell in enumerate(row):
        if cell[:1] == "'":
            row[index] = from_csv_text(cell)
        elif cell[:1] == "=":
            row[index] = Formula(cell)
    return row


# Excel writes a character XML cannot hold (a control character, a lone CR) as _xHHHH_,
# and a literal "_x" that would read as one as _x005F_; openpyxl leaves both as written.
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def excel_escaped(text: str) -> str:
    """``text`` as Excel writes it into a cell: a control character XML cannot hold (tab
    and line breaks it can) as _xHHHH_, and a literal "_x" that would read as one as
    _x005F_x. The reader undoes it."""
    text = _EXCEL_ESCAPE.sub(lambda found: "_x005F" + found.group(0), text)
    return _CONTROL_IN_TEXT.sub(lambda found: f"_x{ord(found.group()):04X}_", text)


def _excel_unescaped(row: Iterable[object]) -> list:
    cells = list(row)
    for index, value in enumerate(cells):
        if type(value) is str and "_x" in value:
            cells[index] = _EXCEL_ESCAPE.sub(lambda found: chr(int(found.group(1), 16)), value)
    return cells


def _csv_rows(path: Path) -> Iterator[list]:
    """Stream a csv file: UTF-8 (with or without BOM), else GB18030 as Chinese Excel saves."""
    with path.open("rb") as probe:
        head = probe.read(1 << 20)
    encoding = "utf-8-sig"
    # Positions in a decoding error count from after the BOM: measure against the same text.
    body = head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the probe is not evidence of GB18030.
        if exc.start < len(body) - 4:
            encoding = "gb18030"
    row_number = 0  # the row a spreadsheet shows: one a record, however many lines it spans
    try:
        with path.open(encoding=encoding, newline="") as handle:
            for row in csv.reader(handle):
                row_number += 1
                yield _csv_cells(row)
    except UnicodeDecodeError as exc:
        raise TableError("the csv file is neither UTF-8 nor GB18030 text") from exc
    except csv.Error as exc:
        raise _csv_error(row_number + 1, exc) from exc


def _csv_error(row_number: int, exc: csv.Error) -> TableError:
    if "field larger than field limit" in str(exc):
        # No spreadsheet makes such a cell (Excel holds 32,767 characters at most): it is
        # a double quote opening a cell that runs on over the rows below. Raising the
        # limit would swallow those rows into one cell instead of naming the culprit.
        return TableError(
            f"row {row_number}: a cell holds more than {csv.field_size_limit():,} characters "
            '(a spreadsheet cell holds at most 32,767); usually a double quote (") opens '
            "a cell that never closes: check the quotes on that row"
        )
    return TableError(f"row {row_number}: the csv file cannot be read there ({exc})")


@dataclasses.dataclass(frozen=True, slots=True)
class MergedRange:
    """A range of merged cells as Excel names it ("F2:F5"), with 1-based bounds."""

    ref: str
    min_col: int
    min_row: int
    max_col: int
    max_row: int


class MergedRow(list):
    """A row of cells of which some lie inside merged cells, not in the range's top-left
    cell: Excel shows the merged value there, the file holds nothing. ``merged`` maps
    each such cell's 0-based column index to its range ("F2:F5")."""

    __slots__ = ("merged",)

    def __init__(self, cells: Iterable, merged: dict[int, str]) -> None:
        super().__init__(cells)
        self.merged = merged


def carry_merged(raw: list, cells: list, where: Sequence[int | None]) -> list:
    """``cells``, picked from the raw row ``raw`` at the column indexes ``where`` (None: a
    column the file lacks), as a MergedRow whose ``merged`` maps positions in ``cells``
    to ranges when ``raw`` is a MergedRow and a picked cell is merged; else ``cells``.
    Merged cells in columns nobody reads (备注) are no concern of the row's."""
    merged = getattr(raw, "merged", None)
    if not merged:
        return cells
    picked = {
        position: merged[index]
        for position, index in enumerate(where)
        if index is not None and index in merged
    }
    return MergedRow(cells, picked) if picked else cells


def _mark_merged(rows: Iterator[list], ranges: list[MergedRange]) -> Iterator[list]:
    """The rows, those with cells inside a merged range (its top-left cell excepted) as
    a MergedRow. Ranges are met in row order; only those open at the row are looked at."""
    pending = sorted(ranges, key=lambda each: each.min_row, reverse=True)
    active: list[MergedRange] = []
    for row_number, row in enumerate(rows, start=1):
        while pending and pending[-1].min_row <= row_number:
            active.append(pending.pop())
        if active:
            active = [each for each in active if each.max_row >= row_number]
        covered: dict[int, str] = {}
        for each in active:
            for column in range(each.min_col, each.max_col + 1):
                if column != each.min_col or row_number != each.min_row:
                    covered[column - 1] = each.ref
        if covered:
            if len(row) < max(covered) + 1:
                row.extend([None] * (max(covered) + 1 - len(row)))
            yield MergedRow(row, covered)
        else:
            yield row


# The markup of one merged range inside a worksheet part: <mergeCell ref="F2:F5"/>, with
# or without a namespace prefix. Markup, never text: "<" in a cell is written as "&lt;".
_MERGE_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]{0,200}?\bref\s*=\s*[\"']([A-Za-z0-9:$]{2,40})[\"']"
)
_RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _merged_ranges(path: Path, title: str) -> list[MergedRange]:
    """The merged ranges of sheet ``title`` of an xlsx file, read from the sheet's XML
    (they follow the rows, in <mergeCells>) as a stream: no workbook is loaded whole."""
    from openpyxl.utils.cell import range_boundaries

    try:
        with zipfile.ZipFile(path) as archive:
            part = _sheet_part(archive, title)
            refs = _scan_merge_refs(archive, part) if part else set()
    except Exception as exc:  # as for load_workbook: a broken zip or XML raises many types
        raise TableError(f"not a readable xlsx file: {exc}") from exc
    ranges = []
    for ref in refs:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
        except (ValueError, TypeError):
            continue  # not a range: nothing Excel would show as merged
        if None in (min_col, min_row, max_col, max_row):
            continue
        if (min_col, min_row) != (max_col, max_row):
            ranges.append(MergedRange(ref, min_col, min_row, max_col, max_row))
    return sorted(ranges, key=lambda each: (each.min_row, each.min_col))


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str | None:
    """The zip member holding sheet ``title``: the package's relationships name the
    workbook part, the workbook names the sheet's relationship, whose target is the part."""
    workbook_part = next(
        (
            target
            for kind, target in _relationships(archive, "_rels/.rels", "")
            if kind.endswith("/officeDocument")
        ),
        "xl/workbook.xml",
    )
    folder = str(PurePosixPath(workbook_part).parent)
    rels_part = f"{folder}/_rels/{PurePosixPath(workbook_part).name}.rels"
    targets = dict(_relationships(archive, rels_part, folder, key="Id"))
    for element in _xml(archive, workbook_part).iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet" and element.get("name") == title:
            relation = element.get(_RELATIONSHIP_ID) or next(
                (v for k, v in element.attrib.items() if k.endswith("}id")), None
            )
            return targets.get(relation) if relation is not None else None
    return None


def _xml(archive: zipfile.ZipFile, part: str) -> Any:
    """A small part (workbook, relationships), parsed with DTDs and entities refused, as
    the file is untrusted; liudong.filecheck has bounded the part's size already."""
    from defusedxml.ElementTree import fromstring

    return fromstring(archive.read(part), forbid_dtd=True)


def _relationships(
    archive: zipfile.ZipFile, rels_part: str, folder: str, key: str = "Type"
) -> Iterator[tuple[str, str]]:
    """(Type or Id, target member name) of each relationship in a .rels part."""
    for element in _xml(archive, rels_part):
        target = element.get("Target", "")
        if element.get("TargetMode") == "External" or not target:
            continue
        if target.startswith("/"):
            member = target.lstrip("/")
        else:
            parts: list[str] = []
            for piece in f"{folder}/{target}".split("/"):
                if piece == "..":
                    if parts:
                        parts.pop()
                elif piece and piece != ".":
                    parts.append(piece)
            member = "/".join(parts)
        yield element.get(key, ""), member


def _scan_merge_refs(archive: zipfile.ZipFile, part: str) -> set[str]:
    """Every merged range named in a worksheet part, by a byte scan of the stream: a
    quick search per chunk, the pattern only where "mergeCell" occurs (after the rows)."""
    refs: set[str] = set()
    tail = b""
    with archive.open(part) as source:
        while chunk := source.read(1 << 20):
            window = tail + chunk
            if b"mergeCell" in window:
                refs.update(match.decode("ascii") for match in _MERGE_CELL.findall(window))
            tail = window[-512:]  # a tag cut by the chunk boundary is whole in the next window
    return refs


def read_table(
    path: str | os.PathLike[str],
    columns: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...] = (),
    *,
    strict: bool = False,
    ignorable: tuple[str, ...] = (),
    sheet: str | None = None,
    free_text: tuple[str, ...] = (),
    streamed: bool = False,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row_number, values) with values keyed by our field names.

    ``columns`` maps each field to the headers that mean it (Chinese and English).
    Blank rows are skipped; text cells are trimmed. A header given twice is refused;
    with ``strict`` an unknown header is refused too (``ignorable`` ones excepted).
    A row with a control character in a cell comes with :func:`row_problems`; tab and
    line breaks are allowed in the ``free_text`` fields only. ``streamed``: the caller
    keeps no more than a batch of rows, so a register-sized file is accepted.
    """
    fields = tuple(columns)
    rows = read_table_lists(
        path,
        columns,
        required,
        strict=strict,
        ignorable=ignorable,
        sheet=sheet,
        free_text=free_text,
        streamed=streamed,
    )
    return _as_dicts(rows, fields)  # the header is checked above, before any row is read


def _as_dicts(
    rows: Iterator[tuple[int, list]], fields: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, Any]]]:
    for row_number, cells in rows:
        values = dict(zip(fields, cells, strict=True))
        if type(cells) is ProblemRow:
            values = ProblemValues(values, cells.problems)
        yield row_number, values


def read_table_lists(
    path: str | os.PathLike[str],
    columns: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...] = (),
    *,
    strict: bool = False,
    ignorable: tuple[str, ...] = (),
    sheet: str | None = None,
    free_text: tuple[str, ...] = (),
    streamed: bool = False,
) -> Iterator[tuple[int, list]]:
    """As :func:`read_table`, but each row is a list of cells in the order of ``columns``
    (None for an absent or blank cell): a million-row import builds no dict per row.
    The file is checked against the upload and import limits (liudong.filecheck) before
    any parser reads it; FileRefused (a TableError) names the limit it passes."""
    path = Path(path)
    if not path.exists():
        raise TableError(f"no such file: {path}")
    limits = filecheck.Limits.current(streamed=streamed)
    filecheck.check_file(path, limits)
    sheet_name, sheet_names, raw = _raw_rows(path, sheet)
    rows = _bounded(raw, limits)
    header = next(rows, None)
    if header is None or all(cell in (None, "") for cell in header):
        raise TableError("the file is empty: the first row must hold the column headers")
    aliases = {
        _header_key(alias): field for field, names in columns.items() for alias in (field, *names)
    }
    skip = {_header_key(name) for name in ignorable}
    positions: dict[str, int] = {}
    unknown = []
    for index, title in enumerate(header):
        if title in (None, ""):
            continue
        field = aliases.get(_header_key(title))
        if field is None:
            if _header_key(title) not in skip:
                unknown.append(str(title))
        elif field in positions:
            raise TableError(
                f"row 1: the column “{title}” appears twice (columns {positions[field] + 1} "
                f"and {index + 1})"
            )
        else:
            positions[field] = index
    missing = [f for f in required if f not in positions]
    if missing:
        wanted = ", ".join(f"{columns[f][0]} ({f})" for f in missing)
        where = (
            f" of sheet “{sheet_name}” (sheets: {', '.join(sheet_names)})"
            if len(sheet_names) > 1
            else ""
        )
        raise TableError(f"row 1{where}: missing required column(s): {wanted}")
    if strict and unknown:
        raise TableError(f"row 1: unknown column(s): {', '.join(unknown)}")
    return _rows(rows, positions, tuple(columns), limits.cell_chars, frozenset(free_text))


def _bounded(rows: Iterator[list], limits: Limits) -> Iterator[list]:
    """The rows, refusing the file at the first row past the row limit or a row wider
    than the column limit (trailing blank cells, which a sheet's formatting adds, aside)."""
    for row_number, row in enumerate(rows, start=1):
        if row_number > limits.rows + 1:  # the header row is not a data row
            raise FileRefused(
                _gettext(
                    "The file has more than %(limit)s rows; an import takes at most that many."
                )
                % {"limit": f"{limits.rows:,}"}
            )
        if len(row) > limits.columns:
            width = next(
                (i + 1 for i in range(len(row) - 1, -1, -1) if row[i] not in (None, "")), 0
            )
            if width > limits.columns:
                raise FileRefused(
                    _gettext(
                        "Row %(row)s has %(count)s columns; an import takes at most %(limit)s."
                    )
                    % {
                        "row": f"{row_number:,}",
                        "count": f"{width:,}",
                        "limit": f"{limits.columns:,}",
                    }
                )
            del row[width:]
        yield row


def _gettext(message: str) -> str:
    from django.utils.translation import gettext

    return gettext(message)


def _rows(
    rows: Iterator[list],
    positions: dict[str, int],
    fields: tuple[str, ...],
    cell_chars: int,
    free_text: frozenset[str],
) -> Iterator[tuple[int, list]]:
    # Where each field sits in the file (None: a column this file does not have).
    where = [positions.get(field) for field in fields]
    width = max((i for i in where if i is not None), default=-1) + 1
    for offset, row in enumerate(rows, start=2):
        raw = row  # padding below makes a plain list; the merge marker is on this one
        if len(row) < width:
            row = [*row, *([None] * (width - len(row)))]
        cells = []
        blank = True
        unprintable = False
        for index in where:
            value = None if index is None else row[index]
            if isinstance(value, str):
                value = value.strip() or None
                if value is not None:
                    if len(value) > cell_chars:
                        raise FileRefused(
                            _gettext(
                                "The cell at row %(row)s, column %(column)s is longer than "
                                "%(limit)s characters (a spreadsheet cell holds at most 32,767)."
                            )
                            % {
                                "row": f"{offset:,}",
                                "column": _column_letter(index),  # type: ignore[arg-type]
                                "limit": f"{cell_chars:,}",
                            }
                        )
                    # One C call a cell; the exact search only for a cell it flags.
                    unprintable = unprintable or not value.isprintable()
            if value is not None:
                blank = False
            cells.append(value)
        if blank:
            continue
        if type(raw) is MergedRow:
            cells = carry_merged(raw, cells, where)
        if unprintable:
            problems = []
            for field, value in zip(fields, cells, strict=True):
                if isinstance(value, str):
                    pattern = _CONTROL_IN_TEXT if field in free_text else _CONTROL
                    problem = _control_problem(offset, field, value, pattern)
                    if problem:
                        problems.append(problem)
            if problems:
                cells = ProblemRow(cells, problems)
        yield offset, cells


def estimate_rows(path: Path, *, sheet: str | None = None) -> int | None:
    """Data rows in the file, quickly and roughly: newlines for csv (a quoted line break
    counts twice, blank lines count), the sheet's recorded size for xlsx. None when the
    file does not say (the progress bar is then indeterminate)."""
    if path.suffix.lower() in (".csv", ".txt"):
        lines, last = 0, b"\n"
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        if last != b"\n":
            lines += 1  # the last line has no line break
        return max(lines - 1, 0)
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        try:
            worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
            # Read-only sheets take their size from the file's <dimension> element only.
            max_row = worksheet.max_row
        finally:
            workbook.close()
    except Exception:  # an estimate is never worth failing the import for
        return None
    return max(max_row - 1, 0) if max_row else None
