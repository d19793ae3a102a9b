"""Issue 16 item 5: every xlsx export is one an office can print and filter, and LibreOffice
opens it with its dates as dates.

Each export below is produced by its own code path and checked alike with openpyxl: date
columns are date cells in ``yyyy-mm-dd``, timestamps are Beijing time, ID-number columns are
in the text format ``@``, the header row is frozen and printed on every page, the page is
fitted to one page wide (landscape where wide), and the default font is 宋体 with the
GB2312 character set. Then LibreOffice Calc (headless) converts every export: a file it had
to repair, or whose dates it read as text, fails.
"""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from liudong.actors import OPERATOR
from liudong.safesheet import DATE_FORMAT, FONT_NAME, TEXT_FORMAT, TIME_FORMAT

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 15)


def _persons(tmp_path, township_a):
    from liudong.certificates import issuing
    from liudong.certificates.tests.conftest import make_person
    from liudong.people.exporting import export_persons

    her = make_person(name="周敏", arrived=datetime.date(2026, 5, 1))
    issuing.issue(her, acting_user=township_a, today=TODAY)
    out = tmp_path / "persons.xlsx"
    export_persons("3301", out, file_format="xlsx", acting_user=OPERATOR)
    return out


def _service_records(tmp_path, township_a):
    from liudong.certificates.tests.conftest import make_person
    from liudong.services.models import ServiceRecord
    from liudong.services.records import services as record_services
    from liudong.services.servicesheet import write_service_sheet

    her = make_person(household="330105001001", residence="330106002001")
    record_services.create_service_record(
        acting_user=township_a,
        person=her,
        service_type="reproductive_health",
        date=datetime.date(2026, 6, 1),
        consent_recorded=True,
    )
    out = tmp_path / "services.xlsx"
    write_service_sheet(ServiceRecord.objects.all(), out)
    return out


def _monthly_report(tmp_path, township_a):
    from liudong.stats.models import Indicator, Unit
    from liudong.stats.spreadsheets import write_monthly_report

    indicators = [
        Indicator(code=f"i{n}", name_zh=f"指标{n}", unit=Unit.PERCENT if n % 2 else Unit.COUNT)
        for n in range(19)
    ]
    figures = {f"i{n}": n for n in range(19)}
    report = {
        "period": "2026-05",
        "region": "330106",
        "name": "西湖区",
        "rows": [{"region": "330106002", "name": "北山街道", "indicators": figures}],
        "indicators": figures,
        "generated_at": "2026-06-01T16:30:00+00:00",  # 2026-06-02 00:30 in Beijing
    }
    out = tmp_path / "report.xlsx"
    write_monthly_report(report, indicators, out)
    return out


def _audit_log(tmp_path, township_a):
    from liudong.audit.models import AuditEntry
    from liudong.audit.services import export_xlsx

    out = tmp_path / "audit.xlsx"
    out.write_bytes(export_xlsx(AuditEntry.objects.all(), acting_user=OPERATOR))
    return out


def _errors_file(tmp_path, township_a):
    from liudong.people.importing import ErrorsFile

    errors = ErrorsFile(tmp_path / "errors.xlsx")
    errors.add(
        2,
        {
            "name": "王芳",
            "id_number": "41152219950601001X",
            "birth_date": datetime.date(1995, 6, 1),
        },
        [{"row": 2, "field": "sex", "message": "性别必填"}],
    )
    errors.close()
    return errors.path


def _region_table(tmp_path, township_a):
    from liudong.safesheet import write_table

    out = tmp_path / "table.xlsx"
    write_table(
        out,
        ["公民身份号码", "姓名", "服务日期", "生成时间"],
        [
            [
                "330106199001020031",
                "李强",
                datetime.date(2026, 6, 1),
                datetime.datetime(2026, 6, 1, 16, 30, tzinfo=datetime.UTC),
            ]
        ],
    )
    return out


def _payment_list(tmp_path, township_a):
    from conftest import make_user
    from liudong.regions.models import Region
    from liudong.services.programmes import payments
    from liudong.services.programmes.tests.payment_fixtures import benefit, national_amounts

    county = make_user("county_pay", "county", "330106")
    national_amounts()
    benefit(name="王秀英")
    made = payments.make_list(
        acting_user=county, county=Region.objects.get(code="330106"), year=2026
    )
    out = tmp_path / "payments.xlsx"
    exported = payments.export_list(acting_user=county, payment_list=made, file_format="xlsx")
    out.write_bytes(exported.content)
    return out


# name -> (writer, sheet, header row, {header: expected kind of its first data cell})
EXPORTS = {
    "persons": (_persons, 0, 1, {"出生日期": "date", "流入日期": "date", "公民身份号码": "id"}),
    "service records": (_service_records, 0, 1, {"服务日期": "date", "公民身份号码": "id"}),
    "monthly report": (_monthly_report, 0, 4, {}),
    "audit log": (_audit_log, 0, 1, {"时间 time": "time"}),
    "error workbook": (_errors_file, 0, 1, {"出生日期": "date", "公民身份号码": "id"}),
    "payment list": (_payment_list, 0, 1, {"公民身份号码": "id"}),
    "table": (
        _region_table,
        0,
        1,
        {"服务日期": "date", "公民身份号码": "id", "生成时间": "time"},
    ),
}


@pytest.fixture
def exports(tmp_path, villages, township_a):
    return {name: writer(tmp_path, township_a) for name, (writer, *_rest) in EXPORTS.items()}


def _first_data_cells(sheet, header_row):
    header = [cell.value for cell in sheet[header_row]]
    return dict(zip(header, sheet[header_row + 1], strict=False))


@pytest.mark.parametrize("name", list(EXPORTS))
def test_each_export_prints_and_types_its_cells(exports, name):
    _writer, index, header_row, kinds = EXPORTS[name]
    workbook = load_workbook(exports[name])
    sheet = workbook.worksheets[index]

    assert sheet.freeze_panes.endswith(str(header_row + 1)), sheet.freeze_panes
    assert sheet.print_title_rows == f"$1:${header_row}"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert sheet.column_dimensions["A"].width and sheet.column_dimensions["B"].width
    assert sheet.cell(header_row, 1).font.b  # the header stands out
    cells = _first_data_cells(sheet, header_row)
    for header, kind in kinds.items():
        cell = cells[header]
        if kind == "date":
            assert cell.is_date and cell.number_format == DATE_FORMAT, (header, cell.value)
            assert cell.value.time() == datetime.time(0)
        elif kind == "time":
            assert cell.is_date and cell.number_format == TIME_FORMAT, (header, cell.value)
        else:
            assert cell.data_type == "s" and cell.number_format == TEXT_FORMAT, header
            assert len(cell.value) == 18
    # The default font (every unstyled cell's) is 宋体 with the GB2312 character set.
    styles = zipfile.ZipFile(exports[name]).read("xl/styles.xml").decode()
    first_font = styles.split("<font>", 1)[1].split("</font>", 1)[0]
    assert f'val="{FONT_NAME}"' in first_font and 'charset val="134"' in first_font


def test_timestamps_are_beijing_time(exports):
    table = load_workbook(exports["table"]).worksheets[0]
    assert table["D2"].value == datetime.datetime(2026, 6, 2, 0, 30)  # 16:30 UTC
    report = load_workbook(exports["monthly report"]).worksheets[0]
    notes = [row[0] for row in report.values if row and str(row[0]).startswith("生成时间")]
    assert notes and notes[0].startswith("生成时间：2026-06-02 00:30")
    audit = load_workbook(exports["audit log"]).worksheets[0]
    latest = max(row[1] for row in audit.iter_rows(min_row=2, values_only=True))
    now = timezone.localtime().replace(tzinfo=None)
    assert abs(now - latest) < datetime.timedelta(minutes=10)


def test_the_wide_monthly_report_prints_landscape_and_a_narrow_sheet_portrait(exports):
    report = load_workbook(exports["monthly report"]).worksheets[0]
    assert report.page_setup.orientation == "landscape"
    assert report.print_title_rows == "$1:$4"  # the title on every page, not only page 1
    persons = load_workbook(exports["persons"]).worksheets[0]
    assert persons.page_setup.orientation == "landscape"  # 20 columns
    table = load_workbook(exports["table"]).worksheets[0]
    assert table.page_setup.orientation == "portrait"  # 4 columns


def test_a_filter_sits_on_the_header_of_a_plain_list(exports):
    sheet = load_workbook(exports["persons"]).worksheets[0]
    assert sheet.auto_filter.ref == "A1:T2"


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui; "
    "scripts/ensure-office installs it for CI)",
)
def test_libreoffice_opens_every_export_with_dates_as_dates(exports, tmp_path):
    converted = tmp_path / "converted"
    profile = (tmp_path / "profile").as_uri()
    result = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(converted),
            *map(str, exports.values()),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name, path in exports.items():
        again = converted / Path(path).name
        assert again.exists(), (name, result.stdout, result.stderr)
        _writer, index, header_row, kinds = EXPORTS[name]
        sheet = load_workbook(again).worksheets[index]
        cells = _first_data_cells(sheet, header_row)
        for header, kind in kinds.items():
            if kind in ("date", "time"):
                assert cells[header].is_date, (name, header, cells[header].value)
            else:
                assert cells[header].value == str(cells[header].value)  # text, 18 digits
                assert len(cells[header].value) == 18
        assert sheet.print_title_rows == f"$1:${header_row}", name


def test_the_export_reads_the_same_in_memory(exports):
    """A stream (the web pages' BytesIO) gets the same layout as a file."""
    from liudong.safesheet import write_table

    buffer = io.BytesIO()
    write_table(
        buffer, ["公民身份号码", "日期"], [["330106199001020031", datetime.date(2026, 1, 2)]]
    )
    sheet = load_workbook(buffer).worksheets[0]
    assert sheet["A2"].number_format == TEXT_FORMAT and sheet["B2"].is_date
