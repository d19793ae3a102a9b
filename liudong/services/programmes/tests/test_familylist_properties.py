"""Property tests of the family list reader: whatever the cells hold, each row is read or
rejected with problems naming its row and a column of the template, never a crash."""

from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from liudong.people.idnumbers import make
from liudong.services.programmes.familylist import EXTRA_COLUMNS, FIELDS, read_rows

TODAY = datetime.date(2026, 6, 30)
KNOWN = {"330106", "330106002", "330106002001", "511502"}
COLUMNS = {*FIELDS, *(column.field for column in EXTRA_COLUMNS)}

# Cells as offices and spreadsheets give them: near-miss text for each kind of column, any
# text at all, numbers and dates as cells.
ids = st.builds(
    make,
    st.just("330106"),
    st.dates(datetime.date(1920, 1, 1), datetime.date(2010, 12, 31)),
    st.integers(0, 999),
    st.sampled_from(["1", "2"]),
)
cells = st.one_of(
    st.none(),
    st.text(max_size=25),
    ids,
    ids.map(lambda value: value[:15]),
    ids.map(str.lower),
    st.sampled_from(
        ["农业", "非农业", "居民(农村)", "居民（城镇）", "是", "否", "健在", "死亡", "伤残"]
    ),
    st.sampled_from(["男", "女", "1", "2", "3", "4", "5", "0", "330106002", "512501", "x"]),
    st.dates(datetime.date(1900, 1, 1), datetime.date(2040, 12, 31)).map(str),
    st.dates(datetime.date(1900, 1, 1), datetime.date(2040, 12, 31)),
    st.datetimes(datetime.datetime(1900, 1, 1), datetime.datetime(2040, 12, 31)),
    st.integers(-5, 10**18),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
rows = st.dictionaries(st.sampled_from(sorted(COLUMNS)), cells, max_size=len(COLUMNS))


@given(st.lists(rows, min_size=1, max_size=6))
def test_any_cells_give_a_row_or_a_rejection_naming_row_and_column(values):
    numbered = [(index + 2, row) for index, row in enumerate(values)]
    found = read_rows(numbered, known_region=KNOWN.__contains__, today=TODAY)
    read = {row.row for row in found.rows}
    refused = {problem["row"] for problem in found.rejected}
    assert read.isdisjoint(refused)
    assert read | refused == {number for number, _row in numbered}
    for problem in [*found.rejected, *found.warnings]:
        assert problem["field"] in COLUMNS, problem
        assert problem["message"]
    for row in found.rows:
        facts = row.facts
        assert len(facts.children) <= 4
        assert all(child.birth_date <= TODAY for child in facts.children)
        assert all(
            child.death_date is None or child.birth_date <= child.death_date <= TODAY
            for child in facts.children
        )


@given(
    st.dates(datetime.date(1933, 1, 1), datetime.date(1970, 12, 31)),
    st.dates(datetime.date(1990, 1, 1), datetime.date(2015, 12, 31)),
    st.sampled_from(["农业", "居民(农村)"]),
)
def test_a_well_formed_row_is_read_as_written(born, child_born, household_type):
    applicant = make("330106", born, 101, "1")
    row = {
        "name": "张三",
        "id_number": applicant,
        "household_type": household_type,
        "household_region": "330106002",
        "births_certified": "是",
        "child_1_birth_date": child_born,
        "child_1_sex": "女",
    }
    found = read_rows([(2, row)], known_region=KNOWN.__contains__, today=TODAY)
    assert found.rejected == []
    (read,) = found.rows
    assert read.id_number == applicant
    assert read.facts.applicant_birth_date == born
    assert read.facts.children[0].birth_date == child_born
    assert read.facts.children[0].state == "living"
