"""The request time limit (liudong/web/deadline.py) and /healthz, in process: a request
past the limit ends with 503 (a page, or the API's error shape) and its connection serves
the next request; a request within it is untouched. The served subprocess (gunicorn, one
thread) is tests/test_serve.py."""

import os
import signal
import threading
import time

import pytest
from django.db import connection

from liudong.api.tests.test_errors import assert_error_shape
from liudong.audit.models import AuditEntry
from liudong.regions.models import Region
from liudong.web import deadline

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.serve_urls")]


@pytest.fixture
def limit(settings):
    settings.REQUEST_SECONDS = 0.5
    return settings.REQUEST_SECONDS


def test_a_statement_past_the_limit_is_stopped_with_a_503_page(limit, client):
    response = client.get("/test/slow-query")
    assert response.status_code == 503
    page = response.content.decode()
    assert 'data-testid="busy"' in page and "0.5" in page  # the limit it names
    assert response["Retry-After"] == "10"
    # The connection the request used answers the next query, and the next request.
    assert Region.objects.filter(code="330106").exists()
    assert client.get("/test/pid").json() == {"pid": os.getpid()}


def test_the_api_gets_its_error_shape(limit, client):
    response = client.get("/api/test/slow-query")
    [error] = assert_error_shape(response, 503, code="timeout")
    assert "0.5" in error["message"]


def test_no_query_starts_after_the_deadline(limit, client):
    """Python work ran the time out (nothing to cancel): the next query is refused."""
    assert client.get("/test/late-query").status_code == 503


def test_a_view_that_swallows_the_cancellation_is_stopped_at_its_next_query(limit, client):
    assert client.get("/test/swallowing").status_code == 503


def test_a_request_within_the_limit_is_untouched(settings, client):
    settings.REQUEST_SECONDS = 30
    assert client.get("/test/pid").status_code == 200
    assert client.get("/accounts/login/").status_code == 200


def test_no_limit_when_set_to_zero(settings, client):
    settings.REQUEST_SECONDS = 0
    # late_query sleeps REQUEST_SECONDS + 0.3 s, then queries: no limit, so it finishes.
    assert client.get("/test/late-query").json() == {"finished": True}


def test_an_upload_gets_the_time_its_body_takes_at_a_slow_link_on_top():
    from django.test import RequestFactory

    small = RequestFactory().post("/x/", {"a": "b"})
    assert deadline.request_limit(small, 20) == pytest.approx(20, abs=0.01)
    upload = RequestFactory().post("/x/", b"x" * (3 << 20), content_type="application/octet-stream")
    assert deadline.request_limit(upload, 20) == pytest.approx(23)
    upload.META["CONTENT_LENGTH"] = "nonsense"
    assert deadline.request_limit(upload, 20) == 20


# --- the watchdog's rounds, without a server ---------------------------------------------


class FakeDatabase:
    vendor = "sqlite"

    def __init__(self):
        self.interrupted = 0
        self.connection = self

    def interrupt(self):
        self.interrupted += 1


def _watch(expired_seconds_ago: float) -> deadline.Watch:
    watch = deadline.Watch(1.0)
    watch.expires = time.monotonic() - expired_seconds_ago
    watch.database = FakeDatabase()
    return watch


def test_the_watchdog_cancels_once_and_retires_a_gunicorn_process_stuck_past_the_grace(
    monkeypatch,
):
    kills = []
    monkeypatch.setattr(deadline.os, "kill", lambda pid, sig: kills.append((pid, sig)))
    monkeypatch.setattr(deadline, "RECYCLE", True)
    monkeypatch.setattr(deadline, "RETIRING", threading.Event())
    dog = deadline.Watchdog()
    fresh, late = deadline.Watch(60.0), _watch(0.01)
    fresh.database = FakeDatabase()
    dog._watches |= {fresh, late}
    dog.check()
    dog.check()
    # Again on each round: a statement that started just after a cancellation missed it.
    assert (late.database.interrupted, fresh.database.interrupted) == (2, 0)
    assert kills == []  # within the grace: the cancellation should end it
    late.expires -= deadline.RECYCLE_GRACE
    dog.check()
    dog.check()
    assert kills == [(os.getpid(), signal.SIGTERM)]  # once
    assert deadline.RETIRING.is_set()  # its exit will not wait for the stuck thread
    dog.leave(late)
    dog.check()
    assert late.database.interrupted == 4  # nothing once the request has ended
    dog.leave(fresh)
    assert not dog._watches


def test_without_gunicorn_a_stuck_request_retires_nothing(monkeypatch):
    kills = []
    monkeypatch.setattr(deadline.os, "kill", lambda pid, sig: kills.append((pid, sig)))
    monkeypatch.setattr(deadline, "RECYCLE", False)
    dog = deadline.Watchdog()
    dog._watches.add(_watch(deadline.RECYCLE_GRACE + 5))
    dog.check()
    dog.check()
    assert kills == []


# --- /healthz ------------------------------------------------------------------------------


def test_healthz_answers_ok_anonymously_without_a_session_or_an_audit_entry(client):
    from django.contrib.sessions.models import Session

    entries, sessions = AuditEntry.objects.count(), Session.objects.count()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies
    assert (AuditEntry.objects.count(), Session.objects.count()) == (entries, sessions)


def test_healthz_is_not_throttled(client):
    assert {client.get("/healthz").status_code for _ in range(80)} == {200}


def test_healthz_says_unavailable_when_the_database_does_not_answer(client, monkeypatch):
    from django.db import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


@pytest.mark.parametrize(
    ("limit", "shown"), [(20.0417, "20 "), (0.5, "0.5 "), (0.0301278, "0.03 ")]
)
def test_the_busy_page_names_the_limit_in_plain_seconds(rf, limit, shown):
    page = deadline.busy_response(rf.get("/stats/dashboard/"), limit).content.decode()
    assert shown in page and str(limit) not in page.replace(shown, "")
