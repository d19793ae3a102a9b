"""The column-wise fast path (people.columnar) against the rule book (people.rows).

The fast path may leave any row to RowChecker, but a row it vouches for must be one
RowChecker accepts, with exactly the same clean values. Hypothesis writes rows the way
registers do: plain, in other date and code forms, with faults, and as xlsx cell types.
"""

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from liudong.people.columnar import BatchChecker
from liudong.people.generate import generate_rows
from liudong.people.idnumbers import make
from liudong.people.rows import RowChecker
from liudong.people.template import FIELDS

TODAY = datetime.date(2026, 11, 22)
KNOWN = {
    "110105",
    "330106",
    "330106002",
    "330106002001",
    "330106002001001",
    "411522",
    "411522101",
    "441900",
    "441900003",
}
UNKNOWN = ["330199", "33010600", "330106002000", "4115221010", "1101O5", "", " "]


def _day_forms(day: datetime.date) -> list:
    return [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        day.strftime("%Y%m%d"),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year} - {day.month} - {day.day}",
        datetime.datetime(day.year, day.month, day.day, 9, 30),  # an xlsx date cell
        day,
    ]


days = st.dates(datetime.date(1890, 1, 1), datetime.date(2027, 12, 31))
births = st.dates(datetime.date(1900, 1, 1), TODAY)
odd_dates = st.sampled_from(
    ["2025-02-30", "2025-13-01", "0999-01-01", "2025/3", "昨天", "=TODAY()"]
)


@st.composite
def dates(draw):
    return draw(
        st.one_of(st.none(), days.flatmap(lambda d: st.sampled_from(_day_forms(d))), odd_dates)
    )


@st.composite
def id_numbers(draw, born):
    sex = draw(st.sampled_from("12"))
    value = make(
        draw(st.sampled_from(["110105", "330106", "411522"])), born, draw(st.integers(0, 999)), sex
    )
    variant = draw(st.integers(0, 9))
    if variant == 1:
        value = value[:17] + ("0" if value[17] != "0" else "1")  # wrong check character
    elif variant == 2:
        value = value.lower()
    elif variant == 3:
        value = "".join(chr(ord(c) + 0xFEE0) for c in value)  # full-width
    elif variant == 4:
        value = value[:6] + " " + value[6:]
    elif variant == 5 and born.year < 2000 and born.year >= 1900:
        value = value[:6] + value[8:17]  # the old 15-digit form
    elif variant == 6:
        value = draw(st.text(max_size=20))
    elif variant == 7:
        value = int(value[:17])  # an Excel number cell
    return value, sex


@st.composite
def rows(draw):
    """A register row: each cell plain and right most of the time, else written another
    way or wrong, so that both the fast path's yes and its no are exercised."""

    def cell(usual, unusual):
        return draw(usual if draw(st.integers(0, 19)) else unusual)

    born = draw(births)
    id_value, sex = draw(id_numbers(born))
    after_birth = st.dates(born, TODAY)
    known = st.sampled_from(sorted(KNOWN))
    codes = st.sampled_from([*sorted(KNOWN), *UNKNOWN, 330106, 330106.0, "３３０１０６"])
    words = st.sampled_from(
        [
            "男",
            "女",
            "M",
            "f",
            "1",
            "2",
            "male",
            "Female",
            "X",
            "",
            "Ｍ",
            "初婚",
            "已婚",
            "20",
            "90",
        ]
    )
    arrival = draw(after_birth)
    row = {
        "name": cell(
            st.sampled_from(["王芳", "欧阳娜娜", "张伟", "<b>李</b>", "'; DROP TABLE x;--"]),
            st.one_of(st.just("=A1"), st.text(max_size=55)),
        ),
        "sex": cell(st.just("男" if sex == "1" else "女"), st.one_of(words, st.none())),
        "id_number": id_value,
        "birth_date": cell(st.one_of(st.none(), st.sampled_from(_day_forms(born))), dates()),
        "ethnicity": cell(
            st.sampled_from([None, "汉族", "汉", "01", "1", "壮族"]),
            st.sampled_from(["火星族", "98", "０１"]),
        ),
        "marital_status": cell(
            st.sampled_from(["未婚", "离婚", "未说明", "初婚", "20"]), st.one_of(words, st.none())
        ),
        "household_region": cell(st.sampled_from(["411522", "411522101", "110105"]), codes),
        "household_address": cell(st.sampled_from([None, "光山县某村"]), st.text(max_size=210)),
        "residence_region": cell(st.sampled_from(["330106002001", "441900003"]), codes),
        "residence_address": cell(st.sampled_from([None, "北山路1号"]), st.just("x" * 201)),
        "arrival_date": cell(st.sampled_from(_day_forms(arrival)), dates()),
        "reason": cell(st.sampled_from([None, "务工经商", "work"]), st.just("旅游")),
        "phone": cell(
            st.sampled_from([None, "13800138000"]),
            st.sampled_from(["+8613800138000", "0571-88888888", "12345", "1380013800０"]),
        ),
        "employer": cell(st.sampled_from([None, "杭州某公司"]), st.just("y" * 201)),
        "spouse_id_number": cell(
            st.one_of(st.none(), id_numbers(draw(births)).map(lambda pair: pair[0])),
            st.just(id_value),
        ),
        "children": cell(
            st.sampled_from([None, "0", "2", "07", "15"]),
            st.sampled_from(["16", "两个", 3, 3.0, 2.5]),
        ),
        "certificate_no": cell(st.sampled_from([None, "411522101-2025-00017"]), st.just("z" * 41)),
        "certificate_issuer": cell(st.one_of(st.none(), known), codes),
        "certificate_issued": cell(
            st.one_of(st.none(), after_birth.map(lambda d: d.isoformat())), dates()
        ),
        "verified_on": cell(
            st.one_of(st.none(), st.dates(arrival, TODAY).map(lambda d: d.isoformat())), dates()
        ),
    }
    for field in FIELDS:  # what read_table hands over: stripped text, None for blank
        value = row[field]
        if isinstance(value, str):
            row[field] = value.strip() or None
    return row


def _both(values: list[dict], *, within: str = "", text_only: bool = False):
    batch = [(number, [row[f] for f in FIELDS]) for number, row in enumerate(values, start=2)]
    fast = BatchChecker(KNOWN, today=TODAY, within=within).check(batch, text_only=text_only)
    checker = RowChecker(KNOWN.__contains__, today=TODAY, within=within)
    slow = [checker.check(number, row)[0] for number, row in enumerate(values, start=2)]
    return fast, slow


@settings(max_examples=200, deadline=None)
@given(st.lists(rows(), min_size=1, max_size=8), st.sampled_from(["", "33", "411522101"]))
def test_a_row_the_fast_path_vouches_for_is_one_the_rule_book_accepts_as_is(values, within):
    fast, slow = _both(values, within=within)
    for vouched, checked in zip(fast, slow, strict=True):
        if vouched is not None:
            assert vouched == checked


def test_the_fast_path_takes_plain_rows_and_leaves_the_rest():
    """Not vacuous: generated registers pass the fast path, except the rows with faults."""
    generated = list(generate_rows(400, seed=3, fault_share=0.05, today=TODAY))
    values = [{f: (row.get(f) or None) for f in FIELDS} for row in generated]
    codes = {row[f] for row in values for f in ("household_region", "residence_region")}
    codes |= {row["certificate_issuer"] for row in values if row["certificate_issuer"]}
    KNOWN.update(codes)
    try:
        fast, slow = _both(values, text_only=True)
    finally:
        KNOWN.difference_update(codes - {"330106", "411522"})
    for row, vouched, checked in zip(generated, fast, slow, strict=True):
        if vouched is not None:
            assert vouched == checked
        elif row["_fault"] is None:
            raise AssertionError(f"a plain row was left to the slow path: {row}")
    assert sum(v is not None for v in fast) > 0.9 * sum(r["_fault"] is None for r in generated)
