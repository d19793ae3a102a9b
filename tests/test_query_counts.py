"""List pages and API lists keep a fixed number of queries however many rows they show
(STYLE.md §9): no N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_user
from liudong.regions.models import Region
from liudong.regions.services import save_grid

pytestmark = pytest.mark.django_db

PAGES = [
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


@pytest.mark.parametrize("url", PAGES)
def test_query_count_does_not_grow_with_rows(url, county_admin, client_for):
    client = client_for(county_admin)
    add_grids(county_admin, 2, 0)
    few = queries(client, url)
    add_grids(county_admin, 8, 2)
    many = queries(client, url)
    assert many == few, f"{url}: {few} queries for few rows, {many} for many"
