"""Who may change person files, and the calendar day the rules use."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.actors import OPERATOR
from liudong.people.idnumbers import make
from liudong.people.models import Person
from liudong.people.services import register_arrival
from liudong.regions.models import Region

pytestmark = pytest.mark.django_db


def newcomer():
    return Person(
        id_number=make("411522", datetime.date(1990, 5, 5), 10, "2"),
        name="周敏",
        sex="2",
        birth_date=datetime.date(1990, 5, 5),
        marital_status="10",
        household_region_id="411522101",
    )


@pytest.mark.parametrize("who", ["provider_a", "inspector"])
def test_read_only_roles_may_not_register_arrivals(who, request):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        register_arrival(
            acting_user=user,
            person=newcomer(),
            region=Region.objects.get(code="330106002001"),
            arrival_date=datetime.date(2026, 1, 1),
        )
    assert not Person.objects.exists()


def test_a_collector_registers_an_arrival_in_their_area(collector_a1):
    register_arrival(
        acting_user=collector_a1,
        person=newcomer(),
        region=Region.objects.get(code="330106002001001"),
        arrival_date=datetime.date(2026, 1, 1),
    )
    assert Person.objects.get().is_floating


def test_today_is_the_offices_day_not_the_servers(villages, settings, monkeypatch):
    """At 07:00 in Shanghai the server's UTC date is still yesterday: an arrival dated
    today (Shanghai) must be accepted, and tomorrow refused."""
    from django.utils import timezone

    shanghai_morning = datetime.datetime(
        2026, 11, 23, 7, 0, tzinfo=datetime.UTC
    ) - datetime.timedelta(hours=8)  # 2026-11-22 23:00 UTC = 2026-11-23 07:00 in Shanghai
    monkeypatch.setattr(timezone, "now", lambda: shanghai_morning)
    region = Region.objects.get(code="330106002001")
    register_arrival(
        acting_user=OPERATOR,
        person=newcomer(),
        region=region,
        arrival_date=datetime.date(2026, 11, 23),
    )
    with pytest.raises(ValidationError, match="future"):
        register_arrival(
            acting_user=OPERATOR,
            person=Person.objects.get(),
            region=region,
            arrival_date=datetime.date(2026, 11, 24),
        )


@pytest.mark.parametrize("query", ["王", "zw", "4115221990", "13800138000"])
def test_searches_are_answered_from_indexes(query, villages):
    from django.db import connection

    from liudong.people.filters import search_persons

    sql, params = search_persons(Person.objects.all(), query).query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "SCAN people_person" not in plan, plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan


@pytest.mark.parametrize("action", ["move", "return"])
def test_a_move_or_return_based_on_an_old_version_is_refused(action, township_a):
    from liudong.base import StaleWrite
    from liudong.people import services

    person = newcomer()
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code="330106002001"),
        arrival_date=datetime.date(2026, 3, 1),
    )
    seen = person.version
    services.update_person(acting_user=OPERATOR, person=person, phone="13800138000")
    with pytest.raises(StaleWrite):
        if action == "move":
            services.move_within(
                acting_user=OPERATOR,
                person=person,
                region=Region.objects.get(code="330106004"),
                moved_on=datetime.date(2026, 4, 1),
                expected_version=seen,
            )
        else:
            services.return_home(
                acting_user=OPERATOR,
                person=person,
                returned_on=datetime.date(2026, 4, 1),
                expected_version=seen,
            )
    assert person.episodes.filter(departure_date__isnull=True).get().region_id == "330106002001"
