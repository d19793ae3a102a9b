"""A search counts its matches only up to a cap (people.paging): the list page says "more
than" and the API sets ``count_capped``; the cap never widens the actor's region; and a
name search of a county or smaller reads the (region, name) indexes (EXPLAIN on both
databases)."""

from __future__ import annotations

import datetime

import pytest

from liudong.people import paging
from liudong.people.models import Person
from liudong.people.services import name_initials
from liudong.regions.models import Region

from .test_web import BEISHAN, HENAN, XIXI, english, id_for, page

pytestmark = pytest.mark.django_db

CAP = 5


@pytest.fixture(autouse=True)
def small_cap(monkeypatch):
    monkeypatch.setattr(paging, "SEARCH_COUNT_CAP", CAP)


def files(count: int, name: str, *, residence: str, first: int = 0) -> None:
    """``count`` files named ``name`` registered in 河南 and living at ``residence``."""
    household = Region.objects.get(code=HENAN)
    living = Region.objects.get(code=residence)
    born = datetime.date(1990, 3, 7)
    Person.objects.bulk_create(
        Person(
            # 400 men a day: a distinct number for each of thousands of files.
            id_number=id_for((first + k) % 400 * 2 + 1, born=born + day((first + k) // 400)),
            name=name,
            name_initials=name_initials(name),
            sex="1",
            birth_date=born + day((first + k) // 400),
            marital_status="20",
            household_region=household,
            residence_region=living,
            is_floating=True,
        )
        for k in range(count)
    )


def day(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def count_text(html: str) -> str:
    start = html.index('data-testid="person-count">') + len('data-testid="person-count">')
    return html[start : html.index("</p>", start)]


# --- the list page -----------------------------------------------------------------------


def test_a_search_past_the_cap_asks_to_narrow_it(township_a, client_for):
    files(CAP + 2, "王伟", residence=BEISHAN)
    client = english(client_for(township_a))
    assert count_text(page(client, "/people/", q="王")) == (
        f"More than {CAP} persons match; narrow the search."
    )
    # At the cap exactly: the count, no notice.
    assert count_text(page(client, "/people/", q="王伟", within="330106002")) != ""
    Person.objects.filter(pk__in=Person.objects.order_by("-pk").values("pk")[:2]).delete()
    assert count_text(page(client, "/people/", q="王")) == f"{CAP} persons"


def test_the_list_without_a_search_counts_every_file(township_a, client_for):
    files(CAP + 2, "王伟", residence=BEISHAN)
    html = page(english(client_for(township_a)), "/people/")
    assert count_text(html) == f"{CAP + 2} persons"


def test_the_cap_counts_only_files_in_the_actors_region(township_a, client_for):
    """Another township's matches neither show nor push the count past the cap."""
    files(CAP * 3, "王伟", residence=XIXI)  # township B
    files(CAP - 2, "王芳", residence=BEISHAN, first=100)  # township A
    html = page(english(client_for(township_a)), "/people/", q="王")
    assert count_text(html) == f"{CAP - 2} persons"
    assert html.count("王芳") == CAP - 2 and "王伟" not in html


# --- the API -----------------------------------------------------------------------------


def test_the_api_says_when_the_count_is_capped(township_a, api_for):
    files(CAP + 2, "王伟", residence=BEISHAN)
    api = api_for(township_a)
    body = api.get("/api/persons/", {"q": "王", "page_size": 2}).json()
    assert body["count"] == CAP and body["count_capped"] is True
    assert len(body["results"]) == 2
    body = api.get("/api/persons/", {"q": "王伟X"}).json()
    assert body["count"] == 0 and body["count_capped"] is False
    body = api.get("/api/persons/").json()
    assert body["count"] == CAP + 2 and "count_capped" not in body


def test_the_api_cap_counts_only_files_in_the_callers_region(township_a, api_for):
    files(CAP * 3, "王伟", residence=XIXI)
    files(CAP - 2, "王芳", residence=BEISHAN, first=100)
    body = api_for(township_a).get("/api/persons/", {"q": "王"}).json()
    assert body["count"] == CAP - 2 and body["count_capped"] is False
    assert {row["name"] for row in body["results"]} == {"王芳"}


def test_the_schema_documents_count_capped(api_for):
    schema = api_for(None).get("/api/schema/", {"format": "json"}).json()
    pages = schema["components"]["schemas"]["PaginatedPersonListList"]
    assert pages["properties"]["count_capped"]["type"] == "boolean"


# --- plans -------------------------------------------------------------------------------


def plan_of(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql, params)
        return " ".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("query", ["王", "王伟"])
def test_a_county_name_search_reads_the_region_and_name_indexes(query, township_a):
    """A province's worth of 王 elsewhere (3,000 files of another county) and a few in the
    township: the plan reads both scope branches from the (region, name) indexes rather
    than every 王 in name order."""
    from liudong.people.filters import search_persons

    elsewhere = Region.objects.filter(code__startswith="330102", code__regex=r"^[0-9]{9}$")
    files(3000, "王伟", residence=elsewhere.order_by("code").first().code, first=1000)
    files(3, "王伟", residence=BEISHAN)
    scoped = Person.objects.in_scope(township_a).active()
    found = search_persons(scoped, query, township_a.region_id)
    plan = plan_of(*found.query.sql_with_params())
    assert "person_household_name_idx" in plan and "person_residence_name_idx" in plan, plan
    assert "person_name_birth_idx" not in plan, plan
    # And the count of the page (people.paging) alike.
    plan = plan_of(*found.order_by().values("pk")[:1001].query.sql_with_params())
    assert "person_household_name_idx" in plan and "person_residence_name_idx" in plan, plan


def test_postgresql_keeps_a_finer_histogram_of_the_searched_columns():
    """Without it PostgreSQL expected 74 files of 覃 among ten million (there were 23,510)
    and walked them all for a county's search (bench/search.py)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstattarget FROM pg_attribute"
            " WHERE attrelid = 'people_person'::regclass AND attname IN ('name', 'name_initials')"
        )
        assert dict(cursor.fetchall()) == {"name": 1000, "name_initials": 1000}


def test_an_initials_search_lists_in_the_order_of_its_index(township_a):
    """Latin letters match the initials alone, which are byte-ordered with the name in one
    index: the page is read in order, not every "wz" of the province sorted (a top-50 sort
    of 46,000 files at ten million)."""
    import re

    from django.db import connection

    from liudong.people.filters import search_persons

    files(30, "王治", residence=BEISHAN)
    files(30, "魏征", residence=XIXI, first=100)
    found = search_persons(Person.objects.in_scope(township_a).active(), "wz")[:50]
    assert {p.name for p in found} == {"王治"}
    # The whole registry (an operator; a province is nearly all of it): no scope to read
    # first. On PostgreSQL, a handful of rows would be sorted cheaply: forbid that to ask
    # whether an ordered path exists at all (none did with varchar_pattern_ops).
    everyone = search_persons(Person.objects.all(), "wz")[:50]
    sql, params = everyone.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
    plan = plan_of(sql, params)
    assert "person_initials_name_idx" in plan, plan
    # No sort of all matches: at most SQLite's or PostgreSQL's sort of ties by id.
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    assert not re.search(r"(^|->  )Sort  \(", plan), plan
    if connection.vendor == "postgresql":
        # Read from the initials' range, not a walk of the whole index filtering on
        # "name LIKE 'wz%' OR initials LIKE 'wz%'".
        assert "Index Cond: (((name_initials)" in plan and "(name)::text ~~" not in plan, plan
