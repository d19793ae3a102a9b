"""liudong.crypto: SM3, HMAC-SM3 and SM2 against the published examples of their standards,
the signing round trip of both algorithms, and the keys read and written as OpenSSL does."""

from __future__ import annotations

import base64
import shutil
import subprocess

import gmssl_pyx
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from liudong import crypto

# GB/T 32905-2016 Appendix A.
SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]

# GM/T 0042-2015 Appendix D.3 (the first two), and the RFC 2202 inputs over SM3.
HMAC_SM3_VECTORS = [
    (
        bytes(range(1, 33)),
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2,
        "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a",
    ),
    (
        bytes(range(1, 38)),
        b"\xcd" * 50,
        "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae",
    ),
    (
        b"\x0b" * 32,
        b"Hi There",
        "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882",
    ),
]

# GB/T 32918.5-2017 (GM/T 0003.5-2012) example on the recommended curve: a signature by
# the key d over "message digest" with the default id, and the Z and e it goes through.
EXAMPLE_D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
EXAMPLE_PUBLIC = bytes.fromhex(
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
EXAMPLE_Z = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
EXAMPLE_E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
EXAMPLE_SIGNATURE = bytes.fromhex(
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)

# An SM2 key as OpenSSL writes it (OpenSSL's test/recipes/30-test_evp_data/evppkey_sm2.txt).
OPENSSL_SM2_KEY = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg0JFWczAXva2An9m7
2MaT9gIwWTFptvlKrxyO4TjMmbWhRANCAAQ5OirZ4n5DrKqrhaGdO4VZHhRAYVcX
Wt3Te/d/8Mr57Tf886i09VwDhSMmH8pmNq/mp6+ioUgqYG9cs6GLLioe
-----END PRIVATE KEY-----
"""


@pytest.mark.parametrize(("data", "expected"), SM3_VECTORS)
def test_sm3_gives_the_standards_digests(data, expected):
    assert crypto.sm3(data).hex() == expected


@pytest.mark.parametrize(("key", "data", "expected"), HMAC_SM3_VECTORS)
def test_sm3_hmac_gives_the_published_values(key, data, expected):
    assert crypto.sm3_hmac(key, data) == expected


def test_the_standards_sm2_signature_verifies_and_nothing_else_does():
    public = crypto.public_key(crypto.SM2, EXAMPLE_PUBLIC)
    assert crypto.sm2_z(public.raw).hex().upper() == EXAMPLE_Z
    assert crypto.sm3(crypto.sm2_z(public.raw) + b"message digest").hex().upper() == EXAMPLE_E
    assert public.verify(EXAMPLE_SIGNATURE, b"message digest")
    assert not public.verify(EXAMPLE_SIGNATURE, b"message digesT")
    changed_s = EXAMPLE_SIGNATURE[:-1] + bytes([EXAMPLE_SIGNATURE[-1] ^ 1])
    assert not public.verify(changed_s, b"message digest")
    # Another signer id gives another Z: the example is bound to the default id.
    assert crypto.sm2_z(public.raw, b"ALICE123@YAHOO.COM").hex().upper() != EXAMPLE_Z


@pytest.mark.parametrize("algorithm", crypto.ALGORITHMS)
def test_sign_and_verify_round_trip(algorithm):
    key = crypto.generate(algorithm)
    signature = key.sign(b"liudong")
    assert len(signature) == crypto.SIGNATURE_LENGTH
    assert key.public.verify(signature, b"liudong")
    assert not key.public.verify(signature, b"liudonG")
    assert not crypto.generate(algorithm).public.verify(signature, b"liudong")
    # Keys survive their written forms: the PEM file and the text `node init` prints.
    assert crypto.load_private_pem(key.pem()).public == key.public
    assert crypto.public_key_from_text(key.public.text()) == key.public
    again = crypto.load_private_pem(key.pem()).sign(b"liudong")
    assert key.public.verify(again, b"liudong")


def test_an_ed25519_signature_never_passes_for_sm2_or_back():
    ed, sm = crypto.generate(crypto.ED25519), crypto.generate(crypto.SM2)
    assert not sm.public.verify(ed.sign(b"x"), b"x")
    assert not ed.public.verify(sm.sign(b"x"), b"x")


def test_gmssl_itself_accepts_our_sm2_signatures():
    """Z and e are computed here (for speed); GmSSL's own message mode computes its own Z
    and must agree."""
    key = crypto.generate(crypto.SM2)
    signature = key.sign(b"cross-check")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    der = encode_dss_signature(r, s)
    assert gmssl_pyx.sm2_verify(key.public.raw, b"cross-check", der)
    assert not gmssl_pyx.sm2_verify(key.public.raw, b"cross-checK", der)


def test_an_sm2_key_written_by_openssl_is_read():
    key = crypto.load_private_pem(OPENSSL_SM2_KEY)
    assert key.algorithm == crypto.SM2
    assert key.public.raw.hex().startswith("393a2ad9e27e43ac")
    assert key.public.verify(key.sign(b"x"), b"x")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command here")
def test_openssl_reads_our_sm2_key(tmp_path):
    key = crypto.generate(crypto.SM2)
    (tmp_path / "key.pem").write_bytes(key.pem())
    out = subprocess.run(
        ["openssl", "pkey", "-in", str(tmp_path / "key.pem"), "-pubout", "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    assert out.endswith(b"\x04" + key.public.raw)


def test_the_setting_names_the_algorithm_of_new_keys(monkeypatch):
    monkeypatch.delenv("LIUDONG_CRYPTO", raising=False)
    assert crypto.configured_algorithm() == crypto.ED25519
    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    assert crypto.configured_algorithm() == crypto.SM2
    monkeypatch.setenv("LIUDONG_CRYPTO", "rsa")
    with pytest.raises(crypto.CryptoError):
        crypto.configured_algorithm()


def test_a_point_off_the_curve_is_not_an_sm2_key():
    off = EXAMPLE_PUBLIC[:-1] + bytes([EXAMPLE_PUBLIC[-1] ^ 1])
    with pytest.raises(crypto.CryptoError):
        crypto.public_key_from_text("sm2:" + base64.b64encode(off).decode())
    with pytest.raises(crypto.CryptoError):
        crypto.public_key_from_text("dsa:" + base64.b64encode(EXAMPLE_PUBLIC).decode())


@given(st.text(max_size=120))
def test_any_key_text_is_a_key_or_refused(text):
    try:
        public = crypto.public_key_from_text(text)
    except crypto.CryptoError:
        return
    assert public.algorithm in crypto.ALGORITHMS


@given(st.binary(max_size=80))
def test_any_signature_bytes_are_refused_not_raised(signature):
    public = crypto.public_key(crypto.SM2, EXAMPLE_PUBLIC)
    assert public.verify(signature, b"message digest") is (signature == EXAMPLE_SIGNATURE)


def test_without_gmssl_an_ed25519_node_still_works(monkeypatch):
    """No gmssl-pyx build exists for Linux on ARM64: there Ed25519 signs and verifies, and
    SM2 is refused by name instead of failing at import."""
    monkeypatch.setitem(__import__("sys").modules, "gmssl_pyx", None)
    key = crypto.generate(crypto.ED25519)
    assert key.public.verify(key.sign(b"x"), b"x")
    with pytest.raises(crypto.CryptoError, match="gmssl-pyx"):
        crypto.generate(crypto.SM2)
