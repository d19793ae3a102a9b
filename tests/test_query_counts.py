"""List pages and API lists keep a fixed number of queries however many rows they show
(STYLE.md §9): no N+1."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_user
from liudong.people import idnumbers
from liudong.people.models import Person
from liudong.people.services import add_child, register_arrival
from liudong.regions.models import Region
from liudong.regions.services import save_grid

pytestmark = pytest.mark.django_db

PAGES = [
    "/people/",
    "/people/?q=zw",
    "/people/?flow=inflow&sex=1",
    "/api/persons/",
    "/api/persons/?within=330106&arrival_after=2025-01-01",
    "/api/episodes/",
    "/api/children/",
    "/regions/grids/",
    "/accounts/users/",
    "/audit/",
    "/api/grids/",
    "/api/users/",
    "/api/audit/",
]


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def add_grids(township_admin, count, start):
    township = Region.objects.get(code="330106002")
    for n in range(start, start + count):
        collector = make_user(f"collector_{n}", "collector", "330106002001001")
        save_grid(
            acting_user=township_admin,
            name=f"网格{n}",
            region=township,
            areas=Region.objects.filter(code__in=["330106002001", "330106002002"]),
            responsible=collector,
            collectors=[collector],
        )


def add_persons(acting_user, count, start):
    """Inflow persons from 光山县 (河南) in 北山社区, each with a stay and a child."""
    household = Region.objects.get(code="411522")
    residence = Region.objects.get(code="330106002001")
    born = datetime.date(1990, 3, 7)
    for n in range(start, start + count):
        person = Person(
            id_number=idnumbers.make("411522", born, 2 * n + 1, "1"),
            name=f"张伟{n}",
            sex="1",
            birth_date=born,
            marital_status="20",
            household_region=household,
        )
        register_arrival(
            acting_user=acting_user,
            person=person,
            region=residence,
            arrival_date=datetime.date(2025, 3, 1),
        )
        add_child(acting_user=acting_user, parent=person, sex="2", birth_date=born.replace(2020))


@pytest.mark.parametrize("url", PAGES)
def test_query_count_does_not_grow_with_rows(url, county_admin, auditor, client_for):
    # The audit log is the auditor's alone (accounts.roles); every other list the county's.
    client = client_for(auditor if "audit" in url else county_admin)
    add_grids(county_admin, 2, 0)
    add_persons(county_admin, 2, 0)
    few = queries(client, url)
    add_grids(county_admin, 8, 2)
    add_persons(county_admin, 8, 2)
    many = queries(client, url)
    assert many == few, f"{url}: {few} queries for few rows, {many} for many"
