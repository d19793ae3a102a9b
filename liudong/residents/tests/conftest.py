"""Her file and her code, for the residents app's tests."""

from __future__ import annotations

import datetime

import pytest

from liudong.people.models import Person
from tests.scoped_models import fresh_id_number


def make_resident_file(township, name: str = "王秀英") -> Person:
    from liudong.people import idnumbers
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    number = fresh_id_number()
    person = Person(
        id_number=number,
        name=name,
        sex="2",
        birth_date=idnumbers.parse(number).birth_date,
        marital_status="20",
        household_region=Region.objects.get(code="411522"),
    )
    register_arrival(
        acting_user=township,
        person=person,
        region=Region.objects.get(code="330106002001"),
        arrival_date=datetime.date(2026, 1, 5),
    )
    return person


@pytest.fixture
def her(villages, township_a) -> Person:
    return make_resident_file(township_a)


@pytest.fixture
def her_code(her, township_a) -> str:
    from liudong.residents.services import issue_code

    code, _access = issue_code(acting_user=township_a, person=her)
    return code


def sign_in_data(person: Person, code: str, **changes: str) -> dict:
    data = {
        "id_number": person.id_number,
        "code": code,
        "birth_date": person.birth_date.isoformat(),
    }
    data.update(changes)
    return data
