"""She signs in as herself with the office's code: every bad input gets the same answer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from liudong.audit.models import Action, AuditEntry
from liudong.residents import session

from .conftest import sign_in_data

pytestmark = pytest.mark.django_db


def _her_session(client) -> dict | None:
    return client.session.get(session.SESSION_KEY)


def test_she_signs_in_with_the_code_from_her_office(client, her, her_code):
    response = client.post(reverse("residents:sign_in"), sign_in_data(her, her_code))
    assert response.status_code == 302
    assert _her_session(client)["person"] == her.pk
    entry = AuditEntry.objects.filter(action=Action.LOGIN).first()
    assert entry.actor_username == f"resident:{her.pk}"
    assert entry.actor_role == "resident"
    assert entry.region == her.residence_region_id
    assert her.id_number not in str(entry.__dict__) and her.name not in str(entry.__dict__)
