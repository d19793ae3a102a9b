"""The signed QR payload: round trip, every failure reason, key rotation, any text."""

from __future__ import annotations

import datetime
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liudong.certificates import issuing, keys, payload, verification
from liudong.certificates.models import SigningKey

from .conftest import TODAY, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(township_a, woman):
    return issuing.issue(woman, acting_user=township_a, today=TODAY)


def test_round_trip_gives_the_signed_fields(certificate, woman):
    result = verification.verify_payload(certificate.payload, today=TODAY)
    assert result.ok and result.reason == "" and result.certificate == certificate
    assert result.fields == {
        "number": certificate.number,
        "issuing_region": "330106002",
        "name": "周敏",
        "id_number": woman.id_number,
        "birth_date": woman.birth_date.isoformat(),
        "marital_status": "20",
        "children_count": 0,
        "issued_on": "2026-06-15",
        "valid_until": certificate.valid_until.isoformat(),
        "key_id": certificate.key_id,
    }
    assert result.masked_fields() == {
        "name": "周*",
        "id_number": woman.id_number[:6] + "*" * 8 + woman.id_number[-4:],
    }


def test_the_payload_fits_a_qr_code_comfortably(township_a, villages):
    """Measured: 249 characters for a two-character name, 259 for four, 276 for eight
    (阿依古丽·买买提): QR version 9-10 at error correction M, alphanumeric mode."""
    import segno

    longest = issuing.issue(
        make_person(name="欧阳娜娜"), acting_user=township_a, today=TODAY
    ).payload
    assert len(longest) < 300, len(longest)
    assert set(longest) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ1234567.")
    code = segno.make(longest, error="m")
    assert code.mode == "alphanumeric" and code.version <= 10


def _replace(text: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    swap = alphabet[(alphabet.index(text[index]) + 1) % 32] if text[index] in alphabet else "A"
    return text[:index] + swap + text[index + 1 :]


def test_one_character_changed_fails_the_signature(certificate):
    prefix, body, signature = certificate.payload.split(".")
    tampered = f"{prefix}.{body}.{_replace(signature, 10)}"
    result = verification.verify_payload(tampered, today=TODAY)
    assert (result.ok, result.reason, result.fields) == (False, "bad_signature", None)


@pytest.mark.parametrize(
    "field, value",
    [("valid_until", datetime.date(2099, 1, 1)), ("name", "吴敏"), ("children_count", 1)],
)
def test_a_forged_field_with_a_well_formed_body_fails_the_signature(certificate, field, value):
    contents, _body, signature = payload.decode(certificate.payload)
    forged = payload.Contents(**{**contents.__dict__, field: value})
    result = verification.verify_payload(payload.encode(forged, signature), today=TODAY)
    assert (result.ok, result.reason) == (False, "bad_signature")


def test_any_character_changed_anywhere_is_refused(certificate):
    text = certificate.payload
    for index in range(len(text)):
        result = verification.verify_payload(_replace(text, index), today=TODAY)
        assert not result.ok, (index, text[index])
        assert result.reason in ("malformed", "bad_signature", "unknown_key"), result.reason


def test_a_case_change_is_not_the_same_payload(certificate):
    prefix, body, signature = certificate.payload.split(".")
    assert verification.verify_payload(f"{prefix}.{body.lower()}.{signature}").reason == "malformed"


@pytest.mark.parametrize("cut", [1, 10, 100, 200])
def test_a_truncated_payload_is_malformed_or_badly_signed(certificate, cut):
    result = verification.verify_payload(certificate.payload[:-cut], today=TODAY)
    assert not result.ok and result.reason in ("malformed", "bad_signature")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "LD1..",
        "LD1.AAAA.BBBB",
        "LD2.A.B",
        "https://example.org/verify?x=1",
        "LD1.!!.??",
    ],
)
def test_garbage_is_malformed(garbage):
    result = verification.verify_payload(garbage, today=TODAY)
    assert (result.ok, result.reason, result.fields) == (False, "malformed", None)


def test_a_key_this_node_does_not_know(certificate):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = Ed25519PrivateKey.generate()
    contents, _body, _sig = payload.decode(certificate.payload)
    forged = payload.Contents(
        **{**contents.__dict__, "key_id": keys.key_id_of(stranger.public_key())}
    )
    signature = stranger.sign(payload.signed_message(payload.body_bytes(forged)))
    result = verification.verify_payload(payload.encode(forged, signature), today=TODAY)
    assert (result.ok, result.reason) == (False, "unknown_key")
    assert forged.key_id in result.message


def test_a_revoked_certificate(certificate, township_a):
    issuing.revoke(certificate.number, "issued in error", acting_user=township_a)
    result = verification.verify_payload(certificate.payload, today=TODAY)
    assert (result.ok, result.reason) == (False, "revoked")
    assert result.fields["number"] == certificate.number  # the signature itself was good


def test_an_expired_certificate(certificate):
    on_last_day = verification.verify_payload(certificate.payload, today=certificate.valid_until)
    assert on_last_day.ok
    after = certificate.valid_until + datetime.timedelta(days=1)
    result = verification.verify_payload(certificate.payload, today=after)
    assert (result.ok, result.reason) == (False, "expired")


def test_rotation_keeps_old_certificates_verifying(township_a, villages, node_keys):
    old = issuing.issue(make_person(), acting_user=township_a, today=TODAY)
    rotated = keys.rotate()
    new = issuing.issue(make_person(), acting_user=township_a, today=TODAY)
    assert old.key_id != new.key_id == rotated.key_id
    keys.forget_cache()  # a fresh process: keys come from the database
    assert verification.verify_payload(old.payload, today=TODAY).ok
    assert verification.verify_payload(new.payload, today=TODAY).ok
    assert sorted(p.name for p in node_keys.glob("*.pem")) == sorted(
        [f"{old.key_id}.pem", f"{new.key_id}.pem"]
    )
    # And from the key folder alone, when the database lost its rows.
    SigningKey.objects.all().delete()
    keys.forget_cache()
    assert verification.verify_payload(old.payload, today=TODAY).ok


def test_keys_are_created_on_first_use_readable_by_the_owner_only(node_keys, villages):
    assert not node_keys.exists()
    key = keys.current_key()
    pem = node_keys / f"{key.key_id}.pem"
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert (node_keys / "current").read_text().strip() == key.key_id
    assert keys.current_key().key_id == key.key_id  # and kept
    assert SigningKey.objects.filter(key_id=key.key_id, own=True).exists()


def test_a_key_path_that_is_a_file_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "node.key"
    path.write_text("x")
    monkeypatch.setenv("LIUDONG_NODE_KEY", str(path))
    with pytest.raises(keys.KeyFolderError, match="must name a folder"):
        keys.current_key()


def test_many_payloads_at_once_give_the_same_answers(certificate, township_a, villages):
    other = issuing.issue(make_person(), acting_user=township_a, today=TODAY)
    issuing.revoke(other.number, "lost", acting_user=township_a)
    texts = [certificate.payload, other.payload, "garbage", _replace(certificate.payload, -10)]
    batch = verification.verify_payloads(texts, today=TODAY)
    assert [r.reason for r in batch] == [
        verification.verify_payload(t, today=TODAY).reason for t in texts
    ]
    assert [r.reason for r in batch] == ["", "revoked", "malformed", "bad_signature"]


def test_checking_a_payload_is_logged(certificate, county_b_admin):
    from liudong.audit.models import AuditEntry

    verification.check_payload(certificate.payload, acting_user=county_b_admin, today=TODAY)
    verification.check_payload("garbage", acting_user=county_b_admin, today=TODAY)
    entries = AuditEntry.objects.filter(action="view", object_type="certificates.certificate")
    assert sorted(e.detail["result"] for e in entries) == ["malformed", "valid"]
    valid = next(e for e in entries if e.detail["result"] == "valid")
    assert valid.object_id == str(certificate.pk) and valid.detail["number"] == certificate.number


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(),
        st.from_regex(r"\ALD1\.[A-Z2-7]{0,200}\.[A-Z2-7]{0,120}\Z"),
        st.binary().map(
            lambda b: "LD1." + __import__("base64").b32encode(b).decode().rstrip("=") + ".AAAA"
        ),
    )
)
def test_verify_never_raises_it_only_gives_a_reason(text, villages):
    result = verification.verify_payload(text, today=TODAY)
    assert not result.ok
    assert result.reason in verification.REASONS
