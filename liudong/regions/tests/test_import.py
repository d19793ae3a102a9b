"""`liudong import regions FILE`: villages and groups from csv/xlsx, all or nothing."""

import io
import json

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook

from liudong.audit.models import AuditEntry
from liudong.regions.models import Region

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_regions", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, out.getvalue(), err.getvalue()


def write_csv(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


GOOD = "区划代码,名称\n330106002001,北山社区\n330106002001001,第一村民小组\n330106002002,曙光社区\n"


def test_a_good_file_is_imported_and_importing_it_again_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "v.csv", GOOD)
    status, out, _ = run(path, "--format", "json")
    assert status == 0
    assert json.loads(out) == {
        "imported": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": [],
        "warnings": [],
    }
    assert Region.objects.get(code="330106002001001").parent_id == "330106002001"
    entries = AuditEntry.objects.count()
    status, out, _ = run(path, "--format", "json")
    assert json.loads(out)["unchanged"] == 3 and json.loads(out)["imported"] == 0
    assert AuditEntry.objects.count() == entries  # nothing changed, nothing logged


def test_a_renamed_village_is_updated(tmp_path):
    run(write_csv(tmp_path / "a.csv", GOOD))
    _status, out, _ = run(
        write_csv(tmp_path / "b.csv", "code,name\n330106002001,北山新社区\n"), "--format", "json"
    )
    assert json.loads(out)["updated"] == 1
    region = Region.objects.get(code="330106002001")
    assert region.name == "北山新社区" and region.version == 2


@pytest.mark.parametrize(
    "line, field, fragment",
    [
        ("330106002x01,坏代码", "code", "digits only"),
        ("3301060020011,长度", "code", "has 13"),
        ("330106999001,无上级", "code", "parent region 330106999"),
        ("330106003,乡镇", "code", "Only villages"),
        ("330106002003,", "name", "name is required"),
        ("330106002003," + "长" * 101, "name", "at most 100"),
    ],
)
def test_bad_rows_are_refused_naming_row_field_and_rule_and_nothing_is_saved(
    tmp_path, line, field, fragment
):
    text = GOOD + line + "\n"
    status, out, err = run(write_csv(tmp_path / "bad.csv", text), "--format", "json")
    assert status == 1
    summary = json.loads(out)
    assert len(summary["rejected"]) == 1
    problem = summary["rejected"][0]
    assert problem["row"] == 5 and problem["field"] == field
    assert fragment in problem["message"]
    assert "row 5" in err
    assert not Region.objects.filter(code__startswith="330106002", level__gte=5).exists()


def test_a_code_twice_in_one_file_is_refused_with_both_rows(tmp_path):
    text = GOOD + "330106002001,北山社区重复\n"
    status, out, _ = run(write_csv(tmp_path / "dup.csv", text), "--format", "json")
    problem = json.loads(out)["rejected"][0]
    assert status == 1 and problem["row"] == 5 and "first on row 2" in problem["message"]


def test_missing_column_and_unknown_file_type_fail_as_a_whole(tmp_path):
    status, out, err = run(
        write_csv(tmp_path / "x.csv", "代码\n330106002001\n"), "--format", "json"
    )
    assert status == 1 and "missing required column" in err
    assert json.loads(out)["errors"][0]["message"].startswith("row 1")
    status, _, err = run(write_csv(tmp_path / "x.pdf", "x"))
    assert status == 1 and "unsupported file type" in err


def test_xlsx_with_english_headers_and_numeric_code_cells(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "code"])
    sheet.append(["西溪社区", 330106004001])  # Excel keeps long codes as numbers
    sheet.append([None, None])  # blank rows are skipped
    sheet.append(["  桃源社区 ", "３３０１０６００４００２"])
    path = tmp_path / "v.xlsx"
    workbook.save(path)
    status, out, _ = run(str(path), "--format", "json")
    assert status == 0 and json.loads(out)["imported"] == 2
    assert Region.objects.get(code="330106004002").name == "桃源社区"


def test_gb18030_csv_as_chinese_excel_saves_it(tmp_path):
    status, _, _ = run(write_csv(tmp_path / "gbk.csv", GOOD, encoding="gb18030"))
    assert status == 0
    assert Region.objects.get(code="330106002002").name == "曙光社区"


def test_dry_run_counts_and_saves_nothing(tmp_path):
    status, out, _ = run(write_csv(tmp_path / "v.csv", GOOD), "--dry-run", "--format", "json")
    assert status == 0 and json.loads(out)["imported"] == 3
    assert not Region.objects.filter(code="330106002001").exists()


def test_a_scoped_user_cannot_import_outside_their_county(tmp_path, county_b_admin):
    status, out, _ = run(
        write_csv(tmp_path / "v.csv", "code,name\n330106002009,外县的村\n"),
        "--user",
        "county_b_admin",
        "--format",
        "json",
    )
    assert status == 1
    assert "outside your region 330105" in json.loads(out)["rejected"][0]["message"]
    assert not Region.objects.filter(code="330106002009").exists()


def test_a_township_account_may_not_import_regions(tmp_path, township_a):
    status, out, _ = run(
        write_csv(tmp_path / "v.csv", "code,name\n330106002009,村\n"),
        "--user",
        "township_a",
        "--format",
        "json",
    )
    assert status == 1
    assert "county administrator" in json.loads(out)["rejected"][0]["message"]


def test_export_imports_back_unchanged(tmp_path, villages):
    out_file = tmp_path / "export.xlsx"
    call_command("export_regions", "--region", "330106", "--format", "xlsx", "--out", str(out_file))
    status, out, _ = run(str(out_file), "--format", "json")
    summary = json.loads(out)
    assert status == 0
    assert summary["imported"] == summary["updated"] == 0 and summary["unchanged"] == 5


def test_the_text_output_ends_with_the_counts(tmp_path):
    path = write_csv(tmp_path / "v.csv", GOOD)
    with translation.override("en"):
        status, out, _ = run(path, "--dry-run")
        assert status == 0
        assert out.strip() == (
            "imported 3, updated 0, unchanged 0, rejected 0 (dry run: nothing saved)"
        )
        run(path)
        status, out, _ = run(path)
    assert out.strip() == "imported 0, updated 0, unchanged 3, rejected 0"
