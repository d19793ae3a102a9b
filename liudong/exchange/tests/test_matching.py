"""`liudong match`: two registers with known truth and the faults clerks make."""

from __future__ import annotations

import datetime
import io
import json
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liudong.exchange.matching import engine as matching
from liudong.people import idnumbers
from liudong.people.generate import generate_rows, write_file

TODAY = datetime.date(2026, 10, 31)
ORIGIN = "510722"  # 三台县: where they are registered
DESTINATION = "330106002"  # 西湖区北山街道: where they live


def person(name, sex, born, sequence, *, id_number=None, household=ORIGIN + "101"):
    born = datetime.date.fromisoformat(born)
    number = idnumbers.make(household[:6], born, sequence, sex)
    return {
        "name": name,
        "sex": "男" if sex == "1" else "女",
        "id_number": number if id_number is None else id_number,
        "birth_date": born.isoformat(),
        "marital_status": "未婚",
        "household_region": household,
        "residence_region": DESTINATION,
        "arrival_date": "2024-05-01",
    }


def transposed(number: str) -> str:
    """The same number with two adjacent digits of its sequence swapped, as a clerk types it."""
    swapped = number[:14] + number[15] + number[14] + number[16:17]
    assert swapped != number[:17]
    return swapped + number[17]  # the check character copied from the paper


def typo(number: str) -> str:
    """One digit of the sequence typed wrong (no transposition)."""
    digit = str((int(number[14]) + 3) % 10)
    return number[:14] + digit + number[15:]


@pytest.fixture
def registers(tmp_path):
    """(outflow.csv, inflow.xlsx, truth as {outflow_row: inflow_row})."""
    exact = person("王伟", "1", "1985-03-02", 101)
    swapped = person("李娜", "2", "1990-07-15", 122)
    legacy = person("张强", "1", "1978-11-20", 301)
    traditional = person("陈丽华", "2", "1988-01-05", 402)
    homophone = person("刘伟", "1", "1991-09-09", 503)
    namesake = person("赵敏", "2", "1992-04-04", 604)
    only_out = person("孙杰", "1", "1980-06-30", 705)
    outflow = [exact, swapped, legacy, traditional, homophone, namesake, only_out]

    inflow = [
        person("周婷", "2", "1995-02-14", 806),  # row 2: only at the residence
        {**homophone, "name": "刘玮", "id_number": typo(homophone["id_number"])},  # row 3
        person("赵敏", "2", "1993-08-19", 908),  # row 4: another 赵敏, born a year later
        {**legacy, "id_number": legacy["id_number"][:6] + legacy["id_number"][8:17]},  # row 5
        {**traditional, "name": "陳麗華", "id_number": ""},  # row 6: number left out
        {**swapped, "id_number": transposed(swapped["id_number"])},  # row 7
        exact,  # row 8
    ]
    outflow_path, inflow_path = tmp_path / "outflow.csv", tmp_path / "inflow.xlsx"
    write_file(outflow_path, outflow)
    write_file(inflow_path, inflow, header="english")
    # Outflow rows 2..8 in the order above.
    truth = {2: 8, 3: 7, 4: 5, 5: 6, 6: 3}
    return outflow_path, inflow_path, truth


def test_each_fault_is_matched_to_the_right_row_and_nothing_else(registers):
    outflow_path, inflow_path, truth = registers
    result = matching.match_files(outflow_path, inflow_path, today=TODAY)

    assert {m.outflow_row: m.inflow_row for m in result.matches} == truth
    assert result.outflow_unmatched == [7, 8]  # the other 赵敏 and 孙杰
    assert result.inflow_unmatched == [2, 4]  # 周婷 and the other 赵敏
    methods = {m.outflow_row: (m.method, m.score) for m in result.matches}
    assert methods[2] == ("id", 1.0)
    assert methods[3] == ("transposition", matching.SCORE_TRANSPOSED_SAME_NAME)
    assert methods[4] == ("id_form", matching.SCORE_SAME_ID_OTHER_FORM)
    assert methods[5][0] == methods[6][0] == "probabilistic"
    assert all(matching.DEFAULT_THRESHOLD <= m.score <= 1 for m in result.matches)


def test_the_summary_counts_each_pair_of_counties(registers):
    outflow_path, inflow_path, _truth = registers
    result = matching.match_files(outflow_path, inflow_path, today=TODAY)
    [entry] = result.summary
    assert {key: entry[key] for key in list(entry)[:5]} == {
        "outflow_region": ORIGIN,
        "inflow_region": DESTINATION[:6],
        "matched": 5,
        "only_outflow": 2,
        "only_inflow": 2,
    }
    assert entry["residence_rate"] == entry["origin_rate"] == 71.43  # 5 / 7


def test_the_command_prints_the_json_of_design_5(registers):
    outflow_path, inflow_path, truth = registers
    out = io.StringIO()
    call_command("match", str(outflow_path), str(inflow_path), format="json", stdout=out)
    printed = json.loads(out.getvalue())
    assert list(printed) == ["matches", "outflow_unmatched", "inflow_unmatched", "summary"]
    assert {(m["outflow_row"], m["inflow_row"]) for m in printed["matches"]} == set(truth.items())
    assert all(set(m) == {"outflow_row", "inflow_row", "score"} for m in printed["matches"])
    assert printed["outflow_unmatched"] == [7, 8]
    assert printed["inflow_unmatched"] == [2, 4]


def test_each_row_is_matched_at_most_once(tmp_path):
    one = person("王芳", "2", "1987-12-12", 202)
    # The inflow register holds her twice (two collectors), once with a transposed number.
    write_file(tmp_path / "out.csv", [one])
    write_file(tmp_path / "in.csv", [{**one, "id_number": transposed(one["id_number"])}, one])
    result = matching.match_files(tmp_path / "out.csv", tmp_path / "in.csv", today=TODAY)
    assert [(m.outflow_row, m.inflow_row, m.score) for m in result.matches] == [(2, 3, 1.0)]
    assert result.inflow_unmatched == [2]

    # And the other way round: two outflow rows for one inflow row.
    result = matching.match_files(tmp_path / "in.csv", tmp_path / "out.csv", today=TODAY)
    assert [(m.outflow_row, m.inflow_row) for m in result.matches] == [(3, 2)]
    assert result.outflow_unmatched == [2]


def test_generated_files_match_themselves_across_csv_and_xlsx(tmp_path):
    rows = list(generate_rows(40, seed=5, fault_share=0, today=TODAY))
    write_file(tmp_path / "a.csv", rows)
    write_file(tmp_path / "b.xlsx", rows[::-1], header="english")
    result = matching.match_files(tmp_path / "a.csv", tmp_path / "b.xlsx", today=TODAY)
    assert {(m.outflow_row, m.inflow_row) for m in result.matches} == {
        (row, 43 - row) for row in range(2, 42)
    }


# -- bad input --------------------------------------------------------------------------------


def run_json(*args) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("match", *map(str, args), format="json", stdout=out, stderr=err)
    return exit_info.value.code, json.loads(out.getvalue()), err.getvalue()


def test_an_empty_file_is_refused_by_name(registers, tmp_path):
    outflow_path, _inflow_path, _truth = registers
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    status, printed, stderr = run_json(outflow_path, empty)
    assert status == 1
    [error] = printed["errors"]
    assert set(error) == {"field", "code", "message"}
    assert error["code"] == "empty_file"
    assert error["message"].startswith("empty.csv: ") and "empty" in error["message"]
    assert stderr.strip() == f"liudong: error: {error['message']}"


def test_a_file_with_headers_only_matches_nothing(registers, tmp_path):
    outflow_path, _inflow_path, _truth = registers
    write_file(tmp_path / "headers.csv", [])
    result = matching.match_files(outflow_path, tmp_path / "headers.csv", today=TODAY)
    assert result.matches == [] and result.inflow_unmatched == []
    assert result.outflow_unmatched == [2, 3, 4, 5, 6, 7, 8]


def test_a_file_in_the_wrong_template_names_the_file_and_the_column(registers, tmp_path):
    outflow_path, _inflow_path, _truth = registers
    wrong = tmp_path / "villages.csv"
    wrong.write_text("姓名,性别,户籍地区划代码,现居住地区划代码\n王伟,男,510722101,330106002\n")
    status, printed, stderr = run_json(wrong, outflow_path)
    assert status == 1
    assert printed == {
        "errors": [
            {
                "field": "id_number",
                "code": "missing_column",
                "message": "villages.csv: row 1: missing required column(s): "
                "公民身份号码 (id_number)",
            }
        ]
    }
    assert "villages.csv" in stderr and "公民身份号码" in stderr


def test_a_threshold_outside_0_to_1_is_refused(registers):
    outflow_path, inflow_path, _truth = registers
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "match", str(outflow_path), str(inflow_path), threshold=1.5, format="json", stdout=out
        )
    assert exit_info.value.code == 1
    assert json.loads(out.getvalue())["errors"][0]["code"] == "command_error"


# -- property ---------------------------------------------------------------------------------

_NAMES = ("王伟", "李娜", "張偉", "刘玮", "欧阳丽华", "阿依古丽·买买提", "陈 静")

people = st.lists(
    st.tuples(
        st.sampled_from(_NAMES),
        st.sampled_from(["1", "2"]),
        st.dates(datetime.date(1940, 1, 1), datetime.date(2008, 12, 31)),
        st.integers(0, 499),
    ),
    min_size=1,
    max_size=30,
    unique_by=lambda each: (each[1], each[2], each[3]),  # one row per ID number in a file
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people)
def test_a_file_matched_against_itself_matches_every_row_to_itself(persons):
    rows = [
        person(name, sex, born.isoformat(), sequence * 2) for name, sex, born, sequence in persons
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "register.csv"
        write_file(path, rows)
        result = matching.match_files(path, path, today=TODAY)
    assert [(m.outflow_row, m.inflow_row) for m in result.matches] == [
        (row, row) for row in range(2, len(rows) + 2)
    ]
    assert all(m.score == matching.SCORE_SAME_ID for m in result.matches)
    assert result.outflow_unmatched == result.inflow_unmatched == []


def test_u_is_the_chance_that_two_strangers_share_a_value():
    def record(row, name, born, sex="1"):
        return matching.Record(
            row=row,
            name=name,
            pinyin=matching.pinyin(name),
            sex=sex,
            id_number="",
            id17="",
            legacy=False,
            birth_date=born,
            household_county=ORIGIN,
            residence_county=DESTINATION[:6],
        )

    outflow = [record(2, "王伟", "1990-01-01"), record(3, "李娜", "1991-01-01", "2")]
    inflow = [record(2, "王伟", "1990-01-01"), record(3, "王玮", "1992-01-01")]
    u = matching.estimate_u(outflow, inflow)
    assert u["name", "same characters"] == pytest.approx(1 / 4)  # 王伟-王伟 of 4 pairs
    assert u["name", "homophone"] == pytest.approx(1 / 4)  # 王伟-王玮
    assert u["birth_date", "same"] == pytest.approx(1 / 4)
    assert u["sex", "same"] == pytest.approx(2 / 4)
    assert u["household_county", "same"] == pytest.approx(1 - 1e-7)
    # "different" takes what the agreeing levels leave.
    assert u["name", "different"] == pytest.approx(1 - 1 / 4 - 1 / 4 - 0.01)


def test_rows_are_numbered_as_the_spreadsheet_shows_them_blank_rows_included(tmp_path):
    first, second = person("王伟", "1", "1985-03-02", 101), person("李娜", "2", "1990-07-15", 122)
    write_file(tmp_path / "out.csv", [first, second])
    # The inflow register has a blank row 3 between her two people.
    write_file(tmp_path / "in.csv", [second, {}, first])
    result = matching.match_files(tmp_path / "out.csv", tmp_path / "in.csv", today=TODAY)
    assert [(m.outflow_row, m.inflow_row) for m in result.matches] == [(2, 4), (3, 2)]
    assert result.outflow_unmatched == result.inflow_unmatched == []
