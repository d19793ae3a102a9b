"""`liudong programme check FILE --on DATE` end to end: the family list template's rejections
(each naming row, column and rule), the issue's bad inputs at their boundaries as the
command answers them, csv and xlsx, Chinese and English headers, and the exit status."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
from django.core.management import call_command
from openpyxl import Workbook

from liudong.people.idnumbers import check_character, make, mask
from liudong.services.programmes.familylist import COLUMNS, FIELDS

pytestmark = pytest.mark.django_db

D = datetime.date
ON = "2026-06-30"
CHINESE = {column.field: column.chinese for column in COLUMNS}
FATHER = make("330106", D(1966, 5, 1), 11, "1")
MOTHER = make("330106", D(1968, 3, 2), 12, "2")


def reward_row(**changes: object) -> dict[str, object]:
    """A family qualifying for the reward programme on ON: the father born 1966 (60 in
    2026), rural, one living son born 1995, births certified."""
    row: dict[str, object] = {
        "name": "张建国",
        "id_number": FATHER,
        "spouse_id_number": MOTHER,
        "household_type": "农业",
        "household_region": "330106002",
        "births_certified": "是",
        "child_1_birth_date": "1995-01-01",
        "child_1_sex": "男",
        "child_1_state": "健在",
    }
    row.update(changes)
    return row


def special_row(**changes: object) -> dict[str, object]:
    """A family qualifying for special_death on ON: the mother born 1977 (49 in 2026)
    applies; their only child, a daughter, died in 2020."""
    row: dict[str, object] = {
        "name": "李秀英",
        "id_number": make("330106", D(1977, 8, 8), 22, "2"),
        "spouse_id_number": make("330106", D(1975, 1, 1), 23, "1"),
        "household_type": "非农业",
        "household_region": "330106004",
        "births_certified": "否",
        "child_1_birth_date": "2000-02-02",
        "child_1_sex": "女",
        "child_1_state": "死亡",
        "child_1_death_date": "2020-01-01",
    }
    row.update(changes)
    return row


def write_csv(path, rows, fields=FIELDS, headers=None):
    headers = headers or [CHINESE.get(f, f) for f in fields]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if row.get(f) is None else row.get(f) for f in fields])
    return str(path)


def write_xlsx(path, rows, fields=FIELDS, headers=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers or [CHINESE.get(f, f) for f in fields])
    for row in rows:
        sheet.append([row.get(f) for f in fields])
    workbook.save(path)
    return str(path)


def run(*args: str) -> tuple[int, object, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("programme_check", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    text = out.getvalue()
    try:
        parsed: object = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        parsed = text
    return status, parsed, err.getvalue()


def check(tmp_path, *rows: dict[str, object], on: str = ON) -> dict:
    path = write_csv(tmp_path / "families.csv", rows)
    status, data, err = run(path, "--on", on, "--format", "json")
    assert status == 0, err
    assert isinstance(data, dict)
    return data


def only_row(data: dict) -> dict:
    assert not data["rejected"], data["rejected"]
    assert len(data["rows"]) == 1
    return data["rows"][0]


def rejected(tmp_path, **changes: object) -> list[dict]:
    data = check(tmp_path, reward_row(**changes))
    assert data["rows"] == []
    return data["rejected"]


# --- the answers ------------------------------------------------------------------------


def test_the_json_names_each_row_its_programmes_and_the_first_rule_failed(tmp_path):
    data = check(tmp_path, reward_row(), special_row())
    assert data["rejected"] == []
    first, second = data["rows"]
    assert first["row"] == 2 and first["programmes"] == ["reward"]
    assert set(first["not"]) == {"special_death", "special_disability"}
    assert second["row"] == 3 and second["programmes"] == ["special_death"]
    assert "reward" in second["not"] and "special_disability" in second["not"]


def test_the_answer_is_the_one_judge_gives(tmp_path):
    """The command adds nothing of its own: the rows' facts judged by eligibility.judge."""
    from liudong.regions.models import Region
    from liudong.services.programmes.eligibility import judge
    from liudong.services.programmes.familylist import read_family_list

    path = write_csv(tmp_path / "f.csv", [reward_row(), special_row()])
    family_list = read_family_list(path)
    assert Region.objects.filter(code="330106002").exists()
    status, data, _err = run(path, "--on", ON, "--format", "json")
    assert status == 0
    expected = [
        {"row": r.row, **judge(r.facts, D(2026, 6, 30)).as_json()} for r in family_list.rows
    ]
    assert data["rows"] == expected


@pytest.mark.parametrize(("born", "qualifies"), [(D(1966, 12, 31), True), (D(1967, 1, 1), False)])
def test_applicant_aged_59_or_60_in_the_year(tmp_path, born, qualifies):
    row = only_row(check(tmp_path, reward_row(id_number=make("330106", born, 31, "1"))))
    assert ("reward" in row["programmes"]) is qualifies
    if not qualifies:
        assert "1967" in row["not"]["reward"]


@pytest.mark.parametrize(("born", "qualifies"), [(D(1933, 1, 1), True), (D(1932, 12, 31), False)])
def test_applicant_born_before_1933(tmp_path, born, qualifies):
    row = only_row(check(tmp_path, reward_row(id_number=make("330106", born, 31, "1"))))
    assert ("reward" in row["programmes"]) is qualifies
    if not qualifies:
        assert "1932-12-31" in row["not"]["reward"]


@pytest.mark.parametrize(
    ("household_type", "qualifies"),
    [("农业", True), ("居民（农村）", True), ("非农业", False), ("居民(城镇)", False)],
)
def test_an_urban_household_for_reward(tmp_path, household_type, qualifies):
    row = only_row(check(tmp_path, reward_row(household_type=household_type)))
    assert ("reward" in row["programmes"]) is qualifies
    if not qualifies:
        assert "reward" in row["not"]


def test_three_children_are_read_and_fail_the_rules(tmp_path):
    three = reward_row(
        child_2_birth_date="1997-03-03",
        child_2_sex="女",
        child_3_birth_date="1999-04-04",
        child_3_sex="女",
    )
    row = only_row(check(tmp_path, three))
    assert row["programmes"] == []
    assert "3" in row["not"]["reward"]


@pytest.mark.parametrize(
    ("born", "qualifies"),
    [
        (D(1979, 12, 31), False),
        (D(1980, 1, 1), True),
        (D(2015, 12, 31), True),
        (D(2016, 1, 1), False),
    ],
)
def test_youngest_child_born_1980_to_2015(tmp_path, born, qualifies):
    row = only_row(check(tmp_path, reward_row(child_1_birth_date=born.isoformat())))
    assert ("reward" in row["programmes"]) is qualifies
    if not qualifies:
        assert born.isoformat() in row["not"]["reward"]


def test_a_living_second_child_fails_special_assistance(tmp_path):
    row = only_row(check(tmp_path, special_row(child_2_birth_date="2005-05-05", child_2_sex="男")))
    assert "special_death" not in row["programmes"]
    assert "special_disability" not in row["programmes"]
    assert "living" in row["not"]["special_death"]


@pytest.mark.parametrize(("born", "qualifies"), [(D(1977, 12, 31), True), (D(1978, 1, 1), False)])
def test_mother_aged_48_or_49(tmp_path, born, qualifies):
    row = only_row(check(tmp_path, special_row(id_number=make("330106", born, 22, "2"))))
    assert ("special_death" in row["programmes"]) is qualifies
    if not qualifies:
        assert "1978" in row["not"]["special_death"]


@pytest.mark.parametrize(("grade", "qualifies"), [("3", True), ("4", False)])
def test_disability_grade_3_or_4(tmp_path, grade, qualifies):
    family = special_row(
        child_1_state="伤残", child_1_death_date="", child_1_disability_grade=grade
    )
    row = only_row(check(tmp_path, family))
    assert ("special_disability" in row["programmes"]) is qualifies
    if not qualifies:
        assert "4" in row["not"]["special_disability"]


def test_a_missing_certification_fails_reward(tmp_path):
    row = only_row(check(tmp_path, reward_row(births_certified="否")))
    assert row["programmes"] == []
    assert "certification" in row["not"]["reward"]


def test_a_death_before_the_birth_is_rejected(tmp_path):
    problems = rejected(tmp_path, child_1_state="死亡", child_1_death_date="1994-12-31")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_death_date")]
    assert "before the birth" in problems[0]["message"]


def test_a_death_on_the_birth_day_is_read(tmp_path):
    row = only_row(check(tmp_path, special_row(child_1_death_date="2000-02-02")))
    assert row["programmes"] == ["special_death"]


def test_the_date_on_decides(tmp_path):
    """A child who died after --on was alive then: the family qualified for the reward
    (one living child) and not yet for special_death."""
    family = reward_row(child_1_state="死亡", child_1_death_date="2026-03-01")
    before = only_row(check(tmp_path, family, on="2026-02-28"))
    after = only_row(check(tmp_path, family, on="2026-03-01"))
    assert "reward" in before["programmes"] and "special_death" not in before["programmes"]
    assert "special_death" in before["not"]
    assert "reward" in after["programmes"]  # had a child and none is living


# --- rejected rows, each naming row, column and rule ------------------------------------


@pytest.mark.parametrize("value", ["", "12345", "33010619660501001"])
def test_a_missing_or_invalid_id_number(tmp_path, value):
    problems = rejected(tmp_path, id_number=value)
    assert [(p["row"], p["field"]) for p in problems] == [(2, "id_number")]


def test_spouse_id_equal_to_the_applicants(tmp_path):
    problems = rejected(tmp_path, spouse_id_number=FATHER.lower())
    assert [(p["row"], p["field"]) for p in problems] == [(2, "spouse_id_number")]


def test_an_unknown_household_type(tmp_path):
    problems = rejected(tmp_path, household_type="城镇户口")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "household_type")]
    assert "城镇户口" in problems[0]["message"]


def test_an_unknown_region_code_is_rejected_not_placed_at_a_parent(tmp_path):
    problems = rejected(tmp_path, household_region="330106999")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "household_region")]
    assert "330106999" in problems[0]["message"]


def test_an_old_region_code_is_read_as_its_successor_with_a_warning(tmp_path):
    data = check(tmp_path, reward_row(household_region="512501"))
    assert only_row(data)["programmes"] == ["reward"]
    assert [(w["row"], w["field"]) for w in data["warnings"]] == [(2, "household_region")]
    assert "511502" in data["warnings"][0]["message"]


@pytest.mark.parametrize("value", ["", "也许", "2"])
def test_births_certified_must_be_yes_or_no(tmp_path, value):
    problems = rejected(tmp_path, births_certified=value)
    assert [(p["row"], p["field"]) for p in problems] == [(2, "births_certified")]


def test_yes_and_no_in_english(tmp_path):
    data = check(tmp_path, reward_row(births_certified="Yes"), special_row(births_certified="no"))
    assert [row["row"] for row in data["rows"]] == [2, 3]
    assert data["rows"][0]["programmes"] == ["reward"]


def test_a_child_without_a_birth_date(tmp_path):
    problems = rejected(tmp_path, child_1_birth_date="", child_1_sex="男")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_birth_date")]


def test_a_child_without_a_sex(tmp_path):
    problems = rejected(tmp_path, child_1_sex="")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_sex")]


def test_a_birth_date_in_the_future(tmp_path):
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    problems = rejected(tmp_path, child_1_birth_date=future)
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_birth_date")]
    assert "future" in problems[0]["message"]


def test_a_death_date_with_the_state_living(tmp_path):
    problems = rejected(tmp_path, child_1_state="健在", child_1_death_date="2010-01-01")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_death_date")]


def test_a_death_date_with_a_blank_state_is_refused_as_with_living(tmp_path):
    problems = rejected(tmp_path, child_1_state="", child_1_death_date="2010-01-01")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_death_date")]


def test_dead_without_a_death_date_is_read_as_dead_on_any_date(tmp_path):
    row = only_row(check(tmp_path, special_row(child_1_death_date="")))
    assert row["programmes"] == ["special_death"]


@pytest.mark.parametrize("grade", ["0", "5", "三级", "-1"])
def test_a_disability_grade_outside_1_to_4(tmp_path, grade):
    problems = rejected(tmp_path, child_1_state="伤残", child_1_disability_grade=grade)
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_disability_grade")]


def test_a_disability_grade_for_a_living_child(tmp_path):
    problems = rejected(tmp_path, child_1_state="健在", child_1_disability_grade="2")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_disability_grade")]


def test_disabled_without_a_grade(tmp_path):
    problems = rejected(tmp_path, child_1_state="伤残")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_disability_grade")]


def test_an_unknown_child_state(tmp_path):
    problems = rejected(tmp_path, child_1_state="失踪")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_state")]


def test_a_child_born_before_a_parent(tmp_path):
    problems = rejected(tmp_path, child_1_birth_date="1966-04-30")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "child_1_birth_date")]
    assert "1966-04-30" in problems[0]["message"]


def test_the_same_id_number_twice(tmp_path):
    data = check(tmp_path, reward_row(), reward_row(name="张建国（重复）"))
    assert [row["row"] for row in data["rows"]] == [2]
    assert [(p["row"], p["field"]) for p in data["rejected"]] == [(3, "id_number")]
    message = data["rejected"][0]["message"]
    assert "row 2" in message and FATHER not in message and mask(FATHER) in message


def test_a_fifth_child_rejects_the_row(tmp_path):
    fields = (*FIELDS, "child_5_birth_date", "child_5_sex")
    headers = [CHINESE.get(f, f) for f in fields[:-2]] + ["子女5出生日期", "子女5性别"]
    path = write_csv(
        tmp_path / "five.csv",
        [reward_row(child_5_birth_date="2000-01-01", child_5_sex="男"), special_row()],
        fields=fields,
        headers=headers,
    )
    status, data, _err = run(path, "--on", ON, "--format", "json")
    assert status == 0
    assert [(p["row"], p["field"]) for p in data["rejected"]] == [(2, "child_5_birth_date")]
    assert [row["row"] for row in data["rows"]] == [3]


def test_every_problem_of_a_row_is_listed(tmp_path):
    problems = rejected(tmp_path, household_type="?", births_certified="?", child_1_sex="?")
    assert {p["field"] for p in problems} == {"household_type", "births_certified", "child_1_sex"}


# --- reading the file ---------------------------------------------------------------------


def test_xlsx_with_date_cells_and_english_headers(tmp_path):
    family = reward_row(
        child_1_birth_date=datetime.datetime(2015, 12, 31),
        child_2_birth_date=D(2010, 6, 1),
        child_2_sex="女",
        child_2_state="死亡",
        child_2_death_date=D(2011, 1, 1),
    )
    path = write_xlsx(tmp_path / "families.xlsx", [family], headers=list(FIELDS))
    status, data, err = run(path, "--on", ON, "--format", "json")
    assert status == 0, err
    row = only_row(data)
    assert row["row"] == 2
    assert row["programmes"] == ["reward"]  # one living child of two, the youngest 2015


def test_cells_as_offices_type_them(tmp_path):
    """Full-width digits, a lower-case x, dates written 1995/1/1 and 19950101, spaces."""
    with_x = make("330106", D(1966, 5, 1), 13, "1")
    seq = 0
    while not with_x.endswith("X"):  # a number whose check character is X
        seq += 2
        with_x = make("330106", D(1966, 5, 1), 1 + seq, "1")
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in with_x.lower())
    data = check(
        tmp_path,
        reward_row(id_number=f" {wide} ", child_1_birth_date="1995/1/1"),
        special_row(child_1_death_date="20200101", household_region="３３０１０６００４"),
    )
    assert [row["programmes"] for row in data["rows"]] == [["reward"], ["special_death"]]


def test_a_15_digit_number_is_converted_and_a_bad_check_digit_warned(tmp_path):
    old = "330106660501011"  # born 1966-05-01, a man
    first17 = MOTHER[:17]
    wrong = first17 + ("0" if check_character(first17) != "0" else "1")
    data = check(tmp_path, reward_row(id_number=old, spouse_id_number=wrong))
    assert only_row(data)["programmes"] == ["reward"]
    assert sorted(w["field"] for w in data["warnings"]) == ["id_number", "spouse_id_number"]
    assert all(wrong not in w["message"] for w in data["warnings"])


def test_a_missing_file_exits_1_naming_it(tmp_path):
    status, _data, err = run(str(tmp_path / "nowhere.csv"), "--on", ON)
    assert status == 1
    assert "nowhere.csv" in err


def test_a_missing_column_exits_1_naming_it(tmp_path):
    fields = tuple(f for f in FIELDS if f != "births_certified")
    path = write_csv(tmp_path / "short.csv", [reward_row()], fields=fields)
    status, data, err = run(path, "--on", ON, "--format", "json")
    assert status == 1
    assert "政策内生育确认" in err
    assert data["errors"][0]["code"] == "unreadable_file"


def test_an_unknown_column_exits_1(tmp_path):
    fields = (*FIELDS, "nickname")
    path = write_csv(tmp_path / "extra.csv", [reward_row()], fields=fields)
    status, _data, err = run(path, "--on", ON)
    assert status == 1
    assert "nickname" in err


def test_remarks_columns_are_ignored(tmp_path):
    fields = (*FIELDS, "备注")
    path = write_csv(tmp_path / "remarks.csv", [reward_row(备注="已核实")], fields=fields)
    status, data, _err = run(path, "--on", ON, "--format", "json")
    assert status == 0 and data["rows"][0]["programmes"] == ["reward"]


@pytest.mark.parametrize("on", ["2026-13-01", "tomorrow", "2026/06/30"])
def test_a_bad_on_date_exits_1(tmp_path, on):
    path = write_csv(tmp_path / "f.csv", [reward_row()])
    status, data, err = run(path, "--on", on, "--format", "json")
    assert status == 1
    assert "--on" in err
    assert data["errors"][0]["code"] == "usage"


def test_the_table_masks_id_numbers_and_ends_with_a_summary(tmp_path):
    path = write_csv(tmp_path / "f.csv", [reward_row(), special_row(), reward_row()])
    status, text, err = run(path, "--on", ON)
    assert status == 0
    assert isinstance(text, str)
    assert mask(FATHER) in text and FATHER not in text
    assert "农村部分计划生育家庭奖励扶助" in text
    assert text.strip().splitlines()[-1] == (
        "checked 2 rows on 2026-06-30: 2 qualify for a programme, 0 for none; "
        "rejected 1, warnings 0"
    )
    assert "row 4, 公民身份号码" in err


def test_through_the_liudong_command(tmp_path):
    """`liudong programme check` resolves to the command (liudong.cli)."""
    from liudong.cli import _resolve

    path = write_csv(tmp_path / "f.csv", [reward_row()])
    assert _resolve(["programme", "check", path, "--on", ON]) == [
        "programme_check",
        path,
        "--on",
        ON,
    ]
