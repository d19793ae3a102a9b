"""Certificate test helpers: a key folder per test, and women of a chosen age.

She is registered (household) in township A (330106002, village 330106002001) and lives
in county B (330105, village 330105001001) unless a test says otherwise.
"""

from __future__ import annotations

import datetime

import pytest

from liudong.actors import OPERATOR

TODAY = datetime.date(2026, 6, 15)
HOUSEHOLD = "330106002001"
RESIDENCE = "330105001001"


@pytest.fixture(autouse=True)
def own_node_keys(node_keys):
    """Every test signs with keys of its own, in a folder of its own (root conftest)."""
    return node_keys


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


_sequence = iter(range(2, 1000, 2))


def make_person(
    *,
    born: datetime.date | None = None,
    sex: str = "2",
    household: str = HOUSEHOLD,
    residence: str | None = RESIDENCE,
    arrived: datetime.date | None = None,
    name: str = "周敏",
    marital_status: str = "20",
    **fields,
):
    """A person file (through the arrival service when she lives somewhere)."""
    from liudong.people.idnumbers import make
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    born = born or years_before(TODAY, 30)
    person = Person(
        id_number=make(household[:6], born, next(_sequence), sex),
        name=name,
        sex=sex,
        birth_date=born,
        marital_status=marital_status,
        household_region_id=household,
        **fields,
    )
    if residence is None:
        person.save()
        return person
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code=residence),
        arrival_date=arrived or datetime.date(2026, 5, 1),
    )
    return person


@pytest.fixture
def woman(villages):
    return make_person()
