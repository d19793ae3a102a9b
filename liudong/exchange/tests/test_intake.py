"""Department data intake: reading a list, reconciling it against the registry, deciding
each row. Township A (北山街道 330106002) takes in a police list; township B (西溪街道
330106004) is its neighbour; the county (330106) holds both.

She (周敏) is on file in 北山社区 (330106002001), registered in 拱墅区 (330105).
"""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.certificates.tests.conftest import make_person
from liudong.exchange.intake import reading
from liudong.exchange.intake import services as intake
from liudong.exchange.models import IntakeBatch, IntakeRow
from liudong.people import idnumbers
from liudong.people.models import Person, ResidenceEpisode
from liudong.tabular import TableError

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HEADER = ["姓名", "公民身份号码", "地址", "日期", "单位"]
VILLAGE_A = "330106002001"
NEWCOMER = idnumbers.make("510105", datetime.date(1995, 4, 2), 12, "2")  # a woman from 成都
NEWCOMER_2 = idnumbers.make("420102", datetime.date(1990, 8, 9), 33, "1")


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


def write_csv(folder, rows, header=HEADER, name="公安流入人员.csv", encoding="utf-8-sig"):
    path = folder / name
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def her(villages):
    return make_person(
        name="周敏", household="330105001001", residence=VILLAGE_A, arrived=days_ago(300)
    )


@pytest.fixture
def elsewhere(villages):
    """A file in county 330105 (拱墅区), outside township A and the county of 330106."""
    return make_person(
        name="李娜", household="330105001001", residence="330105001001", arrived=days_ago(100)
    )


def take_in(tmp_path, rows, user, **options):
    return reading.import_department(
        write_csv(tmp_path, rows),
        source=options.pop("source", "police"),
        acting_user=user,
        **options,
    )


def row_of(batch, number) -> IntakeRow:
    return batch.rows.get(row_number=number)


# --- reading the list -------------------------------------------------------------------------


def test_unknown_column_refuses_the_whole_list(tmp_path, township_a):
    path = write_csv(
        tmp_path, [["王芳", NEWCOMER, "", TODAY.isoformat(), "", "x"]], [*HEADER, "籍贯"]
    )
    with pytest.raises(TableError, match=r"unknown column.*籍贯"):
        reading.import_department(path, source="police", acting_user=township_a)
    assert not IntakeBatch.objects.exists() and not IntakeRow.objects.exists()


def test_missing_required_column_names_it_on_row_1(tmp_path, township_a):
    path = write_csv(tmp_path, [["王芳", "", TODAY.isoformat()]], ["姓名", "地址", "日期"])
    with pytest.raises(TableError, match=r"row 1.*公民身份号码"):
        reading.import_department(path, source="police", acting_user=township_a)
    assert not IntakeBatch.objects.exists()


def test_duplicate_id_numbers_refuse_the_list_naming_both_rows(tmp_path, township_a):
    legacy = NEWCOMER_2[:6] + NEWCOMER_2[8:17]  # the 15-digit form of the same number
    rows = [
        ["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""],
        ["张伟", NEWCOMER_2, "", days_ago(3).isoformat(), ""],
        ["王芳", NEWCOMER.lower(), "", days_ago(2).isoformat(), ""],
        ["张伟", legacy, "", days_ago(2).isoformat(), ""],
    ]
    with pytest.raises(TableError) as caught:
        take_in(tmp_path, rows, township_a)
    assert "rows 2 and 4" in str(caught.value) and "rows 3 and 5" in str(caught.value)
    assert idnumbers.mask(NEWCOMER) in str(caught.value) and NEWCOMER not in str(caught.value)
    assert not IntakeBatch.objects.exists() and not IntakeRow.objects.exists()


def test_bad_rows_are_listed_and_the_others_reconciled(tmp_path, township_a):
    rows = [
        ["王芳", NEWCOMER, "北山路1号", days_ago(3).isoformat(), ""],
        ["坏号码", "51010519950402001", "", days_ago(3).isoformat(), ""],
        ["未来", NEWCOMER_2, "", (TODAY + datetime.timedelta(days=2)).isoformat(), ""],
        ["", idnumbers.make("510105", datetime.date(1980, 1, 1), 2, "2"), "", "2025-13-40", ""],
        [
            "早于出生",
            idnumbers.make("510105", datetime.date(2000, 1, 1), 4, "2"),
            "",
            "1999-01-01",
            "",
        ],
    ]
    batch = take_in(tmp_path, rows, township_a)
    rejected = {(p["row"], p["field"]) for p in batch.rejected}
    assert rejected == {(3, "id_number"), (4, "date"), (5, "name"), (5, "date"), (6, "date")}
    assert all(p["message"] for p in batch.rejected)
    assert batch.new_count == 1 and batch.rows.count() == 1


def test_id_numbers_are_normalised(tmp_path, township_a):
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in NEWCOMER)
    legacy = NEWCOMER_2[:6] + NEWCOMER_2[8:17]
    batch = take_in(
        tmp_path,
        [
            ["王芳", full_width, "", days_ago(1).isoformat(), ""],
            ["张伟", legacy, "", "2025/3/5", ""],
        ],
        township_a,
    )
    assert set(batch.rows.values_list("id_number", flat=True)) == {NEWCOMER, NEWCOMER_2}


def test_gb18030_csv_and_english_headers_and_xlsx(tmp_path, township_a):
    path = write_csv(
        tmp_path,
        [["王芳", NEWCOMER, "北山路1号", days_ago(2).isoformat(), "北山小吃店"]],
        ["name", "id_number", "address", "date", "employer"],
        encoding="gb18030",
    )
    batch = reading.import_department(path, source="labour", acting_user=township_a)
    assert row_of(batch, 2).address == "北山路1号"
    book = Workbook()
    book.active.append(HEADER)
    book.active.append(["张伟", NEWCOMER_2, "", days_ago(5), ""])  # an Excel date cell
    book.save(tmp_path / "list.xlsx")
    batch = reading.import_department(
        tmp_path / "list.xlsx", source="housing", acting_user=township_a
    )
    assert row_of(batch, 2).date == days_ago(5)


# --- the categories -----------------------------------------------------------------------------


def test_each_category(tmp_path, township_a, her, elsewhere):
    rows = [
        ["王芳", NEWCOMER, "北山路1号", days_ago(3).isoformat(), "北山小吃店"],  # new
        ["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), "曙光电子厂"],  # changed
        ["李娜", elsewhere.id_number, "", days_ago(3).isoformat(), ""],  # on file elsewhere
    ]
    batch = take_in(tmp_path, rows, township_a)
    new, changed, unmatched = row_of(batch, 2), row_of(batch, 3), row_of(batch, 4)
    assert new.category == "new" and new.status == "pending" and new.region == "330106002"
    assert changed.category == "changed" and changed.person == her
    assert changed.differences == {
        "address": {"file": "", "list": "曙光路9号"},
        "employer": {"file": "", "list": "曙光电子厂"},
    }
    assert unmatched.category == "unmatched" and unmatched.reason == "elsewhere"
    assert unmatched.person is None and "330105" not in unmatched.message
    assert (batch.new_count, batch.changed_count, batch.unmatched_count) == (1, 1, 1)


def test_unchanged_when_the_list_says_what_the_file_says(tmp_path, township_a, her):
    batch = take_in(
        tmp_path, [["周敏", her.id_number, "", days_ago(3).isoformat(), ""]], township_a
    )
    row = row_of(batch, 2)
    assert row.category == "unchanged" and row.status == "settled" and batch.unchanged_count == 1


def test_a_name_that_sounds_the_same_is_a_change_another_name_is_unmatched(
    tmp_path, township_a, her
):
    batch = take_in(
        tmp_path, [["周闽", her.id_number, "", days_ago(3).isoformat(), ""]], township_a
    )
    assert row_of(batch, 2).category == "changed"
    assert row_of(batch, 2).differences == {"name": {"file": "周敏", "list": "周闽"}}
    IntakeRow.objects.filter(batch=batch).update(status="dismissed")
    batch = take_in(
        tmp_path, [["陈静", her.id_number, "", days_ago(3).isoformat(), ""]], township_a
    )
    row = row_of(batch, 2)
    assert row.category == "unmatched" and row.reason == "name_differs" and "陈静" in row.message


def test_another_residence_region_is_a_change(tmp_path, township_a, her):
    rows = [["周敏", her.id_number, "曙光路2号", days_ago(3).isoformat(), "", "330106002002"]]
    path = write_csv(tmp_path, rows, [*HEADER, "现居住地区划代码"])
    batch = reading.import_department(path, source="police", acting_user=township_a)
    row = row_of(batch, 2)
    assert row.category == "changed"
    assert row.differences["residence_region"] == {"file": VILLAGE_A, "list": "330106002002"}


def test_a_region_that_holds_her_residence_is_no_difference(tmp_path, township_a, her):
    batch = take_in(
        tmp_path, [["周敏", her.id_number, "", days_ago(3).isoformat(), ""]], township_a
    )
    assert row_of(batch, 2).category == "unchanged"  # the list says 330106002, she lives below


def test_a_row_outside_the_users_region_is_unmatched(tmp_path, township_a):
    path = write_csv(
        tmp_path,
        [["王芳", NEWCOMER, "", days_ago(3).isoformat(), "", "330106004001"]],
        [*HEADER, "现居住地区划代码"],
    )
    batch = reading.import_department(path, source="police", acting_user=township_a)
    row = row_of(batch, 2)
    assert row.category == "unmatched" and row.reason == "outside_region"


def test_the_operator_sees_every_file(tmp_path, elsewhere, villages):
    batch = take_in(
        tmp_path,
        [["李娜", elsewhere.id_number, "", days_ago(3).isoformat(), ""]],
        OPERATOR,
        region="330105001001",
    )
    assert row_of(batch, 2).category == "unchanged"


def test_nothing_in_the_registry_changes_at_import(tmp_path, township_a, her):
    before = (Person.objects.count(), ResidenceEpisode.objects.count(), her.version)
    rows = [
        ["王芳", NEWCOMER, "北山路1号", days_ago(3).isoformat(), ""],
        ["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), "曙光电子厂"],
    ]
    take_in(tmp_path, rows, township_a)
    her.refresh_from_db()
    assert (Person.objects.count(), ResidenceEpisode.objects.count(), her.version) == before
    assert her.residence_address == ""


def test_the_import_is_audited(tmp_path, township_a):
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], township_a)
    entry = AuditEntry.objects.get(action="import", object_type="exchange.intakebatch")
    assert entry.object_id == str(batch.pk) and entry.actor == township_a
    assert entry.detail["new"] == 1 and NEWCOMER not in json.dumps(entry.detail)


def test_the_same_list_twice_adds_no_work(tmp_path, township_a, her):
    rows = [
        ["王芳", NEWCOMER, "北山路1号", days_ago(3).isoformat(), ""],
        ["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), ""],
    ]
    first = take_in(tmp_path, rows, township_a)
    second = take_in(tmp_path, rows, township_a)
    assert IntakeRow.objects.filter(status="pending").count() == 2
    assert second.repeated_count == 2 and second.new_count == 0
    assert row_of(second, 2).repeat_of == row_of(first, 2)
    report = intake.report(second, acting_user=township_a)
    assert [e["pending_in"] for e in report["already_pending"]] == [
        {"batch": first.pk, "row": 2},
        {"batch": first.pk, "row": 3},
    ]


def test_a_later_list_with_other_details_supersedes_the_pending_row(tmp_path, township_a):
    first = take_in(
        tmp_path, [["王芳", NEWCOMER, "北山路1号", days_ago(9).isoformat(), ""]], township_a
    )
    second = take_in(
        tmp_path, [["王芳", NEWCOMER, "北山路7号", days_ago(2).isoformat(), ""]], township_a
    )
    assert row_of(first, 2).status == "superseded"
    assert row_of(second, 2).status == "pending" and second.new_count == 1


def test_pending_in_another_office_is_said_without_saying_where(tmp_path, township_a, township_b):
    take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(9).isoformat(), ""]], township_b)
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(2).isoformat(), ""]], township_a)
    row = row_of(batch, 2)
    assert row.category == "unmatched" and row.reason == "pending_elsewhere"
    assert "330106004" not in row.message
    assert batch.unmatched_count == 1 and batch.repeated_count == 0
    assert [e["reason"] for e in intake.report(batch, acting_user=township_a)["unmatched"]] == [
        "pending_elsewhere"
    ]


# --- confirming and dismissing -------------------------------------------------------------------


def test_confirming_a_new_row_registers_her_arrival(tmp_path, township_a):
    batch = take_in(
        tmp_path,
        [["王芳", NEWCOMER, "北山路1号", days_ago(3).isoformat(), "北山小吃店"]],
        township_a,
    )
    row = intake.confirm_row(row_of(batch, 2), acting_user=township_a, marital_status="90")
    person = Person.objects.get(id_number=NEWCOMER)
    assert (person.name, person.sex, person.birth_date) == ("王芳", "2", datetime.date(1995, 4, 2))
    assert person.household_region_id == "510105" and person.marital_status == "90"
    assert person.residence_region_id == "330106002" and person.residence_address == "北山路1号"
    stay = person.episodes.get()
    assert stay.arrival_date == days_ago(3) and stay.employer == "北山小吃店"
    assert row.status == "confirmed" and row.person == person and row.decided_by == township_a
    decision = AuditEntry.objects.get(object_type="exchange.intakerow", object_id=str(row.pk))
    assert decision.detail["decision"] == "confirm"
    assert AuditEntry.objects.filter(object_type="people.person", object_id=str(person.pk)).exists()


def test_a_new_row_needs_her_marital_status(tmp_path, township_a):
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], township_a)
    with pytest.raises(ValidationError) as caught:
        intake.confirm_row(row_of(batch, 2), acting_user=township_a)
    assert "marital_status" in caught.value.message_dict
    assert not Person.objects.filter(id_number=NEWCOMER).exists()
    assert row_of(batch, 2).status == "pending"


def test_double_confirmation_is_refused(tmp_path, township_a):
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], township_a)
    row = row_of(batch, 2)
    intake.confirm_row(row, acting_user=township_a, marital_status="10")
    with pytest.raises(ValidationError, match="already decided"):
        intake.confirm_row(row, acting_user=township_a, marital_status="10")
    assert Person.objects.filter(id_number=NEWCOMER).count() == 1
    assert ResidenceEpisode.objects.filter(person__id_number=NEWCOMER).count() == 1


def test_confirming_a_changed_row_corrects_her_stay(tmp_path, township_a, her):
    batch = take_in(
        tmp_path,
        [["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), "曙光电子厂"]],
        township_a,
    )
    intake.confirm_row(row_of(batch, 2), acting_user=township_a)
    her.refresh_from_db()
    stay = her.episodes.get(departure_date__isnull=True)
    assert her.residence_address == "曙光路9号" and stay.address == "曙光路9号"
    assert stay.employer == "曙光电子厂" and her.episodes.count() == 1
    assert stay.arrival_date == days_ago(300)  # a correction, not a move
    entry = AuditEntry.objects.filter(object_type="people.person", object_id=str(her.pk)).first()
    assert entry.detail["intake_row"] == row_of(batch, 2).pk


def test_confirming_another_region_registers_a_move(tmp_path, township_a, her):
    path = write_csv(
        tmp_path,
        [["周闽", her.id_number, "曙光路2号", days_ago(3).isoformat(), "", "330106002002"]],
        [*HEADER, "现居住地区划代码"],
    )
    batch = reading.import_department(path, source="housing", acting_user=township_a)
    intake.confirm_row(row_of(batch, 2), acting_user=township_a)
    her.refresh_from_db()
    assert her.name == "周闽" and her.residence_region_id == "330106002002"
    assert her.episodes.count() == 2
    assert her.episodes.get(departure_date__isnull=True).arrival_date == days_ago(3)


def test_a_file_changed_since_the_import_is_not_overwritten(tmp_path, township_a, her):
    from liudong.people.services import update_person

    batch = take_in(
        tmp_path, [["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), ""]], township_a
    )
    update_person(acting_user=township_a, person=her, phone="13800000001")
    with pytest.raises(ValidationError, match="changed after the list was imported"):
        intake.confirm_row(row_of(batch, 2), acting_user=township_a)
    her.refresh_from_db()
    assert her.residence_address == ""


def test_only_new_and_changed_rows_are_confirmed(tmp_path, township_a, elsewhere):
    batch = take_in(
        tmp_path, [["李娜", elsewhere.id_number, "", days_ago(3).isoformat(), ""]], township_a
    )
    with pytest.raises(ValidationError, match="dismiss"):
        intake.confirm_row(row_of(batch, 2), acting_user=township_a)


def test_a_row_is_decided_only_inside_its_region(tmp_path, township_a, township_b, county_admin):
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], township_a)
    with pytest.raises(PermissionDenied):
        intake.confirm_row(row_of(batch, 2), acting_user=township_b, marital_status="10")
    with pytest.raises(PermissionDenied):
        intake.dismiss_row(row_of(batch, 2), acting_user=township_b, reason="不在本辖区")
    assert not intake.scoped_rows(township_b).exists()
    assert not intake.scoped_batches(township_b).exists()
    intake.confirm_row(row_of(batch, 2), acting_user=county_admin, marital_status="10")
    assert Person.objects.filter(id_number=NEWCOMER).exists()


def test_an_inspector_may_not_decide(tmp_path, township_a, inspector):
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], township_a)
    with pytest.raises(PermissionDenied):
        intake.confirm_row(row_of(batch, 2), acting_user=inspector, marital_status="10")
    with pytest.raises(PermissionDenied):
        take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], inspector)


def test_dismissing_needs_a_reason(tmp_path, township_a):
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], township_a)
    with pytest.raises(ValidationError) as caught:
        intake.dismiss_row(row_of(batch, 2), acting_user=township_a, reason="  ")
    assert "reason" in caught.value.message_dict
    row = intake.dismiss_row(row_of(batch, 2), acting_user=township_a, reason="已离开本地")
    assert row.status == "dismissed" and row.note == "已离开本地"
    assert not Person.objects.filter(id_number=NEWCOMER).exists()
    entry = AuditEntry.objects.get(object_type="exchange.intakerow", object_id=str(row.pk))
    assert entry.detail["decision"] == "dismiss" and entry.after["note"] == "已离开本地"
    with pytest.raises(ValidationError, match="already decided"):
        intake.confirm_row(row, acting_user=township_a, marital_status="10")


def test_bulk_confirm_of_changed_rows(tmp_path, township_a, her, villages):
    other = make_person(name="钱红", household="330105001001", residence="330106002002")
    batch = take_in(
        tmp_path,
        [
            ["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), ""],
            ["钱红", other.id_number, "", days_ago(3).isoformat(), "北山小吃店"],
            ["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""],
        ],
        township_a,
    )
    confirmed, refused = intake.confirm_changed_rows(batch, acting_user=township_a)
    assert (confirmed, refused) == (2, [])
    assert row_of(batch, 4).status == "pending"  # the new row waits for its own decision
    other.refresh_from_db()
    assert other.episodes.get(departure_date__isnull=True).employer == "北山小吃店"


# --- report, export, command line -------------------------------------------------------------


def test_report_and_xlsx_mask_id_numbers_and_the_export_is_logged(tmp_path, township_a, her):
    batch = take_in(
        tmp_path,
        [
            ["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""],
            ["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), ""],
            ["坏", "123", "", days_ago(3).isoformat(), ""],
        ],
        township_a,
    )
    report = intake.report(batch, acting_user=township_a)
    assert report["new"][0]["id_number"] == idnumbers.mask(NEWCOMER)
    assert report["changed"][0]["differences"]["address"]["list"] == "曙光路9号"
    assert report["rejected"] == [
        {"row": 4, "field": "id_number", "message": report["rejected"][0]["message"]}
    ]
    assert NEWCOMER not in json.dumps(report) and her.id_number not in json.dumps(report)
    data = intake.export_xlsx(batch, acting_user=township_a)
    book = load_workbook(io.BytesIO(data))
    cells = [c for row in book["核对结果"].iter_rows(values_only=True) for c in row]
    assert idnumbers.mask(NEWCOMER) in cells and NEWCOMER not in cells
    # Printable and filterable (issue 16 item 5); the date is a date cell, the ID text.
    sheet = book["核对结果"]
    assert sheet.freeze_panes == "A2" and sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape" and sheet.auto_filter.ref
    assert sheet["G2"].is_date and sheet["E2"].number_format == "@"
    assert AuditEntry.objects.filter(action="export", object_id=str(batch.pk)).exists()


def test_command_prints_the_json_report(tmp_path, township_a, her):
    path = write_csv(
        tmp_path,
        [
            ["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""],
            ["周敏", her.id_number, "", days_ago(3).isoformat(), ""],
        ],
    )
    out = io.StringIO()
    call_command(
        "import_department",
        str(path),
        "--source",
        "labour",
        "--user",
        "township_a",
        "--format",
        "json",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    assert report["source"] == "labour" and report["unchanged"] == 1
    assert [e["row"] for e in report["new"]] == [2] and report["unmatched"] == []


def test_command_refuses_a_bad_list_in_the_one_error_shape(tmp_path, township_a):
    path = write_csv(tmp_path, [["王芳", NEWCOMER, "", "", "", "?"]], [*HEADER, "籍贯"])
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as caught:
        call_command(
            "import_department",
            str(path),
            "--source",
            "police",
            "--user",
            "township_a",
            "--format",
            "json",
            stdout=out,
            stderr=err,
        )
    assert caught.value.code == 1
    assert json.loads(out.getvalue())["errors"][0]["code"] == "unreadable_file"
    assert err.getvalue().startswith("liudong: error: row 1: unknown column")


# --- no cell content crashes the reader or the reconciler ---------------------------------------

cells = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from([NEWCOMER, NEWCOMER.lower(), "=A1", "2025-02-30", "20250305", "３３０１０６"]),
)


@given(st.lists(st.lists(cells, min_size=6, max_size=6), min_size=1, max_size=5))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_no_cell_content_crashes_the_reader(tmp_path_factory, rows):
    """Pure reading (no database): every row is kept or rejected with a named field, or the
    whole list is refused as a TableError."""
    folder = tmp_path_factory.mktemp("cells")
    clean_rows = [["" if c is None else c.replace("\x00", "") for c in row] for row in rows]
    path = write_csv(folder, clean_rows, [*HEADER, "现居住地区划代码"])
    try:
        read = reading.read_department_file(
            path, default_region="330106002", known_region=lambda code: code.startswith("3301")
        )
    except TableError:
        return
    for problem in read.rejected:
        assert problem["field"] in reading.COLUMNS and problem["message"]
    assert len({r.id_number for r in read.rows}) == len(read.rows)


@given(st.lists(st.lists(cells, min_size=5, max_size=5), min_size=1, max_size=4))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_no_cell_content_crashes_the_reconciler(tmp_path_factory, township_a, her, rows):
    folder = tmp_path_factory.mktemp("reconcile")
    clean_rows = [["" if c is None else c.replace("\x00", "") for c in row] for row in rows]
    clean_rows.append(["周敏", her.id_number, "", days_ago(1).isoformat(), ""])
    path = write_csv(folder, clean_rows)
    try:
        batch = reading.import_department(path, source="commerce", acting_user=township_a)
    except TableError:
        return
    assert batch.rows.count() + len({p["row"] for p in batch.rejected}) <= len(clean_rows)
    intake.report(batch, acting_user=township_a)


# --- web pages ----------------------------------------------------------------------------------


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def upload(client, path, source="police", region=""):
    with path.open("rb") as handle:
        return client.post(
            "/exchange/intake/", {"source": source, "region": region, "file": handle}
        )


def test_upload_page_takes_in_a_list_and_shows_its_sections(
    tmp_path, var_dir, client_for, township_a, her
):
    client = client_for(township_a)
    assert client.get("/exchange/intake/").status_code == 200
    path = write_csv(
        tmp_path,
        [
            ["王芳", NEWCOMER, "北山路1号", days_ago(3).isoformat(), ""],
            ["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), ""],
            ["坏", "123", "", days_ago(3).isoformat(), ""],
        ],
    )
    response = upload(client, path)
    batch = IntakeBatch.objects.get()
    assert response.status_code == 302 and response.url == f"/exchange/intake/{batch.pk}/"
    page = client.get(response.url).content.decode()
    for section in ("section-new", "section-changed", "section-rejected"):
        assert section in page
    assert idnumbers.mask(NEWCOMER) in page and NEWCOMER not in page
    assert her.id_number not in page and "曙光路9号" in page
    assert "/exchange/intake/" in client.get("/").content.decode()  # linked from home


def test_upload_page_refuses_a_bad_list_and_saves_nothing(
    tmp_path, var_dir, client_for, township_a
):
    path = write_csv(tmp_path, [["王芳", NEWCOMER, "", "", "", "?"]], [*HEADER, "籍贯"])
    response = upload(client_for(township_a), path)
    assert response.status_code == 200
    assert (
        "籍贯" in response.content.decode()
        and 'data-testid="intake-error"' in response.content.decode()
    )
    assert not IntakeBatch.objects.exists()


def test_confirm_and_dismiss_on_the_page(tmp_path, var_dir, client_for, township_a):
    batch = take_in(
        tmp_path,
        [
            ["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""],
            ["张伟", NEWCOMER_2, "", days_ago(3).isoformat(), ""],
        ],
        township_a,
    )
    client = client_for(township_a)
    first, second = row_of(batch, 2), row_of(batch, 3)
    response = client.post(
        f"/exchange/intake/rows/{first.pk}/confirm/",
        {f"r{first.pk}-marital_status": "90", f"r{first.pk}-household_region": "510105"},
    )
    assert response.status_code == 302
    assert Person.objects.get(id_number=NEWCOMER).marital_status == "90"
    client.post(f"/exchange/intake/rows/{second.pk}/dismiss/", {"reason": ""})
    assert row_of(batch, 3).status == "pending"  # no reason, no dismissal
    client.post(f"/exchange/intake/rows/{second.pk}/dismiss/", {"reason": "重复登记"})
    assert row_of(batch, 3).status == "dismissed"


def test_pages_are_scoped(tmp_path, var_dir, client_for, township_a, township_b):
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], township_a)
    client = client_for(township_b)
    assert client.get(f"/exchange/intake/{batch.pk}/").status_code == 404
    assert client.get(f"/exchange/intake/{batch.pk}/report.xlsx").status_code == 404
    row = row_of(batch, 2)
    assert (
        client.post(f"/exchange/intake/rows/{row.pk}/dismiss/", {"reason": "x"}).status_code == 404
    )
    assert row_of(batch, 2).status == "pending"


def test_bulk_confirm_and_export_on_the_page(tmp_path, var_dir, client_for, township_a, her):
    batch = take_in(
        tmp_path, [["周敏", her.id_number, "曙光路9号", days_ago(3).isoformat(), ""]], township_a
    )
    client = client_for(township_a)
    client.post(f"/exchange/intake/{batch.pk}/confirm-changed/")
    her.refresh_from_db()
    assert her.residence_address == "曙光路9号"
    response = client.get(f"/exchange/intake/{batch.pk}/report.xlsx")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert AuditEntry.objects.filter(action="export", object_id=str(batch.pk)).exists()


# --- API ------------------------------------------------------------------------------------------


def test_api_lists_batches_and_rows_masked_and_scoped(tmp_path, api_for, township_a, township_b):
    batch = take_in(tmp_path, [["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""]], township_a)
    api = api_for(township_a)
    listed = api.get("/api/intake-batches/").json()
    assert [b["id"] for b in listed["results"]] == [batch.pk]
    rows = api.get(f"/api/intake-batches/{batch.pk}/rows/").json()["results"]
    assert rows[0]["id_number"] == idnumbers.mask(NEWCOMER)
    assert rows[0]["values"]["id_number"] == idnumbers.mask(NEWCOMER)
    assert NEWCOMER not in json.dumps(rows)
    assert api.get("/api/intake-rows/?category=new").json()["count"] == 1
    other = api_for(township_b)
    assert other.get("/api/intake-batches/").json()["count"] == 0
    assert other.get(f"/api/intake-batches/{batch.pk}/").status_code == 404
    refused = other.post(f"/api/intake-rows/{rows[0]['id']}/confirm/", {"marital_status": "10"})
    assert refused.status_code == 404 and refused.json()["errors"][0]["code"] == "not_found"


def test_api_confirm_dismiss_and_refusals_in_the_one_shape(
    tmp_path, api_for, township_a, inspector
):
    batch = take_in(
        tmp_path,
        [
            ["王芳", NEWCOMER, "", days_ago(3).isoformat(), ""],
            ["张伟", NEWCOMER_2, "", days_ago(3).isoformat(), ""],
        ],
        township_a,
    )
    api = api_for(township_a)
    api.credentials(HTTP_ACCEPT_LANGUAGE="en")  # the messages asserted below, in English
    first, second = row_of(batch, 2), row_of(batch, 3)
    missing = api.post(f"/api/intake-rows/{first.pk}/confirm/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "marital_status"
    done = api.post(
        f"/api/intake-rows/{first.pk}/confirm/", {"marital_status": "未说明"}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    again = api.post(
        f"/api/intake-rows/{first.pk}/confirm/", {"marital_status": "10"}, format="json"
    )
    assert again.status_code == 400 and "already decided" in again.json()["errors"][0]["message"]
    no_reason = api.post(f"/api/intake-rows/{second.pk}/dismiss/", {}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["errors"][0]["field"] == "reason"
    dismissed = api.post(
        f"/api/intake-rows/{second.pk}/dismiss/", {"reason": "已离开"}, format="json"
    )
    assert dismissed.json()["status"] == "dismissed"
    assert api_for(inspector).get("/api/intake-batches/").status_code == 403
    assert api_for(None).get("/api/intake-rows/").status_code in (401, 403)


def test_an_employers_credit_code_is_normalised_a_name_kept():
    from liudong.places import creditcode

    body = "MA27XY1B"
    first17 = "91330106" + body + creditcode.organisation_check(body)
    code = first17 + creditcode.check_character(first17)
    values = {"name": "王芳", "id_number": NEWCOMER, "date": days_ago(1), "employer": code.lower()}
    row, problems, _warnings = reading.check_row(
        2, values, default_region="330106002", known_region=lambda c: True, today=TODAY
    )
    assert not problems and row.employer == code
    row, _problems, _warnings = reading.check_row(
        2,
        {**values, "employer": "北山小吃店"},
        default_region="330106002",
        known_region=lambda c: True,
        today=TODAY,
    )
    assert row.employer == "北山小吃店"


def test_a_long_list_is_shown_a_page_of_each_section_at_a_time(
    tmp_path, var_dir, client_for, township_a
):
    rows = [
        [
            "新人",
            idnumbers.make("510105", datetime.date(1990, 1, 1), 2 * n, "2"),
            "",
            days_ago(1).isoformat(),
            "",
        ]
        for n in range(105)
    ]
    batch = take_in(tmp_path, rows, township_a)
    client = client_for(township_a)
    first = client.get(f"/exchange/intake/{batch.pk}/").content.decode()
    assert first.count('data-testid="intake-row-') == 100 and "new_page=2" in first
    second = client.get(f"/exchange/intake/{batch.pk}/?new_page=2").content.decode()
    assert second.count('data-testid="intake-row-') == 5
