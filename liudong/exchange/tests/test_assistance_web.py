"""The assistance pages: the worklist's two tabs with overdue rows marked and counted, the
ask form from a file page, the answer form, scope and roles, the views logged, and the
requests to answer in the grid worklist."""

from __future__ import annotations

import datetime

import pytest

from liudong.audit.models import AuditEntry
from liudong.exchange.assistance import services as assistance
from liudong.exchange.models import AssistanceRequest, OutboxMessage
from liudong.exchange.tests.test_assistance import _request_from_henan, person
from liudong.people.idnumbers import mask


@pytest.fixture
def her(node):
    return person()


@pytest.fixture
def incoming(node, henan, her):
    # Received 22 November 2026, due 30 November: overdue by now.
    return assistance.on_request(
        _request_from_henan(henan, her.id_number, deadline=datetime.date(2026, 11, 30))
    )


def test_the_file_page_leads_to_the_ask_form(client_for, township_a, village_a1, her):
    page = client_for(township_a).get(f"/people/{her.pk}/").content.decode()
    assert f"/assistance/ask/{her.pk}/" in page
    assert (
        "/assistance/ask/" not in client_for(village_a1).get(f"/people/{her.pk}/").content.decode()
    )


def test_asking_from_the_form(client_for, township_a, her):
    client = client_for(township_a)
    form = client.get(f"/assistance/ask/{her.pk}/").content.decode()
    assert "411326" in form and mask(her.id_number) in form and her.id_number not in form
    missing = client.post(f"/assistance/ask/{her.pk}/", {"urgency": "normal"})
    assert (
        missing.status_code == 200
        and 'data-testid="field-error-question"' in missing.content.decode()
    )
    assert not AssistanceRequest.objects.exists()
    sent = client.post(
        f"/assistance/ask/{her.pk}/", {"question": "children", "urgency": "urgent"}, follow=True
    )
    assert sent.redirect_chain[-1][0] == "/assistance/?tab=outgoing"
    asked = AssistanceRequest.objects.get()
    assert asked.direction == "outgoing" and OutboxMessage.objects.count() == 1
    again = client.post(f"/assistance/ask/{her.pk}/", {"question": "children", "urgency": "normal"})
    assert 'data-testid="field-error-question"' in again.content.decode()
    assert AssistanceRequest.objects.count() == 1


def test_a_file_with_no_other_place_says_why(client_for, township_a, node):
    home = person(household="330106002", lives_in="330106004001")
    page = client_for(township_a).get(f"/assistance/ask/{home.pk}/").content.decode()
    assert 'data-testid="ask-refused"' in page and 'data-testid="ask-form"' not in page


def test_the_worklist_marks_and_counts_overdue(client_for, township_a, township_b, incoming):
    page = client_for(township_a).get("/assistance/").content.decode()
    assert 'data-testid="overdue-incoming"' in page and 'data-testid="overdue-row"' in page
    assert mask(incoming.id_number) in page and incoming.id_number not in page
    asked = client_for(township_a).get("/assistance/?tab=outgoing").content.decode()
    assert 'data-testid="no-requests"' in asked
    other = client_for(township_b).get("/assistance/").content.decode()
    assert 'data-testid="no-requests"' in other and mask(incoming.id_number) not in other


def test_answering_from_the_request_page(client_for, township_a, township_b, incoming):
    url = f"/assistance/{incoming.pk}/"
    assert client_for(township_b).get(url).status_code == 404
    client = client_for(township_a)
    page = client.get(url).content.decode()
    assert incoming.id_number in page and 'data-testid="answer-form"' in page
    assert AuditEntry.objects.filter(
        action="view", object_id=str(incoming.pk), actor_username="township_a"
    ).exists()
    empty = client.post(url, {"finding": "confirmed", "answer": "", "version": 1})
    assert 'data-testid="field-error-answer"' in empty.content.decode()
    done = client.post(url, {"finding": "differs", "answer": "现为离婚", "version": 1})
    assert done.status_code == 302
    incoming.refresh_from_db()
    assert incoming.finding == "differs" and incoming.answered_by == township_a
    answered = client.get(url).content.decode()
    assert (
        'data-testid="request-answer"' in answered and 'data-testid="answer-form"' not in answered
    )
    # A second POST (another tab left open) changes nothing.
    client.post(url, {"finding": "confirmed", "answer": "再答", "version": 2})
    incoming.refresh_from_db()
    assert incoming.finding == "differs"
    assert OutboxMessage.objects.filter(type="assistance_answer").count() == 1


def test_roles_without_assistance_get_no_page(client_for, village_a1, provider_a, node):
    for user in (village_a1, provider_a):
        assert client_for(user).get("/assistance/").status_code == 403


def test_the_grid_worklist_lists_requests_to_answer(client_for, township_b, grid_b, henan, node):
    from liudong.web.worklist import grid_worklist

    her_b = person(lives_in="330106004001")
    request = assistance.on_request(
        _request_from_henan(henan, her_b.id_number, deadline=datetime.date(2026, 11, 30))
    )
    sections = {s.key: s for s in grid_worklist(township_b, grid_b)}
    assert sections["assistance"].items == [request] and sections["assistance"].overdue == 1
    page = client_for(township_b).get(f"/worklist/{grid_b.pk}/").content.decode()
    assert f"/assistance/{request.pk}/" in page
