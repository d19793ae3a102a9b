"""The ID number rules (GB 11643-1999): check character, legacy conversion, normalisation of
what people type, the error each malformed value gets, masking and near-duplicates."""

import contextlib
import datetime
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liudong.people.idnumbers import (
    IdNumber,
    IdNumberError,
    check_character,
    is_valid,
    make,
    mask,
    normalise,
    one_transposition_away,
    parse,
)

TODAY = datetime.date(2026, 5, 9)
GB_EXAMPLE = "11010519491231002X"  # the worked example in GB 11643-1999, annex A

digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)
birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY)
regions = st.text(alphabet="0123456789", min_size=6, max_size=6)
sexes = st.sampled_from(["1", "2"])


# -- known numbers ---------------------------------------------------------------------------


def test_the_standard_example_parses_into_its_parts():
    assert parse(GB_EXAMPLE, today=TODAY) == IdNumber(
        value=GB_EXAMPLE,
        region="110105",
        birth_date=datetime.date(1949, 12, 31),
        sex="2",
        check_ok=True,
        converted_from_15=False,
    )


@pytest.mark.parametrize(
    "first17, check",
    [
        ("11010519491231002", "X"),  # GB 11643 annex A
        # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+9*6+0*3+0*7+3*9+0*10+7*5+0*8+0*4+2*2 = 172;
        # 172 mod 11 = 7 -> "10X98765432"[7] = "5"
        ("11010519900307002", "5"),
        ("44030419850615123", "7"),
        ("41152219900307001", "7"),
        ("33010620000229002", "9"),
    ],
)
def test_check_character_of_known_numbers(first17, check):
    assert check_character(first17) == check
    assert is_valid(first17 + check)


def _by_hand(first17: str) -> str:
    # The rule written out as GB 11643 states it, independently of the module's tables:
    # weight of position i is 2**(18-i) mod 11, and the check a1 satisfies
    # (sum + a1 * 1) mod 11 == 1.
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    for a1, char in enumerate("0123456789"):
        if (total + a1) % 11 == 1:
            return char
    return "X"  # a1 = 10


@given(digits17)
def test_check_character_agrees_with_the_standards_formula(first17):
    assert check_character(first17) == _by_hand(first17)


def test_numbers_built_with_make_parse_back():
    value = make("411522", datetime.date(1990, 3, 7), 2, "2")
    assert value[:17] == "41152219900307002"
    number = parse(value, today=TODAY)
    assert number.check_ok and number.sex == "2" and number.region == "411522"
    assert number.birth_date == datetime.date(1990, 3, 7)


@pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100X", "abc", ""])
def test_check_character_needs_17_digits(bad):
    with pytest.raises(ValueError, match="17 ASCII digits"):
        check_character(bad)


# -- MOD 11-2 guarantees ---------------------------------------------------------------------


@given(regions, birth_dates, st.integers(0, 999), sexes)
def test_appending_the_check_character_gives_a_valid_number(region, born, sequence, sex):
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    number = parse(first17 + check_character(first17), today=TODAY)
    assert number.check_ok


@given(
    regions,
    birth_dates,
    st.integers(0, 999),
    st.integers(0, 16),
    st.integers(1, 9),
)
def test_changing_any_single_digit_breaks_the_check(region, born, sequence, position, delta):
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    value = first17 + check_character(first17)
    changed = str((int(value[position]) + delta) % 10)
    typo = value[:position] + changed + value[position + 1 :]
    try:
        number = parse(typo, today=TODAY)
    except IdNumberError as exc:
        assert exc.code == "birth_date"  # the typo fell inside the birth date
    else:
        assert not number.check_ok


@given(regions, birth_dates, st.integers(0, 999))
def test_a_wrong_check_character_is_a_warning_not_an_error(region, born, sequence):
    value = make(region, born, sequence, "1")
    for wrong in "0123456789X":
        if wrong != value[17]:
            number = parse(value[:17] + wrong, today=TODAY)
            assert not number.check_ok
            assert number.value == value[:17] + wrong  # kept as typed, for staff to fix
            assert not is_valid(value[:17] + wrong)


# -- legacy 15-digit numbers -----------------------------------------------------------------


def test_the_standard_example_in_its_old_form_converts():
    number = parse("110105491231002", today=TODAY)
    assert number.value == GB_EXAMPLE
    assert number.converted_from_15 and number.check_ok


@given(
    regions,
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1999, 12, 31)),
    st.integers(0, 999),
    sexes,
)
def test_15_to_18_round_trip(region, born, sequence, sex):
    value = make(region, born, sequence, sex)
    legacy = value[:6] + value[8:17]  # drop the century and the check character
    number = parse(legacy, today=TODAY)
    assert number.value == value
    assert number.converted_from_15 and number.check_ok
    assert (number.birth_date, number.sex) == (born, sex)


def test_an_old_number_has_digits_only():
    with pytest.raises(IdNumberError, match="digits only") as caught:
        parse("11010549123100X", today=TODAY)
    assert caught.value.code == "characters"


# -- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "１１０１０５１９４９１２３１００２ｘ",  # full-width, from a Chinese input method
        "１１０１０５１９４９１２３１００２Ｘ",
        "11010519491231002x",
        " 11010519491231002X ",
        "110105 19491231 002X",
        "110105-19491231-002X",
        "110105\u300019491231\u3000002X",  # ideographic spaces
        "\ufeff11010519491231002X\u200b",  # a byte-order mark and a zero-width space
        "'11010519491231002X",  # Excel's keep-as-text apostrophe, kept by some csv exports
        "\t11010519491231002X",
    ],
)
def test_normalise_tidies_what_people_type(raw):
    assert normalise(raw) == GB_EXAMPLE
    assert parse(raw, today=TODAY).value == GB_EXAMPLE


def test_normalise_spreadsheet_cells():
    assert normalise(None) == ""
    assert normalise(float("nan")) == ""  # an empty cell as pandas reads it
    assert normalise(110105199003070021) == "110105199003070021"  # an int cell is exact
    assert normalise(110105491231002.0) == "110105491231002"  # 15 digits survive a float
    assert parse(110105491231002.0, today=TODAY).value == GB_EXAMPLE


def test_an_18_digit_number_stored_as_a_float_is_refused_as_unrecoverable():
    with pytest.raises(IdNumberError, match="lost its last digits") as caught:
        parse(1.10105199003070021e17, today=TODAY)
    assert caught.value.code == "characters"


# -- errors name the rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, code, fragment",
    [
        (None, "required", "required"),
        ("", "required", "required"),
        ("  - ", "required", "required"),
        ("1101051949123100", "length", "18 characters (or 15 for an old one); got 16"),
        ("11010519491231002XX", "length", "got 19"),
        ("1101051949123100AX", "characters", "17 digits and then a digit or X"),
        ("11010519491231002Y", "characters", "17 digits and then a digit or X"),
        ("X10105194912310021", "characters", "17 digits"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "characters", "17 digits"),  # Arabic-Indic digits stay non-ASCII
        ("110105199013450021", "birth_date", "19901345 in the ID number is not a real date"),
        ("110105199002300021", "birth_date", "not a real date"),
        ("110105189912310021", "birth_date", "before 1900"),
        ("110105209912310021", "birth_date", "in the future"),
    ],
)
def test_each_malformed_value_gets_its_rule(raw, code, fragment):
    with pytest.raises(IdNumberError, match=re.escape(fragment)) as caught:
        parse(raw, today=TODAY)
    assert caught.value.code == code
    assert not is_valid(raw)


def test_id_number_error_is_a_value_error():
    assert issubclass(IdNumberError, ValueError)


# -- birth date boundaries -------------------------------------------------------------------


def _with_birth(born: datetime.date) -> str:
    first17 = f"110105{born:%Y%m%d}002"
    return first17 + check_character(first17)


def _birth_code(born_digits: str) -> str | None:
    first17 = f"110105{born_digits}002"
    try:
        parse(first17 + check_character(first17), today=TODAY)
    except IdNumberError as exc:
        return exc.code
    return None


def test_birth_date_boundaries():
    assert parse(_with_birth(datetime.date(1900, 1, 1)), today=TODAY).check_ok
    assert _birth_code("18991231") == "birth_date"
    assert parse(_with_birth(TODAY), today=TODAY).birth_date == TODAY
    assert _birth_code(f"{TODAY + datetime.timedelta(days=1):%Y%m%d}") == "birth_date"


@pytest.mark.parametrize(
    "digits, real",
    [
        ("20000229", True),  # divisible by 400: leap
        ("19960229", True),
        ("19000229", False),  # divisible by 100 but not 400: not leap
        ("19970229", False),
        ("19970228", True),
    ],
)
def test_february_29_only_in_leap_years(digits, real):
    assert (_birth_code(digits) is None) is real


def test_today_defaults_to_the_real_today():
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    first17 = f"110105{tomorrow:%Y%m%d}002"
    assert not is_valid(first17 + check_character(first17))


# -- sex -------------------------------------------------------------------------------------


@pytest.mark.parametrize("digit, sex", [(str(d), "1" if d % 2 else "2") for d in range(10)])
def test_sex_is_the_parity_of_the_17th_digit(digit, sex):
    first17 = "1101051949123100" + digit
    assert parse(first17 + check_character(first17), today=TODAY).sex == sex


@given(regions, birth_dates, st.integers(0, 999), sexes)
def test_make_gives_the_sex_asked_for(region, born, sequence, sex):
    value = make(region, born, sequence, sex)
    number = parse(value, today=TODAY)
    assert number.sex == sex and number.check_ok
    assert abs(int(value[14:17]) - sequence) <= 1


def test_make_keeps_the_sequence_in_range():
    born = datetime.date(1990, 3, 7)
    assert make("110105", born, 999, "2")[14:17] == "998"
    assert make("110105", born, 999, "1")[14:17] == "999"
    assert make("110105", born, 0, "1")[14:17] == "001"
    assert make("110105", born, 0, "2")[14:17] == "000"


@pytest.mark.parametrize(
    "region, born, sequence, sex",
    [
        ("11010", datetime.date(1990, 1, 1), 1, "1"),
        ("11010a", datetime.date(1990, 1, 1), 1, "1"),
        ("110105", datetime.date(1899, 12, 31), 1, "1"),
        ("110105", "1990-01-01", 1, "1"),
        ("110105", datetime.date(1990, 1, 1), 1000, "1"),
        ("110105", datetime.date(1990, 1, 1), -1, "1"),
        ("110105", datetime.date(1990, 1, 1), True, "1"),
        ("110105", datetime.date(1990, 1, 1), 1, "男"),
    ],
)
def test_make_refuses_bad_inputs(region, born, sequence, sex):
    with pytest.raises(ValueError):
        make(region, born, sequence, sex)


# -- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, masked",
    [
        ("110105199003070021", "110105********0021"),
        (GB_EXAMPLE, "110105********002X"),
        ("110105491231002", "110105********1002"),
        ("1234567890", "123456********7890"),
        ("123456789", "*********"),
        ("", ""),
    ],
)
def test_mask(value, masked):
    assert mask(value) == masked


# -- transpositions --------------------------------------------------------------------------


def test_one_transposition_away_finds_the_number_a_swap_was_meant_to_be():
    meant = make("411522", datetime.date(1990, 3, 7), 17, "1")
    typed = meant[:14] + meant[15] + meant[14] + meant[16:]  # sequence digits swapped
    assert not parse(typed, today=TODAY).check_ok  # MOD 11-2 catches the swap
    assert meant in one_transposition_away(typed, today=TODAY)


def test_one_transposition_away_lists_each_swap_once_with_a_fresh_check():
    value = "110105199003070021"
    found = one_transposition_away(value, today=TODAY)
    assert value not in found
    assert "101105199003070025"[:17] in {v[:17] for v in found}  # first two digits swapped
    assert all(v[:17] != value[:17] for v in found)
    # "11" at the start, "00" and "00" in the middle swap to themselves: no such entries.
    swaps = {
        value[:i] + value[i + 1] + value[i] + value[i + 2 : 17]
        for i in range(16)
        if value[i] != value[i + 1]
    }
    dated = {s for s in swaps if _birth_code(s[6:14]) is None}
    assert {v[:17] for v in found} == dated


@given(regions, birth_dates, st.integers(0, 999), sexes)
def test_every_transposition_is_a_valid_number(region, born, sequence, sex):
    value = make(region, born, sequence, sex)
    found = one_transposition_away(value, today=TODAY)
    assert value not in found
    for other in found:
        number = parse(other, today=TODAY)
        assert number.check_ok
        assert sum(a != b for a, b in zip(other[:17], value[:17], strict=True)) == 2


def test_one_transposition_away_needs_a_normalised_number():
    with pytest.raises(ValueError):
        one_transposition_away("110105491231002")


# -- robustness ------------------------------------------------------------------------------


@given(st.text())
def test_parse_raises_only_id_number_errors_on_any_text(raw):
    try:
        number = parse(raw, today=TODAY)
    except IdNumberError as exc:
        assert exc.code in ("required", "length", "characters", "birth_date")
        assert str(exc)
    else:
        assert len(number.value) == 18


@given(st.text(alphabet="0123456789Xx", min_size=18, max_size=18))
def test_parse_raises_only_id_number_errors_on_any_18_characters(raw):
    try:
        number = parse(raw, today=TODAY)
    except IdNumberError as exc:
        assert exc.code in ("characters", "birth_date")
    else:
        assert number.value == raw.upper()
        assert number.check_ok == (number.value[17] == check_character(raw[:17]))


@given(st.one_of(st.integers(), st.floats(), st.none(), st.booleans()))
def test_parse_raises_only_id_number_errors_on_any_cell_value(raw):
    with contextlib.suppress(IdNumberError):
        parse(raw, today=TODAY)
