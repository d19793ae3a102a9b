"""Uploads cannot exhaust the server (issue 13, item 2) and a control character is a row
problem, not a crash (item 3, imports): liudong.filecheck checks every file before a
parser reads it, the reader (liudong.tabular) bounds rows, columns and cells and flags
control characters, and every importer lists such a row as refused."""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liudong import tabular
from liudong.actors import OPERATOR
from liudong.people import importing
from liudong.people.idnumbers import make
from liudong.people.models import Person
from liudong.people.template import CHINESE_HEADERS, FIELDS
from liudong.people.tests.test_import import person, write_csv
from liudong.tabular import FileRefused, TableError, read_table

MIB = 1 << 20
ROOT = Path(__file__).resolve().parent.parent

OOXML = "http://schemas.openxmlformats.org"
RELATIONSHIP = f"{OOXML}/officeDocument/2006/relationships"
SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<Types xmlns="{OOXML}/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEET}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{SPREADSHEET}.worksheet+xml"/>'
    "</Types>"
).encode()
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<Relationships xmlns="{OOXML}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIP}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
).encode()
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<Relationships xmlns="{OOXML}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIP}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
).encode()
WORKBOOK_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
)
WORKBOOK_TAIL = '<sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>'.encode()
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def _cell(column: int, row: int, text: str) -> bytes:
    ref = f"{chr(ord('A') + column)}{row}"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{escaped}</t></is></c>'.encode()


def sheet_rows(rows: list[list[str]]) -> bytes:
    body = b""
    for number, row in enumerate(rows, start=1):
        cells = b"".join(_cell(i, number, text) for i, text in enumerate(row))
        body += f'<row r="{number}">'.encode() + cells + b"</row>"
    return body


def write_package(
    path: Path,
    *,
    sheet: bytes | None = None,
    sheet_padding: int = 0,
    workbook_padding: int = 0,
    workbook_head: bytes = WORKBOOK_HEAD,
    level: int = 1,
) -> Path:
    """An xlsx file written part by part, so a part can be padded with spaces (which
    deflate about 1,000 to 1) without ever holding the padding in memory."""
    header = sheet_rows([CHINESE_HEADERS]) if sheet is None else sheet
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/workbook.xml", "w", force_zip64=workbook_padding > 0) as part:
            part.write(workbook_head)
            _pad(part, workbook_padding)
            part.write(WORKBOOK_TAIL)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(SHEET_HEAD + header)
            _pad(part, sheet_padding)
            part.write(SHEET_TAIL)
    return path


def _pad(part, size: int) -> None:
    chunk = b" " * (4 * MIB)
    while size > 0:
        part.write(chunk[:size])
        size -= len(chunk)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """About 1 MB on disk, its sheet inflating to 1 GiB. Deflated run by run (Z_RLE): the
    ratio of the best level in a tenth of its time."""

    def run_length(level, *_args):
        return zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_RLE)

    with mock.patch.object(zipfile, "_get_compressor", lambda *a: run_length(*a)):
        path = write_package(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", sheet_padding=1 << 30)
    assert path.stat().st_size < 2 * MIB
    return path


def refused_by_cli(path: Path, *args: str) -> str:
    """`liudong import persons FILE --format json`: the one error, in the errors shape;
    nothing saved. Returns its message."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_persons", str(path), *args, "--format", "json", stdout=out, stderr=err)
    assert exit_.value.code != 0
    [error] = json.loads(out.getvalue())["errors"]
    assert err.getvalue().strip() == f"liudong: error: {error['message']}"  # no traceback
    assert not Person.objects.exists()
    return error["message"]


# --- zip bombs -------------------------------------------------------------------------------

PEAK_SCRIPT = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liudong.settings")
import django
django.setup()
from liudong.actors import OPERATOR
from liudong.people.importing import import_persons
from liudong.tabular import TableError
try:
    import_persons(sys.argv[1], acting_user=OPERATOR)
    message = None
except TableError as exc:
    message = str(exc)
# VmHWM: this process's own peak (ru_maxrss would carry the forking pytest's over exec).
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"message": message, "peak_mib": peak / 1024}))
"""


def test_a_1mb_xlsx_whose_sheet_inflates_to_1gib_is_refused_in_little_memory(bomb, tmp_path):
    """The importer runs in a fresh process (Django, polars and openpyxl loaded) so its
    peak resident memory is its own; before the check it took 1.36 GB."""
    env = {**os.environ, "LIUDONG_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(bomb)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["message"] is not None, "the bomb was read"
    assert "xl/worksheets/sheet1.xml" in outcome["message"]
    # The ratio, over a thousand to one (the message is in Chinese, the default).
    assert re.search(r"\b1,\d{3}\b", outcome["message"])
    assert outcome["peak_mib"] < 300, outcome


def test_the_sheet_bomb_is_refused_by_the_cli_naming_the_limit(bomb, villages):
    message = refused_by_cli(bomb)
    assert message.startswith("The sheet (xl/worksheets/sheet1.xml) inflates")
    assert "at most 100 times" in message


def test_a_directory_that_understates_a_part_is_caught_while_inflating(tmp_path, villages):
    """The zip's directory says the sheet is small; inflating it says otherwise."""
    path = write_package(tmp_path / "liar.xlsx", sheet_padding=64 * MIB)
    data = bytearray(path.read_bytes())
    # The central directory entry of the sheet: signature, then sizes in its zip64 extra.
    entry = data.rfind(b"PK\x01\x02")
    name_length, extra_length = struct.unpack_from("<HH", data, entry + 28)
    extra = entry + 46 + name_length
    if extra_length and struct.unpack_from("<H", data, extra)[0] == 1:  # zip64 sizes
        struct.pack_into("<Q", data, extra + 4, 200_000)
    else:
        struct.pack_into("<I", data, entry + 24, 200_000)  # uncompressed: 200 kB, it says
    path.write_bytes(bytes(data))
    message = refused_by_cli(path)
    assert "not a readable xlsx file" in message


def test_padding_in_the_workbook_part_is_refused_before_it_is_read_whole(tmp_path, villages):
    path = write_package(tmp_path / "workbook.xlsx", workbook_padding=200 * MIB)
    message = refused_by_cli(path)
    assert message == "The part xl/workbook.xml inflates to more than 32 MiB (200 MiB)."


def test_a_sheet_with_more_rows_than_an_import_takes_is_refused(tmp_path, villages, settings):
    settings.IMPORT_MAX_ROWS = 3
    row = sheet_rows([CHINESE_HEADERS, *[["x"] * 3] * 5])
    message = refused_by_cli(write_package(tmp_path / "rows.xlsx", sheet=row))
    assert message == (
        "The sheet (xl/worksheets/sheet1.xml) has more than 3 rows; an import takes at most "
        "that many."
    )


def test_a_row_of_a_million_cells_is_refused_before_openpyxl_builds_it(
    tmp_path, villages, settings
):
    settings.IMPORT_MAX_RATIO = 10_000  # the ratio would refuse it first
    cells = b"<c/>" * 1_000_000
    sheet = sheet_rows([CHINESE_HEADERS]) + b'<row r="2">' + cells + b"</row>"
    message = refused_by_cli(write_package(tmp_path / "wide.xlsx", sheet=sheet))
    assert message.startswith("The sheet (xl/worksheets/sheet1.xml): row 2 takes more than")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
)


def test_xml_entities_are_refused_not_expanded(tmp_path, villages):
    path = write_package(
        tmp_path / "laughs.xlsx", workbook_head=BILLION_LAUGHS + WORKBOOK_HEAD[38:]
    )
    message = refused_by_cli(path)
    assert message == (
        "The part xl/workbook.xml declares a DTD or XML entities; spreadsheets have none, "
        "and a file that does is refused."
    )


def test_xml_entities_in_an_upload_give_the_form_page_a_message_not_a_500(
    tmp_path, county_admin, client_for
):
    path = write_package(
        tmp_path / "laughs.xlsx", workbook_head=BILLION_LAUGHS + WORKBOOK_HEAD[38:]
    )
    client = client_for(county_admin)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
    response = client.post(
        "/regions/import/",
        {"file": SimpleUploadedFile("laughs.xlsx", path.read_bytes())},
        follow=True,
    )
    assert response.status_code == 200
    assert "declares a DTD or XML entities" in response.content.decode()


# --- csv -------------------------------------------------------------------------------------


def test_a_50mb_csv_is_refused_by_a_form_import_naming_the_limit(
    tmp_path, county_admin, client_for
):
    """A township form (regions, places, services) is read whole: 20 MiB at most."""
    line = "330106002003,新村" + " " * 80 + "\n"
    body = ("code,name\n" + line * (50 * MIB // len(line.encode()))).encode()
    client = client_for(county_admin)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
    response = client.post(
        "/regions/import/",
        {"file": SimpleUploadedFile("big.csv", body)},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The file is 50 MiB; files of at most 20 MiB are accepted here." in page
    assert 'data-testid="import-confirm"' not in page


def test_a_50mb_csv_line_is_refused_by_the_register_import(tmp_path, villages):
    path = Path(write_csv(tmp_path / "line.csv", [person()]))
    with path.open("ab") as handle:
        handle.write(b"x" * (50 * MIB))
    message = refused_by_cli(path)
    assert message == (
        "Line 3 of the file is longer than 1,024 KiB; a line of the import holds one row of "
        "at most 200 cells."
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_100000_character_cell_is_refused_naming_row_and_column(tmp_path, villages, suffix):
    rows = [[*CHINESE_HEADERS], ["王芳", "女"], ["李强", "x" * 100_000]]
    if suffix == ".csv":
        path = tmp_path / "cell.csv"
        path.write_text("\n".join(",".join(row) for row in rows), encoding="utf-8")
    else:
        path = write_package(tmp_path / "cell.xlsx", sheet=sheet_rows(rows))
    message = refused_by_cli(path)
    assert message == (
        "The cell at row 3, column B is longer than 32,767 characters (a spreadsheet cell "
        "holds at most 32,767)."
    )


def test_too_many_columns_are_refused(tmp_path, villages):
    path = tmp_path / "wide.csv"
    header = [*CHINESE_HEADERS, *(f"备注{n}" for n in range(300))]
    path.write_text(",".join(header) + "\n", encoding="utf-8")
    message = refused_by_cli(path)
    assert message == "Row 1 has 320 columns; an import takes at most 200."


def test_an_upload_larger_than_the_server_takes_gets_a_page_not_a_500(
    county_admin, client_for, settings
):
    settings.UPLOAD_MAX_BYTES = MIB
    client = client_for(county_admin)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
    body = b"code,name\n" + b"#" * (2 * MIB)
    response = client.post(
        "/regions/import/",
        {"file": SimpleUploadedFile("big.csv", body)},
    )
    assert response.status_code == 413
    assert "larger than 1 MiB" in response.content.decode()


def test_a_register_of_normal_shape_passes_the_check(tmp_path, villages):
    """What offices send is not refused: a csv and an xlsx of the template."""
    from liudong.people.tests.test_import_bad_files import numbered, write_xlsx

    rows = [numbered(n) for n in range(50)]
    for path in (
        Path(write_csv(tmp_path / "ok.csv", rows)),
        Path(write_xlsx(tmp_path / "ok.xlsx", rows)),
    ):
        summary = importing.import_persons(path, acting_user=OPERATOR)
        assert summary.rejected == [], summary.rejected
    assert Person.objects.count() == 50


# --- control characters ----------------------------------------------------------------------


def _rows_with_nul(count: int, bad: int) -> list[dict]:
    rows = []
    for n in range(count):
        row = person(
            id_number=make("411522", datetime.date(1990, 1, 1), 2 * n + 100, "2"),
            birth_date="",
            certificate_no="",
            certificate_issuer="",
            certificate_issued="",
        )
        if n == bad:
            row["residence_address"] = "北山路\x001号"
        rows.append(row)
    return rows


def _xlsx_of(path: Path, rows: list[dict]) -> Path:
    """As Excel writes a control character: _xHHHH_ (XML cannot hold it)."""
    table = [list(CHINESE_HEADERS)]
    for row in rows:
        table.append(
            [
                "".join(f"_x{ord(c):04X}_" if ord(c) < 32 else c for c in str(row.get(f) or ""))
                for f in FIELDS
            ]
        )
    return write_package(path, sheet=sheet_rows(table))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_nul_in_one_cell_is_that_rows_problem_and_every_other_row_imports(
    tmp_path, villages, suffix
):
    """The found case: a NUL on a row of a 12,000-row file stopped the import with a
    database error after 10,000 rows (PostgreSQL refuses NUL in text; SQLite keeps it).
    Batches of 50 here, so the bad row sits in a batch after others were written."""
    rows = _rows_with_nul(120, bad=100)
    path = (
        Path(write_csv(tmp_path / "nul.csv", rows))
        if suffix == ".csv"
        else _xlsx_of(tmp_path / "nul.xlsx", rows)
    )
    summary = importing.import_persons(path, acting_user=OPERATOR, batch_size=50)
    assert summary.rejected == [
        {
            "row": 102,
            "field": "residence_address",
            "message": "The cell holds a control character (U+0000) at character 4; remove "
            "it and import the row again.",
        }
    ]
    assert summary.imported == 119
    assert Person.objects.count() == 119
    again = importing.import_persons(
        path, acting_user=OPERATOR, batch_size=50
    )  # a re-run finishes, changes nothing
    assert (again.imported, again.unchanged, len(again.rejected)) == (0, 119, 1)


def test_a_tab_is_refused_in_a_name_but_kept_in_free_text(tmp_path, township_a):
    """Tab and line breaks only where a field is free text (a hazard's notes)."""
    from liudong.places.models import RentalHouse
    from liudong.places.spreadsheets import RENTAL_HOUSES, SAFETY_ISSUES

    RentalHouse.objects.create(region_id="330106002001", address="北山路1号")
    houses = tmp_path / "houses.csv"
    houses.write_text("地址,区划代码\n北山路\t2号,330106002001\n", encoding="utf-8")
    summary = RENTAL_HOUSES.run(RENTAL_HOUSES.read(houses), acting_user=township_a)
    assert [(p["row"], p["field"]) for p in summary.rejected] == [(2, "address")]
    assert "U+0009" in summary.rejected[0]["message"]
    issues = tmp_path / "issues.csv"
    issues.write_text(
        "区划代码,房屋地址,安全隐患,发现日期,整改期限,备注\n"
        '330106002001,北山路1号,"电线\n老化",2026-03-01,2026-04-01,"一\t二"\n',
        encoding="utf-8",
    )
    summary = SAFETY_ISSUES.run(SAFETY_ISSUES.read(issues), acting_user=township_a)
    assert summary.rejected == [] and summary.imported == 1


def test_a_nul_in_a_region_import_is_a_row_problem(tmp_path, county_admin):
    from liudong.regions.models import Region
    from liudong.regions.services import import_regions, read_region_file

    path = tmp_path / "regions.csv"
    path.write_text("code,name\n330106002003,新\x00村\n", encoding="utf-8")
    summary = import_regions(read_region_file(path), acting_user=county_admin)
    assert [(p["row"], p["field"]) for p in summary.rejected] == [(2, "name")]
    assert not Region.objects.filter(code="330106002003").exists()


# --- whatever the cells hold -----------------------------------------------------------------

ANY_CELL = st.text(max_size=40) | st.binary(max_size=40).map(lambda raw: raw.decode("latin-1"))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cells=st.lists(st.lists(ANY_CELL, min_size=1, max_size=4), min_size=1, max_size=5))
def test_random_cells_never_crash_the_reader(tmp_path, cells):
    """Only rows, row problems (a control character) or a named refusal of the file."""
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"random{suffix}"
        if suffix == ".csv":
            import csv

            with path.open("w", encoding="utf-8", newline="") as out:
                csv.writer(out).writerows([["a", "b", "c", "d"], *cells])
        else:
            table = [["a", "b", "c", "d"]] + [
                ["".join(f"_x{ord(c):04X}_" if ord(c) < 32 else c for c in cell) for cell in row]
                for row in cells
            ]
            write_package(path, sheet=sheet_rows(table))
        columns = {name: () for name in "abcd"}
        try:
            for row_number, values in read_table(path, columns):
                assert row_number >= 2
                for problem in tabular.row_problems(values):
                    assert problem["row"] == row_number and problem["field"] in columns
                    value = values[problem["field"]]
                    assert any(ord(c) < 32 for c in value)
                for value in values.values():
                    if value is not None and not tabular.row_problems(values):
                        assert not any(ord(c) < 32 for c in value)
        except FileRefused:
            pass
        except TableError as exc:  # a named refusal: the file as a whole
            assert str(exc)


def test_the_errors_file_keeps_a_row_refused_for_a_nul_and_reads_it_back(tmp_path, villages):
    """openpyxl cannot write a NUL: the errors file holds it as Excel would, _x0000_."""
    from openpyxl import load_workbook

    path = Path(write_csv(tmp_path / "nul.csv", _rows_with_nul(3, bad=1)))
    errors = tmp_path / "errors.xlsx"
    summary = importing.import_persons(path, acting_user=OPERATOR, errors_out=errors)
    assert [p["row"] for p in summary.rejected] == [3]
    sheet = load_workbook(errors).active
    written = [c.value for c in sheet[2]]
    assert written[0] == 3 and "北山路_x0000_1号" in written
    [(_row, values)] = [
        (number, values)
        for number, values in read_table(errors, {"address": ("现居住地址",)})
        if values["address"]
    ]
    assert values["address"] == "北山路\x001号"
    assert tabular.row_problems(values)[0]["field"] == "address"
