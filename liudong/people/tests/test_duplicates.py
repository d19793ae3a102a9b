"""The possible-duplicate queue: finding pairs, merge, undo and dismiss."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.people import duplicates
from liudong.people.idnumbers import make, one_transposition_away
from liudong.people.models import Child, Person, PossibleDuplicate, ResidenceEpisode
from liudong.people.services import register_arrival
from liudong.regions.models import Region

pytestmark = pytest.mark.django_db

BORN = datetime.date(1992, 4, 5)


def arrive(id_number, name="刘洋", region="330106002001", day=datetime.date(2026, 1, 10)):
    person = Person(
        id_number=id_number,
        name=name,
        sex="2",
        birth_date=BORN,
        marital_status="10",
        household_region_id="411522101",
    )
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code=region),
        arrival_date=day,
    )
    return person


@pytest.fixture
def pair(villages):
    first = arrive(make("411522", BORN, 20, "2"))
    second = arrive(
        make("411522", BORN, 40, "2"), region="330106002002", day=datetime.date(2026, 2, 1)
    )
    Child.objects.create(parent=second, sex="1", birth_date=datetime.date(2020, 1, 1))
    return first, second


def test_same_name_and_birth_date_is_queued_once(pair):
    assert duplicates.find_duplicates() == 1
    assert duplicates.find_duplicates() == 0  # already queued
    found = PossibleDuplicate.objects.get()
    assert found.reason == "name_birth"
    assert {found.first_id, found.second_id} == {p.pk for p in pair}


def test_an_id_number_one_transposition_away_is_queued(villages):
    original = make("411522", BORN, 124, "2")
    swapped = sorted(one_transposition_away(original))[0]
    a = arrive(original, name="甲")
    b = arrive(swapped, name="乙")
    assert duplicates.find_duplicates([b]) == 1
    found = PossibleDuplicate.objects.get()
    assert found.reason == "transposed" and {found.first_id, found.second_id} == {a.pk, b.pk}


def test_merge_moves_everything_and_undo_restores_it(pair, township_a):
    first, second = pair
    duplicates.find_duplicates()
    duplicate = PossibleDuplicate.objects.get()
    duplicates.merge(acting_user=township_a, duplicate=duplicate, keep=first)
    second.refresh_from_db()
    assert second.merged_into_id == first.pk
    assert ResidenceEpisode.objects.filter(person=first).count() == 2
    assert ResidenceEpisode.objects.filter(person=first, departure_date__isnull=True).count() == 1
    assert Child.objects.get().parent_id == first.pk
    assert Person.objects.active().count() == 1
    merge_entry = AuditEntry.objects.get(detail__action="merge")
    assert merge_entry.actor_username == "township_a"

    duplicates.undo_merge(acting_user=township_a, duplicate=PossibleDuplicate.objects.get())
    second.refresh_from_db()
    assert second.merged_into_id is None
    assert ResidenceEpisode.objects.filter(person=second, departure_date__isnull=True).count() == 1
    assert ResidenceEpisode.objects.filter(person=first).count() == 1
    assert Child.objects.get().parent_id == second.pk
    assert PossibleDuplicate.objects.get().status == "open"
    assert AuditEntry.objects.filter(detail__action="unmerge").exists()


def test_dismiss_and_decided_pairs(pair, township_a):
    duplicates.find_duplicates()
    duplicate = PossibleDuplicate.objects.get()
    duplicates.dismiss(acting_user=township_a, duplicate=duplicate)
    assert PossibleDuplicate.objects.get().status == "dismissed"
    with pytest.raises(ValidationError):
        duplicates.merge(acting_user=township_a, duplicate=duplicate, keep=pair[0])


def test_another_township_may_not_decide(pair, township_b):
    duplicates.find_duplicates()
    with pytest.raises(PermissionDenied):
        duplicates.merge(
            acting_user=township_b, duplicate=PossibleDuplicate.objects.get(), keep=pair[0]
        )
    assert Person.objects.active().count() == 2


def test_a_pair_across_two_townships_is_seen_only_by_the_office_above_both(
    villages, township_a, township_b, county_admin
):
    arrive(make("411522", BORN, 60, "2"), region="330106002001")
    arrive(make("411522", BORN, 80, "2"), region="330106004001")
    duplicates.find_duplicates()
    assert PossibleDuplicate.objects.count() == 1
    assert not PossibleDuplicate.objects.in_scope(township_a).exists()
    assert not PossibleDuplicate.objects.in_scope(township_b).exists()
    assert PossibleDuplicate.objects.in_scope(county_admin).count() == 1


def _stays(person):
    return list(
        ResidenceEpisode.objects.filter(person=person)
        .order_by("arrival_date")
        .values_list("region_id", "arrival_date", "departure_date")
    )


@pytest.mark.parametrize("keep_index", [0, 1])
def test_a_merge_never_leaves_a_stay_ending_before_it_began(villages, township_a, keep_index):
    """The reported case: one file's stay open since 2026-11-20, the other's since
    2026-11-21. Whichever file is kept, the later stay stays open (where she lives now) and
    the earlier one ends the day the later began; an undo gives both back as they were."""
    earlier = arrive(
        make("411522", BORN, 20, "2"), region="330106002001", day=datetime.date(2026, 11, 20)
    )
    later = arrive(
        make("411522", BORN, 40, "2"), region="330106002002", day=datetime.date(2026, 11, 21)
    )
    duplicates.find_duplicates()
    keep = (earlier, later)[keep_index]
    duplicates.merge(acting_user=township_a, duplicate=PossibleDuplicate.objects.get(), keep=keep)
    assert _stays(keep) == [
        ("330106002001", datetime.date(2026, 11, 20), datetime.date(2026, 11, 21)),
        ("330106002002", datetime.date(2026, 11, 21), None),
    ]
    keep.refresh_from_db()
    assert keep.residence_region_id == "330106002002"
    for start, end in ResidenceEpisode.objects.values_list("arrival_date", "departure_date"):
        assert end is None or end >= start

    duplicates.undo_merge(acting_user=township_a, duplicate=PossibleDuplicate.objects.get())
    assert _stays(earlier) == [("330106002001", datetime.date(2026, 11, 20), None)]
    assert _stays(later) == [("330106002002", datetime.date(2026, 11, 21), None)]
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert earlier.residence_region_id == "330106002001"
    assert later.residence_region_id == "330106002002"


def test_a_merge_on_the_same_day_keeps_the_kept_files_stay_open(villages, township_a):
    day = datetime.date(2026, 11, 20)
    first = arrive(make("411522", BORN, 20, "2"), region="330106002001", day=day)
    arrive(make("411522", BORN, 40, "2"), region="330106002002", day=day)
    duplicates.find_duplicates()
    duplicates.merge(acting_user=township_a, duplicate=PossibleDuplicate.objects.get(), keep=first)
    assert ResidenceEpisode.objects.get(person=first, departure_date=None).region_id == (
        "330106002001"
    )
    closed = ResidenceEpisode.objects.get(person=first, region_id="330106002002")
    assert closed.departure_date == day
