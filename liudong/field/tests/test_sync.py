"""POST /api/field/sync/: each action applied once, with the online rules."""

from __future__ import annotations

import pytest

from liudong.people.models import Person

from .factories import action, arrival_data, envelope

SYNC = "/api/field/sync/"
pytestmark = pytest.mark.django_db


def test_an_arrival_is_applied(grid_a, collector_a1, client_for):
    client = client_for(collector_a1)
    data = arrival_data()
    answer = client.post(SYNC, envelope(action("arrival", data)), content_type="application/json")
    assert answer.status_code == 200, answer.content
    result = answer.json()["results"][0]
    assert result["status"] == "applied", result
    person = Person.objects.get(id_number=data["id_number"])
    assert result["object"] == {"type": "person", "id": person.pk, "version": person.version}
