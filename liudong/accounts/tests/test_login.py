"""Login throttling: 5 failures lock the account for 15 minutes from that address."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from liudong.accounts.models import LoginThrottle
from liudong.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def attempt(password, address="10.1.1.1", username="township_a"):
    client = Client(REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return client, response


def test_a_good_login_reaches_home_and_is_audited(township_a):
    client, response = attempt(PASSWORD)
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    entry = AuditEntry.objects.filter(action="login").get()
    assert entry.actor_username == "township_a" and entry.address == "10.1.1.1"
    assert entry.request_id


def test_five_failures_lock_that_account_and_address_for_fifteen_minutes(township_a):
    for n in range(5):
        _client, response = attempt("wrong")
        assert response.status_code == (429 if n == 4 else 200)
    client, response = attempt(PASSWORD)
    # Still the login page, locked, right password or not: 429 saying when to come back,
    # on the page ("Too many failed logins: try again after HH:MM.") and in Retry-After.
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert re.search(r"登录失败次数过多，请于 \d\d:\d\d 之后再试。", response.content.decode())
    assert "_auth_user_id" not in client.session  # the right password did not sign in
    failures = AuditEntry.objects.filter(action="failed-login")
    # One row per failure; the attempt refused under the lock is counted, not logged alone
    # (accounts.throttle sums such attempts up once per window).
    assert failures.count() == 5
    assert failures.exclude(detail__locked_until=None).count() == 1  # the 5th

    # Another address is not locked: the lock is for that account from that address.
    _client, response = attempt(PASSWORD, address="10.1.1.2")
    assert response.status_code == 302

    # Fifteen minutes later the pair may try again.
    LoginThrottle.objects.filter(address="10.1.1.1").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    _client, response = attempt(PASSWORD)
    assert response.status_code == 302


def test_a_success_resets_the_failure_count(township_a):
    for _ in range(4):
        attempt("wrong")
    attempt(PASSWORD)
    for _ in range(4):
        attempt("wrong")
    _client, response = attempt(PASSWORD)
    assert response.status_code == 302


def test_the_api_token_endpoint_shares_the_lock(township_a, api_for):
    for _ in range(5):
        attempt("wrong", address="127.0.0.1")
    response = api_for().post(
        "/api/auth/token/", {"username": "township_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert response.json()["errors"][0]["code"] == "throttled"


def test_api_token_login(township_a, api_for):
    response = api_for().post(
        "/api/auth/token/", {"username": "township_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    token = response.json()["token"]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/me/").json()["region"] == "330106002"


def test_login_form_needs_a_csrf_token(township_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "township_a", "password": PASSWORD})
    assert response.status_code == 403


def test_a_session_idle_past_the_timeout_returns_to_the_login_page(township_a):
    from django.contrib.sessions.models import Session

    client, _ = attempt(PASSWORD)
    assert client.get("/").status_code == 200
    # Each request pushes the expiry SESSION_COOKIE_AGE ahead; idle that long and it is gone.
    stored = Session.objects.get()
    assert abs((stored.expire_date - timezone.now()).total_seconds() - 30 * 60) < 60
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_security_headers_on_pages(township_a):
    response = Client().get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]


def test_user_names_are_case_insensitive_at_login(township_a):
    _client, response = attempt(PASSWORD, username="Township_A")
    assert response.status_code == 302
