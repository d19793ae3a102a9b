"""`liudong import persons` at scale, against a baseline loaded with no validation.

Generates N rows in the person template (`liudong generate`), then, in a fresh database:
baseline: the same csv loaded into a plain table of text columns by COPY (PostgreSQL) or
executemany (SQLite); import: the full importer (every rule, files, stays, audit), its time
split into reading and checking rows and writing them into the indexed tables. Memory:
the importer's peak resident memory for N/10 and N rows, each in its own process (flat
memory means the two are close). Search: p50/p99 of an ID-number search and a name-prefix
search at N persons through the API.
Run: .venv/bin/python bench/import_persons.py [--db postgres] [--n 1000000]
"""

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, arguments, fresh_django, report, timed


def generate(path: Path, n: int, seed: int = 7) -> None:
    from liudong.people.generate import generate_rows, write_file

    write_file(path, generate_rows(n, seed=seed, fault_share=0.01))


def baseline(path: Path, db: str) -> float:
    """Seconds to load the csv with no validation at all."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        columns = ", ".join(f"c{i} text" for i in range(20))
        cursor.execute(f"CREATE TABLE bench_raw ({columns})")
    start = time.perf_counter()
    if db == "postgres":
        raw = connection.connection  # psycopg 3
        with raw.cursor() as cursor, path.open("rb") as handle:
            handle.readline()  # header
            with cursor.copy("COPY bench_raw FROM STDIN WITH (FORMAT csv)") as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        raw.commit()
    else:
        import csv

        with path.open(encoding="utf-8-sig", newline="") as handle, transaction.atomic():
            reader = csv.reader(handle)
            next(reader)
            placeholders = ", ".join(["%s"] * 20)
            with connection.cursor() as cursor:
                batch = []
                for row in reader:
                    batch.append(row)
                    if len(batch) == 10000:
                        cursor.executemany(f"INSERT INTO bench_raw VALUES ({placeholders})", batch)
                        batch = []
                if batch:
                    cursor.executemany(f"INSERT INTO bench_raw VALUES ({placeholders})", batch)
    return time.perf_counter() - start


def child_import(path: str) -> None:
    """In a child process: import, then print peak memory (MiB) and the summary counts."""
    import django

    django.setup()
    from liudong.actors import OPERATOR
    from liudong.people import importing

    # Split the time: reading and checking rows, against writing them (the inserts into
    # the indexed, constrained tables, the audit entries and the commits).
    writing = [0.0]
    write = importing.BatchWriter.write

    def timed_write(self, batch):
        begin = time.perf_counter()
        try:
            return write(self, batch)
        finally:
            writing[0] += time.perf_counter() - begin

    importing.BatchWriter.write = timed_write
    start = time.perf_counter()
    summary = importing.import_persons(path, acting_user=OPERATOR)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "write_seconds": writing[0],
                "peak_mib": peak_mib,
                "imported": summary.imported,
                "rejected": len(summary.rejected),
            }
        )
    )


def run_child(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "bench",
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def search_times(n_queries: int = 200) -> dict:
    """Milliseconds per API search for an ID number and for a name prefix."""
    from django.conf import settings
    from django.test import Client

    from liudong.accounts.services import create_user, issue_token
    from liudong.actors import OPERATOR
    from liudong.people.models import Person
    from liudong.regions.models import Region

    settings.ALLOWED_HOSTS.append("testserver")
    # A provincial bureau of 浙江 (a main destination in the generated flows).
    user, _ = create_user(
        acting_user=OPERATOR,
        username="bench_admin",
        role="county",
        region=Region.objects.get(code="33"),
    )
    # A bearer token, as an office's own program would call the API: a provincial account
    # signed in through the browser would need its second factor first.
    key = issue_token(acting_user=OPERATOR, user=user, name="bench").key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    sample = list(
        Person.objects.in_region("33").order_by("?").values_list("id_number", "name")[:n_queries]
    )
    for id_number, _name in sample[:5]:  # warm the caches and the session first
        client.get("/api/persons/", {"q": id_number})
    timings = {"id_number": [], "name_prefix": []}
    for id_number, name in sample:
        for kind, query in (("id_number", id_number), ("name_prefix", name[:1] + name[1:2])):
            start = time.perf_counter()
            response = client.get("/api/persons/", {"q": query, "page_size": 20})
            timings[kind].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.content[:200]
    return {
        f"{kind}_search_ms_p{p}": round(statistics.quantiles(values, n=100)[p - 1], 1)
        for kind, values in timings.items()
        for p in (50, 99)
    }


def main():
    args = arguments(__doc__)
    n = args.n or 1_000_000
    folder = Path(tempfile.mkdtemp(prefix="liudong-bench-persons-"))
    small, large = folder / "small.csv", folder / "large.csv"
    generate_s, _ = timed(generate, large, n)
    generate(small, max(n // 10, 1), seed=8)
    with fresh_django(args):
        from liudong.regions.services import load_divisions

        load_divisions()
        baseline_s = baseline(large, args.db)
        small_run = run_child(small)
        large_run = run_child(large)
        figures = {
            "rows": n,
            "generate_s": round(generate_s, 1),
            "baseline_rows_per_s": round(n / baseline_s),
            "import_rows_per_s": round(n / large_run["seconds"]),
            "ratio_import_to_baseline": round(baseline_s / large_run["seconds"], 3),
            "import_s": round(large_run["seconds"], 1),
            "import_write_s": round(large_run["write_seconds"], 1),
            "import_read_and_check_s": round(large_run["seconds"] - large_run["write_seconds"], 1),
            "imported": large_run["imported"],
            "rejected": large_run["rejected"],
            "peak_mib_at_tenth": round(small_run["peak_mib"]),
            "peak_mib_at_full": round(large_run["peak_mib"]),
        }
        try:
            figures.update(search_times())
        except Exception as exc:  # the persons API may not be there yet
            figures["search"] = f"not measured: {exc}"
        report("import_persons", args, figures)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        child_import(sys.argv[2])
    else:
        main()
