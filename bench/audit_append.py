"""How fast the hash-chained audit log appends, against a plain insert of the same rows.

Single: each entry its own transaction (one web request's change): lock the chain head,
hash, insert, move the head. Batch: an importer's entries appended in one call (one lock).
Baseline: the same rows inserted one transaction each with a plain INSERT, no chain.
Run: .venv/bin/python bench/audit_append.py [--db postgres] [--n 3000]
"""

from common import arguments, fresh_django, report, timed

PLAIN_INSERT = "INSERT INTO bench_plain VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def main():
    args = arguments(__doc__)
    n = args.n or 3000
    with fresh_django(args):
        from django.db import connection, transaction

        from liudong.audit import services as audit

        detail = {"rows": 12, "filters": {"region": "330106002"}}

        def fields(i):
            return {
                "object_type": "regions.region",
                "object_id": str(i),
                "object_repr": f"北山社区 {i}",
                "region": "330106002001",
                "before": {"name": "北山社区"},
                "after": {"name": f"北山社区 {i}"},
                "detail": detail,
            }

        def chained():
            for i in range(n):
                audit.record("update", **fields(i))

        def batched():
            audit.append([audit.entry("update", **fields(i)) for i in range(n)])

        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bench_plain (id integer primary key, at varchar(40),"
                " action varchar(20), object_type varchar(60), object_id varchar(64),"
                " object_repr varchar(200),"
                " region varchar(15), before text, after text, detail text, hash varchar(64))"
            )

        def plain():
            import json

            for i in range(n):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        PLAIN_INSERT,
                        [
                            i,
                            "2026-11-22T00:00:00+00:00",
                            "update",
                            "regions.region",
                            str(i),
                            f"北山社区 {i}",
                            "330106002001",
                            json.dumps({"name": "北山社区"}),
                            json.dumps({"name": f"北山社区 {i}"}),
                            json.dumps(detail),
                            "0" * 64,
                        ],
                    )

        baseline_s, _ = timed(plain)
        chained_s, _ = timed(chained)
        batch_s, _ = timed(batched)
        verify_s, verified = timed(audit.verify_chain)
        assert verified.ok and verified.checked == 2 * n
        report(
            "audit_append",
            args,
            {
                "entries": n,
                "single_entries_per_s": round(n / chained_s),
                "batch_entries_per_s": round(n / batch_s),
                "plain_insert_rows_per_s": round(n / baseline_s),
                "ratio_single_to_plain_time": round(chained_s / baseline_s, 2),
                "ratio_batch_to_plain_time": round(batch_s / baseline_s, 2),
                "verify_entries_per_s": round(2 * n / verify_s),
            },
        )


if __name__ == "__main__":
    main()
