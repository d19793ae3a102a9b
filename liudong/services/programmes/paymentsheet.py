"""The payment list as the finance bureau's file (issue 17, item 4), xlsx and csv, written
through ``liudong.safesheet`` (no formula ever, dates as dates, text as text).

Columns: 序号, 乡镇, 姓名, 公民身份号码, 一卡通账号, 项目, 金额(元). The ID number and the
bank card are whole here (the file is what payment needs) and nowhere else.

- xlsx: sheet 发放名单 holds the header (row 1) and one row per line (the list's title is
  the workbook's, so a program finds the header where a spreadsheet shows it); the ID
  number and card columns are text cells in the text format ``@`` (Excel and LibreOffice
  keep their 18 and 19 digits), the amount a number cell in ``0.00``. Sheet 汇总 holds the
  totals per township, then per programme, each ending with 合计.
- csv (UTF-8 with BOM): the header and one row per line, nothing else, so that a program
  reading the file takes every row after the header as one payment; ID numbers and cards
  are quoted text, amounts bare numbers with two decimals. Its totals per township are a
  file of their own (:func:`write_totals_csv`, the list page's 汇总 download), holding no
  personal data.

Owns the files' layout only: which lines, and that exporting freezes the list, are
``payments``'.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from liudong.safesheet import CSV_ENCODING, CsvWriter, Workbook, font, lay_out

if TYPE_CHECKING:
    from .models import PaymentLine
    from .payments import TotalRow, Totals

HEADER = ("序号", "乡镇", "姓名", "公民身份号码", "一卡通账号", "项目", "金额(元)")
ID_COLUMN, CARD_COLUMN, AMOUNT_COLUMN = 3, 4, 6
TEXT_COLUMNS = (ID_COLUMN, CARD_COLUMN)
WIDTHS = (6, 14, 10, 21, 23, 34, 12)
TOTALS_HEADER = ("区划代码", "乡镇", "笔数", "金额(元)")
PROGRAMME_HEADER = ("项目代码", "项目", "笔数", "金额(元)")
AMOUNT_FORMAT = "0.00"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {"xlsx": XLSX, "csv": CSV}


def line_rows(lines: Iterable[PaymentLine]) -> Iterator[list[Any]]:
    """One row per line in the given order; 序号 counts from 1."""
    for serial, line in enumerate(lines, start=1):
        yield [
            serial,
            line.township.name,
            line.name,
            line.id_number,
            line.bank_card,
            line.programme.name,
            line.amount,
        ]


def _total_rows(rows: Sequence[TotalRow], count: int, amount: Decimal) -> Iterator[list[Any]]:
    for row in rows:
        yield [row.code, row.name, row.count, row.amount]
    yield ["", "合计", count, amount]


def write_xlsx(lines: Iterable[PaymentLine], totals: Totals, *, title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "发放名单"
    workbook.properties.title = title
    lay_out(sheet, HEADER, widths=WIDTHS, text_columns=TEXT_COLUMNS)
    sheet.append(list(HEADER))
    for row in line_rows(lines):
        sheet.append(row)
        sheet.cell(row=sheet.max_row, column=AMOUNT_COLUMN + 1).number_format = AMOUNT_FORMAT
    summary = workbook.create_sheet("汇总")
    lay_out(summary, TOTALS_HEADER, widths=(12, 24, 8, 14), autofilter=False)
    summary.append(list(TOTALS_HEADER))
    for row in _total_rows(totals.by_township, totals.count, totals.amount):
        summary.append(row)
        summary.cell(row=summary.max_row, column=4).number_format = AMOUNT_FORMAT
    summary.append([])
    summary.append(list(PROGRAMME_HEADER))
    for cell in summary[summary.max_row]:
        cell.font = font(bold=True)
    for row in _total_rows(totals.by_programme, totals.count, totals.amount):
        summary.append(row)
        summary.cell(row=summary.max_row, column=4).number_format = AMOUNT_FORMAT
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_csv(lines: Iterable[PaymentLine]) -> bytes:
    handle = io.StringIO(newline="")
    writer = CsvWriter(handle)
    writer.writerow(HEADER)
    writer.writerows(line_rows(lines))
    return handle.getvalue().encode(CSV_ENCODING)


def write_totals_csv(totals: Totals) -> bytes:
    """The totals per township (and 合计) as csv: no personal data."""
    handle = io.StringIO(newline="")
    writer = CsvWriter(handle)
    writer.writerow(TOTALS_HEADER)
    writer.writerows(_total_rows(totals.by_township, totals.count, totals.amount))
    return handle.getvalue().encode(CSV_ENCODING)


def write(file_format: str, lines: Sequence[PaymentLine], totals: Totals, *, title: str) -> bytes:
    if file_format == "xlsx":
        return write_xlsx(lines, totals, title=title)
    return write_csv(lines)
