"""`liudong certificate verify` at scale, against the raw verify rate of its algorithm, and
the SM2 libraries measured against Ed25519 (issue 13 item 9: the choice of library).

1. Ed25519 (the default): signs N certificate payloads with the node key (as `issue`
   would, without N database rows), then: baseline: the cryptography library's Ed25519
   verify of the same N signatures over the same bytes; verify: `verification.verify_payloads`
   on the N payload texts (decoding, key lookup, signature, the revocation query, expiry),
   in chunks of 1,000 as a verifier with a queue of scans would call it. Goal (issue 4): at
   least 50% of the baseline.
2. SM2 (LIUDONG_CRYPTO=sm): the same with an SM2 node key, for --sm-n payloads; its
   baseline is liudong.crypto's SM2 verify of the same signatures.
3. Candidates: sign and verify per second of each SM2 library over one payload's bytes,
   and of Ed25519 (cryptography) in the same rounds, measured in turns (3 rounds of
   --seconds each, the best kept) so a busy machine slows all alike. Each also verifies
   the published signature of GB/T 32918.5 (key, "message digest", default id), or says
   why it cannot run here. The optional ones: `.venv/bin/pip install -e '.[bench-sm]'`.

Run: .venv/bin/python bench/certificate_verify.py [--db postgres] [--n 100000] [--sm-n 5000]
"""

import datetime
import importlib.util
import os
import random
import secrets
import time

from common import argument_parser, fresh_django, report

# GB/T 32918.5-2017 example (recommended curve, default id 1234567812345678).
EXAMPLE_PUBLIC = (
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
EXAMPLE_SIGNATURE = (
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)
EXAMPLE_MESSAGE = b"message digest"
UID = b"1234567812345678"


def payloads(n: int, node) -> tuple[list[str], list[tuple]]:
    """N payload texts signed by ``node`` and, for the baseline, (public key, signature,
    signed bytes)."""
    from liudong.certificates import keys
    from liudong.certificates import payload as codec
    from liudong.certificates.issuing import valid_until_for
    from liudong.people.idnumbers import make

    public = keys.public_key(node.key_id)
    rng = random.Random(11)
    texts, raw = [], []
    for i in range(n):
        born = datetime.date(1980, 1, 1) + datetime.timedelta(days=rng.randrange(9000))
        contents = codec.Contents(
            number=f"330106002-2026-{i + 1:06d}",
            id_number=make("330106", born, rng.randrange(0, 999, 2), "2"),
            birth_date=born,
            marital_status="21",
            children_count=rng.randrange(3),
            issued_on=datetime.date(2026, 3, 1),
            valid_until=valid_until_for(born),
            key_id=node.key_id,
            name=rng.choice("王李张刘陈杨黄赵") + rng.choice("芳娜敏静丽秀英华"),
        )
        message = codec.signed_message(codec.body_bytes(contents), node.algorithm)
        signature = node.sign(message)
        texts.append(codec.encode(contents, signature, node.algorithm))
        raw.append((public, signature, message))
    return texts, raw


def application_path(n: int, node, baseline) -> dict:
    from liudong.certificates import verification

    texts, raw = payloads(n, node)
    start = time.perf_counter()
    for public, signature, message in raw:
        baseline(public, signature, message)
    baseline_s = time.perf_counter() - start

    today = datetime.date(2026, 11, 22)
    start = time.perf_counter()
    good = 0
    for offset in range(0, n, 1000):
        results = verification.verify_payloads(texts[offset : offset + 1000], today=today)
        good += sum(result.ok for result in results)
    verify_s = time.perf_counter() - start
    return {
        "payloads": n,
        "payload_chars": round(sum(map(len, texts)) / n),
        "baseline_verify_per_s": round(n / baseline_s),
        "verify_payloads_per_s": round(n / verify_s),
        "ratio_verify_to_baseline": round(baseline_s / verify_s, 3),
        "valid": good,
    }


# --- candidates: each returns (sign(), verify(), example_verifies) or raises why not ------


def _der(r: int, s: int) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return encode_dss_signature(r, s)


def _example_der() -> bytes:
    return _der(int(EXAMPLE_SIGNATURE[:64], 16), int(EXAMPLE_SIGNATURE[64:], 16))


def ed25519_cryptography(message):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    public, signature = key.public_key(), key.sign(message)
    return (lambda: key.sign(message)), (lambda: public.verify(signature, message)), None


def sm2_liudong_crypto(message):
    """The choice: GmSSL (gmssl-pyx) over e = SM3(Z || M), Z computed once per key."""
    from liudong import crypto

    key = crypto.generate(crypto.SM2)
    signature = key.sign(message)
    example = crypto.public_key(crypto.SM2, bytes.fromhex(EXAMPLE_PUBLIC))
    ok = example.verify(bytes.fromhex(EXAMPLE_SIGNATURE), EXAMPLE_MESSAGE)
    return (lambda: key.sign(message)), (lambda: key.public.verify(signature, message)), ok


def sm2_gmssl_pyx_message_mode(message):
    """gmssl-pyx's one-shot sign and verify of the message (Z computed inside each call)."""
    import gmssl_pyx

    public, private = gmssl_pyx.sm2_key_generate()
    signature = gmssl_pyx.sm2_sign(private, public, message)
    ok = gmssl_pyx.sm2_verify(bytes.fromhex(EXAMPLE_PUBLIC), EXAMPLE_MESSAGE, _example_der())
    return (
        (lambda: gmssl_pyx.sm2_sign(private, public, message)),
        (lambda: gmssl_pyx.sm2_verify(public, message, signature)),
        ok,
    )


def sm2_cryptography(message):
    """pyca/cryptography: SM3 and SM4, no SM2 (its EC keys refuse the SM2 curve)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if not hasattr(ec, "SM2"):
        raise RuntimeError(
            "no SM2 in cryptography (an SM2 key loads as 'Curve 1.2.156.10197.1.301 is "
            "not supported')"
        )
    raise RuntimeError("unexpected: cryptography has an SM2 curve; measure it")


def sm2_tongsuopy(message):
    from tongsuopy.crypto import hashes
    from tongsuopy.crypto.asymciphers import ec
    from tongsuopy.crypto.exceptions import InvalidSignature

    key = ec.generate_private_key(ec.SM2())
    public, algorithm = key.public_key(), ec.ECDSA(hashes.SM3())
    signature = key.sign(message, algorithm)
    numbers = ec.EllipticCurvePublicNumbers(
        int(EXAMPLE_PUBLIC[:64], 16), int(EXAMPLE_PUBLIC[64:], 16), ec.SM2()
    )
    try:
        numbers.public_key().verify(_example_der(), EXAMPLE_MESSAGE, algorithm)
        ok = True
    except InvalidSignature:
        ok = False
    return (
        (lambda: key.sign(message, algorithm)),
        (lambda: public.verify(signature, message, algorithm)),
        ok,
    )


def sm2_gmssl_fast(message):
    import gmssl_fast

    key = gmssl_fast.SM2.generate()
    verifier = gmssl_fast.SM2(public_key=key.public_key_hex)
    signature = key.sign(message)
    ok = gmssl_fast.SM2(public_key=EXAMPLE_PUBLIC).verify(
        EXAMPLE_MESSAGE, bytes.fromhex(EXAMPLE_SIGNATURE)
    )
    return (lambda: key.sign(message)), (lambda: verifier.verify(message, signature)), ok


def sm2_gmalg(message):
    import gmalg

    secret, public = gmalg.SM2().generate_keypair()
    signer = gmalg.SM2(sk=secret, uid=UID, pk=public)
    r, s = signer.sign(message)
    example = gmalg.SM2(uid=UID, pk=bytes.fromhex("04" + EXAMPLE_PUBLIC))
    ok = example.verify(
        EXAMPLE_MESSAGE,
        bytes.fromhex(EXAMPLE_SIGNATURE[:64]),
        bytes.fromhex(EXAMPLE_SIGNATURE[64:]),
    )
    return (lambda: signer.sign(message)), (lambda: signer.verify(message, r, s)), ok


def sm2_snowland_smx(message):
    from pysmx import SM2

    pair = SM2.generate_keypair()
    # Its Sign takes the random k from the caller.
    signature = SM2.Sign(message, pair.privateKey, secrets.token_hex(32), 64, uid=UID)
    ok = SM2.Verify(
        bytes.fromhex(EXAMPLE_SIGNATURE),
        EXAMPLE_MESSAGE,
        bytes.fromhex(EXAMPLE_PUBLIC),
        64,
        uid=UID,
    )
    return (
        (lambda: SM2.Sign(message, pair.privateKey, secrets.token_hex(32), 64, uid=UID)),
        (lambda: SM2.Verify(signature, message, pair.publicKey, 64, uid=UID)),
        ok,
    )


def sm2_gmssl_pure(message):
    """`gmssl` on PyPI (duanhongyi): pure Python."""
    from gmssl import sm2

    if not hasattr(sm2, "CryptSM2"):
        raise RuntimeError("the gmssl module here is not the pure-Python one")
    private = secrets.token_hex(32)
    # Its public key from the private: k*G with its own point arithmetic.
    probe = sm2.CryptSM2(private_key=private, public_key="")
    public = probe._kg(int(private, 16), sm2.default_ecc_table["g"])
    signer = sm2.CryptSM2(private_key=private, public_key=public)
    signature = signer.sign_with_sm3(message)
    example = sm2.CryptSM2(private_key="", public_key=EXAMPLE_PUBLIC.lower())
    ok = example.verify_with_sm3(EXAMPLE_SIGNATURE.lower(), EXAMPLE_MESSAGE)
    return (
        (lambda: signer.sign_with_sm3(message)),
        (lambda: signer.verify_with_sm3(signature, message)),
        ok,
    )


def sm2_gmssl_python(message):
    """GmSSL's own binding (gmssl-python, pygmssl): ctypes over the GmSSL C library."""
    import ctypes.util

    if ctypes.util.find_library("gmssl") is None:
        raise RuntimeError("needs the GmSSL C library (libgmssl), which Debian does not ship")
    raise RuntimeError("libgmssl found: measure gmssl-python by hand")


CANDIDATES = {
    "ed25519 (cryptography)": ("cryptography", ed25519_cryptography),
    "sm2 liudong.crypto (gmssl-pyx, digest)": ("gmssl_pyx", sm2_liudong_crypto),
    "sm2 gmssl-pyx (message mode)": ("gmssl_pyx", sm2_gmssl_pyx_message_mode),
    "sm2 cryptography": ("cryptography", sm2_cryptography),
    "sm2 tongsuopy": ("tongsuopy", sm2_tongsuopy),
    "sm2 gmssl-fast": ("gmssl_fast", sm2_gmssl_fast),
    "sm2 gmalg (pure Python)": ("gmalg", sm2_gmalg),
    "sm2 snowland-smx (pure Python)": ("pysmx", sm2_snowland_smx),
    "sm2 gmssl (pure Python)": ("gmssl", sm2_gmssl_pure),
    "sm2 gmssl-python / pygmssl (libgmssl)": ("ctypes", sm2_gmssl_python),
}


def _rate(function, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def candidates(message: bytes, seconds: float, rounds: int = 3) -> dict:
    ready, figures = {}, {}
    for name, (module, build) in CANDIDATES.items():
        if importlib.util.find_spec(module) is None:
            figures[name] = {"unavailable": f"not installed ({module})"}
            continue
        try:
            ready[name] = build(message)
        except Exception as exc:  # a candidate that cannot run here says why
            figures[name] = {"unavailable": f"{type(exc).__name__}: {exc}"}
    best: dict[str, list[float]] = {name: [0.0, 0.0] for name in ready}
    for _round in range(rounds):
        for name, (sign, verify, _ok) in ready.items():
            best[name][0] = max(best[name][0], _rate(sign, seconds))
            best[name][1] = max(best[name][1], _rate(verify, seconds))
    ed_sign, ed_verify = best["ed25519 (cryptography)"]
    for name, (_sign, _verify, ok) in ready.items():
        sign_rate, verify_rate = best[name]
        figures[name] = {
            "sign_per_s": round(sign_rate),
            "verify_per_s": round(verify_rate),
            "sign_vs_ed25519": round(sign_rate / ed_sign, 4),
            "verify_vs_ed25519": round(verify_rate / ed_verify, 4),
            "standard_example_verifies": ok,
        }
    return figures


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--sm-n", type=int, default=5000, help="SM2 payloads to verify")
    parser.add_argument("--seconds", type=float, default=0.5, help="per candidate, per turn")
    args = parser.parse_args()
    n = args.n or 100_000
    with fresh_django(args):
        from liudong import crypto
        from liudong.certificates import keys

        os.environ.pop("LIUDONG_CRYPTO", None)
        ed_node = keys.current_key()
        ed25519 = application_path(
            n, ed_node, lambda public, signature, message: public.verify(signature, message)
        )
        os.environ["LIUDONG_CRYPTO"] = "sm"
        sm_node = keys.rotate()
        sm2 = application_path(
            args.sm_n, sm_node, lambda public, signature, message: public.verify(signature, message)
        )
        os.environ.pop("LIUDONG_CRYPTO", None)
        message = payloads(1, sm_node)[1][0][2]
        report(
            "certificate_verify",
            args,
            {
                # the figures of issue 4, kept under their names
                "payloads": n,
                "payload_chars": ed25519["payload_chars"],
                "baseline_ed25519_verify_per_s": ed25519["baseline_verify_per_s"],
                "verify_payloads_per_s": ed25519["verify_payloads_per_s"],
                "ratio_verify_to_baseline": ed25519["ratio_verify_to_baseline"],
                "valid": ed25519["valid"],
                "sm2": sm2,
                "sm2_vs_ed25519_verify_payloads": round(
                    sm2["verify_payloads_per_s"] / ed25519["verify_payloads_per_s"], 4
                ),
                "signed_bytes": len(message),
                "candidates": candidates(message, args.seconds),
                "chosen": "sm2 liudong.crypto (gmssl-pyx, digest)",
                "sm2_id": crypto.SM2_DEFAULT_ID.decode(),
            },
        )


if __name__ == "__main__":
    main()
