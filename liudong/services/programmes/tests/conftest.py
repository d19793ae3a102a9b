"""Fixtures of the programme tests: a family of township A's village 北山社区 that
qualifies for the reward programme today (father born 1960, rural, one living daughter born
1990, births certified), made through the services as staff make it."""

from __future__ import annotations

import datetime
import itertools

import pytest

from liudong.people import idnumbers

D = datetime.date
VILLAGE_A1 = "330106002001"
VILLAGE_B1 = "330106004001"
_sequence = itertools.count(10, 2)
FATHER, MOTHER, DAUGHTER = D(1960, 5, 1), D(1962, 7, 2), D(1990, 3, 1)


def id_number(born: datetime.date, sex: str) -> str:
    return idnumbers.make("330106", born, next(_sequence), sex)


def make_family(
    actor,
    *,
    village=VILLAGE_A1,
    certified=True,
    children=((DAUGHTER, "2"),),
    father=FATHER,
    mother=MOTHER,
    household_type="agricultural",
):
    from liudong.regions.models import Region
    from liudong.services.programmes import services

    family = services.create_family(
        acting_user=actor,
        applicant_name="王建国",
        applicant_id_number=id_number(father, "1"),
        spouse_name="李秀英",
        spouse_id_number=id_number(mother, "2") if mother else "",
        household_type=household_type,
        household_region=Region.objects.get(code=village),
        household_address="北山社区 1 号",
    )
    for born, sex in children:
        services.add_child(acting_user=actor, family=family, sex=sex, birth_date=born)
    if certified:
        services.certify_births(
            acting_user=actor, family=family, certified_on=D(2026, 1, 5), note="村委会、乡镇确认"
        )
    family.refresh_from_db()
    return family


@pytest.fixture
def family(township_a):
    return make_family(township_a)


@pytest.fixture
def reward():
    from liudong.services.programmes.models import Programme

    return Programme.objects.get(code="reward")
