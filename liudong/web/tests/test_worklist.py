"""The grid worklist (issue 5 item 6): what is due in one grid, and only there."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from liudong.actors import OPERATOR
from liudong.certificates.models import Notice
from liudong.people.idnumbers import make
from liudong.people.models import Person
from liudong.people.services import register_arrival
from liudong.places import services as places
from liudong.places.models import Agreement, RentalHouse, SafetyIssue
from liudong.regions.models import Region
from liudong.services.help_requests import services as help_services
from liudong.services.records import services as record_services
from liudong.web.worklist import grid_worklist

pytestmark = pytest.mark.django_db

IN_GRID = "330106002001"  # 北山社区, one of grid A's areas
OUTSIDE = "330106002"  # the same township, but no village of the grid


def woman(name: str, village: str, arrived_days_ago: int, sequence: int) -> Person:
    today = timezone.localdate()
    person = Person(
        id_number=make("411522", datetime.date(1995, 3, 1), sequence, "2"),
        name=name,
        sex="2",
        birth_date=datetime.date(1995, 3, 1),
        marital_status="20",
        household_region_id="411522101",
    )
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code=village),
        arrival_date=today - datetime.timedelta(days=arrived_days_ago),
    )
    return person


@pytest.fixture
def due_in_the_grid(grid_a, township_a):
    today = timezone.localdate()
    waiting = woman("王芳", IN_GRID, 40, 2)  # over the 30 days
    woman("李娜", IN_GRID, 5, 4)
    woman("赵敏", OUTSIDE, 50, 6)  # not this grid's
    episode = waiting.episodes.get(departure_date__isnull=True)
    Notice.objects.create(
        person=waiting,
        episode=episode,
        region_id=IN_GRID,
        issued_on=today - datetime.timedelta(days=100),
        deadline=today - datetime.timedelta(days=8),
    )
    help_services.create_help_request(
        acting_user=township_a,
        person=waiting,
        category="wages",
        received_on=today - datetime.timedelta(days=20),
    )
    house = places.create(
        RentalHouse,
        acting_user=township_a,
        address="北山路8号",
        region=IN_GRID,
        landlord_name="周先生",
    )
    places.create(
        Agreement,
        acting_user=township_a,
        rental_house=house,
        kind="service",
        signed_on=today - datetime.timedelta(days=300),
        valid_until=today + datetime.timedelta(days=10),
    )
    places.create(
        SafetyIssue,
        acting_user=township_a,
        rental_house=house,
        hazard="楼道堆放杂物",
        found_on=today - datetime.timedelta(days=20),
        deadline=today - datetime.timedelta(days=5),
    )
    service = record_services.create_service_record(
        acting_user=township_a,
        person=waiting,
        service_type="counselling",
        date=today - datetime.timedelta(days=10),
        consent_recorded=True,
    )
    record_services.schedule_follow_up(
        acting_user=township_a, service=service, due_on=today - datetime.timedelta(days=1)
    )
    return waiting


def test_each_section_lists_what_is_due_in_the_grid_overdue_counted(
    due_in_the_grid, grid_a, township_a
):
    sections = {s.key: s for s in grid_worklist(township_a, grid_a)}

    arrivals = sections["arrivals"]
    assert [e.person.name for e in arrivals.items] == ["王芳", "李娜"]  # longest waiting first
    assert (arrivals.total, arrivals.overdue) == (2, 1)
    assert [n.person.name for n in sections["notices"].items] == ["王芳"]
    assert sections["follow_ups"].total == 1 and sections["follow_ups"].overdue == 1
    assert sections["help_requests"].total == 1 and sections["help_requests"].overdue == 1
    assert sections["agreements"].total == 1
    assert sections["hazards"].total == 1 and sections["hazards"].overdue == 1


def test_another_grid_and_another_township_see_none_of_it(
    due_in_the_grid, grid_b, township_b, grid_a
):
    assert all(s.total == 0 for s in grid_worklist(township_b, grid_b))
    # Township B cannot even name grid A's people: its scope holds none of them.
    assert all(s.total == 0 for s in grid_worklist(township_b, grid_a))


def test_the_page_opens_the_workers_own_grid(due_in_the_grid, client_for, village_a1, grid_b):
    page = client_for(village_a1).get("/worklist/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "北山一网格" in html and "王芳" in html and "赵敏" not in html
    assert make("411522", datetime.date(1995, 3, 1), 2, "2") not in html  # masked
    # Another township's grid is not found from here.
    assert client_for(village_a1).get(f"/worklist/{grid_b.pk}/").status_code == 404
