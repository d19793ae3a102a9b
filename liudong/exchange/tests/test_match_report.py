"""The per-region-pair report of a match: counts, the two assessment rates, field agreement,
the total row, the scope rule, and its table and xlsx forms, on two hand-made registers whose
answers are known."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from liudong.exchange.matching import county_report as match_report
from liudong.exchange.matching import engine as matching
from liudong.exchange.tests.test_matching import TODAY, person
from liudong.people.generate import write_file

A = "510722"  # 三台县 (origin)
D = "420102"  # 武汉市江岸区 (another origin)
B = "330106"  # 西湖区 (residence)
C = "330108"  # 滨江区 (another residence)


def at(row: dict, household: str, residence: str, **fields) -> dict:
    return {
        **row,
        "household_region": household + "101",
        "residence_region": residence + "002",
        **fields,
    }


def registers(tmp_path):
    """Answers: (A, B) matched 3, only at origin 1, only at residence 2; (A, C) only at
    origin 1; (D, B) only at residence 1."""
    p1 = person("王伟", "2", "1985-03-02", 100)
    p2 = person("李娜", "2", "1990-07-15", 120)
    p3 = person("张敏", "2", "1978-11-20", 300)
    p4 = person("孙杰", "1", "1980-06-30", 705)
    p5 = person("周婷", "2", "1995-02-14", 806)
    p6 = person("吴刚", "1", "1970-01-09", 907)
    p8 = person("郑爽", "2", "1999-09-09", 111)
    p7 = person("冯军", "1", "1988-08-08", 212, household=D + "101")
    outflow = [
        at(p1, A, B, certificate_no="510722101-2024-000001", verified_on="2024-06-01"),
        at(p2, A, B, certificate_no="510722101-2024-000002"),
        at(p3, A, B, certificate_no="510722101-2024-000003"),
        at(p4, A, B),
        at(p5, A, C),
    ]
    inflow = [
        # the same certificate written without dashes in lower case: the same number
        at(p1, A, B, certificate_no="510722101 2024 000001", verified_on="2024-05-30"),
        at(p2, A, B, verified_on="2024-07-01"),  # certificate only at origin; verified here only
        at(p3, A, B, certificate_no="510722101-2024-000999"),  # another number
        at(p6, A, B),
        at(p8, A, B),
        at(p7, D, B),
    ]
    write_file(tmp_path / "outflow.csv", outflow)
    write_file(tmp_path / "inflow.csv", inflow)
    return tmp_path / "outflow.csv", tmp_path / "inflow.csv"


def test_each_pair_has_its_counts_and_the_rates_each_side_is_assessed_on(tmp_path):
    result = matching.match_files(*registers(tmp_path), today=TODAY)
    by_pair = {(e["outflow_region"], e["inflow_region"]): e for e in result.summary}
    assert list(by_pair) == [(D, B), (A, B), (A, C)]  # sorted by code
    ab = by_pair[A, B]
    assert (ab["matched"], ab["only_outflow"], ab["only_inflow"]) == (3, 1, 2)
    assert ab["residence_rate"] == 75.0  # 3 of the 4 the origin reports in 西湖区
    assert ab["origin_rate"] == 60.0  # 3 of the 5 西湖区 holds from 三台县
    ac = by_pair[A, C]
    assert (ac["matched"], ac["only_outflow"], ac["only_inflow"]) == (0, 1, 0)
    assert ac["residence_rate"] == 0.0
    assert ac["origin_rate"] is None  # the residence holds nobody from there: no denominator
    db = by_pair[D, B]
    assert db["residence_rate"] is None and db["origin_rate"] == 0.0
    assert list(ab) == list(match_report.KEYS)


def test_certificate_and_verification_agreement_on_matched_pairs(tmp_path):
    result = matching.match_files(*registers(tmp_path), today=TODAY)
    ab = next(e for e in result.summary if e["inflow_region"] == B and e["outflow_region"] == A)
    assert ab["certificate_same"] == 1  # dashes, spaces and case do not make another number
    assert ab["certificate_different"] == 1
    assert ab["certificate_only_outflow"] == 1
    assert ab["certificate_only_inflow"] == 0
    assert ab["certificate_agreement_rate"] == 33.33  # 1 of the 3 pairs naming one
    assert ab["verified_both"] == 1  # two dates still count as known on both sides
    assert ab["verified_only_inflow"] == 1  # the origin never heard of it
    assert ab["verified_only_outflow"] == 0
    assert ab["verification_agreement_rate"] == 50.0
    # A pair with nothing to compare gives no rate rather than 0 or 100.
    ac = next(e for e in result.summary if e["inflow_region"] == C)
    assert ac["certificate_agreement_rate"] is None
    assert ac["verification_agreement_rate"] is None


def test_the_total_adds_counts_and_recomputes_rates(tmp_path):
    result = matching.match_files(*registers(tmp_path), today=TODAY)
    total = match_report.total(result.summary)
    assert (total["matched"], total["only_outflow"], total["only_inflow"]) == (3, 2, 3)
    assert total["residence_rate"] == 60.0  # 3 / 5, not the mean of 75 and 0
    assert total["origin_rate"] == 50.0  # 3 / 6
    assert total["outflow_region"] is None


def test_registers_without_certificate_columns_still_report(tmp_path):
    rows = [person("王伟", "1", "1985-03-02", 101)]
    write_file(tmp_path / "a.csv", rows)
    (tmp_path / "b.csv").write_text(
        "姓名,性别,公民身份号码,户籍地区划代码,现居住地区划代码\n"
        f"王伟,男,{rows[0]['id_number']},{rows[0]['household_region']},330106002\n",
        encoding="utf-8",
    )
    [entry] = matching.match_files(tmp_path / "a.csv", tmp_path / "b.csv", today=TODAY).summary
    assert entry["matched"] == 1 and entry["certificate_agreement_rate"] is None


def test_a_reader_sees_the_pairs_touching_their_region_and_only_counts_of_the_rest(tmp_path):
    outflow_path, inflow_path = registers(tmp_path)
    outflow = matching.read_register(outflow_path, today=TODAY)
    inflow = matching.read_register(inflow_path, today=TODAY)
    result = matching.match(outflow, inflow, today=TODAY)

    # 滨江区 (330108): only the pair A -> C; the rest counted, not listed.
    report = match_report.build_report(outflow, inflow, result, region=C)
    assert [(e["outflow_region"], e["inflow_region"]) for e in report["summary"]] == [(A, C)]
    assert report["outside"] == {"pairs": 2, "matched": 3, "only_outflow": 1, "only_inflow": 3}
    assert [r["row"] for r in report["outflow_unmatched"]] == [6]  # 周婷
    assert report["inflow_unmatched"] == [] and report["matches"] == []

    # 三台县 (the origin) sees both its pairs; 武汉's is outside.
    report = match_report.build_report(outflow, inflow, result, region=A)
    assert [e["inflow_region"] for e in report["summary"]] == [B, C]
    assert report["outside"]["pairs"] == 1
    assert len(report["matches"]) == 3
    # ID numbers are masked in the lists.
    listed = report["outflow_unmatched"][0]["id_number"]
    assert listed[6:14] == "********" and len(listed) == 18

    # A province sees everything.
    report = match_report.build_report(outflow, inflow, result, region="33")
    assert len(report["summary"]) == 3 and report["outside"]["pairs"] == 0


@pytest.mark.django_db
def test_the_command_prints_a_table_with_the_total(tmp_path):
    outflow_path, inflow_path = registers(tmp_path)
    out = io.StringIO()
    call_command("match", str(outflow_path), str(inflow_path), format="table", stdout=out)
    printed = out.getvalue()
    assert "居住地登记率" in printed and "合计" in printed
    assert "75.00" in printed and "60.00" in printed and "33.33" in printed
    assert "三台县（510722）" in printed  # the county named beside its code


@pytest.mark.django_db
def test_the_command_writes_the_report_as_xlsx(tmp_path):
    outflow_path, inflow_path = registers(tmp_path)
    target = tmp_path / "report.xlsx"
    call_command(
        "match",
        str(outflow_path),
        str(inflow_path),
        format="xlsx",
        out=str(target),
        stdout=io.StringIO(),
    )
    workbook = load_workbook(target)
    assert workbook.sheetnames == ["分地区比对", "仅户籍地有", "仅居住地有", "匹配对"]
    rows = list(workbook["分地区比对"].values)
    assert rows[0][0] == match_report.TITLE
    header = rows[4]
    assert header[:5] == ("户籍地（县）", "现居住地（县）", "双方均有", "仅户籍地有", "仅居住地有")
    total = next(r for r in rows if r[0] == "合计")
    assert total[2:7] == (3, 2, 3, 60.0, 50.0)
    only_out = list(workbook["仅户籍地有"].values)[1:]
    assert [r[0] for r in only_out] == [5, 6]
    assert all("********" in r[2] for r in only_out)
    assert len(list(workbook["匹配对"].values)) == 1 + 3
    # Counties are named beside their codes, in the table and in the listings.
    assert ("三台县（510722）", "西湖区（330106）") in [r[:2] for r in rows[5:]]
    assert only_out[0][3] == "三台县（510722）"
    # Printable: landscape A4 one page wide, title and header rows on every page.
    table = workbook["分地区比对"]
    assert table.page_setup.orientation == "landscape"
    assert (table.page_setup.fitToWidth, table.page_setup.fitToHeight) == (1, 0)
    assert table.sheet_properties.pageSetUpPr.fitToPage
    assert table.print_title_rows == "$1:$5" and table.freeze_panes == "A6"
    listing = workbook["仅户籍地有"]
    assert listing.print_title_rows == "$1:$1" and listing.freeze_panes == "A2"
    assert listing.auto_filter.ref == "A1:E3"
    assert listing["C2"].number_format == "@"  # ID numbers stay text when edited


def test_xlsx_without_out_is_refused(tmp_path):
    outflow_path, inflow_path = registers(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "match",
            str(outflow_path),
            str(inflow_path),
            format="xlsx",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert exit_info.value.code == 1
