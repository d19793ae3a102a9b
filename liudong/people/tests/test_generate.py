"""Synthetic people: complete template rows, consistent with their ID numbers, reproducible,
with the known faults at the share asked for, written as csv or xlsx that read back."""

import csv
import datetime
import re
from collections import Counter
from importlib import resources

import pytest
from openpyxl import load_workbook

from liudong.people import template
from liudong.people.generate import FAULTS, generate_rows, write_file
from liudong.people.idnumbers import normalise, parse

TODAY = datetime.date(2026, 5, 9)
CLEAN_ROWS = 20_000
DATE_FORMS = (
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "iso"),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), "slash"),
    (re.compile(r"(\d{4})\.(\d{2})\.(\d{2})"), "dot"),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "compact"),
)
MARITAL_NAMES = {name for _code, name in template.MARITAL_CHOICES}
MARRIED_NAMES = {name for code, name in template.MARITAL_CHOICES if code in template.MARRIED_CODES}
ETHNICITY_NAMES = {name for _code, name in template.ETHNICITY_CHOICES}
REASON_NAMES = {name for _code, name in template.REASON_CHOICES}


def read_date(text: str) -> datetime.date:
    """A date in one of the forms the template accepts (DESIGN.md §5), or AssertionError."""
    for pattern, _form in DATE_FORMS:
        match = pattern.fullmatch(text)
        if match:
            return datetime.date(*map(int, match.groups()))
    raise AssertionError(f"not a date form of the template: {text!r}")


def age(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def sixteenth_birthday(born: datetime.date) -> datetime.date:
    try:
        return born.replace(year=born.year + 16)
    except ValueError:
        return datetime.date(born.year + 16, 3, 1)


def division_codes(name: str) -> set[str]:
    folder = resources.files("liudong.regions") / "data" / "divisions"
    with (folder / name).open(encoding="utf-8") as handle:
        return {row["code"] for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def clean_rows():
    return list(generate_rows(CLEAN_ROWS, seed=7, fault_share=0, today=TODAY))


@pytest.fixture(scope="module")
def faulty_rows():
    return list(generate_rows(20_000, seed=11, fault_share=0.1, today=TODAY))


@pytest.fixture(scope="module")
def counties():
    return division_codes("areas.csv")


@pytest.fixture(scope="module")
def townships():
    return division_codes("streets.csv")


# -- shape and reproducibility ---------------------------------------------------------------


def test_n_rows_with_every_template_column(clean_rows):
    assert len(clean_rows) == CLEAN_ROWS
    for row in clean_rows:
        assert set(row) == {*template.FIELDS, "_fault", "_fault_field"}
        assert all(isinstance(row[field], str) for field in template.FIELDS)
        assert row["_fault"] is None and row["_fault_field"] is None
    assert list(generate_rows(0)) == []


def test_the_same_seed_gives_the_same_rows():
    first = list(generate_rows(500, seed=3, today=TODAY, fault_share=0.2))
    again = list(generate_rows(500, seed=3, today=TODAY, fault_share=0.2))
    other = list(generate_rows(500, seed=4, today=TODAY, fault_share=0.2))
    assert first == again
    assert first != other


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        generate_rows(-1)
    with pytest.raises(ValueError):
        generate_rows(10, fault_share=1.5)


# -- clean rows are consistent ---------------------------------------------------------------


def test_id_numbers_are_unique_and_never_a_spouses(clean_rows):
    ids = [row["id_number"] for row in clean_rows]
    assert len(set(ids)) == len(ids)
    spouses = {row["spouse_id_number"] for row in clean_rows} - {""}
    assert spouses and not spouses & set(ids)


def test_every_id_number_is_valid_and_agrees_with_sex_and_birth_date(clean_rows, counties):
    blank_births = 0
    for row in clean_rows:
        number = parse(row["id_number"], today=TODAY)
        assert number.check_ok and not number.converted_from_15
        assert number.value == row["id_number"]
        assert number.region in counties
        assert row["sex"] == ("男" if number.sex == "1" else "女")
        if row["birth_date"]:
            assert read_date(row["birth_date"]) == number.birth_date
        else:
            blank_births += 1
    assert 0.05 * CLEAN_ROWS < blank_births < 0.3 * CLEAN_ROWS  # sometimes left blank


def test_dates_use_the_template_forms_and_mix_them(clean_rows):
    forms = Counter()
    for row in clean_rows:
        for field in ("birth_date", "arrival_date", "certificate_issued", "verified_on"):
            if row[field]:
                read_date(row[field])
                forms[next(f for p, f in DATE_FORMS if p.fullmatch(row[field]))] += 1
    assert forms["iso"] > 0.8 * sum(forms.values())
    assert forms["slash"] and forms["dot"] and forms["compact"]
    assert any(re.fullmatch(r"\d{4}/\d/\d{1,2}", row["arrival_date"]) for row in clean_rows)


def test_arrival_is_after_sixteen_and_not_in_the_future(clean_rows):
    for row in clean_rows:
        born = parse(row["id_number"], today=TODAY).birth_date
        arrival = read_date(row["arrival_date"])
        assert sixteenth_birthday(born) <= arrival <= TODAY


def test_certificates_are_held_by_women_of_18_to_49(clean_rows, townships):
    holders = 0
    adult_women = 0
    for row in clean_rows:
        number = parse(row["id_number"], today=TODAY)
        years = age(number.birth_date, TODAY)
        if number.sex == "2" and 18 <= years <= 49:
            adult_women += 1
        if not row["certificate_no"]:
            assert not (row["certificate_issuer"] or row["certificate_issued"])
            assert not row["verified_on"]
            continue
        holders += 1
        assert number.sex == "2" and 18 <= years <= 49
        issuer = row["certificate_issuer"]
        assert issuer in townships and issuer[:6] == row["household_region"][:6]
        issued = read_date(row["certificate_issued"])
        assert re.fullmatch(rf"{issuer}-{issued.year}-\d{{5}}", row["certificate_no"])
        assert sixteenth_birthday(number.birth_date) < issued <= TODAY
        if row["verified_on"]:
            verified = read_date(row["verified_on"])
            arrival = read_date(row["arrival_date"])
            assert arrival <= verified <= min(arrival + datetime.timedelta(days=60), TODAY)
            assert issued <= verified
    assert 0.5 * adult_women < holders < 0.9 * adult_women
    numbers = [row["certificate_no"] for row in clean_rows if row["certificate_no"]]
    assert len(set(numbers)) == len(numbers)
    assert sum(1 for row in clean_rows if row["verified_on"]) > 0.5 * holders


def test_regions_are_real_townships_mostly_in_the_id_county(clean_rows, townships):
    same_county = 0
    floating = 0
    for row in clean_rows:
        assert row["household_region"] in townships
        assert row["residence_region"] in townships
        same_county += row["household_region"][:6] == row["id_number"][:6]
        floating += row["household_region"][:6] != row["residence_region"][:6]
    assert 0.85 * CLEAN_ROWS < same_county < 0.95 * CLEAN_ROWS  # ~10% moved registration
    assert floating > 0.99 * CLEAN_ROWS


def test_origins_and_destinations_follow_the_migration_flows(clean_rows):
    origins = Counter(row["household_region"][:2] for row in clean_rows)
    destinations = Counter(row["residence_region"][:2] for row in clean_rows)
    assert {province for province, _n in origins.most_common(4)} <= {"41", "34", "51", "43"}
    assert destinations.most_common(1)[0][0] == "44"  # 广东
    assert set(destinations) <= {"44", "33", "32", "31", "11", "35", "12", "37"}


def test_people_look_like_a_register(clean_rows):
    surnames = Counter(row["name"][0] for row in clean_rows)
    assert {s for s, _n in surnames.most_common(3)} <= {"王", "李", "张", "刘"}
    ethnicities = Counter(row["ethnicity"] for row in clean_rows)
    assert ethnicities["汉族"] > 0.8 * CLEAN_ROWS
    assert len(ethnicities) > 5
    for row in clean_rows:
        assert 2 <= len(row["name"]) <= 4
        assert row["sex"] in ("男", "女")
        assert row["marital_status"] in MARITAL_NAMES
        assert row["ethnicity"] in ETHNICITY_NAMES | {""}
        assert row["reason"] in REASON_NAMES | {""}
        assert row["children"] in ("", "0", "1", "2", "3")
        assert row["phone"] == "" or re.fullmatch(r"1[3-9]\d{9}", row["phone"])
        assert not row["employer"] or row["employer"].endswith(("公司", "厂"))
    reasons = Counter(row["reason"] for row in clean_rows)
    assert reasons.most_common(1)[0][0] == "务工经商"


def test_marital_status_and_children_fit_the_age(clean_rows):
    for row in clean_rows:
        number = parse(row["id_number"], today=TODAY)
        years = age(number.birth_date, TODAY)
        legal = 22 if number.sex == "1" else 20
        if years < legal:
            assert row["marital_status"] == "未婚"
        if row["marital_status"] == "未婚":
            assert row["children"] in ("", "0", "1")
            assert not row["spouse_id_number"]
    married = [row for row in clean_rows if row["marital_status"] in MARRIED_NAMES]
    with_spouse = [row for row in married if row["spouse_id_number"]]
    assert 0.2 * len(married) < len(with_spouse) < 0.6 * len(married)
    for row in with_spouse:
        spouse = parse(row["spouse_id_number"], today=TODAY)
        assert spouse.check_ok
        assert spouse.sex != parse(row["id_number"], today=TODAY).sex
        assert age(spouse.birth_date, TODAY) >= 20


# -- faults ----------------------------------------------------------------------------------


def test_faults_come_at_about_the_share_asked_for(faulty_rows):
    faults = Counter(row["_fault"] for row in faulty_rows if row["_fault"])
    assert 1700 < sum(faults.values()) < 2300  # 10% of 20,000
    assert set(faults) == set(FAULTS)
    assert all(row["_fault_field"] in template.FIELDS for row in faulty_rows if row["_fault"])


def test_each_fault_is_the_one_named(faulty_rows, townships):
    seen_ids: set[str] = set()
    for row in faulty_rows:
        fault, field = row["_fault"], row["_fault_field"]
        raw = row["id_number"]
        if fault == "check_digit":
            assert not parse(raw, today=TODAY).check_ok
        elif fault == "legacy_15":
            assert len(raw) == 15 and parse(raw, today=TODAY).converted_from_15
        elif fault == "lowercase_x":
            assert raw.endswith("x") and parse(raw, today=TODAY).check_ok
        elif fault == "fullwidth_id":
            assert not raw.isascii() and parse(raw, today=TODAY).check_ok
        elif fault == "sex_mismatch":
            assert row["sex"] != ("男" if parse(raw, today=TODAY).sex == "1" else "女")
        elif fault == "birth_date_mismatch":
            assert read_date(row["birth_date"]) != parse(raw, today=TODAY).birth_date
        elif fault == "unknown_region":
            assert row["household_region"] not in townships
            assert len(row["household_region"]) == 9
        elif fault == "arrival_before_birth":
            assert read_date(row["arrival_date"]) < parse(raw, today=TODAY).birth_date
        elif fault == "long_name":
            assert len(row["name"]) == 60
        elif fault == "duplicate_id":
            assert raw in seen_ids
        elif fault == "missing_required":
            assert field in template.REQUIRED and row[field] == ""
        else:
            assert fault is None
        if raw and fault != "check_digit":
            # Only the named fault: the number itself is valid in every other row.
            assert parse(raw, today=TODAY).check_ok
        seen_ids.add(raw)
    ids = [normalise(r["id_number"]) for r in faulty_rows if r["_fault"] != "duplicate_id"]
    ids = [parse(i, today=TODAY).value[:17] for i in ids if i]
    assert len(set(ids)) == len(ids)


def test_no_faults_when_the_share_is_zero(clean_rows):
    assert not any(row["_fault"] for row in clean_rows)


# -- codes given by the caller ---------------------------------------------------------------


def test_residence_and_household_codes_are_respected(counties):
    villages = ["330106002001", "330106002002", "330106004001"]
    homes = ["411522101", "411522102001"]
    rows = list(
        generate_rows(
            2000,
            seed=5,
            residence_codes=villages,
            household_codes=homes,
            fault_share=0,
            today=TODAY,
        )
    )
    assert {row["residence_region"] for row in rows} == set(villages)
    assert {row["household_region"] for row in rows} == set(homes)
    in_home_county = sum(row["id_number"][:6] == "411522" for row in rows)
    assert 0.85 * len(rows) < in_home_county < 0.95 * len(rows)
    assert all(row["id_number"][:6] in counties for row in rows)


def test_a_crowded_county_still_gets_unique_numbers():
    rows = list(
        generate_rows(20_000, seed=2, household_codes=["411522101"], fault_share=0, today=TODAY)
    )
    ids = [row["id_number"] for row in rows]
    assert len(set(ids)) == len(ids)
    for row in rows:
        if row["birth_date"]:
            assert read_date(row["birth_date"]) == parse(row["id_number"], today=TODAY).birth_date


# -- files -----------------------------------------------------------------------------------


def test_csv_round_trips_with_chinese_headers(tmp_path):
    rows = list(generate_rows(300, seed=9, today=TODAY, fault_share=0.3))
    path = tmp_path / "persons.csv"
    assert write_file(path, iter(rows)) == 300
    assert path.read_bytes().startswith("\ufeff".encode())  # Chinese Excel opens it as UTF-8
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.reader(handle))
    assert read[0] == list(template.CHINESE_HEADERS)
    assert read[1:] == [[row[field] for field in template.FIELDS] for row in rows]


def test_csv_with_english_headers(tmp_path):
    path = tmp_path / "persons.csv"
    assert write_file(str(path), generate_rows(5, today=TODAY), header="english") == 5
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == list(template.FIELDS)
    assert "_fault" not in path.read_text(encoding="utf-8-sig")


def test_xlsx_round_trips_with_chinese_headers(tmp_path):
    rows = list(generate_rows(300, seed=9, today=TODAY, fault_share=0.3))
    path = tmp_path / "persons.xlsx"
    assert write_file(path, rows) == 300
    workbook = load_workbook(path, read_only=True)
    width = len(template.FIELDS)
    # Read-only openpyxl leaves out trailing empty cells; pad them back.
    read = [
        (*line, *(None,) * (width - len(line)))
        for line in workbook.worksheets[0].iter_rows(values_only=True)
    ]
    workbook.close()
    assert read[0] == template.CHINESE_HEADERS
    expected = [tuple(row[field] or None for field in template.FIELDS) for row in rows]
    assert read[1:] == expected
    assert all(line[2] is None or isinstance(line[2], str) for line in read[1:])  # text IDs


def test_rows_missing_a_column_get_an_empty_cell(tmp_path):
    path = tmp_path / "persons.csv"
    assert write_file(path, [{"name": "王伟", "sex": "男"}]) == 1
    with path.open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.reader(handle))
    assert read[1][:3] == ["王伟", "男", ""]
    assert len(read[1]) == len(template.FIELDS)


def test_write_file_refuses_unknown_types_and_headers(tmp_path):
    with pytest.raises(ValueError, match=r"use \.csv or \.xlsx"):
        write_file(tmp_path / "persons.ods", [])
    with pytest.raises(ValueError, match="chinese"):
        write_file(tmp_path / "persons.csv", [], header="pinyin")


def test_write_file_streams_and_reports_progress(tmp_path):
    counts: list[int] = []
    rows = generate_rows(25_000, seed=1, today=TODAY)  # a generator: never held as a list
    assert write_file(tmp_path / "persons.csv", rows, progress=counts.append) == 25_000
    assert counts == [10_000, 20_000]


def test_nobody_lives_in_the_county_they_are_registered_in():
    # 光山县 (411522) is in 河南, where most migrants come from: without the rule some of them
    # would be drawn as living at home.
    rows = generate_rows(
        20_000, seed=8, residence_codes=["411522101001"], fault_share=0, today=TODAY
    )
    assert all(row["household_region"][:6] != "411522" for row in rows)


def test_only_people_who_married_moved_to_marry(clean_rows):
    movers = [row for row in clean_rows if row["reason"] == "婚姻嫁娶"]
    assert movers and all(row["marital_status"] != "未婚" for row in movers)
