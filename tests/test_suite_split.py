"""How the suite splits its work (conftest.py): which tests the PostgreSQL pass runs, and
the var/ folder of each parallel worker. Owns no fixture; touches no database."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from conftest import depends_on_the_database


@dataclass
class Item:
    """The two things the split reads off a collected test."""

    fixturenames: list[str] = field(default_factory=list)
    markers: tuple[str, ...] = ()

    def get_closest_marker(self, name):
        # Only whether a mark is there matters: any true value stands for pytest's Mark.
        return name if name in self.markers else None


@pytest.mark.parametrize(
    "item",
    [
        Item(fixturenames=["db"]),
        Item(fixturenames=["villages", "db", "settings"]),  # through another fixture
        Item(fixturenames=["transactional_db"]),
        Item(fixturenames=["page", "live_server"]),
        Item(markers=("django_db",)),
        Item(markers=("every_database",)),
    ],
)
def test_what_uses_the_database_runs_on_postgresql_too(item):
    assert depends_on_the_database(item)


@pytest.mark.parametrize(
    "item",
    [
        Item(fixturenames=["tmp_path", "settings"]),
        Item(fixturenames=[]),
        Item(fixturenames=["db"], markers=("one_database",)),
        Item(markers=("django_db", "one_database")),
    ],
)
def test_the_rest_runs_on_sqlite_only(item):
    assert not depends_on_the_database(item)


def test_each_parallel_worker_keeps_its_own_var_folder():
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        pytest.skip("not under pytest-xdist")
    assert settings.VAR_DIR.name == worker
    assert os.environ["LIUDONG_VAR_DIR"] == str(settings.VAR_DIR)
