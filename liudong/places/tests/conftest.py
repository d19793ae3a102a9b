"""Places test helpers: an employer, a rental house and a site in township A
(330106002, village 北山社区 330106002001), created through the services."""

from __future__ import annotations

import datetime

import pytest

from liudong.places import services
from liudong.places.models import Agreement, SafetyIssue

VILLAGE_A1 = "330106002001"
VILLAGE_B1 = "330106004001"
CODE = "91350100M000100Y43"


@pytest.fixture
def employer(township_a):
    return services.create_employer(
        acting_user=township_a,
        credit_code=CODE,
        name="北山服装厂",
        address="北山路1号",
        region=VILLAGE_A1,
        contact_name="王经理",
        phone="13800000001",
    )


@pytest.fixture
def house(township_a):
    return services.create_rental_house(
        acting_user=township_a,
        address="曙光路8号",
        region=VILLAGE_A1,
        landlord_name="李房东",
        landlord_phone="13800000002",
        rooms=6,
    )


@pytest.fixture
def site(township_a):
    return services.create_site(
        acting_user=township_a, kind="market", name="北山农贸市场", region=VILLAGE_A1
    )


def make_agreement(user, place, *, signed_on, valid_until=None, kind="service") -> Agreement:
    field = {"Employer": "employer", "RentalHouse": "rental_house", "Site": "site"}[
        type(place).__name__
    ]
    return services.create_agreement(
        acting_user=user,
        kind=kind,
        signed_on=signed_on,
        valid_until=valid_until,
        **{field: place},
    )


def make_issue(user, house, *, found_on, deadline, rectified_on=None) -> SafetyIssue:
    return services.create_safety_issue(
        acting_user=user,
        rental_house=house,
        hazard="电动车楼道充电",
        found_on=found_on,
        deadline=deadline,
        rectified_on=rectified_on,
    )


def days(n: int) -> datetime.date:
    return datetime.date.today() + datetime.timedelta(days=n)
