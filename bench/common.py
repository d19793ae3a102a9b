"""Shared set-up for benchmarks: a fresh database of their own (SQLite file in a temp
folder, or a throw-away PostgreSQL database), Django configured against it, and a JSON
result written to bench/results/ and printed."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark takes, for one that adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres", help="server to use"
    )
    parser.add_argument("--n", type=int, default=None, help="size of the run")
    return parser


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres", help="server to use"
    )
    parser.add_argument("--n", type=int, default=None, help="size of the run")
    return parser.parse_args()


@contextlib.contextmanager
def fresh_django(args, keep_as: str | None = None, folder: Path | None = None):
    """Point Django at a database of the benchmark's own, migrate it, yield, then drop it.

    ``keep_as``: the name of the database a run with ``--reuse`` keeps (created when
    missing, else used as it is, and kept afterwards): liudong_bench_dash_<N>,
    liudong_bench_search_<N>. On SQLite the kept database is the file in ``folder``
    (LIUDONG_VAR_DIR, default <tmp>/<keep_as>), which also holds the audit key. Without
    ``--reuse`` (or ``keep_as``), a throw-away database and var folder, dropped at the
    end whatever happens. The environment is left set, so the servers and workers a
    benchmark starts use the same database."""
    sys.path.insert(0, str(ROOT))
    keep = bool(keep_as and getattr(args, "reuse", False))
    if keep:
        assert keep_as is not None
        folder = folder or Path(tempfile.gettempdir()) / keep_as
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="liudong-bench-"))
    os.environ["LIUDONG_VAR_DIR"] = str(folder)
    os.environ["LIUDONG_SECRET_KEY"] = "bench"  # noqa: S105 (a throw-away database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "liudong.settings"
    dropper = None
    if args.db == "postgres":
        import dj_database_url
        import psycopg

        cfg = dj_database_url.parse(args.pg_url)
        params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"]}
        name = keep_as if keep else f"liudong_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if found.fetchone() is None:
                admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"postgres://{cfg['USER']}@{cfg['HOST']}:{cfg['PORT']}/{name}"

        def dropper():
            with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            if dropper:
                dropper()
            shutil.rmtree(folder, ignore_errors=True)


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def report(name: str, args, figures: dict) -> None:
    result = {
        "benchmark": name,
        "database": args.db,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        **figures,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}-{args.db}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


# --- copying a registry in SQL (PostgreSQL) ---------------------------------------------


def create_with_check(cursor) -> None:
    """``pg_temp.with_check(body)``: a 17-digit ID number body followed by its GB 11643
    check character, so a benchmark that copies persons in SQL gives each copy a valid
    ID number of its own (the importers and the filters read it as a real one)."""
    cursor.execute(
        "CREATE FUNCTION pg_temp.with_check(body text) RETURNS text LANGUAGE sql IMMUTABLE"
        " AS $$ SELECT body || substr('10X98765432', (sum(substr(body, i, 1)::int *"
        " (ARRAY[7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2])[i]) % 11)::int + 1, 1)"
        " FROM generate_series(1, 17) AS i $$"
    )


@contextlib.contextmanager
def secondary_indexes_dropped(cursor, tables):
    """Drop the indexes of ``tables`` that back no constraint (the keys and unique
    constraints stay) for the block, and build them again after it: one sort per index
    is faster than millions of inserts into each."""
    names = "', '".join(tables)
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN"
        f" ('{names}') AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _name, definition in indexes:
        cursor.execute(definition)
