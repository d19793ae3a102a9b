"""The unified social credit code (GB 32100-2015): real codes pass, each rule is named."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liudong.places.creditcode import ALPHABET, CreditCodeError, check_character, parse

# 91350100M000100Y43 by hand: values 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4 times the
# weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28 sum to 1640; 1640 mod 31 = 28;
# 31 - 28 = 3. Its organisation code M000100Y4: 22*3 + 1*5 + 34*2 = 139, 11 - 139 mod 11 = 4.
REAL = ["91350100M000100Y43", "914403001922038216", "91330000142916567N", "91110000600037341L"]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_pass(code):
    parsed = parse(code)
    assert parsed.code == code and parsed.organisation_code_ok


def test_the_worked_example_by_hand():
    assert check_character("91350100M000100Y4") == "3"
    parsed = parse("91350100M000100Y43")
    assert parsed.region_code == "350100" and parsed.organisation_code == "M000100Y4"


def test_full_width_and_lower_case_are_normalised():
    assert parse("９１３５０１００ｍ000100y43").code == "91350100M000100Y43"
    assert parse(" 91350100m000100y43 ").code == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100M000I00Y43", "characters"),  # I is not in the alphabet
        ("91350100O000100Y43", "characters"),
        ("91350100M000100Y44", "check"),
        ("91A50100M000100Y43", "region"),
    ],
)
def test_malformed_codes_name_the_rule(raw, rule):
    with pytest.raises(CreditCodeError) as caught:
        parse(raw)
    assert caught.value.rule == rule


first17 = st.text(alphabet=ALPHABET, min_size=17, max_size=17).filter(lambda t: t[2:8].isdigit())


@given(first17)
def test_a_code_built_with_its_check_character_passes(body):
    assert parse(body + check_character(body)).code == body + check_character(body)


@given(first17, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_any_single_character_change_fails(body, position, shift):
    code = body + check_character(body)
    changed = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    wrong = code[:position] + changed + code[position + 1 :]
    with pytest.raises(CreditCodeError):
        parse(wrong)
