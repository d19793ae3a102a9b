"""The indicator vocabulary: what a definition may say, and the age rule's boundaries."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from liudong.people.models import age_on
from liudong.stats import definitions
from liudong.stats.engine import years_before
from liudong.stats.models import Indicator, Unit


def _refusal(raw) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        definitions.parse(raw)
    return caught.value


def test_the_standard_set_ships_as_data(db):
    codes = set(Indicator.objects.filter(standard=True).values_list("code", flat=True))
    assert {
        "outflow_total",
        "outflow_certificate_rate",
        "inflow_verified_within_30d_rate",
        "free_service_rate",
        "sex_ratio_at_birth",
    } <= codes
    for indicator in Indicator.objects.all():
        indicator.full_clean()  # every shipped definition passes the checks a county's would


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"count": "inflow", "where": {"hair_colour": "black"}}, "unknown_filter"),
        ({"count": "everyone"}, "unknown_population"),
        ({"count": "births", "where": {"married": True}}, "filter_population"),
        ({"count": "inflow", "where": {"age": [49, 18]}}, "bad_value"),
        ({"count": "inflow", "where": {"sex": "F"}}, "bad_value"),
        ({"count": "inflow", "where": {"service_in_year": "abortion"}}, "bad_value"),
        ({"count": "inflow", "where": {"verified_within_days": -1}}, "bad_value"),
    ],
)
def test_a_definition_naming_an_unknown_or_misused_filter_is_refused(raw, code):
    error = _refusal(raw)
    assert error.error_dict["definition"][0].code == code


def test_the_refusal_names_the_unknown_filter():
    error = _refusal({"count": "inflow", "where": {"pregnant": True}})
    assert "pregnant" in error.message_dict["definition"][0]


def test_a_ratio_needs_two_sides_and_a_known_scale():
    _refusal({"ratio": ["inflow_verified"]})
    _refusal({"ratio": ["inflow_verified", "inflow_adult_wcba"], "scale": 7})
    _refusal({"ratio": ["Not A Code", "inflow_adult_wcba"]})
    parsed = definitions.parse({"ratio": ["inflow_verified", {"count": "inflow"}]})
    assert isinstance(parsed, definitions.Ratio) and parsed.scale == 100


def test_an_indicator_a_county_adds_is_checked_before_it_is_saved(db):
    wrong_side = Indicator(
        code="rate_of_rates",
        name_zh="比率之比",
        name_en="rate of rates",
        unit=Unit.PERCENT,
        definition={"ratio": ["inflow_verification_rate", "inflow_total"]},
    )
    with pytest.raises(ValidationError, match="itself a ratio"):
        wrong_side.full_clean()
    unknown = Indicator(
        code="unknown_side",
        name_zh="未知",
        name_en="unknown",
        unit=Unit.PERCENT,
        definition={"ratio": ["no_such_indicator", "inflow_total"]},
    )
    with pytest.raises(ValidationError, match="no_such_indicator"):
        unknown.full_clean()
    wrong_unit = Indicator(
        code="men_in",
        name_zh="流入男性",
        name_en="men",
        unit=Unit.PERCENT,
        definition={"count": "inflow", "where": {"sex": "1"}},
    )
    with pytest.raises(ValidationError) as caught:
        wrong_unit.full_clean()
    assert "unit" in caught.value.message_dict


@given(
    born=st.dates(datetime.date(1940, 1, 1), datetime.date(2026, 12, 31)),
    day=st.dates(datetime.date(1990, 1, 1), datetime.date(2030, 12, 31)),
    years=st.integers(0, 80),
)
def test_the_birth_date_bound_agrees_with_whole_years_of_age(born, day, years):
    """Born on or before ``years_before(day, n)`` exactly when aged n or more on ``day``."""
    if born > day:
        return
    assert (born <= years_before(day, years)) == (age_on(born, day) >= years)
