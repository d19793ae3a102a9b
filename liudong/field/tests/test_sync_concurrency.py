"""Two requests with the same client id at the same moment (a phone retrying while its
first request is still running): the action is applied once, the other answered as a
repeat. The race needs PostgreSQL (SQLite serialises writers)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from liudong.field import sync as field_sync
from liudong.field.models import FieldAction
from liudong.people.models import Person

from .factories import GROUP, action, arrival_data, envelope


@pytest.mark.django_db(transaction=True)
def test_the_same_action_twice_at_once_is_applied_once():
    if connection.vendor != "postgresql":
        pytest.skip("the unique-row race needs PostgreSQL (SQLite serialises writers)")
    from conftest import make_user
    from liudong.actors import OPERATOR
    from liudong.regions.models import Region
    from liudong.regions.services import import_regions, load_divisions, save_grid

    load_divisions(prefixes=("33", "41"))  # a transactional test starts from empty tables
    import_regions(
        [
            (2, {"code": "330106002001", "name": "北山社区"}),
            (3, {"code": GROUP, "name": "第一村民小组"}),
        ],
        acting_user=OPERATOR,
    )
    township = make_user("township_a", "township", "330106002")
    collector = make_user("collector_a1", "collector", GROUP)
    save_grid(
        acting_user=township,
        name="北山一网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code="330106002001"),
        collectors=[collector],
    )
    queued = action("arrival", arrival_data())
    start = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def phone() -> None:
        try:
            start.wait(timeout=30)
            results.append(field_sync.sync(collector, envelope(queued))["results"][0])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=phone) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(r["repeat"] for r in results) == [False, True], results
    assert {r["status"] for r in results} == {"applied"}
    assert Person.objects.filter(id_number=queued["data"]["id_number"]).count() == 1
    assert FieldAction.objects.get(client_id=queued["client_id"]).attempts == 2
