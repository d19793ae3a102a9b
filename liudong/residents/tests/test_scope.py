"""The resident actor through the framework's scope: her rows only, in every scoped model."""

from __future__ import annotations

import pytest
from django.apps import apps

from liudong.actors import Resident
from liudong.base import ScopedQuerySet
from liudong.people.models import Person, ResidenceEpisode

from .conftest import make_resident_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_people(villages, township_a):
    return [make_resident_file(township_a, name) for name in ("甲", "乙")]


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
