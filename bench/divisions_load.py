"""Loading the 44,705 shipped divisions into an empty database, and a county's subtree
count, against hand-written SQL baselines in the same run.

Baselines: the same rows inserted with one executemany; the subtree counted with a
single hand-written `WHERE code >= ? AND code <= ?` (what the ORM should produce).
Run: .venv/bin/python bench/divisions_load.py [--db postgres]
"""

from common import arguments, fresh_django, report, timed


def main():
    args = arguments(__doc__)
    with fresh_django(args):
        from django.db import connection, transaction

        from liudong.regions.codes import subtree_bounds
        from liudong.regions.models import Region
        from liudong.regions.services import _division_rows, load_divisions

        rows = list(_division_rows())
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bench_region (code varchar(15) primary key, name varchar(100),"
                " level smallint, parent_id varchar(15))"
            )

        def raw_insert():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO bench_region VALUES (%s, %s, %s, %s)",
                    [
                        (c, n, int(lv), c[: {2: 0, 4: 2, 6: 4, 9: 6}[len(c)]] or None)
                        for c, n, lv in rows
                    ],
                )

        baseline_s, _ = timed(raw_insert)
        load_s, loaded = timed(load_divisions)
        assert loaded.created == len(rows)
        again_s, _ = timed(load_divisions)
        forced_s, _ = timed(load_divisions, force=True)

        low, high = subtree_bounds("3301")
        repeats = 200

        def orm_counts():
            for _ in range(repeats):
                Region.objects.subtree("3301").count()

        def raw_counts():
            with connection.cursor() as cursor:
                for _ in range(repeats):
                    cursor.execute(
                        "SELECT COUNT(*) FROM regions_region WHERE code >= %s AND code <= %s",
                        [low, high],
                    )
                    cursor.fetchone()

        raw_count_s, _ = timed(raw_counts)
        orm_count_s, _ = timed(orm_counts)
        report(
            "divisions_load",
            args,
            {
                "rows": len(rows),
                "load_s": round(load_s, 2),
                "raw_executemany_s": round(baseline_s, 2),
                "ratio_load_to_raw": round(load_s / baseline_s, 2),
                "second_load_s": round(again_s, 3),
                "forced_compare_s": round(forced_s, 2),
                "subtree_count_3301_ms": round(orm_count_s / repeats * 1000, 3),
                "raw_count_ms": round(raw_count_s / repeats * 1000, 3),
            },
        )


if __name__ == "__main__":
    main()
