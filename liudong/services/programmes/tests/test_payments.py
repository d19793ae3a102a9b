"""Payment lists (issue 17, item 4): who is on the year's list and for how much, the
finance bureau's file (frozen once exported), the bank's return file and the failures."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook, load_workbook

from liudong.audit.models import AuditEntry
from liudong.regions.models import Region
from liudong.safesheet import TEXT_FORMAT
from liudong.services.programmes import payments
from liudong.services.programmes.models import Benefit, PaymentLine, PaymentList

from .payment_fixtures import VILLAGE_A, VILLAGE_B, YEAR, benefit, card, national_amounts

pytestmark = pytest.mark.django_db

ON = datetime.date(2026, 3, 1)


@pytest.fixture
def county(villages):
    return Region.objects.get(code="330106")


@pytest.fixture
def amounts(villages):
    national_amounts()


def make(user, county, year=YEAR):
    return payments.make_list(acting_user=user, county=county, year=year, on=ON)


def lines_of(payment_list):
    return {line.benefit_id: line for line in payment_list.lines.all()}


# --- who is paid what ------------------------------------------------------------------------


def test_a_list_pays_each_active_benefit_with_the_year_amount_and_copies_the_person(
    county, county_admin, amounts
):
    her = benefit(name="王秀英")
    made = make(county_admin, county)
    [line] = made.lines.all()
    assert line.benefit == her
    assert (line.name, line.id_number, line.bank_card) == ("王秀英", her.id_number, her.bank_card)
    assert line.programme.code == "reward"
    assert line.township_id == "330106002"  # her household village's township
    assert line.amount == Decimal("960.00")
    assert (made.region_id, made.year, made.made_on, made.made_by) == (
        "330106",
        YEAR,
        ON,
        county_admin,
    )


def test_totals_per_township_and_programme(county, county_admin, amounts):
    benefit(village=VILLAGE_A)
    benefit(village=VILLAGE_A)
    benefit(village=VILLAGE_A, programme="special_death")
    benefit(village=VILLAGE_B)
    summed = payments.totals(make(county_admin, county).lines.all())
    by_township = {row.code: (row.count, row.amount) for row in summed.by_township}
    assert by_township == {
        "330106002": (3, Decimal("960") * 2 + Decimal("7200")),
        "330106004": (1, Decimal("960")),
    }
    by_programme = {row.code: (row.count, row.amount) for row in summed.by_programme}
    assert by_programme == {"reward": (3, Decimal("2880")), "special_death": (1, Decimal("7200"))}
    assert (summed.count, summed.amount) == (4, Decimal("10080"))


def test_a_suspended_benefit_is_left_out_with_its_reason(county, county_admin, amounts):
    paid = benefit()
    waiting = benefit(status="suspended", status_reason="年审未在期限前确认")
    made = make(county_admin, county)
    assert set(lines_of(made)) == {paid.pk}
    [left] = payments.left_out(county_admin, made)
    assert left.benefit == waiting and "年审未在期限前确认" in left.reason


def test_a_benefit_without_a_card_is_left_out_not_paid_to_nobody(county, county_admin, amounts):
    no_card = benefit(bank_card="")
    made = make(county_admin, county)
    assert not made.lines.exists()
    assert [left.benefit for left in payments.left_out(county_admin, made)] == [no_card]


@pytest.mark.parametrize(
    ("programme", "starts_on", "ends_on", "expected"),
    [
        # monthly (special assistance, 7200 a year = 600 a month): months of the year in
        # which the benefit is payable on some day, both ends counted in full
        ("special_death", datetime.date(2020, 5, 1), None, "7200.00"),
        ("special_death", datetime.date(2026, 4, 15), None, "5400.00"),  # April-December
        ("special_death", datetime.date(2020, 5, 1), datetime.date(2026, 6, 10), "3600.00"),
        ("special_death", datetime.date(2026, 4, 1), datetime.date(2026, 9, 30), "3600.00"),
        ("special_death", datetime.date(2026, 12, 31), None, "600.00"),
        ("special_disability", datetime.date(2026, 7, 1), None, "2880.00"),  # 5760 / 2
        # yearly (reward): the whole year's amount whenever it is payable in the year
        ("reward", datetime.date(2026, 12, 1), None, "960.00"),
        ("reward", datetime.date(2020, 5, 1), datetime.date(2026, 2, 28), "960.00"),
    ],
)
def test_a_benefit_ending_or_starting_in_the_year_is_prorated_only_when_monthly(
    county, county_admin, amounts, programme, starts_on, ends_on, expected
):
    status = "ended" if ends_on else "active"
    one = benefit(programme=programme, starts_on=starts_on, ends_on=ends_on, status=status)
    [line] = make(county_admin, county).lines.all()
    assert line.benefit == one and line.amount == Decimal(expected)


def test_a_benefit_outside_the_year_is_neither_paid_nor_left_out(county, county_admin, amounts):
    benefit(status="ended", ends_on=datetime.date(2025, 12, 31))
    benefit(starts_on=datetime.date(2027, 1, 1))
    made = make(county_admin, county)
    assert not made.lines.exists() and payments.left_out(county_admin, made) == []


def test_no_amount_for_the_year_refuses_the_list_naming_programme_year_and_province(
    county, county_admin, villages
):
    benefit()  # reward: no amount entered for 2026 in province 33
    with pytest.raises(ValidationError) as refused:
        make(county_admin, county)
    message = " ".join(refused.value.messages)
    assert "reward" in message and "2026" in message and "province 33" in message
    assert not PaymentList.objects.exists()


def test_an_amount_of_another_province_or_year_does_not_count(county, county_admin, villages):
    from .payment_fixtures import amount

    amount("reward", "960", "yearly", province="41")
    amount("reward", "960", "yearly", year=YEAR - 1)
    benefit()
    with pytest.raises(ValidationError):
        make(county_admin, county)


def test_making_again_replaces_the_lines_of_a_list_not_exported(county, county_admin, amounts):
    first = benefit()
    made = make(county_admin, county)
    second = benefit()
    first.status, first.status_reason = "suspended", "未确认"
    first.save()
    again = make(county_admin, county)
    assert again.pk == made.pk and again.version == made.version + 1
    assert set(lines_of(again)) == {second.pk}
    assert AuditEntry.objects.filter(
        object_type="programmes.paymentlist", object_id=str(made.pk), action="update"
    ).exists()


def test_a_frozen_list_is_never_made_again(county, county_admin, amounts):
    benefit()
    made = make(county_admin, county)
    payments.export_list(acting_user=county_admin, payment_list=made, file_format="xlsx")
    before = list(made.lines.values_list("pk", "amount"))
    benefit()
    with pytest.raises(ValidationError, match="frozen"):
        make(county_admin, county)
    assert list(made.lines.values_list("pk", "amount")) == before


def test_only_the_county_makes_its_list(county, township_a, county_b_admin, county_admin, amounts):
    benefit()
    with pytest.raises(PermissionDenied):
        make(township_a, county)
    with pytest.raises(PermissionDenied):
        make(county_b_admin, county)
    with pytest.raises(ValidationError):  # a township is no county
        payments.make_list(
            acting_user=county_admin, county=Region.objects.get(code="330106002"), year=YEAR
        )
    assert not PaymentList.objects.exists()


# --- the finance bureau's file ---------------------------------------------------------------


@pytest.fixture
def made(county, county_admin, amounts):
    benefit(village=VILLAGE_A, name="王秀英")
    benefit(village=VILLAGE_A, programme="special_death", starts_on=datetime.date(2026, 4, 15))
    benefit(village=VILLAGE_B, name="李桂兰")
    return make(county_admin, county)


def _xlsx_rows(content):
    sheet = load_workbook(io.BytesIO(content))["发放名单"]
    return sheet, [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_xlsx_and_csv_files_read_back_give_the_same_lines(made, county_admin):
    xlsx = payments.export_list(acting_user=county_admin, payment_list=made, file_format="xlsx")
    made.exported_at = None  # a second list of the same lines, to compare the csv with
    PaymentList.objects.filter(pk=made.pk).update(exported_at=None)
    as_csv = payments.export_list(acting_user=county_admin, payment_list=made, file_format="csv")
    _sheet, from_xlsx = _xlsx_rows(xlsx.content)
    from_csv = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert (
        from_xlsx[0]
        == from_csv[0]
        == [
            "序号",
            "乡镇",
            "姓名",
            "公民身份号码",
            "一卡通账号",
            "项目",
            "金额(元)",
        ]
    )

    def normal(row):
        return [str(row[0]), *map(str, row[1:6]), f"{Decimal(str(row[6])):.2f}"]

    assert [normal(r) for r in from_xlsx[1:]] == [normal(r) for r in from_csv[1:]]
    expected = {(line.id_number, line.bank_card, f"{line.amount:.2f}") for line in made.lines.all()}
    assert {(r[3], r[4], r[6]) for r in map(normal, from_csv[1:])} == expected
    assert len(from_csv) == 1 + 3  # the csv holds the lines only: no totals row to pay


def test_id_numbers_and_cards_are_text_and_amounts_numbers_in_the_xlsx(made, county_admin):
    xlsx = payments.export_list(acting_user=county_admin, payment_list=made, file_format="xlsx")
    sheet, _rows = _xlsx_rows(xlsx.content)
    for row in sheet.iter_rows(min_row=2):
        id_cell, card_cell, amount_cell = row[3], row[4], row[6]
        assert id_cell.data_type == "s" and id_cell.number_format == TEXT_FORMAT
        assert len(id_cell.value) == 18
        assert card_cell.data_type == "s" and card_cell.number_format == TEXT_FORMAT
        assert len(card_cell.value) == 19
        assert amount_cell.data_type == "n" and amount_cell.number_format == "0.00"
        assert isinstance(amount_cell.value, int | float)


def test_the_xlsx_totals_sheet_sums_per_township(made, county_admin):
    xlsx = payments.export_list(acting_user=county_admin, payment_list=made, file_format="xlsx")
    summary = load_workbook(io.BytesIO(xlsx.content))["汇总"]
    rows = [list(row) for row in summary.iter_rows(values_only=True)]
    assert rows[0] == ["区划代码", "乡镇", "笔数", "金额(元)"]
    assert rows[1][0] == "330106002" and rows[1][2:] == [2, 960 + 5400]
    assert rows[2][0] == "330106004" and rows[2][2:] == [1, 960]
    assert rows[3][1:] == ["合计", 3, 960 + 5400 + 960]


def test_a_list_exported_twice_is_refused(made, county_admin):
    payments.export_list(acting_user=county_admin, payment_list=made, file_format="xlsx")
    with pytest.raises(ValidationError, match="frozen"):
        payments.export_list(acting_user=county_admin, payment_list=made, file_format="csv")
    assert AuditEntry.objects.filter(action="export", object_id=str(made.pk)).count() == 1


def test_the_export_freezes_the_list_and_is_in_the_audit_log(made, county_admin):
    payments.export_list(acting_user=county_admin, payment_list=made, file_format="csv")
    made.refresh_from_db()
    assert made.frozen and made.exported_by == county_admin
    entry = AuditEntry.objects.get(action="export", object_type="programmes.paymentlist")
    assert entry.object_id == str(made.pk) and entry.region == "330106"
    assert entry.detail["lines"] == 3 and entry.detail["format"] == "csv"
    assert entry.detail["columns"] == list(payments.paymentsheet.HEADER)
    # Nothing in the log holds a full card or ID number.
    for line in made.lines.all():
        assert line.bank_card not in str(entry.detail) and line.id_number not in str(entry.detail)


def test_a_township_may_not_export(made, township_a):
    with pytest.raises(PermissionDenied):
        payments.export_list(acting_user=township_a, payment_list=made, file_format="xlsx")
    made.refresh_from_db()
    assert not made.frozen


# --- the bank's return -----------------------------------------------------------------------


@pytest.fixture
def exported(made, county_admin):
    payments.export_list(acting_user=county_admin, payment_list=made, file_format="xlsx")
    made.refresh_from_db()
    return made


def return_file(
    tmp_path, rows, suffix="csv", header=("公民身份号码", "一卡通账号", "结果", "失败原因")
):
    path = tmp_path / f"return.{suffix}"
    if suffix == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    else:
        book = Workbook()
        sheet = book.active
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                cell.number_format = "@"
        book.save(path)
    return path


def _line(payment_list, name=None, programme="reward"):
    lines = payment_list.lines.filter(programme__code=programme)
    return lines.get(name=name) if name else lines.first()


def import_return(user, payment_list, path, **kwargs):
    return payments.import_return(acting_user=user, payment_list=payment_list, path=path, **kwargs)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_return_marks_lines_paid_and_failed_with_the_reason(
    exported, county_admin, tmp_path, suffix
):
    paid, failed = _line(exported, "王秀英"), _line(exported, "李桂兰")
    path = return_file(
        tmp_path,
        [
            (paid.id_number, paid.bank_card, "成功", ""),
            (failed.id_number, failed.bank_card, "失败", "账户已销户"),
        ],
        suffix,
    )
    day = datetime.date.today()
    summary = import_return(county_admin, exported, path, returned_on=day)
    assert summary.rejected == [] and summary.updated == 2
    paid.refresh_from_db()
    failed.refresh_from_db()
    assert (paid.result, paid.returned_on) == ("paid", day)
    assert (failed.result, failed.failure_reason) == ("failed", "账户已销户")
    assert AuditEntry.objects.filter(action="import", object_id=str(exported.pk)).count() == 1


def test_a_return_naming_a_person_not_on_the_list_is_rejected_and_changes_nothing(
    exported, county_admin, tmp_path
):
    from .payment_fixtures import id_number

    paid = _line(exported, "王秀英")
    stranger = id_number()
    path = return_file(
        tmp_path,
        [(paid.id_number, paid.bank_card, "成功", ""), (stranger, card(), "成功", "")],
    )
    summary = import_return(county_admin, exported, path)
    assert [(p["row"], p["field"]) for p in summary.rejected] == [(3, "id_number")]
    assert stranger not in summary.rejected[0]["message"]  # masked
    assert summary.updated == 0
    assert set(exported.lines.values_list("result", flat=True)) == {"pending"}


def test_a_return_whose_card_is_not_the_lines_is_rejected(exported, county_admin, tmp_path):
    line = _line(exported, "王秀英")
    path = return_file(tmp_path, [(line.id_number, card(99), "成功", "")])
    summary = import_return(county_admin, exported, path)
    assert [(p["row"], p["field"]) for p in summary.rejected] == [(2, "bank_card")]
    line.refresh_from_db()
    assert line.result == "pending"


def test_the_same_return_twice_changes_nothing_the_second_time(exported, county_admin, tmp_path):
    line = _line(exported, "李桂兰")
    path = return_file(tmp_path, [(line.id_number, line.bank_card, "failed", "户名不符")])
    first = import_return(county_admin, exported, path, returned_on=datetime.date(2026, 1, 5))
    second = import_return(county_admin, exported, path, returned_on=datetime.date(2026, 1, 9))
    assert (first.updated, first.unchanged) == (1, 0)
    assert (second.updated, second.unchanged, second.rejected) == (0, 1, [])
    line.refresh_from_db()
    assert line.returned_on == datetime.date(2026, 1, 5)
    assert AuditEntry.objects.filter(action="import", object_id=str(exported.pk)).count() == 1


def test_a_return_does_not_turn_a_returned_line_around(exported, county_admin, tmp_path):
    line = _line(exported, "李桂兰")
    import_return(
        county_admin,
        exported,
        return_file(tmp_path, [(line.id_number, line.bank_card, "失败", "x")]),
    )
    summary = import_return(
        county_admin,
        exported,
        return_file(tmp_path, [(line.id_number, line.bank_card, "成功", "")]),
    )
    assert [p["field"] for p in summary.rejected] == ["result"]
    line.refresh_from_db()
    assert line.result == "failed"


def test_a_failure_needs_its_reason_and_a_result_must_be_one(exported, county_admin, tmp_path):
    one, other = _line(exported, "王秀英"), _line(exported, "李桂兰")
    path = return_file(
        tmp_path,
        [
            (one.id_number, one.bank_card, "失败", ""),
            (other.id_number, other.bank_card, "也许", ""),
        ],
    )
    summary = import_return(county_admin, exported, path)
    assert [(p["row"], p["field"]) for p in summary.rejected] == [(2, "reason"), (3, "result")]


def test_two_lines_of_one_person_are_told_apart_by_serial_or_programme(
    county, county_admin, amounts, tmp_path
):
    reward = benefit(name="赵玉兰")
    special = benefit(family=reward.family, programme="special_death", bank_card=reward.bank_card)
    payment_list = make(county_admin, county)
    payments.export_list(acting_user=county_admin, payment_list=payment_list, file_format="csv")
    row = (reward.id_number, reward.bank_card, "成功", "")
    vague = import_return(county_admin, payment_list, return_file(tmp_path, [row]))
    assert [p["field"] for p in vague.rejected] == ["serial"]
    header = ("公民身份号码", "一卡通账号", "结果", "失败原因", "项目")
    named = return_file(tmp_path, [(*row, special.programme.name)], header=header)
    assert import_return(county_admin, payment_list, named).updated == 1
    assert payment_list.lines.get(benefit=special).result == "paid"
    assert payment_list.lines.get(benefit=reward).result == "pending"
    # 序号 is the row of the exported file (reward before special_death here).
    serial_header = ("序号", "公民身份号码", "一卡通账号", "结果", "失败原因")
    by_serial = return_file(tmp_path, [("1", *row)], header=serial_header)
    assert import_return(county_admin, payment_list, by_serial).updated == 1
    assert payment_list.lines.get(benefit=reward).result == "paid"


def test_only_an_exported_list_takes_a_return(made, county_admin, tmp_path):
    line = _line(made, "王秀英")
    path = return_file(tmp_path, [(line.id_number, line.bank_card, "成功", "")])
    with pytest.raises(ValidationError, match="not exported"):
        import_return(county_admin, made, path)


# --- failures --------------------------------------------------------------------------------


@pytest.fixture
def failed(exported, county_admin, tmp_path):
    line = _line(exported, "王秀英")
    path = return_file(tmp_path, [(line.id_number, line.bank_card, "失败", "卡号错误")])
    import_return(county_admin, exported, path, returned_on=datetime.date(2026, 1, 5))
    line.refresh_from_db()
    return line


def test_the_failures_worklist_shows_a_township_its_own_failures(failed, township_a, township_b):
    assert list(payments.failures(township_a)) == [failed]
    assert list(payments.failures(township_b)) == []


def test_resolving_a_failure_with_a_corrected_card_for_next_year(failed, township_a):
    benefit_before = Benefit.objects.get(pk=failed.benefit_id)
    new_card = "6222 0212 3456 7890 123"
    payments.resolve_failure(
        acting_user=township_a,
        line=failed,
        resolution="核实新卡号，已人工补发",
        resolved_on=datetime.date(2026, 1, 20),
        new_bank_card=new_card,
        benefit_version=benefit_before.version,
    )
    failed.refresh_from_db()
    assert (failed.resolved_on, failed.resolution) == (
        datetime.date(2026, 1, 20),
        "核实新卡号，已人工补发",
    )
    assert failed.bank_card == benefit_before.bank_card  # the frozen list keeps what was sent
    corrected = Benefit.objects.get(pk=failed.benefit_id)
    assert corrected.bank_card == "6222021234567890123"
    assert corrected.version == benefit_before.version + 1
    entry = AuditEntry.objects.get(object_type="programmes.benefit", action="update")
    assert entry.after["bank_card"] == "6222***********0123"
    assert "6222021234567890123" not in str(entry.after) + str(entry.before)
    assert AuditEntry.objects.filter(
        object_type="programmes.paymentline", object_id=str(failed.pk), action="update"
    ).exists()
    with pytest.raises(ValidationError, match="resolved"):
        payments.resolve_failure(acting_user=township_a, line=failed, resolution="again")


def test_a_stale_card_correction_is_refused(failed, township_a):
    from liudong.base import StaleWrite

    stale = Benefit.objects.get(pk=failed.benefit_id).version - 1
    with pytest.raises(StaleWrite):
        payments.resolve_failure(
            acting_user=township_a,
            line=failed,
            resolution="换卡",
            new_bank_card="6222021234567890123",
            benefit_version=stale,
        )
    failed.refresh_from_db()
    assert failed.resolved_on is None


def test_another_township_may_not_resolve(failed, township_b):
    with pytest.raises(PermissionDenied):
        payments.resolve_failure(acting_user=township_b, line=failed, resolution="x")


def test_a_paid_line_is_not_resolved(exported, township_a):
    with pytest.raises(ValidationError):
        payments.resolve_failure(
            acting_user=township_a, line=_line(exported, "王秀英"), resolution="x"
        )


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("6217 0000 1111 2222", "6217000011112222"),
        ("６２１７０００８１１１２２２２３", "621700081112222 3".replace(" ", "")),
    ],
)
def test_bank_cards_are_cleaned(raw, digits):
    assert payments.clean_bank_card(raw) == digits


@pytest.mark.parametrize("raw", ["", "12345", "6217abcd11112222", 6.217000011112222e18])
def test_bad_bank_cards_are_refused(raw):
    with pytest.raises(ValidationError):
        payments.clean_bank_card(raw)


def test_cards_are_masked_keeping_the_first_and_last_four():
    assert payments.mask_card("6217000011112234") == "6217********2234"


def test_the_line_factory_of_the_access_tests_is_a_payment_line():
    assert PaymentLine._meta.label == "programmes.PaymentLine"
