"""The staff's mailbox (web and API): messages for their region only, masked ID numbers,
a message whose effect failed applied again once the cause is fixed, audited."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from liudong.audit.models import AuditEntry
from liudong.exchange.models import InboxMessage
from liudong.exchange.tests.test_effects import OURS, arrival_of, send
from liudong.people.models import Person

TODAY = timezone.localdate()


@pytest.fixture
def stuck(node, henan):
    """An arrival notice for 北山街道 that could not apply: a date after today."""
    return send(henan, "arrival", arrival_of(arrived=TODAY + datetime.timedelta(days=2)))


def test_the_mailbox_lists_messages_for_the_users_region_masked(
    stuck, client_for, township_a, township_b
):
    page = client_for(township_a).get("/exchange/messages/").content.decode()
    assert OURS[:6] + "********" + OURS[-4:] in page and OURS not in page
    assert 'data-testid="problem-count"' in page
    other = client_for(township_b).get("/exchange/messages/").content.decode()
    assert 'data-testid="message-row"' not in other  # 西溪街道 sees nothing of 北山's


def test_a_provider_has_no_mailbox(stuck, client_for, provider_a):
    assert client_for(provider_a).get("/exchange/messages/").status_code == 403


def test_a_stuck_message_is_applied_again_once_its_cause_is_fixed(stuck, client_for, township_a):
    client = client_for(township_a)
    client.post(f"/exchange/messages/{stuck.pk}/apply/")
    stuck.refresh_from_db()
    assert stuck.state == InboxMessage.State.PROBLEM  # still a date after today
    envelope = stuck.envelope
    envelope["payload"]["arrival_date"] = TODAY.isoformat()  # as if the sender corrected it
    InboxMessage.objects.filter(pk=stuck.pk).update(envelope=envelope)
    client.post(f"/exchange/messages/{stuck.pk}/apply/")
    stuck.refresh_from_db()
    assert stuck.state == InboxMessage.State.APPLIED
    assert Person.objects.get(id_number=OURS).residence_region_id == "410105001"
    assert (
        AuditEntry.objects.filter(object_id=str(stuck.pk), detail__action="apply_again").count()
        == 2
    )
    again = client.post(f"/api/inbox-messages/{stuck.pk}/apply/")
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "state"


def test_the_api_lists_inbox_and_outbox_in_scope(stuck, client_for, township_a, township_b):
    listed = client_for(township_a).get("/api/inbox-messages/?state=problem").json()
    assert [m["id"] for m in listed["results"]] == [str(stuck.pk)]
    assert listed["results"][0]["facts"]["id_number"].count("*") == 8
    assert client_for(township_b).get("/api/inbox-messages/").json()["results"] == []
    assert client_for(township_b).post(f"/api/inbox-messages/{stuck.pk}/apply/").status_code == 404
    assert client_for(township_a).get("/api/outbox-messages/").json()["results"] == []


def test_her_file_shows_the_services_her_residence_reported(node, henan, client_for, township_a):
    from liudong.exchange.tests.test_effects import ZHENGZHOU, her_file

    person = her_file(residence=ZHENGZHOU)
    payload = {"id_number": OURS, "service_type": "pre_pregnancy", "date": TODAY.isoformat()}
    send(henan, "service", payload)
    page = client_for(township_a).get(f"/people/{person.pk}/").content.decode()
    assert 'data-testid="reported-services"' in page and TODAY.isoformat() in page


def test_the_menus_exchange_entry_opens_the_first_section_the_role_may_see(
    client_for, township_a, inspector, provider_a
):
    assert client_for(township_a).get("/exchange/").url == "/exchange/messages/"
    assert client_for(inspector).get("/exchange/").url == "/exchange/matching/"
    assert client_for(provider_a).get("/exchange/").status_code == 403
    page = client_for(township_a).get("/exchange/messages/").content.decode()
    assert 'data-testid="nav-assistance"' in page and 'data-testid="nav-intake"' in page
    assert 'data-testid="nav-matching"' not in page  # a township runs no matching
