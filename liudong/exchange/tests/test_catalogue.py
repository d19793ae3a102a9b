"""The message catalogue (one row per type: payload, handler, the events that send it) and
the exchange's subscription to the domain events (issue 14)."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from liudong import events
from liudong.actors import OPERATOR
from liudong.exchange import catalogue, services
from liudong.exchange.models import OutboxMessage
from liudong.people import services as people
from liudong.people.idnumbers import make
from liudong.people.models import Person, ResidenceEpisode
from liudong.regions.models import Region

TODAY = timezone.localdate()
# Registered in 河南, arriving here (西湖区): her registration place is owed a notice.
THEIRS = make("410105", datetime.date(1995, 3, 8), 23, "2")


def test_the_shipped_catalogue_passes_the_start_up_check():
    catalogue.check()
    assert all(callable(declared.handler) for declared in catalogue.TYPES.values())


def test_a_type_without_a_handler_refuses_the_start_up():
    no_handler = dataclasses.replace(catalogue.TYPES["arrival"], handler=None)
    with pytest.raises(ImproperlyConfigured, match="gossip: no handler"):
        catalogue.check({"gossip": no_handler})


def test_a_type_sent_by_something_not_an_event_refuses_the_start_up():
    odd = dataclasses.replace(catalogue.TYPES["arrival"], sent_on={dict: lambda e, s: None})
    with pytest.raises(ImproperlyConfigured, match="not a domain event"):
        catalogue.check({"gossip": odd})


def test_a_type_cannot_be_declared_without_its_handler():
    declared = catalogue.TYPES["arrival"]
    with pytest.raises(TypeError):
        catalogue.MessageType(  # type: ignore[call-arg]
            payload=declared.payload,
            acted_at=declared.acted_at,
            file_side=declared.file_side,
            sent_on={},
        )


def test_the_exchange_hears_every_event_that_sends_a_notice():
    sending = {e for declared in catalogue.TYPES.values() for e in declared.sent_on}
    assert sending == {
        events.ArrivalRegistered,
        events.DepartureRecorded,
        events.ChildRecorded,
        events.CertificateIssued,
        events.CertificateRevoked,
        events.CertificateVerified,
        events.ServiceGiven,
    }
    for event_type in sending:
        assert services.send_notices in events.subscribers(event_type)


def _arrive() -> Person:
    person = Person(
        id_number=THEIRS,
        name="王芳",
        sex="2",
        birth_date=datetime.date(1995, 3, 8),
        marital_status="20",
        household_region_id="410105001",
    )
    people.register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code="330106002001"),
        arrival_date=TODAY - datetime.timedelta(days=3),
    )
    return person


def test_the_notice_is_queued_in_the_arrivals_transaction(node):
    _arrive()
    assert list(OutboxMessage.objects.values_list("type", "to_region")) == [
        ("arrival", "410105001")
    ]


def test_a_failing_subscriber_rolls_the_change_and_its_notice_back(node):
    def refuse(published):
        raise RuntimeError("a subscriber failed")

    events.subscribe(events.ArrivalRegistered, refuse)
    try:
        with pytest.raises(RuntimeError):
            _arrive()
    finally:
        events.unsubscribe(events.ArrivalRegistered, refuse)
    assert not Person.objects.filter(id_number=THEIRS).exists()
    assert not ResidenceEpisode.objects.exists()
    assert not OutboxMessage.objects.exists()
