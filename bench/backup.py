"""`liudong backup` and `liudong restore` at scale, against the database's own copy.

In a fresh database: the shipped divisions and N generated persons imported through the
importer (files, stays, audit entries). Then, each in a child process (its peak resident
memory measured alone): `liudong backup`, and `liudong restore` into a NEW database (it
creates the schema itself). Baseline: the database's own whole-database copy in the same
run (SQLite's online backup API; PostgreSQL's `pg_dump -Fc`, when installed). The restored
database must hold the same rows and an intact audit chain.
`--into postgres` restores a SQLite backup into PostgreSQL (a township moving to the
county server).
Run: .venv/bin/python bench/backup.py [--db postgres] [--into postgres] [--n 100000]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import ROOT, argument_parser, fresh_django, report, timed

PASSPHRASE = "bench passphrase, kept apart"  # noqa: S105 (a throw-away database)


def child(command: list[str]) -> None:
    """In a child process: run one `liudong` command, then print its peak memory (MiB)."""
    from liudong.cli import main

    start = time.perf_counter()
    try:
        main(command)
    except SystemExit as exc:
        if exc.code:
            raise
    seconds = time.perf_counter() - start
    # VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's peak (the
    # importer's, here), so it read the same for backup and restore whatever they used.
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak}))


def run_child(command: list[str], env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(command)],
        input=PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT / "bench",
        env=env,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{command} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def counts() -> dict:
    from liudong.backup.services import tables

    return {m._meta.label_lower: m._base_manager.count() for m in tables()}


def baseline(db: str, folder: Path) -> float | None:
    from django.db import connection

    if db == "sqlite":
        import sqlite3

        start = time.perf_counter()
        target = sqlite3.connect(folder / "baseline.sqlite3")
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        return time.perf_counter() - start
    pg_dump = shutil.which("pg_dump")
    if not pg_dump:
        return None
    settings = connection.settings_dict
    start = time.perf_counter()
    server = ["-h", settings["HOST"], "-p", str(settings["PORT"]), "-U", settings["USER"]]
    dump = ["-Fc", "-f", str(folder / "baseline.dump"), settings["NAME"]]
    subprocess.run([pg_dump, *server, *dump], check=True)
    return time.perf_counter() - start


def new_database(into: str, pg_url: str) -> tuple[dict, object]:
    """Environment for a child pointed at a new empty database, and its dropper."""
    env = dict(os.environ)
    env["LIUDONG_VAR_DIR"] = tempfile.mkdtemp(prefix="liudong-restore-")
    env["LIUDONG_NODE_KEY"] = str(Path(env["LIUDONG_VAR_DIR"]) / "node-keys")
    if into == "sqlite":
        env.pop("DATABASE_URL", None)
        return env, lambda: None
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(pg_url)
    params = {"host": cfg["HOST"], "port": cfg["PORT"], "user": cfg["USER"]}
    name = f"liudong_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = f"postgres://{cfg['USER']}@{cfg['HOST']}:{cfg['PORT']}/{name}"

    def drop():
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return env, drop


def restored_state(env: dict) -> dict:
    script = (
        "import django, json; django.setup();"
        "from liudong.audit.services import verify_chain;"
        "from liudong.backup.services import tables;"
        "print(json.dumps({'counts': {m._meta.label_lower: m._base_manager.count() "
        "for m in tables()}, 'audit_ok': verify_chain().ok}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "liudong.settings"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--into", choices=["sqlite", "postgres"], default=None)
    args = parser.parse_args()
    n = args.n or 100_000
    into = args.into or args.db
    folder = Path(tempfile.mkdtemp(prefix="liudong-bench-backup-"))
    with fresh_django(args):
        from liudong.people import importing
        from liudong.people.generate import generate_rows, write_file
        from liudong.regions.services import load_divisions

        load_divisions()
        persons = folder / "persons.csv"
        write_file(persons, generate_rows(n, seed=7, fault_share=0.0))
        import_seconds, summary = timed(importing.import_persons, persons)
        from liudong.certificates import keys

        keys.current_key()  # a node signing key, so the backup carries one
        before = counts()
        env = dict(os.environ)
        out = folder / "node.liudong-backup"
        base = baseline(args.db, folder)
        from django.db import connections

        connections.close_all()
        made = run_child(["backup", "--out", str(out)], env)
        target_env, drop = new_database(into, args.pg_url)
        try:
            restored = run_child(["restore", str(out)], target_env)
            state = restored_state(target_env)
        finally:
            drop()
    after = state["counts"]
    expected = dict(before)
    expected["audit.auditentry"] += 2  # the backup's own entry and the restore's
    figures = {
        "persons": n,
        "imported": summary.imported,
        "import_seconds": round(import_seconds, 1),
        "rows": sum(before.values()),
        "backup_seconds": round(made["seconds"], 1),
        "backup_peak_mib": round(made["peak_mib"]),
        "backup_file_mib": round(out.stat().st_size / 2**20, 1),
        "restore_into": into,
        "restore_seconds": round(restored["seconds"], 1),
        "restore_peak_mib": round(restored["peak_mib"]),
        "baseline": "sqlite backup API" if args.db == "sqlite" else "pg_dump -Fc",
        "baseline_seconds": None if base is None else round(base, 1),
        "backup_vs_baseline": None if not base else round(made["seconds"] / base, 1),
        "same_rows": after == expected,
        "audit_chain_ok": state["audit_ok"],
    }
    report("backup" if into == args.db else f"backup-into-{into}", args, figures)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        child(json.loads(sys.argv[2]))
    else:
        main()
