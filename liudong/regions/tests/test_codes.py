import pytest
from hypothesis import given
from hypothesis import strategies as st

from liudong.regions.codes import (
    CodeError,
    Level,
    ancestors,
    clean_code,
    level_of,
    padded_forms,
    parent_code,
    subtree_bounds,
)

LENGTHS = [2, 4, 6, 9, 12, 15]
codes = st.sampled_from(LENGTHS).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("330106", "330106"),
        (" 330106002 ", "330106002"),
        ("３３０１０６", "330106"),  # full-width digits from a Chinese input method
        (330106002001.0, "330106002001"),  # a code cell Excel stored as a number
        (330106, "330106"),
        ("3301 06", "330106"),
    ],
)
def test_clean_code_normalises_what_people_type(raw, expected):
    assert clean_code(raw) == expected


@pytest.mark.parametrize(
    "raw, fragment",
    [
        (None, "required"),
        ("", "required"),
        ("33010x", "digits only"),
        ("3301066", "has 7"),
        ("1234567890123456", "has 16"),
    ],
)
def test_clean_code_refuses_malformed_codes_naming_the_rule(raw, fragment):
    with pytest.raises(CodeError, match=fragment):
        clean_code(raw)


def test_levels_and_parents():
    assert level_of("33") == Level.PROVINCE
    assert level_of("330106002001001") == Level.GROUP
    assert parent_code("330106002001001") == "330106002001"
    assert parent_code("330106002") == "330106"
    assert parent_code("33") is None
    assert ancestors("330106002001") == ["33", "3301", "330106", "330106002"]


def test_padded_forms_offer_the_shorter_codes_in_order():
    assert padded_forms("330106002000") == ["330106002"]
    assert padded_forms("330106000000")[:2] == ["330106000", "330106"]
    assert padded_forms("330100") == ["3301"]
    assert padded_forms("330106002001") == []


@given(code=codes, prefix=codes)
def test_subtree_range_holds_exactly_the_codes_with_the_prefix(code, prefix):
    low, high = subtree_bounds(prefix)
    assert (low <= code <= high) == code.startswith(prefix)
