"""A service station and an inspector see nobody's help requests or memberships: those
belong to the offices that keep person files (PIPL: the minimum necessary)."""

import datetime

import pytest

from liudong.services.associations import services as association_services
from liudong.services.help_requests import services as help_services
from liudong.services.models import HelpRequest, Membership

pytestmark = pytest.mark.django_db


def test_help_requests_and_memberships_stay_with_the_offices(
    resident_a, township_a, provider_a, inspector, api_for
):
    help_services.create_help_request(acting_user=township_a, person=resident_a, category="wages")
    branch = association_services.create_branch(
        acting_user=township_a,
        name="北山流动人口计生协会",
        region=township_a.region,
        founded_on=datetime.date(2020, 1, 1),
    )
    association_services.create_membership(
        acting_user=township_a,
        branch=branch,
        person=resident_a,
        joined_on=datetime.date(2025, 6, 1),
    )

    assert HelpRequest.objects.in_scope(township_a).count() == 1
    assert Membership.objects.in_scope(township_a).count() == 1
    for user in (provider_a, inspector):
        assert not HelpRequest.objects.in_scope(user).exists()
        assert not Membership.objects.in_scope(user).exists()
    listed = api_for(provider_a).get("/api/help-requests/").json()
    assert listed["count"] == 0
