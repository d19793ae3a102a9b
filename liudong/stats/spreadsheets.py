"""The monthly report as the offices' own form: a title, the reporting unit and period,
Chinese headers (name and unit of each indicator), one row per child region and a total
row (合计). Rates are numbers with two decimals, so a county can sum and chart them. Laid
out for print by liudong.safesheet: landscape A4 one page wide, the title and header rows on
every page, the header frozen; 生成时间 in Beijing time."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import IO

from openpyxl.styles import Alignment, Border, Side
from openpyxl.utils import get_column_letter

from liudong.safesheet import Workbook, font, lay_out, time_text

from .models import Indicator, Unit

TITLE = "流动人口服务管理月报表"
UNIT_SUFFIX = {"percent": "(%)", "permille": "(‰)"}
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def header_names(indicators: list[Indicator]) -> list[str]:
    return ["区划代码", "单位名称"] + [
        f"{i.name_zh}{UNIT_SUFFIX.get(str(i.unit), '')}" for i in indicators
    ]


def table_rows(report: dict, indicators: list[Indicator]) -> list[list]:
    """The child rows, then the total (合计); a rate without a denominator is blank."""
    codes = [i.code for i in indicators]
    rows = [
        [row["region"], row["name"], *(row["indicators"].get(c) for c in codes)]
        for row in report["rows"]
    ]
    rows.append(["", "合计", *(report["indicators"].get(c) for c in codes)])
    return rows


def write_monthly_report(
    report: dict, indicators: list[Indicator], target: Path | IO[bytes]
) -> None:
    year, month = report["period"].split("-")
    header = header_names(indicators)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"{report['period']} 月报"
    last_column = get_column_letter(len(header))
    header_row = 4
    lay_out(
        sheet,
        header,
        header_row=header_row,
        widths=[14, 16, *([11] * (len(header) - 2))],
        landscape=True,
        autofilter=False,  # a filter would leave the 合计 row summing rows it hides
    )
    sheet.freeze_panes = f"C{header_row + 1}"  # codes and names stay in view
    sheet.append([TITLE])
    sheet.merge_cells(f"A1:{last_column}1")
    sheet["A1"].font = font(size=16, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([f"填报单位：{report['name']}（{report['region']}）"])
    sheet.merge_cells(f"A2:{get_column_letter(max(2, len(header) // 2))}2")
    sheet.append([f"统计期：{int(year)}年{int(month)}月（截至{report['period']}月末）"])
    sheet.merge_cells(f"A3:{get_column_letter(max(2, len(header) // 2))}3")
    sheet.append(header)
    for cell in sheet[header_row]:
        cell.border = BOX
    rate_columns = {index + 3 for index, i in enumerate(indicators) if i.unit != Unit.COUNT}
    for values in table_rows(report, indicators):
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            cell.border = BOX
            if cell.column in rate_columns:
                cell.number_format = "0.00"
    for cell in sheet[sheet.max_row]:
        cell.font = font(bold=True)
    sheet.row_dimensions[header_row].height = 48
    sheet.append([])
    generated = time_text(datetime.datetime.fromisoformat(report["generated_at"]))
    sheet.append([f"生成时间：{generated}　比率保留两位小数；分母为0时空白。"])
    workbook.save(target)
