"""Shared set-up for benchmarks: a fresh database of their own (SQLite file in a temp
folder, or a throw-away PostgreSQL database), Django configured against it, and a JSON
result written to bench/results/ and printed."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
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
def fresh_django(args):
    """Point Django at a new empty database, migrate it, yield, then drop it."""
    sys.path.insert(0, str(ROOT))
    folder = tempfile.mkdtemp(prefix="liudong-bench-")
    os.environ["LIUDONG_VAR_DIR"] = folder
    os.environ["LIUDONG_SECRET_KEY"] = "bench"  # noqa: S105 (a throw-away database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "liudong.settings"
    dropper = None
    if args.db == "postgres":
        import dj_database_url
        import psycopg

        cfg = dj_database_url.parse(args.pg_url)
        params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"]}
        name = f"liudong_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
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
        if dropper:
            dropper()


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
