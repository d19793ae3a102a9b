"""A scope over several region fields, some across a join (a stay's own region, its
person's household and residence), listed whole (an API list), is read one field at a
time and the branches joined (liudong.base.ScopedQuerySet.listed_in_scope), so each branch
is an index range scan instead of an OR that reads every stay. It must select exactly the
rows ``in_scope`` (the OR) selects: stays whose own region, household or residence lies in
the region, for every named user."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.db.models import Q

from liudong.base import _code_lookup
from liudong.people import idnumbers
from liudong.people.models import Child, Person, ResidenceEpisode
from liudong.regions.codes import subtree_q

pytestmark = pytest.mark.django_db

BEISHAN = "330106002001"  # township A
SHUGUANG = "330106002002"  # township A
XIXI = "330106004001"  # township B
TAOYUAN = "330106004002"  # township B
GONGCHEN = "330105001001"  # county B
HENAN = "411522"
_serial = itertools.count(1)


def person(name: str, household: str, residence: str | None) -> Person:
    n = next(_serial)
    born = datetime.date(1990, 1, 1) + datetime.timedelta(days=n)
    return Person.objects.create(
        id_number=idnumbers.make("411522", born, n * 2, "2"),
        name=name,
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region_id=household,
        residence_region_id=residence,
        is_floating=household != residence,
    )


def stay(who: Person, region: str, arrived: str, left: str | None = None) -> ResidenceEpisode:
    return ResidenceEpisode.objects.create(
        person=who,
        region_id=region,
        arrival_date=datetime.date.fromisoformat(arrived),
        departure_date=datetime.date.fromisoformat(left) if left else None,
    )


@pytest.fixture
def stays(villages):
    """Stays named by what places them: inflow, outflow, and stays crossing regions."""
    # From Henan, lived in township B, now lives in township A (inflow of A).
    inflow = person("流入", HENAN, BEISHAN)
    # Registered in township A, lives in county B (outflow of A).
    outflow = person("流出", "330106002", GONGCHEN)
    # From Henan, stayed in township A once, now in county B: only that stay is A's.
    passed = person("路过", HENAN, GONGCHEN)
    # Nothing to do with county 330106.
    stranger = person("无关", HENAN, "330105001")
    made = {
        "inflow earlier in B": stay(inflow, TAOYUAN, "2023-01-01", "2024-01-01"),
        "inflow now in A": stay(inflow, BEISHAN, "2024-01-02"),
        "outflow in county B": stay(outflow, GONGCHEN, "2024-05-01"),
        "passed through A": stay(passed, SHUGUANG, "2022-01-01", "2022-06-30"),
        "passed now in county B": stay(passed, GONGCHEN, "2022-07-01"),
        "stranger": stay(stranger, "330105001", "2021-01-01"),
    }
    Child.objects.create(parent=inflow, sex="1", birth_date=datetime.date(2020, 1, 1))
    Child.objects.create(parent=outflow, sex="2", birth_date=datetime.date(2021, 1, 1))
    Child.objects.create(parent=stranger, sex="2", birth_date=datetime.date(2019, 1, 1))
    return made


def by_or(model, prefix: str) -> set[int]:
    """The rows the scope meant before it was split: any field in the subtree (an OR)."""
    condition = Q()
    for field in model.scope_fields:
        condition |= subtree_q(prefix, field=_code_lookup(model, field))
    return set(model.objects.filter(condition).values_list("pk", flat=True))


def names_of(stays: dict, pks: set[int]) -> set[str]:
    return {name for name, row in stays.items() if row.pk in pks}


@pytest.fixture
def users(township_a, township_b, village_a1, county_admin, county_b_admin):
    return [township_a, township_b, village_a1, county_admin, county_b_admin]


def listed(model, user) -> set[int]:
    return set(model.objects.listed_in_scope(user).values_list("pk", flat=True))


def test_stays_listed_in_scope_of_each_named_user(stays, users):
    seen = {user.username: names_of(stays, listed(ResidenceEpisode, user)) for user in users}
    # A's: both stays of the woman living there now (her earlier one in B too), the
    # outflow's stay in county B, and the stay in A of one who has moved on.
    assert seen["township_a"] == {
        "inflow earlier in B",
        "inflow now in A",
        "outflow in county B",
        "passed through A",
    }
    # B sees only the stay in B: the woman lives in A now, registered in Henan.
    assert seen["township_b"] == {"inflow earlier in B"}
    assert seen["village_a1"] == {"inflow earlier in B", "inflow now in A"}
    assert seen["county_admin"] == seen["township_a"]
    assert seen["county_b_admin"] == {
        "outflow in county B",
        "passed through A",
        "passed now in county B",
        "stranger",
    }


@pytest.mark.parametrize("model", [ResidenceEpisode, Child])
def test_the_branches_select_what_the_or_selects(stays, users, model):
    for user in users:
        assert listed(model, user) == by_or(model, user.region_id)
        assert listed(model, user) == set(model.objects.in_scope(user).values_list("pk", flat=True))


def test_the_listed_scope_reads_no_join_in_an_or(stays, township_a):
    """The point of the split: no branch ORs a stay's field with its person's."""
    sql = str(ResidenceEpisode.objects.listed_in_scope(township_a).query).upper()
    assert "UNION" in sql
    assert " OR " not in sql


def test_a_scope_of_its_own_or_of_one_table_is_not_split(stays, township_a):
    from liudong.people.models import PossibleDuplicate

    # Person: two columns of one table, which PostgreSQL reads as a bitmap OR already.
    assert "UNION" not in str(Person.objects.listed_in_scope(township_a).query).upper()
    # PossibleDuplicate narrows in_scope() further: its own scope is kept as it is.
    assert "UNION" not in str(PossibleDuplicate.objects.listed_in_scope(township_a).query).upper()


def test_the_episode_api_lists_the_same_stays(stays, api_for, users):
    for user in users:
        answer = api_for(user).get("/api/episodes/")
        assert answer.status_code == 200, answer.content
        listed = {row["id"] for row in answer.json()["results"]}
        assert listed == set(ResidenceEpisode.objects.in_scope(user).values_list("pk", flat=True))
        assert listed == by_or(ResidenceEpisode, user.region_id)


def test_nobody_lists_nothing_and_the_operator_everything(stays):
    from liudong.actors import OPERATOR

    assert not ResidenceEpisode.objects.listed_in_scope(None).exists()
    assert listed(ResidenceEpisode, OPERATOR) == {row.pk for row in stays.values()}
