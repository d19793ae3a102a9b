"""The rules of places.services, each with the input that breaks it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.audit.models import AuditEntry
from liudong.base import StaleWrite
from liudong.places import services
from liudong.places.models import Employer, SafetyIssue

from .conftest import CODE, VILLAGE_A1, VILLAGE_B1, days, make_agreement, make_issue

pytestmark = pytest.mark.django_db


def test_a_new_employer_is_audited(employer, township_a):
    entry = AuditEntry.objects.get(object_type="places.employer", object_id=str(employer.pk))
    assert entry.action == "create" and entry.actor == township_a
    assert entry.after["credit_code"] == CODE and entry.region == VILLAGE_A1


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M0001I0Y43", "except I, O, Z"),
    ],
)
def test_a_bad_credit_code_is_refused_naming_the_rule(township_a, villages, code, words):
    with pytest.raises(ValidationError) as caught:
        services.create_employer(
            acting_user=township_a, credit_code=code, name="X", region=VILLAGE_A1
        )
    assert words in caught.value.message_dict["credit_code"][0]
    assert not Employer.objects.exists()


def test_a_credit_code_is_normalised(township_a, villages):
    made = services.create_employer(
        acting_user=township_a,
        credit_code="９１３５０１００m000100y43",
        name="X",
        region=VILLAGE_A1,
    )
    assert made.credit_code == CODE


def test_a_credit_code_is_registered_once(employer, township_a):
    with pytest.raises(ValidationError) as caught:
        services.create_employer(
            acting_user=township_a, credit_code=CODE, name="另一家", region=VILLAGE_A1
        )
    assert "already registered" in caught.value.message_dict["credit_code"][0]


def test_without_a_code_the_name_within_the_region_is_the_key(township_a, villages):
    services.create_employer(acting_user=township_a, name="小吃店", region=VILLAGE_A1)
    with pytest.raises(ValidationError) as caught:
        services.create_employer(acting_user=township_a, name="小吃店", region=VILLAGE_A1)
    assert "name" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.create_employer(acting_user=township_a, name="", region=VILLAGE_A1)
    assert "name" in caught.value.message_dict


def test_a_place_outside_the_callers_region_is_refused(township_a, villages):
    with pytest.raises(ValidationError) as caught:
        services.create_employer(acting_user=township_a, name="西溪厂", region=VILLAGE_B1)
    assert "outside your region" in caught.value.message_dict["region"][0]


def test_another_regions_user_cannot_change_a_place(employer, township_b):
    with pytest.raises(ValidationError):
        services.update_employer(employer, acting_user=township_b, name="改名")
    employer.refresh_from_db()
    assert employer.name == "北山服装厂"


def test_a_role_without_the_capability_is_refused(provider_a, villages):
    with pytest.raises(PermissionDenied):
        services.create_site(acting_user=provider_a, kind="market", name="X", region=VILLAGE_A1)


def test_an_update_is_audited_with_before_and_after(employer, township_a):
    services.update_employer(employer, acting_user=township_a, phone="0571-87654321")
    entry = AuditEntry.objects.filter(object_id=str(employer.pk), action="update").get()
    assert entry.before["phone"] == "13800000001" and entry.after["phone"] == "0571-87654321"
    assert employer.version == 2


def test_an_edit_that_changes_nothing_writes_nothing(employer, township_a):
    services.update_employer(employer, acting_user=township_a, phone="138 0000 0001")
    assert employer.version == 1
    assert not AuditEntry.objects.filter(object_id=str(employer.pk), action="update").exists()


def test_a_stale_version_is_refused(employer, township_a):
    services.update_employer(employer, acting_user=township_a, name="新名")
    stale = Employer.objects.get(pk=employer.pk)
    with pytest.raises(StaleWrite):
        services.update_employer(stale, acting_user=township_a, expected_version=1, name="旧名")
    # The row is as the first update left it, and only that update is in the log.
    stored = Employer.objects.get(pk=employer.pk)
    assert (stored.name, stored.version) == ("新名", 2)
    updates = AuditEntry.objects.filter(object_id=str(employer.pk), action="update")
    assert [entry.after.get("name") for entry in updates] == ["新名"]


def test_a_rental_house_needs_a_landlord(township_a, villages):
    with pytest.raises(ValidationError) as caught:
        services.create_rental_house(acting_user=township_a, address="某路1号", region=VILLAGE_A1)
    assert "landlord_name" in caught.value.message_dict


def test_an_agreement_ending_before_it_starts_is_refused(employer, township_a):
    with pytest.raises(ValidationError) as caught:
        make_agreement(township_a, employer, signed_on=days(-10), valid_until=days(-11))
    assert "before it is signed" in caught.value.message_dict["valid_until"][0]


def test_an_agreement_names_exactly_one_place(employer, house, township_a):
    with pytest.raises(ValidationError, match="exactly one place"):
        services.create_agreement(
            acting_user=township_a,
            kind="service",
            signed_on=days(-1),
            employer=employer,
            rental_house=house,
        )
    with pytest.raises(ValidationError, match="exactly one place"):
        services.create_agreement(acting_user=township_a, kind="service", signed_on=days(-1))


def test_an_agreement_with_another_regions_place_is_refused(employer, township_b):
    with pytest.raises(ValidationError) as caught:
        make_agreement(township_b, employer, signed_on=days(-1))
    assert "employer" in caught.value.message_dict


def test_expiring_agreements(employer, house, site, township_a, township_b):
    soon = make_agreement(township_a, employer, signed_on=days(-300), valid_until=days(20))
    sooner = make_agreement(township_a, site, signed_on=days(-300), valid_until=days(3))
    make_agreement(township_a, house, signed_on=days(-300), valid_until=days(90))  # later
    make_agreement(township_a, house, signed_on=days(-300), valid_until=days(-1))  # ended
    make_agreement(township_a, house, signed_on=days(-300))  # open-ended
    assert list(services.expiring_agreements(township_a)) == [sooner, soon]
    assert list(services.expiring_agreements(township_a, within_days=5)) == [sooner]
    assert not services.expiring_agreements(township_b).exists()


def test_a_hazard_rectified_before_it_was_found_is_refused(house, township_a):
    with pytest.raises(ValidationError) as caught:
        make_issue(township_a, house, found_on=days(-5), deadline=days(5), rectified_on=days(-6))
    assert "rectified before it was found" in caught.value.message_dict["rectified_on"][0]
    with pytest.raises(ValidationError) as caught:
        make_issue(township_a, house, found_on=days(-5), deadline=days(-6))
    assert "deadline" in caught.value.message_dict
    assert not SafetyIssue.objects.exists()


def test_open_rectifications_overdue_first(house, township_a, township_b):
    later = make_issue(township_a, house, found_on=days(-5), deadline=days(10))
    overdue = make_issue(township_a, house, found_on=days(-30), deadline=days(-1))
    done = make_issue(township_a, house, found_on=days(-30), deadline=days(-20))
    services.update_safety_issue(done, acting_user=township_a, rectified_on=days(-21))
    assert list(services.open_rectifications(township_a)) == [overdue, later]
    assert not services.open_rectifications(township_b).exists()


def test_link_stay(employer, house, township_a):
    from liudong.certificates.tests.conftest import make_person

    person = make_person(household="330105001001", residence=VILLAGE_A1)
    episode = person.episodes.get()
    services.link_stay(episode, employer=employer, rental_house=house, acting_user=township_a)
    episode.refresh_from_db()
    assert episode.employer_place == employer and episode.rental_house == house
    assert episode.employer == "北山服装厂"  # the free text, filled as it was blank
    entry = AuditEntry.objects.get(object_type="people.residenceepisode", action="update")
    assert entry.after["employer_place_id"] == employer.pk


def test_link_stay_refuses_another_regions_stay(employer, township_b):
    from liudong.certificates.tests.conftest import make_person

    episode = make_person(household="330105001001", residence=VILLAGE_A1).episodes.get()
    with pytest.raises(PermissionDenied):
        services.link_stay(episode, employer=employer, acting_user=township_b)


def test_a_missing_field_is_named_as_the_pages_name_it(township_a, villages):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        services.create_employer(acting_user=township_a, name="", region=VILLAGE_A1)
    assert caught.value.message_dict["name"] == ["请填写 名称。"]  # not `请填写 name。`
