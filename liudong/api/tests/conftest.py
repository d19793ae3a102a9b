"""Fixtures of the API's schema tests: the schema the API serves, and the real answers of
every GET endpoint on a seeded registry (``answers``)."""

from __future__ import annotations

import pytest

from liudong.api.tests import answers
from liudong.exchange.tests.conftest import henan, node

__all__ = ["henan", "node"]  # the exchange tests' peer node, as fixtures here too

USERS = ("county_admin", "township_a", "township_b", "auditor")


@pytest.fixture
def served_schema(api_for, county_admin) -> dict:
    """``/api/schema/`` as a client downloads it."""
    response = api_for(county_admin).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def registry(request, node, henan, tmp_path, api_for, served_schema) -> list[answers.Answer]:
    """The seeded registry's answers to every GET path of the served schema."""
    users = {name: request.getfixturevalue(name) for name in USERS}
    keys = answers.seed({**users, "tmp_path": tmp_path}, henan)
    clients = {name: api_for(user) for name, user in users.items()}
    return answers.collect(served_schema, clients, keys)
