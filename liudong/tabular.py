"""Reading the spreadsheets offices actually keep: csv (UTF-8 with or without BOM, or
GB18030 as Chinese Excel saves it) and xlsx, with Chinese or English headers.

Rows come out as (row_number, {field: value}) where row_number is what the spreadsheet
shows (header = row 1), so every message can name the row a person will look at.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, missing column)."""


def _header_key(text) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).strip().lower().replace(" ", "")


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("the csv file is neither UTF-8 nor GB18030 text")


def _raw_rows(path: Path) -> Iterator[list]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several unrelated types for bad files
            raise TableError(f"not a readable xlsx file: {exc}") from exc
        try:
            yield from (list(row) for row in workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
    elif suffix in (".csv", ".txt"):
        text = _decode(path.read_bytes())
        yield from csv.reader(io.StringIO(text))
    else:
        raise TableError(f"unsupported file type “{suffix or path.name}”: use .csv or .xlsx")


def read_table(path, columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...] = ()):
    """Yield (row_number, values) with values keyed by our field names.

    ``columns`` maps each field to the headers that mean it (Chinese and English).
    Blank rows are skipped; cells are trimmed; unknown columns are ignored.
    """
    path = Path(path)
    if not path.exists():
        raise TableError(f"no such file: {path}")
    rows = _raw_rows(path)
    header = next(rows, None)
    if header is None:
        raise TableError("the file is empty: the first row must hold the column headers")
    aliases = {
        _header_key(alias): field for field, names in columns.items() for alias in (field, *names)
    }
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        field = aliases.get(_header_key(title))
        if field and field not in positions:
            positions[field] = index
    missing = [f for f in required if f not in positions]
    if missing:
        wanted = ", ".join(f"{columns[f][0]} ({f})" for f in missing)
        raise TableError(f"row 1: missing required column(s): {wanted}")
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
