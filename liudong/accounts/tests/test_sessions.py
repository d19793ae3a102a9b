"""An unchanged session is written once a minute at most (accounts.sessions): a request
within the minute after the last write leaves the row alone, a later one pushes the
expiry ahead, a changed session is written at once, and an idle session still ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import PASSWORD
from liudong.accounts import sessions

pytestmark = pytest.mark.django_db
AGE = timedelta(seconds=settings.SESSION_COOKIE_AGE)


def signed_in() -> Client:
    client = Client()
    answer = client.post("/accounts/login/", {"username": "township_a", "password": PASSWORD})
    assert answer.status_code == 302 and answer.url == "/"
    return client


def session_writes(client: Client, url: str = "/") -> int:
    with CaptureQueriesContext(connection) as seen:
        assert client.get(url).status_code == 200
    return sum(
        1
        for q in seen.captured_queries
        if "django_session" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    )


def test_a_request_within_the_minute_writes_no_session(township_a):
    client = signed_in()
    stored = Session.objects.get().expire_date
    assert session_writes(client) == 0
    assert Session.objects.get().expire_date == stored


def test_a_request_a_minute_later_pushes_the_expiry_ahead(township_a):
    client = signed_in()
    written_then = timezone.now() + AGE - timedelta(seconds=sessions.REFRESH_SECONDS + 1)
    Session.objects.update(expire_date=written_then)
    assert session_writes(client) == 1
    moved = Session.objects.get().expire_date
    assert abs((moved - (timezone.now() + AGE)).total_seconds()) < 5


def test_a_changed_session_is_written_at_once(township_a):
    client = signed_in()
    store = sessions.SessionStore(client.session.session_key)
    store["note"] = "kept"
    store.save()
    assert sessions.SessionStore(client.session.session_key)["note"] == "kept"


def test_an_idle_session_still_ends(township_a):
    client = signed_in()
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    answer = client.get("/")
    assert answer.status_code == 302 and answer.url.startswith("/accounts/login/")
