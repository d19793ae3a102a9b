"""Reading the spreadsheets offices actually keep: csv (UTF-8 with or without BOM, or
GB18030 as Chinese Excel saves it) and xlsx, with Chinese or English headers.

Rows come out as (row_number, {field: value}) where row_number is what the spreadsheet
shows (header = row 1), so every message can name the row a person will look at.
"""

from __future__ import annotations

import csv
import dataclasses
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path


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


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, missing column)."""


def _header_key(text) -> str:
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

        def rows() -> Iterator[list]:
            try:
                yield from (list(row) for row in worksheet.iter_rows(values_only=True))
            finally:
                workbook.close()

        return worksheet.title, names, rows()
    if suffix in (".csv", ".txt"):
        return path.name, [path.name], _csv_rows(path)
    raise TableError(f"unsupported file type “{suffix or path.name}”: use .csv or .xlsx")


def _csv_rows(path: Path) -> Iterator[list]:
    """Stream a csv file: UTF-8 (with or without BOM), else GB18030 as Chinese Excel saves."""
    with path.open("rb") as probe:
        head = probe.read(1 << 20)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the probe is not evidence of GB18030.
        if exc.start < len(head) - 4:
            encoding = "gb18030"
    try:
        with path.open(encoding=encoding, newline="") as handle:
            yield from csv.reader(handle)
    except UnicodeDecodeError as exc:
        raise TableError("the csv file is neither UTF-8 nor GB18030 text") from exc


def read_table(
    path,
    columns: Mapping[str, tuple[str, ...]],
    required: tuple[str, ...] = (),
    *,
    strict: bool = False,
    ignorable: tuple[str, ...] = (),
    sheet: str | None = None,
):
    """Yield (row_number, values) with values keyed by our field names.

    ``columns`` maps each field to the headers that mean it (Chinese and English).
    Blank rows are skipped; text cells are trimmed. A header given twice is refused;
    with ``strict`` an unknown header is refused too (``ignorable`` ones excepted).
    """
    path = Path(path)
    if not path.exists():
        raise TableError(f"no such file: {path}")
    sheet_name, sheet_names, rows = _raw_rows(path, sheet)
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
    return _rows(rows, positions)


def _rows(rows: Iterator[list], positions: dict[str, int]):
    for offset, row in enumerate(rows, start=2):
        values = {}
        for field, index in positions.items():
            value = row[index] if index < len(row) else None
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    value = None
            values[field] = value
        if all(v is None for v in values.values()):
            continue
        yield offset, values


def write_table(target, header: list[str], rows, *, sheet_title: str = "Sheet1") -> None:
    """Write csv (UTF-8 with BOM, so Excel shows Chinese) or xlsx, by the file suffix;
    a binary stream (not a path) gets xlsx."""
    if not hasattr(target, "write") and Path(target).suffix.lower() != ".xlsx":
        with Path(target).open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    workbook.save(target)
