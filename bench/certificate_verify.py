"""`liudong certificate verify` at scale, against the raw Ed25519 verify rate.

Signs N certificate payloads with the node key (as `issue` would, without N database
rows), then in one process: baseline: the cryptography library's Ed25519 verify of the same
N signatures over the same bytes; verify: `services.verify_payloads` on the N payload texts
(decoding, key lookup, signature, the revocation query, expiry), in chunks of 1,000 as a
verifier with a queue of scans would call it. Goal (issue 4): at least 50% of the baseline.
Run: .venv/bin/python bench/certificate_verify.py [--db postgres] [--n 100000]
"""

import datetime
import random
import time

from common import arguments, fresh_django, report


def payloads(n: int) -> tuple[list[str], list[tuple]]:
    """N payload texts and, for the baseline, (public key, signature, signed bytes)."""
    from liudong.certificates import keys
    from liudong.certificates import payload as codec
    from liudong.certificates.services import valid_until_for
    from liudong.people.idnumbers import make

    node = keys.current_key()
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
        message = codec.signed_message(codec.body_bytes(contents))
        signature = node.private.sign(message)
        texts.append(codec.encode(contents, signature))
        raw.append((public, signature, message))
    return texts, raw


def main():
    args = arguments(__doc__)
    n = args.n or 100_000
    with fresh_django(args):
        from liudong.certificates import services

        texts, raw = payloads(n)
        start = time.perf_counter()
        for public, signature, message in raw:
            public.verify(signature, message)
        baseline_s = time.perf_counter() - start

        today = datetime.date(2026, 11, 22)
        start = time.perf_counter()
        good = 0
        for offset in range(0, n, 1000):
            results = services.verify_payloads(texts[offset : offset + 1000], today=today)
            good += sum(result.ok for result in results)
        verify_s = time.perf_counter() - start
        report(
            "certificate_verify",
            args,
            {
                "payloads": n,
                "payload_chars": round(sum(map(len, texts)) / n),
                "baseline_ed25519_verify_per_s": round(n / baseline_s),
                "verify_payloads_per_s": round(n / verify_s),
                "ratio_verify_to_baseline": round(baseline_s / verify_s, 3),
                "valid": good,
            },
        )


if __name__ == "__main__":
    main()
