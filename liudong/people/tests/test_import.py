"""`liudong import persons` / `export persons` (DESIGN.md §5): every template rule, the
flags, idempotence, atomicity, crash safety and the round trip."""

import csv
import datetime
import io
import json

import pytest
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.people import importing
from liudong.people.idnumbers import make
from liudong.people.models import HeldCertificate, Person, ResidenceEpisode
from liudong.people.template import CHINESE_HEADERS, FIELDS

pytestmark = pytest.mark.django_db

# A woman registered in 河南 (411522 光山县), living in 西湖区's 北山社区.
WANG = make("411522", datetime.date(1995, 6, 1), 12, "2")
LI = make("330106", datetime.date(1990, 1, 2), 31, "1")


def person(**overrides):
    row = {
        "name": "王芳",
        "sex": "女",
        "id_number": WANG,
        "birth_date": "1995-06-01",
        "ethnicity": "汉族",
        "marital_status": "初婚",
        "household_region": "411522101",
        "household_address": "光山县某村",
        "residence_region": "330106002001",
        "residence_address": "北山路1号",
        "arrival_date": "2026-03-05",
        "reason": "务工经商",
        "phone": "13800138000",
        "employer": "杭州某公司",
        "spouse_id_number": "",
        "children": "1",
        "certificate_no": "411522101-2025-00017",
        "certificate_issuer": "411522101",
        "certificate_issued": "2025-12-01",
        "verified_on": "2026-03-20",
    }
    row.update(overrides)
    return row


def write_csv(path, rows, headers=CHINESE_HEADERS, encoding="utf-8-sig"):
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(f, "") for f in FIELDS])
    return str(path)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_persons", *args, "--format", "json", stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    text = out.getvalue()
    return status, (json.loads(text) if text.strip() else None), err.getvalue()


@pytest.fixture
def two(tmp_path, villages):
    return write_csv(
        tmp_path / "two.csv",
        [
            person(),
            person(
                name="李强",
                sex="男",
                id_number=LI,
                birth_date="",
                marital_status="未婚",
                household_region="330102",
                residence_region="330106002",
                certificate_no="",
                certificate_issuer="",
                certificate_issued="",
                verified_on="",
                children="0",
            ),
        ],
    )


def test_a_good_file_is_imported(two):
    status, summary, _ = run(two)
    assert status == 0
    assert summary == {"imported": 2, "updated": 0, "unchanged": 0, "rejected": [], "warnings": []}
    wang = Person.objects.get(id_number=WANG)
    assert (wang.sex, wang.marital_status, wang.ethnicity) == ("2", "21", "01")
    assert wang.is_floating and wang.residence_region_id == "330106002001"
    assert wang.name_initials == "wf"
    episode = ResidenceEpisode.objects.get(person=wang)
    assert episode.arrival_date == datetime.date(2026, 3, 5) and episode.reason == "work"
    assert episode.verified_on == datetime.date(2026, 3, 20) and episode.departure_date is None
    assert HeldCertificate.objects.get(person=wang).number == "411522101-2025-00017"
    # 李强: 上城区 -> 西湖区 are two districts of Hangzhou: not floating.
    assert not Person.objects.get(id_number=LI).is_floating
    entry = AuditEntry.objects.get(action="import", object_type="people.person")
    assert [row for row, _pk in entry.detail["created"]] == [2, 3]


def test_importing_the_same_file_again_changes_nothing(two):
    run(two)
    entries = AuditEntry.objects.count()
    _status, summary, _ = run(two)
    assert (summary["imported"], summary["updated"], summary["unchanged"]) == (0, 0, 2)
    assert AuditEntry.objects.count() == entries
    assert Person.objects.count() == 2 and ResidenceEpisode.objects.count() == 2


def test_a_changed_row_updates_and_is_audited_with_before_and_after(tmp_path, two):
    run(two)
    changed = write_csv(tmp_path / "c.csv", [person(phone="13900139000", marital_status="已婚")])
    _status, summary, _ = run(changed)
    assert summary["updated"] == 1
    wang = Person.objects.get(id_number=WANG)
    assert wang.phone == "13900139000" and wang.version == 2
    entry = AuditEntry.objects.filter(object_type="people.person").order_by("-seq").first()
    change = entry.detail["updated"][str(wang.pk)]
    assert change["before"]["phone"] == "13800138000" and change["after"]["phone"] == "13900139000"


def test_a_later_arrival_closes_the_stay_and_opens_a_new_one(tmp_path, two):
    run(two)
    moved = write_csv(
        tmp_path / "m.csv",
        [person(residence_region="330106004001", arrival_date="2026-06-01", verified_on="")],
    )
    _status, summary, _ = run(moved)
    assert summary["updated"] == 1
    stays = list(ResidenceEpisode.objects.filter(person__id_number=WANG).order_by("arrival_date"))
    assert stays[0].departure_date == datetime.date(2026, 6, 1)
    assert stays[1].region_id == "330106004001" and stays[1].departure_date is None
    older = write_csv(tmp_path / "o.csv", [person(arrival_date="2026-01-01", verified_on="")])
    _status, summary, _ = run(older)
    assert summary["rejected"][0]["field"] == "arrival_date"
    assert ResidenceEpisode.objects.filter(person__id_number=WANG).count() == 2


TODAY = datetime.date.today()
TOMORROW = (TODAY + datetime.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    "overrides, field, fragment",
    [
        ({"name": ""}, "name", "name is required"),
        ({"name": "长" * 51}, "name", "at most 50"),
        ({"sex": ""}, "sex", "required"),
        ({"sex": "X"}, "sex", "not a sex"),
        ({"sex": "男"}, "sex", "does not agree"),
        ({"id_number": ""}, "id_number", ""),
        ({"id_number": "4115221995"}, "id_number", ""),
        ({"id_number": "41152219951301001X"}, "id_number", ""),
        ({"birth_date": "1995-06-02"}, "birth_date", "does not agree"),
        ({"birth_date": "1995-13-01"}, "birth_date", "not a date"),
        ({"ethnicity": "火星族"}, "ethnicity", "not one of"),
        ({"marital_status": ""}, "marital_status", "required"),
        ({"marital_status": "单身"}, "marital_status", "not one of"),
        ({"household_region": ""}, "household_region", "required"),
        ({"household_region": "999999"}, "household_region", "Unknown region code"),
        ({"household_region": "41x522"}, "household_region", "digits only"),
        ({"residence_region": "990106999001"}, "residence_region", "Unknown region code"),
        ({"household_address": "路" * 201}, "household_address", "At most 200"),
        ({"arrival_date": ""}, "arrival_date", "required"),
        ({"arrival_date": TOMORROW, "verified_on": ""}, "arrival_date", "in the future"),
        ({"arrival_date": "1990-01-01", "verified_on": ""}, "arrival_date", "before the birth"),
        ({"reason": "旅游"}, "reason", "not one of"),
        ({"phone": "12345"}, "phone", "mobile"),
        ({"spouse_id_number": "123"}, "spouse_id_number", ""),
        ({"spouse_id_number": WANG}, "spouse_id_number", "own"),
        ({"children": "两个"}, "children", "whole number"),
        ({"children": "16"}, "children", "At most 15"),
        ({"certificate_no": "", "certificate_issuer": "411522101"}, "certificate_no", "needs"),
        ({"certificate_issuer": "41152"}, "certificate_issuer", ""),
        ({"certificate_issued": "2025-02-30"}, "certificate_issued", "not a date"),
        ({"verified_on": "2026-03-01"}, "verified_on", "before the arrival"),
        ({"name": '=HYPERLINK("x")'}, "name", "Formulas"),
    ],
)
def test_each_template_rule_refuses_the_row_naming_row_field_and_rule(
    tmp_path, villages, overrides, field, fragment
):
    path = write_csv(
        tmp_path / "bad.csv",
        [person(id_number=LI, sex="男", birth_date="", name="李强"), person(**overrides)],
    )
    status, summary, _ = run(path)
    assert status == 0
    problems = [p for p in summary["rejected"] if p["row"] == 3]
    assert problems, summary
    assert field in [p["field"] for p in problems], problems
    assert any(fragment in p["message"] for p in problems if p["field"] == field), problems
    assert summary["imported"] == 1  # the good row is saved, the bad one nowhere
    assert not Person.objects.filter(id_number=WANG).exists()


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("2026-03-05", datetime.date(2026, 3, 5)),
        ("2026/3/5", datetime.date(2026, 3, 5)),
        ("2026.03.05", datetime.date(2026, 3, 5)),
        ("20260305", datetime.date(2026, 3, 5)),
        ("2026年3月5日", datetime.date(2026, 3, 5)),
    ],
)
def test_the_date_forms_listed_in_the_template(tmp_path, villages, cell, expected):
    path = write_csv(tmp_path / "d.csv", [person(arrival_date=cell, verified_on="")])
    assert run(path)[1]["imported"] == 1
    assert ResidenceEpisode.objects.get().arrival_date == expected


def test_messy_id_numbers_are_normalised_and_a_bad_check_digit_is_a_warning(tmp_path, villages):
    lower = make("411522", datetime.date(1980, 1, 1), 99, "2")
    while not lower.endswith("X"):  # find one whose check character is X
        lower = make("411522", datetime.date(1980, 1, 1), int(lower[14:17]) + 2, "2")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in LI)
    wrong_check = WANG[:17] + ("0" if WANG[17] != "0" else "1")
    path = write_csv(
        tmp_path / "ids.csv",
        [
            person(
                id_number=lower.lower(),
                birth_date="",
                certificate_no="",
                certificate_issuer="",
                certificate_issued="",
                name="赵敏",
            ),
            person(
                id_number=full_width,
                sex="男",
                birth_date="",
                name="李强",
                certificate_no="",
                certificate_issuer="",
                certificate_issued="",
            ),
            person(id_number=wrong_check),
        ],
    )
    _status, summary, _ = run(path)
    assert summary["imported"] == 3
    assert Person.objects.filter(id_number__in=[lower, LI]).count() == 2
    flagged = Person.objects.get(id_number=wrong_check)
    assert flagged.id_check_failed
    assert [w["row"] for w in summary["warnings"]] == [4]


def test_an_id_number_twice_in_a_file(tmp_path, villages):
    path = write_csv(tmp_path / "dup.csv", [person(), person(phone="13900000000")])
    _status, summary, _ = run(path)
    assert summary["imported"] == 1
    assert "first on row 2" in summary["rejected"][0]["message"]


def test_html_and_sql_in_a_name_are_stored_verbatim(tmp_path, villages):
    name = "<b>王</b>'; DROP TABLE people_person;--"[:50]
    run(write_csv(tmp_path / "x.csv", [person(name=name)]))
    assert Person.objects.get(id_number=WANG).name == name


def test_atomic_saves_nothing_when_any_row_is_invalid(tmp_path, villages):
    path = write_csv(tmp_path / "a.csv", [person(), person(id_number=LI, sex="女")])
    _status, summary, _ = run(path, "--atomic")
    assert summary["rejected"] and summary["imported"] == 0
    assert not Person.objects.exists()
    assert not AuditEntry.objects.filter(object_type="people.person").exists()


def test_dry_run_counts_and_saves_nothing(two):
    _status, summary, _ = run(two, "--dry-run")
    assert summary["imported"] == 2 and not Person.objects.exists()


def test_errors_file_returns_the_rejected_rows_with_their_problems(tmp_path, villages):
    path = write_csv(tmp_path / "e.csv", [person(), person(id_number=LI, sex="女", name="李强")])
    errors = tmp_path / "errors.xlsx"
    run(path, "--errors", str(errors))
    workbook = load_workbook(errors)
    assert workbook.sheetnames == ["未导入行"]  # a tab an office reads, not `rejected`
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][-1] == importing.ERRORS_COLUMN and rows[0][1:-1] == CHINESE_HEADERS
    assert len(rows) == 2 and rows[1][0] == 3 and "sex" in rows[1][-1]


def test_whole_file_problems(tmp_path, villages):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert run(str(empty))[0] == 1
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(",".join([*CHINESE_HEADERS, "身高"]) + "\n")
    status, _body, err = run(str(unknown))
    assert status == 1 and "unknown column(s): 身高" in err
    twice = tmp_path / "twice.csv"
    twice.write_text(",".join([*CHINESE_HEADERS, "姓名"]) + "\n")
    assert "appears twice" in run(str(twice))[2]
    missing = tmp_path / "missing.csv"
    missing.write_text("姓名,性别\n")
    assert "missing required column" in run(str(missing))[2]


def test_xlsx_with_english_headers_excel_dates_numbers_and_another_sheet(tmp_path, villages):
    workbook = Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["这一页是填表说明"])
    sheet = workbook.create_sheet("数据")
    sheet.append(list(FIELDS))
    row = person(arrival_date=datetime.datetime(2026, 3, 5), children=2, verified_on=None)
    sheet.append([row[f] for f in FIELDS])
    path = tmp_path / "p.xlsx"
    workbook.save(path)
    status, _, err = run(str(path))
    assert status == 1 and "sheets: 说明, 数据" in err  # the first sheet is not the register
    _status, summary, _ = run(str(path), "--sheet", "数据")
    assert summary["imported"] == 1
    assert Person.objects.get().children_count == 2


def test_a_crash_mid_import_keeps_whole_batches_and_a_rerun_finishes(
    tmp_path, villages, monkeypatch
):
    rows = [
        person(
            id_number=make("411522", datetime.date(1990, 1, 1), 2 * n, "2"),
            certificate_no="",
            certificate_issuer="",
            certificate_issued="",
            birth_date="",
        )
        for n in range(7)
    ]
    path = write_csv(tmp_path / "big.csv", rows)
    original = importing.BatchWriter.write
    calls = {"n": 0}

    def crash_on_third_batch(self, batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return original(self, batch)

    monkeypatch.setattr(importing.BatchWriter, "write", crash_on_third_batch)
    with pytest.raises(RuntimeError):
        importing.import_persons(path, acting_user=OPERATOR, batch_size=2)
    assert Person.objects.count() == 4  # two whole batches, nothing of the third
    monkeypatch.setattr(importing.BatchWriter, "write", original)
    summary = importing.import_persons(path, acting_user=OPERATOR, batch_size=2)
    assert (summary.imported, summary.unchanged) == (3, 4)
    assert Person.objects.count() == 7 and ResidenceEpisode.objects.count() == 7


def test_export_imports_back_unchanged(tmp_path, two):
    run(two)
    for file_format in ("csv", "xlsx"):
        out = tmp_path / f"export.{file_format}"
        call_command(
            "export_persons", "--region", "330106", "--format", file_format, "--out", str(out)
        )
        _status, summary, _ = run(str(out))
        assert summary == {
            "imported": 0,
            "updated": 0,
            "unchanged": 2,
            "rejected": [],
            "warnings": [],
        }


def test_a_scoped_user_imports_and_exports_within_scope(tmp_path, two, township_b):
    status, _summary, _ = run(two, "--user", "township_b")
    assert status == 0
    out = tmp_path / "b.csv"
    call_command(
        "export_persons", "--region", "330106004", "--out", str(out), "--user", "township_b"
    )
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 1  # header only


def test_seen_numbers_remember_the_first_row_across_chunks(monkeypatch):
    monkeypatch.setattr(importing.SeenNumbers, "CHUNK", 3)
    seen = importing.SeenNumbers()
    numbers = [make("411522", datetime.date(1990, 1, 1), 2 * n, "2") for n in range(10)]
    numbers.append(make("11010519491231002X"[:6], datetime.date(1949, 12, 31), 2, "2"))
    for row, number in enumerate(numbers, start=2):
        assert seen.first_row(number, row) == row
    for row, number in enumerate(numbers, start=2):  # now in sorted chunks or the dict
        assert seen.first_row(number, 100 + row) == row
    assert len(seen.chunks) >= 3


def test_the_importers_columns_cover_the_models():
    """A column added to a model must be given a value by the importer's row tuples."""
    from liudong.people import importing
    from liudong.people.models import HeldCertificate, Person, ResidenceEpisode

    def columns(model):
        return {f.attname for f in model._meta.concrete_fields} - {"id"}

    assert set(importing.PERSON_COLUMNS_DB) - {"id"} == columns(Person)
    assert set(importing.EPISODE_COLUMNS_DB) == columns(ResidenceEpisode)
    assert set(importing.CERTIFICATE_COLUMNS_DB) == columns(HeldCertificate)


@pytest.mark.parametrize("field", ["id_number", "spouse_id_number"])
def test_an_id_number_a_spreadsheet_made_a_float_is_refused_alike(tmp_path, villages, field):
    """421125198207066532 typed into Excel becomes 4.21125198207066E+17, read back as
    421125198207067008: its digits are lost, for her own number and her spouse's alike."""
    spouse = make("421125", datetime.date(1982, 7, 6), 653, "1")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(CHINESE_HEADERS))
    row = person(spouse_id_number=spouse)
    row[field] = float(row[field])
    sheet.append([row[f] for f in FIELDS])
    path = tmp_path / "float.xlsx"
    workbook.save(path)

    _status, summary, _ = run(str(path))

    assert summary["imported"] == 0 and not Person.objects.exists()
    assert [(p["row"], p["field"]) for p in summary["rejected"]] == [(2, field)]
    assert "lost its last digits" in summary["rejected"][0]["message"]


def test_the_text_summary_is_chinese_and_the_json_keeps_its_keys(two):
    """The CLI speaks the site's language (LANGUAGE_CODE) like the pages; --format json is
    for programs and keeps its English keys."""
    from django.utils import translation

    translation.deactivate()  # as in a fresh `liudong` process: nothing activated
    out = io.StringIO()
    call_command("import_persons", two, "--dry-run", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == (
        "新增 2，更新 0，无变化 0，拒收 0，警告 0（试运行：未保存任何数据）"
    )
    _status, summary, _err = run(two, "--dry-run")
    assert {"imported", "updated", "unchanged", "rejected", "warnings"} <= set(summary)


def test_a_refused_row_names_its_column_as_the_header_does(tmp_path, villages):
    from django.utils import translation

    path = write_csv(tmp_path / "e.csv", [person(), person(id_number=LI, sex="女", name="李强")])
    translation.deactivate()  # a fresh `liudong` process
    err = io.StringIO()
    call_command("import_persons", path, "--dry-run", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert any(line.startswith("第 3 行，性别：") for line in lines), lines  # not `row 3, sex:`


def test_the_persons_summary_line_counts_warnings_and_says_when_nothing_was_saved():
    from django.utils import translation

    from liudong.commands import import_summary_line
    from liudong.people.importing import ImportSummary

    summary = ImportSummary(imported=2, rejected=[{}], warnings=[{}, {}], saved=False)
    with translation.override("en"):
        atomic = import_summary_line(summary, note=" (--atomic: nothing saved)", warnings=True)
        dry = import_summary_line(summary, dry_run=True, note="ignored", warnings=True)
    assert atomic == (
        "imported 2, updated 0, unchanged 0, rejected 1, warnings 2 (--atomic: nothing saved)"
    )
    assert dry.endswith("warnings 2 (dry run: nothing saved)")
