"""The national baseline rules at every boundary the issue names, judged through the shipped
programme data (migration 0002), and the vocabulary's refusals of a badly written rule."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from django.core.exceptions import ValidationError

from liudong.services.programmes.eligibility import judge
from liudong.services.programmes.models import Programme
from liudong.services.programmes.rules import ChildFacts, FamilyFacts, parse

ON = datetime.date(2026, 6, 30)
D = datetime.date

pytestmark = pytest.mark.django_db


def reward_family(**changes) -> FamilyFacts:
    """A family that qualifies for the reward programme on ON: father born 1966 (60 in
    2026), rural, one living child born 1995, births certified."""
    base = FamilyFacts(
        applicant_birth_date=D(1966, 5, 1),
        applicant_sex="1",
        spouse_birth_date=D(1968, 3, 2),
        spouse_sex="2",
        household_type="agricultural",
        births_certified=True,
        children=(ChildFacts(D(1995, 1, 1), "1", "living"),),
    )
    return dataclasses.replace(base, **changes)


def special_family(**changes) -> FamilyFacts:
    """A family that qualifies for special_death on ON: mother born 1977 (49 in 2026), the
    only child died."""
    base = FamilyFacts(
        applicant_birth_date=D(1977, 8, 8),
        applicant_sex="2",
        spouse_birth_date=D(1975, 1, 1),
        spouse_sex="1",
        household_type="non_agricultural",
        births_certified=False,
        children=(ChildFacts(D(2000, 2, 2), "2", "dead", death_date=D(2020, 1, 1)),),
    )
    return dataclasses.replace(base, **changes)


def disabled_child(grade: int) -> tuple[ChildFacts, ...]:
    return (ChildFacts(D(2000, 2, 2), "1", "disabled", disability_grade=grade),)


def test_the_baseline_families_qualify():
    assert judge(reward_family(), ON).programmes == ["reward"]
    assert judge(special_family(), ON).programmes == ["special_death"]
    disabled = special_family(children=disabled_child(3))
    assert judge(disabled, ON).programmes == ["special_disability"]


def test_reward_and_a_special_programme_at_once():
    family = reward_family(
        spouse_birth_date=D(1977, 1, 1),
        children=(ChildFacts(D(2000, 1, 1), "1", "dead", death_date=D(2010, 1, 1)),),
    )
    assert judge(family, ON).programmes == ["reward", "special_death"]


@pytest.mark.parametrize(("born", "qualifies"), [(D(1966, 12, 31), True), (D(1967, 1, 1), False)])
def test_reward_applicant_reaches_60_in_the_year(born, qualifies):
    verdict = judge(reward_family(applicant_birth_date=born), ON)
    assert ("reward" in verdict.programmes) is qualifies
    if not qualifies:
        assert "1967" in verdict.not_["reward"]


@pytest.mark.parametrize(("born", "qualifies"), [(D(1933, 1, 1), True), (D(1932, 12, 31), False)])
def test_reward_applicant_born_from_1933(born, qualifies):
    verdict = judge(reward_family(applicant_birth_date=born), ON)
    assert ("reward" in verdict.programmes) is qualifies


@pytest.mark.parametrize(
    ("household_type", "qualifies"),
    [
        ("agricultural", True),
        ("resident_rural", True),
        ("non_agricultural", False),
        ("resident_urban", False),
    ],
)
def test_reward_needs_a_rural_household(household_type, qualifies):
    verdict = judge(reward_family(household_type=household_type), ON)
    assert ("reward" in verdict.programmes) is qualifies


def test_reward_refuses_three_children():
    three = tuple(ChildFacts(D(1990 + i, 1, 1), "2", "living") for i in range(3))
    verdict = judge(reward_family(children=three), ON)
    assert verdict.programmes == []
    assert "3" in verdict.not_["reward"]


def test_reward_two_children_only_when_both_are_girls():
    girls = (ChildFacts(D(1990, 1, 1), "2", "living"), ChildFacts(D(1993, 1, 1), "2", "living"))
    mixed = (ChildFacts(D(1990, 1, 1), "2", "living"), ChildFacts(D(1993, 1, 1), "1", "living"))
    assert judge(reward_family(children=girls), ON).programmes == ["reward"]
    assert "reward" not in judge(reward_family(children=mixed), ON).programmes


@pytest.mark.parametrize(
    ("born", "qualifies"),
    [
        (D(1980, 1, 1), True),
        (D(1979, 12, 31), False),
        (D(2015, 12, 31), True),
        (D(2016, 1, 1), False),
    ],
)
def test_reward_youngest_child_born_1980_to_2015(born, qualifies):
    verdict = judge(reward_family(children=(ChildFacts(born, "1", "living"),)), ON)
    assert ("reward" in verdict.programmes) is qualifies


def test_reward_needs_the_births_certified():
    verdict = judge(reward_family(births_certified=False), ON)
    assert "reward" not in verdict.programmes
    assert verdict.not_["reward"] == judge(reward_family(births_certified=False), ON).not_["reward"]


@pytest.mark.parametrize(("born", "qualifies"), [(D(1977, 12, 31), True), (D(1978, 1, 1), False)])
def test_special_mother_reaches_49_in_the_year(born, qualifies):
    verdict = judge(special_family(applicant_birth_date=born), ON)
    assert ("special_death" in verdict.programmes) is qualifies


def test_special_mother_is_the_spouse_when_the_father_applies():
    father = special_family(
        applicant_birth_date=D(1975, 1, 1),
        applicant_sex="1",
        spouse_birth_date=D(1978, 1, 1),
        spouse_sex="2",
    )
    assert "special_death" not in judge(father, ON).programmes


@pytest.mark.parametrize(("born", "qualifies"), [(D(1933, 1, 1), True), (D(1932, 12, 31), False)])
def test_special_both_parents_born_from_1933(born, qualifies):
    verdict = judge(special_family(spouse_birth_date=born), ON)
    assert ("special_death" in verdict.programmes) is qualifies


def test_special_refuses_a_living_second_child():
    children = (
        ChildFacts(D(2000, 2, 2), "2", "dead", death_date=D(2020, 1, 1)),
        ChildFacts(D(2021, 5, 5), "1", "living"),
    )
    verdict = judge(special_family(children=children), ON)
    assert verdict.programmes == []
    assert set(verdict.not_) == {"reward", "special_death", "special_disability"}


@pytest.mark.parametrize(("grade", "qualifies"), [(3, True), (4, False)])
def test_special_disability_grade_1_to_3(grade, qualifies):
    verdict = judge(special_family(children=disabled_child(grade)), ON)
    assert ("special_disability" in verdict.programmes) is qualifies
    if not qualifies:
        assert "4" in verdict.not_["special_disability"]


def test_a_child_who_died_after_the_date_was_alive_on_it():
    child = (ChildFacts(D(2000, 2, 2), "2", "dead", death_date=D(2026, 12, 1)),)
    assert "special_death" not in judge(special_family(children=child), ON).programmes
    assert "special_death" in judge(special_family(children=child), D(2026, 12, 2)).programmes


def test_a_programme_added_as_data_is_judged():
    Programme.objects.create(
        code="province_extra",
        name="省级扶助",
        group="province_extra",
        rules=[{"rule": "reaches_age", "who": "applicant", "years": 65}],
    )
    assert "province_extra" not in judge(reward_family(), ON).programmes
    assert (
        "province_extra" in judge(reward_family(applicant_birth_date=D(1961, 1, 1)), ON).programmes
    )


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [{"rule": "age"}],
        [{"rule": "reaches_age", "who": "grandmother", "years": 60}],
        [{"rule": "reaches_age", "who": "applicant"}],
        [{"rule": "reaches_age", "who": "applicant", "years": 60, "extra": 1}],
        [{"rule": "born_on_or_after", "who": "applicant", "date": "1933-13-01"}],
        [{"rule": "children", "state": "sleeping", "max": 1}],
        [{"rule": "children", "min": 3, "max": 1}],
        [{"rule": "children"}],
        [{"rule": "household_type", "in": ["city"]}],
        [{"rule": "disability_grade", "max": 5}],
        [{"rule": "youngest_child_born", "from": "2016-01-01", "to": "1980-01-01"}],
        [{"rule": "any_of", "options": [[{"rule": "births_certified"}]]}],
        [{"rule": "any_of", "options": [[{"rule": "births_certified"}], [{"rule": "x"}]]}],
    ],
)
def test_a_badly_written_rule_is_refused(raw):
    with pytest.raises(ValidationError):
        parse(raw)


def test_the_shipped_rules_parse():
    for programme in Programme.objects.all():
        assert parse(programme.rules)
