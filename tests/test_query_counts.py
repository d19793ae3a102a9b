"""List pages and API lists of every scoped model keep a fixed number of queries however
many rows they show (STYLE.md §9), driven by the registry (tests/scoped_models.py): with 3
rows and with 20 the count must be the same (no N+1), and at most the ceiling recorded in
tests/query_counts.json (a list that grows a query shows up in review as a changed file).

To record the counts after a deliberate change, run this module alone, without xdist:
``LIUDONG_RECORD_QUERY_COUNTS=1 pytest tests/test_query_counts.py -p no:xdist``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from scoped_models import (
    REGISTRY,
    has_surface,
    signed_in,
    url_of,
    world_fixture,  # noqa: F401 (the fixture "world")
)

CEILINGS = Path(__file__).with_name("query_counts.json")
RECORD = bool(os.environ.get("LIUDONG_RECORD_QUERY_COUNTS"))
FEW, MANY = 3, 20


def lists_of(label: str) -> list[tuple[str, str]]:
    """(surface, query string) of each list of the model whose count is guarded."""
    entry = REGISTRY[label]
    found = []
    if has_surface(entry, "web_list"):
        found += [("web_list", q) for q in ("", *entry.web_list_variants)]
    if has_surface(entry, "api_list"):
        found += [("api_list", q) for q in ("", *entry.api_list_variants)]
    return found


LISTED = sorted(label for label in REGISTRY if lists_of(label))


def test_every_ceiling_belongs_to_a_registered_list():
    """A ceiling left behind by a removed list or model is dropped from the file."""
    keys = {f"{label} {surface}{q}" for label in LISTED for surface, q in lists_of(label)}
    assert set(json.loads(CEILINGS.read_text())) <= keys


def count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize("model", LISTED)
def test_query_count_does_not_grow_with_rows(model, world):
    entry = REGISTRY[model]
    if isinstance(world.rows[model], Exception):
        raise AssertionError(f"the factory of {model} failed") from world.rows[model]
    web, api = signed_in(world.users[entry.reader])
    urls = {
        f"{model} {surface}{q}": (
            api if surface == "api_list" else web,
            url_of(entry, surface, None) + q,  # variants only on lists without a tab
        )
        for surface, q in lists_of(model)
    }
    for _ in range(FEW - 1):  # the module's world holds one row already
        entry.factory(world.place)
    for client, url in urls.values():
        client.get(url)  # caches (the user's session, region names) warm, as in use
    few = {key: count(client, url) for key, (client, url) in urls.items()}
    for _ in range(MANY - FEW):
        entry.factory(world.place)
    many = {key: count(client, url) for key, (client, url) in urls.items()}

    grown = {key: (few[key], many[key]) for key in urls if many[key] > few[key]}
    assert not grown, f"queries for {FEW} rows, {MANY} rows: {grown}"
    if RECORD:
        recorded = json.loads(CEILINGS.read_text()) if CEILINGS.exists() else {}
        recorded.update(many)
        CEILINGS.write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
        return
    ceilings = json.loads(CEILINGS.read_text())
    over = {
        key: (many[key], ceilings.get(key)) for key in urls if many[key] > ceilings.get(key, -1)
    }
    assert not over, (
        f"(queries, recorded ceiling) above {CEILINGS.name}: {over}; if the new queries are "
        "meant, record them (see this module's docstring)"
    )


# --- the pages staff open most (bench/load.py's mix) ----------------------------------------

# Queries of one request of each, signed in as a township specialist with the statistics
# store on and current (issue 15: every query of these pages is paid 40-50 times a second
# under load). Lower them when a change takes queries away; never raise them to pass.
HOT_PAGES = {
    "search by ID number": 6,
    "search by name": 6,
    "open a file": 21,
    "worklist": 19,
    # 17: issue 19 added a kind of to-do (residents' correction requests waiting at the
    # township: one aggregate on the (holding_region, status) index), a new question the
    # page asks, not a cost that grew.
    "home": 17,
    "dashboard": 17,
    "monthly report": 13,
    "API list (persons)": 6,
    "API list (episodes)": 4,
}


@pytest.fixture
def hot_pages(settings, world):
    """Each page's URL (and headers), on the module's world and a few more files of
    township A, with a grid of its villages."""
    import datetime

    from liudong.people.tests.test_web import register
    from liudong.regions.models import Region
    from liudong.regions.services import save_grid
    from liudong.stats import store

    settings.STATS_STORE = "on"
    settings.STATS_FROM = "2025-06"  # the dashboard's twelve months all stored
    township = world.users["township_a"]
    people = [
        register(township, name, sequence=2 * i + 1, sex="2", born=datetime.date(1990, 3, 7))
        for i, name in enumerate(("张伟", "张敏", "李娜", "王芳"))
    ]
    grid = save_grid(
        acting_user=township,
        name="热门网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code__in=["330106002001", "330106002002"]),
        responsible=world.users["village_a1"],
        collectors=[world.users["collector_a1"]],
    )
    store.refresh()
    htmx = {"HTTP_HX_REQUEST": "true"}
    return {
        "search by ID number": (f"/people/?q={people[0].id_number}", htmx),
        "search by name": ("/people/?q=张", htmx),
        "open a file": (f"/people/{people[0].pk}/", {}),
        "worklist": (f"/worklist/{grid.pk}/", {}),
        "home": ("/", {}),
        "dashboard": ("/stats/dashboard/", {}),
        "monthly report": ("/stats/report/", {}),
        "API list (persons)": ("/api/persons/", {}),
        "API list (episodes)": ("/api/episodes/", {}),
    }


@pytest.mark.django_db
def test_the_pages_staff_open_most_keep_their_query_counts(hot_pages, world):
    web, _api = signed_in(world.users["township_a"])
    counted = {}
    for name, (url, headers) in hot_pages.items():
        web.get(url, **headers)  # the session written, caches warm, as in use
        with CaptureQueriesContext(connection) as captured:
            response = web.get(url, **headers)
        assert response.status_code == 200, (name, response.status_code)
        counted[name] = len(captured)
    over = {name: (n, HOT_PAGES[name]) for name, n in counted.items() if n > HOT_PAGES[name]}
    assert not over, f"(queries, recorded) above HOT_PAGES: {over}; all counted: {counted}"
