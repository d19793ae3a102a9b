"""The resident actor through the framework's scope: her rows only, in every scoped model."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps

from liudong.actors import Resident
from liudong.base import ScopedQuerySet
from liudong.people.models import Person, ResidenceEpisode
from tests.scoped_models import fresh_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_people(villages, township_a):
    from liudong.people import idnumbers
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    people = []
    for name in ("甲", "乙"):
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
            acting_user=township_a,
            person=person,
            region=Region.objects.get(code="330106002001"),
            arrival_date=datetime.date(2026, 1, 5),
        )
        people.append(person)
    return people


def test_she_reads_her_own_file_and_stays_only(two_people):
    her, other = two_people
    me = Resident(her.pk)
    assert list(Person.objects.in_scope(me)) == [her]
    assert list(Person.objects.listed_in_scope(me)) == [her]
    assert {e.person_id for e in ResidenceEpisode.objects.in_scope(me)} == {her.pk}
    assert other.pk not in Person.objects.in_scope(me).values_list("pk", flat=True)


def test_a_model_without_a_path_to_her_gives_her_nothing(two_people):
    """Every scoped model: the rows she gets are none, or about her alone."""
    her, _other = two_people
    me = Resident(her.pk)
    for model in apps.get_models():
        if not isinstance(model._default_manager.all(), ScopedQuerySet):
            continue
        rows = model._default_manager.all().in_scope(me)
        path = getattr(model, "resident_path", None)
        if path is None:
            assert not rows.exists(), model
        else:
            assert not rows.exclude(**{path: her.pk}).exists(), model
