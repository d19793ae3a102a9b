"""Certificates under the national cryptography option (LIUDONG_CRYPTO=sm): signed with
SM2, named LD2.SM2, verified offline, by another node and on the public page; and the
changeover: what an Ed25519 key signed keeps verifying after the node switched."""

from __future__ import annotations

import io
import json

import pytest
import segno
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from liudong import crypto
from liudong.actors import OPERATOR
from liudong.certificates import issuing, keys, payload, verification
from liudong.certificates.models import SigningKey
from liudong.exchange.messaging import services as exchange

from .conftest import TODAY, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def sm(monkeypatch):
    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")


def test_a_certificate_issued_under_sm_is_signed_with_sm2_and_verifies(sm, township_a, woman):
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    assert certificate.payload.startswith("LD2.SM2.")
    row = SigningKey.objects.get(key_id=certificate.key_id)
    assert (row.algorithm, row.own) == ("sm2", True)
    result = verification.verify_payload(certificate.payload, today=TODAY)
    assert result.ok and result.certificate == certificate
    assert result.fields["number"] == certificate.number
    # The key file is an SM2 key, and a tampered signature is refused.
    own = crypto.load_private_pem((keys.key_folder() / f"{certificate.key_id}.pem").read_bytes())
    assert own.algorithm == crypto.SM2
    text = certificate.payload
    at = text.rindex(".") + 3
    forged = text[:at] + ("B" if text[at] != "B" else "C") + text[at + 1 :]
    assert verification.verify_payload(forged, today=TODAY).reason == "bad_signature"


def test_the_sm2_payload_still_fits_a_qr_code(sm, township_a, villages):
    longest = issuing.issue(
        make_person(name="欧阳娜娜"), acting_user=township_a, today=TODAY
    ).payload
    assert len(longest) < 300, len(longest)
    code = segno.make(longest, error="m")
    assert code.mode == "alphanumeric" and code.version <= 10


def test_an_sm2_certificate_verifies_offline_at_another_node(villages):
    """Another node signed it; this node holds only the public key, given at `node trust`,
    and no certificate row: the payload alone is checked."""
    other = crypto.generate(crypto.SM2)
    contents = payload.Contents(
        number="410105001-2026-000001",
        id_number="410105199001011236",
        birth_date=TODAY.replace(year=1990, month=1, day=1),
        marital_status="20",
        children_count=1,
        issued_on=TODAY,
        valid_until=TODAY.replace(year=2039),
        key_id=other.public.key_id,
        name="李娜",
    )
    body = payload.body_bytes(contents)
    text = payload.encode(contents, other.sign(payload.signed_message(body, "sm2")), "sm2")
    assert verification.verify_payload(text, today=TODAY).reason == "unknown_key"
    exchange.trust_peer(
        acting_user=OPERATOR,
        region_code="41",
        url="https://henan.example/",
        key=other.public.text(),
    )
    result = verification.verify_payload(text, today=TODAY)
    assert result.ok and result.certificate is None and result.fields["name"] == "李娜"


def test_a_payload_cannot_borrow_another_algorithm(township_a, woman):
    """The Ed25519 signature of an LD1 payload relabelled LD2.SM2 (or the other way) is
    refused: the key decides the algorithm, never the text."""
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    _prefix, body, signature = certificate.payload.split(".")
    relabelled = f"LD2.SM2.{body}.{signature}"
    result = verification.verify_payload(relabelled, today=TODAY)
    assert (result.ok, result.reason) == (False, "unknown_key")
    # Named in full (LD2.ED25519) it is the same certificate, and verifies.
    assert verification.verify_payload(f"LD2.ED25519.{body}.{signature}", today=TODAY).ok


def test_old_ed25519_certificates_verify_after_the_switch(township_a, villages, monkeypatch):
    old = issuing.issue(make_person(name="周敏"), acting_user=township_a, today=TODAY)
    assert old.payload.startswith("LD1.")
    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    out = io.StringIO()
    call_command("certificate_rotate_key", "--format", "json", stdout=out)
    rotated = json.loads(out.getvalue())
    assert rotated["algorithm"] == "sm2" and rotated["public_key"].startswith("sm2:")
    new = issuing.issue(make_person(name="王芳"), acting_user=township_a, today=TODAY)
    assert new.payload.startswith("LD2.SM2.") and new.key_id == rotated["key_id"]
    keys.forget_cache()  # as another process would: keys read back from the table
    for certificate in (old, new):
        assert verification.verify_payload(certificate.payload, today=TODAY).ok
    assert set(SigningKey.objects.values_list("algorithm", flat=True)) == {"ed25519", "sm2"}


def test_the_public_page_checks_an_sm2_certificate(sm, township_a, villages):
    cache.clear()
    certificate = issuing.issue(make_person(name="王丽芳"), acting_user=township_a)
    html = Client().post("/verify/", {"payload": certificate.payload}).content.decode()
    assert 'class="verify-result valid"' in html and "王**" in html
    forged = certificate.payload[:-3] + (
        "AAA" if not certificate.payload.endswith("AAA") else "BBB"
    )
    html = Client().post("/verify/", {"payload": forged}).content.decode()
    assert 'class="verify-result invalid"' in html
    cache.clear()


def test_the_verify_command_checks_an_sm2_certificate(sm, township_a, woman):
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    out = io.StringIO()
    call_command("certificate_verify", certificate.payload, "--format", "json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["ok"] and answer["fields"]["number"] == certificate.number
