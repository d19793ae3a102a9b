"""One actor type and one authorize() (issue 14): the operator is explicit, None is nobody,
a peer node reaches only its trusted regions; messages stay those the services gave."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from liudong.accounts import roles
from liudong.actors import OPERATOR, Operator, PeerNode, account_of, reach, region_of
from liudong.authorization import allowed, authorize
from liudong.people import idnumbers
from liudong.people.models import Person
from liudong.people.services import register_arrival
from liudong.regions.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def person_a(township_a):
    person = Person(
        id_number=idnumbers.make("411522", datetime.date(1990, 3, 7), 11, "1"),
        name="张伟",
        sex="1",
        birth_date=datetime.date(1990, 3, 7),
        marital_status="20",
        household_region=Region.objects.get(code="411522"),
    )
    register_arrival(
        acting_user=township_a,
        person=person,
        region=Region.objects.get(code="330106002001"),
        arrival_date=datetime.date(2025, 3, 1),
    )
    return person


def test_none_is_nobody_and_the_operator_is_explicit(person_a):
    assert not Person.objects.in_scope(None).exists()
    assert list(Person.objects.in_scope(OPERATOR)) == [person_a]
    assert not Person.objects.in_scope(Operator(prefix="330105")).exists()
    assert list(Person.objects.in_scope(Operator(prefix="330106"))) == [person_a]
    with pytest.raises(PermissionDenied):
        authorize(None, roles.CHANGE_PEOPLE)
    authorize(OPERATOR, roles.ISSUE_CERTIFICATES, "330106002")
    with pytest.raises(PermissionDenied, match="outside your region 330105"):
        authorize(Operator(prefix="330105"), roles.CHANGE_PEOPLE, "330106002")


def test_a_peer_node_reaches_its_trusted_regions_and_holds_no_capability(person_a):
    assert list(Person.objects.in_scope(PeerNode("3301"))) == [person_a]
    assert not Person.objects.in_scope(PeerNode("4401")).exists()
    assert not Person.objects.in_scope(PeerNode("")).exists()  # no prefix: nothing
    assert not allowed(PeerNode("3301"), roles.CHANGE_PEOPLE, "330106002")
    assert account_of(PeerNode("3301")) is None and reach(PeerNode("3301")) == "3301"


def test_authorize_checks_capability_then_region(township_a, township_b, provider_a):
    authorize(township_a, roles.CHANGE_PEOPLE, "330106002001")
    # Any of the regions given is enough (registration or residence).
    authorize(township_a, roles.CHANGE_PEOPLE, "411522", "330106002001")
    with pytest.raises(PermissionDenied, match="Your role may not change person files"):
        authorize(provider_a, roles.CHANGE_PEOPLE, "330106002001")
    with pytest.raises(PermissionDenied, match="outside your region 330106004"):
        authorize(township_b, roles.CHANGE_PEOPLE, "330106002001")
    # A caller's own sentence, with the field and the region it names.
    with pytest.raises(PermissionDenied, match=r"^branch: region 330106002 lies outside"):
        authorize(
            township_b,
            roles.RECORD_SERVICES,
            "330106002",
            outside="%(field)s: region %(code)s lies outside your region %(region)s.",
            field="branch",
        )
    # A region asked for but missing (None) is not "anywhere".
    with pytest.raises(PermissionDenied):
        authorize(township_a, roles.CHANGE_PEOPLE, None)
    assert allowed(township_a, roles.VERIFY_CERTIFICATES, "330106002001")
    assert not allowed(township_a, roles.VERIFY_CERTIFICATES, "330106004001")


def test_an_inactive_account_is_refused_and_sees_nothing(township_a, person_a):
    township_a.is_active = False
    assert not allowed(township_a, roles.CHANGE_PEOPLE, "330106002001")
    assert not Person.objects.in_scope(township_a).exists()


def test_the_operator_writes_no_account_into_created_by(township_a):
    assert account_of(OPERATOR) is None
    assert account_of(township_a) == township_a
    assert account_of(None) is None


def test_region_of_names_the_region_and_refuses_an_account_without_one(township_a):
    # Code that compares region codes asks region_of(), never user.region_id: an account
    # without a region is refused as can() and authorize() refuse it, not compared as None.
    assert region_of(township_a) == "330106002"
    assert region_of(Operator(prefix="3301")) == "3301"
    assert region_of(PeerNode(region_prefix="4115")) == "4115"
    township_a.region = None
    with pytest.raises(PermissionDenied, match="needs a region"):
        region_of(township_a)
