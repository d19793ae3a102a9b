"""Bad files for `liudong import persons`: what an office's spreadsheet can hold that the
template does not allow. Each is refused with a message naming the row, the field (or
column) and the rule, and nothing of a refused row is saved. (The rules of single cells
are in test_import.py: text in a number column there is 现有子女数 "两个".)"""

from __future__ import annotations

import csv
import datetime
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from liudong.actors import OPERATOR
from liudong.people import generate, importing
from liudong.people.idnumbers import make
from liudong.people.models import Person
from liudong.people.template import CHINESE_HEADERS, FIELDS
from liudong.people.tests.test_import import LI, WANG, person, run, write_csv
from liudong.tabular import read_table
from liudong.web import uploads

pytestmark = pytest.mark.django_db


def write_xlsx(path: Path, rows: list[dict], *, merges=(), extra=None, sheets=("数据",)) -> str:
    """The template as an office's xlsx: one sheet per name in ``sheets`` (rows on the
    last), cells merged as Excel merges them (the value stays in the top-left cell)."""
    workbook = Workbook()
    for index, title in enumerate(sheets):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = title
    sheet.append([*CHINESE_HEADERS, *([extra] if extra else [])])
    for row in rows:
        sheet.append([row.get(f) or None for f in FIELDS] + ([row.get(extra)] if extra else []))
    for ref in merges:
        sheet.merge_cells(ref)
    workbook.save(path)
    return str(path)


def numbered(n: int, **overrides) -> dict:
    """A good row for a woman with her own ID number (``n`` picks it)."""
    return person(
        id_number=make("411522", datetime.date(1990, 1, 1), 2 * n + 100, "2"),
        birth_date="",
        certificate_no="",
        certificate_issuer="",
        certificate_issued="",
        **overrides,
    )


def refused(path, *args) -> str:
    """The import of a file refused as a whole: its one message, in the CLI's error shape
    (--format json) and on stderr alike; nothing saved."""
    status, body, err = run(str(path), *args)
    assert status == 1, body
    [error] = body["errors"]
    assert error["code"] == "unreadable_file"
    assert error["message"] in err
    assert not Person.objects.exists()
    return error["message"]


# --- the file as a whole -------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n,,\r\n"])
def test_an_empty_csv_is_refused_saying_what_the_first_row_holds(tmp_path, villages, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert refused(path) == "the file is empty: the first row must hold the column headers"


def test_an_empty_xlsx_is_refused_saying_what_the_first_row_holds(tmp_path, villages):
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    assert refused(path) == "the file is empty: the first row must hold the column headers"


def test_a_sheet_that_is_not_there_is_refused_naming_the_sheets_there_are(tmp_path, villages):
    path = write_xlsx(tmp_path / "s.xlsx", [person()], sheets=("说明", "数据"))
    assert (
        refused(path, "--sheet", "名单") == "no sheet “名单” in this file; its sheets: 说明, 数据"
    )
    assert run(path, "--sheet", "数据")[1]["imported"] == 1


def test_unknown_headers_are_named_and_the_ignorable_ones_are_not(tmp_path, villages):
    path = tmp_path / "unknown.csv"
    path.write_text(",".join([*CHINESE_HEADERS, "身高", "备注", "体重"]) + "\n", "utf-8")
    assert refused(path) == "row 1: unknown column(s): 身高, 体重"  # not 备注


def test_a_header_given_twice_names_the_column_and_both_places(tmp_path, villages):
    """Chinese and English are the same column: 姓名 and name together are one twice."""
    path = tmp_path / "twice.csv"
    path.write_text(",".join([*CHINESE_HEADERS, "name"]) + "\n", "utf-8")
    message = refused(path)
    assert message == f"row 1: the column “name” appears twice (columns 1 and {len(FIELDS) + 1})"


# --- cells -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, formula",
    [("name", "=A3"), ("children", "=1+1"), ("arrival_date", "=TODAY()")],
)
def test_an_xlsx_formula_is_refused_naming_row_and_field(tmp_path, villages, field, formula):
    """A formula's cached value is what Excel showed when saved, maybe not what it shows
    now; the office pastes the value instead."""
    path = write_xlsx(
        tmp_path / "f.xlsx",
        [numbered(1), numbered(2, **{field: formula, "verified_on": ""})],
    )
    _status, summary, _err = run(path)
    assert summary["imported"] == 1
    assert [(p["row"], p["field"]) for p in summary["rejected"]] == [(3, field)]
    assert "Formulas are not accepted" in summary["rejected"][0]["message"]


def test_an_id_number_twice_keeps_the_first_row_and_names_it(tmp_path, villages):
    path = write_csv(
        tmp_path / "dup.csv",
        [
            person(phone="13800000001"),
            person(id_number=LI, sex="男", birth_date="", name="李强"),
            person(phone="13900000002"),
        ],
    )
    _status, summary, _err = run(path)
    assert summary["imported"] == 2
    assert [(p["row"], p["field"]) for p in summary["rejected"]] == [(4, "id_number")]
    message = summary["rejected"][0]["message"]
    assert WANG in message and "first on row 2" in message and "one row per person" in message
    assert Person.objects.get(id_number=WANG).phone == "13800000001"  # the first row's


def test_html_and_sql_in_a_name_are_kept_verbatim_and_shown_escaped(
    tmp_path, villages, township_a, client_for
):
    name = "<script>alert(1)</script>'; DROP TABLE people_person;--"[:50]
    _status, summary, _err = run(write_csv(tmp_path / "x.csv", [person(name=name)]))
    assert summary["imported"] == 1
    stored = Person.objects.get(id_number=WANG)
    assert stored.name == name
    html = client_for(township_a).get(f"/people/{stored.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    listing = client_for(township_a).get("/people/").content.decode()
    assert "&lt;script&gt;alert(1)" in listing and "<script>alert(1)" not in listing


# --- merged cells ------------------------------------------------------------------------


def test_rows_under_a_merged_cell_are_refused_naming_the_range(tmp_path, villages):
    """婚姻状况 (column F) merged over rows 2–5: Excel shows 初婚 on each row, the file holds
    it on row 2 only. "Required" on rows 3–5 would send the office looking for a blank
    cell they cannot see; the message names the merge instead."""
    rows = [numbered(n) for n in range(5)]
    path = write_xlsx(tmp_path / "merged.xlsx", rows, merges=["F2:F5", "A6:B6"])
    _status, summary, _err = run(path)
    problems = [(p["row"], p["field"]) for p in summary["rejected"]]
    assert problems == [(3, "marital_status"), (4, "marital_status"), (5, "marital_status"),
                        (6, "sex")]  # fmt: skip
    for problem in summary["rejected"][:3]:
        assert "merged cells F2:F5" in problem["message"] and "unmerge" in problem["message"]
        assert "required" not in problem["message"]
    assert "merged cells A6:B6" in summary["rejected"][3]["message"]
    assert summary["imported"] == 1  # row 2 holds the value Excel shows
    assert Person.objects.get().marital_status == "21"


def test_a_merged_cell_in_a_column_nobody_reads_refuses_nothing(tmp_path, villages):
    rows = [numbered(n, 备注="同一家") for n in range(4)]
    path = write_xlsx(tmp_path / "remarks.xlsx", rows, merges=["U2:U5"], extra="备注")
    _status, summary, _err = run(path)
    assert summary["rejected"] == [] and summary["imported"] == 4


def test_a_merged_header_refuses_the_file_naming_the_cells(tmp_path, villages):
    path = write_xlsx(tmp_path / "header.xlsx", [person()], merges=["F1:G1"])
    assert refused(path).startswith("row 1 of sheet “数据”: merged cells F1:G1;")


# --- size --------------------------------------------------------------------------------

ROWS_50MB = 5_000
REMARK_CHARACTERS = 3_500  # 10.5 kB a row in UTF-8: 5,000 rows make a file over 50 MiB


@pytest.fixture
def file_of_50mb(tmp_path, villages):
    """Generated people with a long 备注 column, as registers carry notes of visits."""
    plain = tmp_path / "plain.csv"
    generate.write_file(
        plain, generate.generate_rows(ROWS_50MB, seed=7, fault_share=0, today=datetime.date.today())
    )
    padded = tmp_path / "padded.csv"
    with (
        plain.open(encoding="utf-8-sig", newline="") as source,
        padded.open("w", encoding="utf-8-sig", newline="") as target,
    ):
        reader, writer = csv.reader(source), csv.writer(target)
        writer.writerow([*next(reader), "备注"])
        for number, row in enumerate(reader):
            note = f"第{number}次走访，" + "情况正常，" * (REMARK_CHARACTERS // 5)
            writer.writerow([*row, note[:REMARK_CHARACTERS]])
    plain.unlink()
    assert padded.stat().st_size > 50 * 1024 * 1024
    return padded


def test_a_50mb_file_imports_every_row_and_is_read_as_a_stream(file_of_50mb):
    tracemalloc.start()
    try:
        count = sum(
            1
            for _row in read_table(
                file_of_50mb,
                importing.PERSON_COLUMNS,
                strict=True,
                ignorable=importing.IGNORABLE,
                streamed=True,  # as import_persons reads it: a register, not a form
            )
        )
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == ROWS_50MB
    assert peak < 20 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB reading a 50 MB file"
    summary = importing.import_persons(file_of_50mb, acting_user=OPERATOR)
    assert (summary.imported, summary.rejected) == (ROWS_50MB, [])
    assert Person.objects.count() == ROWS_50MB


def test_a_cell_no_spreadsheet_makes_stops_the_import_naming_its_row(tmp_path, villages):
    """A double quote that never closes swallows the rows below into one cell until the
    csv module's limit: the office needs the row where it opened."""
    path = Path(write_csv(tmp_path / "quote.csv", [person()]))
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write('"李强,男\r\n')
        handle.writelines(f"行{n},{'某' * 60}\r\n" for n in range(3_000))
    message = refused(path)
    assert message.startswith("row 3: a cell holds more than 131,072 characters")
    assert "double quote" in message


def test_an_upload_over_the_limit_is_refused_and_kept_nowhere(county_admin, client_for, settings):
    settings.UPLOAD_MAX_BYTES = 64
    folder = uploads._folder()
    before = set(folder.iterdir())
    client = client_for(county_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
    body = "code,name\n330106002003,新村\n".encode()
    assert len(body) <= 64 < len(body + b"x" * 64)
    response = client.post(
        "/regions/import/",
        {"file": SimpleUploadedFile("big.csv", body + b"#" * 64)},
        follow=True,
    )
    page = response.content.decode()
    assert "The file is larger than 0.00 MiB." in page
    assert 'data-testid="import-confirm"' not in page
    assert set(folder.iterdir()) == before
    within = client.post("/regions/import/", {"file": SimpleUploadedFile("ok.csv", body)})
    assert 'data-testid="import-confirm"' in within.content.decode()  # at the limit: accepted
