"""GET /api/field/bundle/: the account's own grid, masked, audited."""

from __future__ import annotations

import pytest

from .factories import resident

BUNDLE = "/api/field/bundle/"
pytestmark = pytest.mark.django_db


def test_the_bundle_holds_the_grids_people(grid_a, collector_a1, client_for):
    her = resident()
    answer = client_for(collector_a1).get(BUNDLE)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [p["id"] for p in body["people"]] == [her.pk]
