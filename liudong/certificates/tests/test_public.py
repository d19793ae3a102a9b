"""The public check page /verify/ (no login): valid or invalid with the reason, the masked
name and ID number only, every check logged with the caller's address, and a limit of
checks per address."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext as _

from liudong.audit.models import AuditEntry
from liudong.certificates import issuing, throttle
from liudong.certificates import payload as payloads
from liudong.people import idnumbers

from .conftest import make_person

pytestmark = pytest.mark.django_db
URL = "/verify/"


@pytest.fixture(autouse=True)
def fresh_counts():
    """The limit is counted in the (process-wide) cache: every test starts at zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def certificate(township_a, villages):
    return issuing.issue(make_person(name="王丽芳"), acting_user=township_a)


@pytest.fixture
def anonymous():
    return Client()


def verdict(html: str) -> str:
    found = re.search(r'data-testid="verify-status">(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else ""


def reason(html: str) -> str:
    found = re.search(r'data-testid="verify-reason">(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else ""


def check(client, payload: str, address: str = "203.0.113.7"):
    return client.post(URL, {"payload": payload}, REMOTE_ADDR=address)


def tampered(payload: str) -> str:
    """One character of the signature changed."""
    position = payload.rindex(".") + 5
    swapped = "B" if payload[position] != "B" else "C"
    return payload[:position] + swapped + payload[position + 1 :]


def test_the_page_opens_without_login(anonymous):
    response = anonymous.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="verify-form"' in html and 'name="payload"' in html
    assert 'data-testid="verify-result"' not in html
    assert "no-store" in response["Cache-Control"]  # an answer is never cached


def test_a_good_code_shows_valid_and_the_masked_name_only(certificate, anonymous):
    response = check(anonymous, certificate.payload)
    assert response.status_code == 200
    html = response.content.decode()
    assert verdict(html) == "✓ 有效" and 'class="verify-result valid"' in html
    assert "王**" in html and idnumbers.mask(certificate.id_number) in html
    # Nothing else she is certified with: not her name, number, birth date, the
    # certificate's number or dates.
    for secret in (
        "王丽芳",
        certificate.id_number,
        certificate.number,
        certificate.birth_date.isoformat(),
        certificate.valid_until.isoformat(),
        certificate.issued_on.isoformat(),
    ):
        assert secret not in html, secret


def test_a_code_in_the_query_string_is_not_checked(certificate, anonymous):
    """Her name and ID number never travel in a URL a server or proxy logs: the old link
    form ``?p=`` gets the empty form, and nothing is checked or logged."""
    logged = AuditEntry.objects.count()
    response = anonymous.get(URL, {"p": certificate.payload})
    assert response.status_code == 200
    assert "verify-result" not in response.content.decode()
    assert AuditEntry.objects.count() == logged


def test_the_link_a_scanner_types_is_checked_like_the_code(certificate, anonymous):
    """A scanner reads the QR's link; the page (and every other check) takes the code
    from its fragment."""
    html = check(anonymous, payloads.link(certificate.payload)).content.decode()
    assert 'class="verify-result valid"' in html


def test_a_tampered_code_is_invalid(certificate, anonymous):
    response = check(anonymous, tampered(certificate.payload))
    html = response.content.decode()
    assert 'class="verify-result invalid"' in html and verdict(html).startswith("✗")
    assert "签名不符" in html  # the signature does not match
    assert "王**" not in html and "王丽芳" not in html


def test_a_revoked_certificate_is_invalid_without_its_dates(certificate, township_a, anonymous):
    issuing.revoke(certificate.number, "issued in error", acting_user=township_a)
    html = check(anonymous, certificate.payload).content.decode()
    assert 'class="verify-result invalid"' in html and verdict(html).startswith("✗")
    with translation.override("zh-hans"):
        assert reason(html) == _("This certificate has been revoked by the office that issued it.")
    assert certificate.number not in html and "王丽芳" not in html


def test_garbage_is_invalid(anonymous, villages):
    html = check(anonymous, "hello").content.decode()
    assert 'class="verify-result invalid"' in html


def test_an_empty_submission_is_a_form_error_not_a_check(anonymous, villages):
    response = check(anonymous, "   ")
    assert response.status_code == 400
    assert 'data-testid="field-error-payload"' in response.content.decode()
    assert not AuditEntry.objects.filter(object_type="certificates.certificate").exists()


def test_every_check_is_logged_as_an_anonymous_view_with_the_address(certificate, anonymous):
    check(anonymous, certificate.payload, address="198.51.100.23")
    entry = AuditEntry.objects.get(action="view", object_type="certificates.certificate")
    assert entry.actor is None and entry.actor_username == ""
    assert entry.address == "198.51.100.23"
    assert entry.detail["via"] == "public" and entry.detail["result"] == "valid"
    assert entry.object_id == str(certificate.pk)


def test_the_31st_check_from_one_address_is_refused(certificate, anonymous, monkeypatch):
    # One fixed moment: the whole run falls in one window.
    monkeypatch.setattr(throttle.time, "time", lambda: 1_800_000_000.0)
    for _n in range(throttle.LIMIT):
        assert check(anonymous, certificate.payload).status_code == 200
    refused = check(anonymous, certificate.payload)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    html = refused.content.decode()
    assert 'data-testid="verify-throttled"' in html and 'data-testid="verify-result"' not in html
    checks = AuditEntry.objects.filter(object_type="certificates.certificate", action="view")
    assert checks.count() == throttle.LIMIT  # the refused one was not checked at all
    # Another address is not affected; the next window starts over.
    assert check(anonymous, certificate.payload, address="192.0.2.1").status_code == 200
    monkeypatch.setattr(throttle.time, "time", lambda: 1_800_000_000.0 + throttle.WINDOW)
    assert check(anonymous, certificate.payload).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    certificate, anonymous, settings, monkeypatch
):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    monkeypatch.setattr(throttle, "LIMIT", 1)

    def via_proxy(client_address):
        return anonymous.post(
            URL,
            {"payload": certificate.payload},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=client_address,
        )

    assert via_proxy("198.51.100.1").status_code == 200
    assert via_proxy("198.51.100.2").status_code == 200  # another client behind the proxy
    assert via_proxy("198.51.100.1").status_code == 429
    entry = AuditEntry.objects.filter(object_type="certificates.certificate").latest("seq")
    assert entry.address == "198.51.100.2"


def test_the_form_keeps_csrf(certificate, villages):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, {"payload": certificate.payload}).status_code == 403
