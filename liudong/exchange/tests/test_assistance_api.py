"""Assistance requests in the API: scoped lists with their filters and masked ID numbers,
one request opened (full ID number, logged), asking and answering through the rules, and
every refusal in the one error shape."""

from __future__ import annotations

import datetime

import pytest

from liudong.audit.models import AuditEntry
from liudong.exchange.assistance import services as assistance
from liudong.exchange.models import AssistanceRequest, OutboxMessage
from liudong.exchange.tests.test_assistance import _request_from_henan, person
from liudong.people.idnumbers import mask

URL = "/api/assistance-requests/"


@pytest.fixture
def both_ways(node, henan, township_a):
    her = person()
    incoming = assistance.on_request(
        _request_from_henan(henan, her.id_number, deadline=datetime.date(2026, 11, 30))
    )
    outgoing = assistance.ask(
        acting_user=township_a, person=her, question="children", urgency="normal"
    )
    return her, incoming, outgoing


def test_the_list_is_scoped_filtered_and_masked(api_for, township_a, township_b, both_ways):
    her, incoming, outgoing = both_ways
    body = api_for(township_a).get(URL).json()
    assert {row["id"] for row in body["results"]} == {incoming.pk, outgoing.pk}
    assert all(row["id_number"] == mask(her.id_number) for row in body["results"])
    # Received on 22 November with a deadline of 30 November: overdue since (today is later).
    overdue = api_for(township_a).get(URL, {"overdue": "true"}).json()["results"]
    assert [row["id"] for row in overdue] == [incoming.pk] and overdue[0]["overdue"]
    asked = api_for(township_a).get(URL, {"direction": "outgoing"}).json()["results"]
    assert [(row["id"], row["other_region"]) for row in asked] == [(outgoing.pk, "411326")]
    assert api_for(township_b).get(URL).json()["results"] == []


def test_opening_one_shows_the_id_number_and_is_logged(api_for, township_a, both_ways):
    her, incoming, _outgoing = both_ways
    body = api_for(township_a).get(f"{URL}{incoming.pk}/").json()
    assert body["id_number"] == her.id_number and body["direction"] == "incoming"
    assert AuditEntry.objects.filter(
        action="view", object_type="exchange.assistancerequest", object_id=str(incoming.pk)
    ).exists()


def test_asking_and_its_refusals(api_for, township_a, township_b, village_a1, node):
    her = person()
    api = api_for(township_a)
    created = api.post(URL, {"person": her.pk, "question": "certificate", "urgency": "urgent"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["deadline"] == str(
        datetime.date.fromisoformat(body["asked_on"]) + datetime.timedelta(days=15)
    )
    assert OutboxMessage.objects.filter(type="assistance_request").count() == 1
    again = api.post(URL, {"person": her.pk, "question": "certificate", "urgency": "normal"})
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "question"
    bad = api.post(URL, {"person": her.pk, "question": "income", "urgency": "normal"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "question"
    # Someone else's file is not found; a role without assistance gets 403.
    other = api_for(township_b).post(URL, {"person": her.pk, "question": "children"})
    assert other.status_code == 400 and other.json()["errors"][0]["field"] == "person"
    assert api_for(village_a1).get(URL).status_code == 403
    home = person(household="330106002", lives_in="330106004001")
    nowhere = api.post(URL, {"person": home.pk, "question": "children", "urgency": "normal"})
    assert nowhere.status_code == 400
    assert nowhere.json()["errors"][0]["field"] is None
    assert nowhere.json()["errors"][0]["code"] == "same_node"
    assert AssistanceRequest.objects.count() == 1


def test_answering_once(api_for, township_a, township_b, both_ways):
    _her, incoming, outgoing = both_ways
    api = api_for(township_a)
    answer = {"finding": "confirmed", "answer": "已婚,与档案一致", "version": incoming.version}
    assert api_for(township_b).post(f"{URL}{incoming.pk}/answer/", answer).status_code == 404
    empty = api.post(f"{URL}{incoming.pk}/answer/", {"finding": "confirmed"})
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "answer"
    stale = api.post(f"{URL}{incoming.pk}/answer/", {**answer, "version": incoming.version + 5})
    assert stale.status_code == 409
    done = api.post(f"{URL}{incoming.pk}/answer/", answer)
    assert done.status_code == 200, done.json()
    assert done.json()["finding"] == "confirmed" and done.json()["answered_on"]
    twice = api.post(f"{URL}{incoming.pk}/answer/", {**answer, "version": incoming.version + 1})
    assert twice.status_code == 400 and twice.json()["errors"][0]["code"] == "answered"
    ours = api.post(f"{URL}{outgoing.pk}/answer/", answer)
    assert ours.status_code == 400 and ours.json()["errors"][0]["code"] == "outgoing"
    assert OutboxMessage.objects.filter(type="assistance_answer").count() == 1
