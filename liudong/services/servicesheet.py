"""The 服务记录 workbook of service records (masked ID numbers, never a result), which the
export page, the export command and the region export share.

Below ``records.services`` and ``records.spreadsheets``, which both write it; it must not
import either.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, cast

from django.db.models import QuerySet

from liudong.people import idnumbers
from liudong.services.models import ServiceRecord
from liudong.servicetypes import SERVICE_TYPE_ZH

#: Where the sheet is written: a path (by its suffix) or an open stream.
SheetTarget = str | Path | IO[Any]


def service_type_zh(code: str) -> str:
    """The Chinese name of a stored service type code (the code itself when unknown)."""
    # The table is keyed by ServiceType members, which are their str codes.
    return cast("dict[str, str]", SERVICE_TYPE_ZH).get(code, code)


SERVICE_EXPORT_HEADERS = [
    "公民身份号码",
    "姓名",
    "服务类型",
    "服务日期",
    "服务地点",
    "服务机构",
    "是否免费",
    "专项活动",
]


def service_record_rows(records: Iterable[ServiceRecord]) -> Iterable[list]:
    """One export row per record (masked ID number; never the result)."""
    for record in records:
        yield [
            idnumbers.mask(record.person.id_number),
            record.person.name,
            service_type_zh(record.service_type),
            record.date,
            f"{record.region_id} {record.region.name}",
            record.provider.name if record.provider is not None else record.provider_name,
            "是" if record.free_of_charge else "否",
            record.campaign.name if record.campaign is not None else "",
        ]


def write_service_sheet(records: QuerySet[ServiceRecord], target: SheetTarget) -> int:
    """The records as the 服务记录 workbook the command and the page share; returns the
    number of rows (the caller logs the export)."""
    from liudong.safesheet import Workbook, lay_out

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "服务记录"
    lay_out(sheet, SERVICE_EXPORT_HEADERS, widths=(22, 10, 18, 12, 28, 24, 8, 24))
    sheet.append(SERVICE_EXPORT_HEADERS)
    rows = 0
    for row in service_record_rows(records.iterator(chunk_size=2000)):
        sheet.append(row)
        rows += 1
    workbook.save(target)
    return rows
