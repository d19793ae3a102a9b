"""liudong.events: subscribers run synchronously, once per publication and type."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from liudong import events

DAY = datetime.date(2026, 3, 1)


# Event types of this test's own: the exchange subscribes to the real ones (and would
# need a database to queue its notices).
@dataclasses.dataclass(frozen=True)
class Left(events.Event):
    id_number: str
    on: datetime.date


@dataclasses.dataclass(frozen=True)
class Served(events.Event):
    id_number: str


def _departure(id_number: str = "1") -> Left:
    return Left(id_number=id_number, on=DAY)


def _service() -> Served:
    return Served(id_number="1")


@pytest.fixture
def heard():
    calls: list[tuple[str, list]] = []

    def departures(batch):
        calls.append(("departures", list(batch)))

    def services(batch):
        calls.append(("services", list(batch)))

    events.subscribe(Left, departures)
    events.subscribe(Left, departures)  # twice is once
    events.subscribe(Served, services)
    yield calls
    events.unsubscribe(Left, departures)
    events.unsubscribe(Served, services)


def test_publish_runs_the_subscribers_of_its_type_now(heard):
    events.publish(_departure())
    assert heard == [("departures", [_departure()])]


def test_a_batch_reaches_each_subscriber_once_per_type(heard):
    events.publish_all([_departure("1"), _service(), _departure("2")])
    assert heard == [
        ("departures", [_departure("1"), _departure("2")]),
        ("services", [_service()]),
    ]


def test_an_event_is_a_frozen_record_of_plain_values():
    event = _departure()
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.id_number = "2"  # type: ignore[misc]


def test_a_failing_subscriber_fails_the_publisher():
    def refuse(batch):
        raise RuntimeError("refused")

    events.subscribe(Served, refuse)
    try:
        with pytest.raises(RuntimeError):
            events.publish(_service())
    finally:
        events.unsubscribe(Served, refuse)
