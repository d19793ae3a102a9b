"""Throttling across accounts (password spraying): per address whatever the names tried, and
a ceiling for everyone together; failures naming no account are counted, not logged one by
one (accounts.throttle)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import PASSWORD
from liudong.accounts import throttle
from liudong.accounts.models import LoginCounter
from liudong.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def web_login(username, password, address):
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def api_login(username, password, address):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )


def failed_login_rows():
    return AuditEntry.objects.filter(action="failed-login")


def test_one_address_trying_many_names_is_locked_for_every_name(township_a, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 20
    # One wrong password for each of 20 names: no single account reaches its own limit of 5.
    for n in range(19):
        assert web_login(f"clerk{n}", "Spring2026!", "10.2.2.2").status_code == 200
    locked = web_login("township_a", "Spring2026!", "10.2.2.2")
    assert locked.status_code == 429
    # The right password of a real account from that address is refused too, on the page
    # and through the API, each saying when to come back.
    refused = web_login("township_a", PASSWORD, "10.2.2.2")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 15 * 60
    until = LoginCounter.objects.get(scope="address", key="10.2.2.2").locked_until
    assert timezone.localtime(until).strftime("%H:%M") in refused.content.decode()
    api = api_login("township_a", PASSWORD, "10.2.2.2")
    assert api.status_code == 429 and api.json()["errors"][0]["code"] == "throttled"
    assert 0 < int(api["Retry-After"]) <= 15 * 60
    # Another address signs in as ever.
    assert web_login("township_a", PASSWORD, "10.2.2.3").status_code == 302
    locks = failed_login_rows().filter(detail__reason="address locked")
    assert locks.count() == 1 and locks.get().detail["address"] == "10.2.2.2"


def test_an_ipv6_subscriber_cannot_spread_over_its_own_block(township_a, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 5
    for n in range(1, 6):
        web_login(f"clerk{n}", "Spring2026!", f"2001:db8:1:2::{n:x}")
    assert web_login("township_a", PASSWORD, "2001:db8:1:2::ffff").status_code == 429
    assert web_login("township_a", PASSWORD, "2001:db8:1:3::1").status_code == 302


def test_the_global_ceiling_closes_password_login_for_everyone(township_a, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 100
    settings.LOGIN_GLOBAL_MAX_FAILURES = 12
    # A spray spread over twelve addresses, one attempt each.
    for n in range(12):
        response = api_login(f"clerk{n}", "Spring2026!", f"10.3.0.{n + 1}")
    assert response.status_code == 429
    refused = web_login("township_a", PASSWORD, "10.9.9.9")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert failed_login_rows().filter(detail__reason="all logins locked").count() == 1
    # When the lock ends, logins work again.
    LoginCounter.objects.filter(scope="global").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert web_login("township_a", PASSWORD, "10.9.9.9").status_code == 302


def test_unknown_names_are_counted_and_summed_up_not_logged_one_row_each(township_a, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 1000
    for n in range(30):
        web_login(f"nobody{n}", "Spring2026!", "10.4.4.4")
    api_login("no-such-clerk", "x", "10.4.4.5")
    assert not failed_login_rows().exists()
    counter = LoginCounter.objects.get(scope="global")
    assert counter.failures == counter.unknown_names == 31
    # A failure for a real account is still its own row, naming the account.
    web_login("township_a", "Spring2026!", "10.4.4.4")
    assert failed_login_rows().get().object_repr == "township_a"

    # The window closes; the next login anywhere writes one summary of it.
    LoginCounter.objects.update(window_start=timezone.now() - timedelta(hours=1))
    assert web_login("township_a", PASSWORD, "10.5.5.5").status_code == 302
    summary = failed_login_rows().get(detail__reason="summary")
    assert summary.detail["failures"] == 32 and summary.detail["unknown_names"] == 31
    assert summary.detail["addresses"][0] == {"address": "10.4.4.4", "failures": 31, "refused": 0}
    assert failed_login_rows().count() == 2  # township_a's failure and the summary
    # Summed up once: the address counters of the closed window are gone.
    assert not LoginCounter.objects.filter(scope="address").exists()
    web_login("township_a", PASSWORD, "10.5.5.5")
    assert failed_login_rows().filter(detail__reason="summary").count() == 1


def test_attempts_under_a_lock_are_counted_not_logged(township_a, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 5
    for n in range(5):
        web_login(f"nobody{n}", "x", "10.6.6.6")
    rows = failed_login_rows().count()
    assert rows == 1  # the lock itself
    for n in range(40):
        assert web_login(f"again{n}", "x", "10.6.6.6").status_code == 429
    assert failed_login_rows().count() == rows
    assert LoginCounter.objects.get(scope="address", key="10.6.6.6").refused == 40
    LoginCounter.objects.update(window_start=timezone.now() - timedelta(hours=1))
    assert throttle.flush() == 1
    summary = failed_login_rows().get(detail__reason="summary")
    assert summary.detail["refused_while_locked"] == 40


def test_address_keys():
    assert throttle.address_key("10.1.1.1") == "10.1.1.1"
    assert throttle.address_key("2001:db8::1") == throttle.address_key("2001:db8::ffff:1")
    assert throttle.address_key("2001:db8::1") == "2001:db8::/64"
    assert throttle.address_key("::ffff:10.1.1.1") == "10.1.1.1"
    assert throttle.address_key("") == ""
