"""Services test helpers: residents of township A and B, and a county campaign.

County 330106 runs a Warm Winter campaign over townships A (330106002) and B (330106004);
her file lives in village 330106002001 (township A), his in 330106004001 (township B).
"""

from __future__ import annotations

import datetime

import pytest

from liudong.certificates.tests.conftest import make_person

ARRIVED = datetime.date(2025, 3, 1)


@pytest.fixture
def resident_a(villages):
    return make_person(household="330105001001", residence="330106002001", arrived=ARRIVED)


@pytest.fixture
def resident_b(villages):
    return make_person(
        household="330105001001", residence="330106004001", arrived=ARRIVED, name="李强", sex="1"
    )


@pytest.fixture
def campaign(county_admin):
    from liudong.regions.models import Region
    from liudong.services.campaigns import services as campaign_services

    return campaign_services.create_campaign(
        acting_user=county_admin,
        name="2025年温暖冬春行动",
        kind="warm_winter",
        starts_on=datetime.date(2025, 1, 10),
        ends_on=datetime.date(2025, 2, 28),
        regions=Region.objects.filter(code__in=["330106002", "330106004"]),
    )
