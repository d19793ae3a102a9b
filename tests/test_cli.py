"""The real `liudong` command, run as a newcomer would, against a fresh database of its own
(a SQLite file; and a throw-away PostgreSQL database when the suite runs on PostgreSQL)."""

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

LIUDONG = str(Path(sys.executable).parent / "liudong")


@pytest.fixture
def fresh_database(tmp_path):
    """Environment for a subprocess with a database nobody else uses."""
    env = {**os.environ, "LIUDONG_VAR_DIR": str(tmp_path / "var"), "LIUDONG_SECRET_KEY": "cli-test"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if connection.vendor == "postgresql":
        import psycopg

        settings = connection.settings_dict
        name = f"liudong_cli_{uuid.uuid4().hex[:10]}"
        params = {"host": settings["HOST"], "port": settings["PORT"], "user": settings["USER"]}
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = (
            f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"
        )
        yield env, ("postgresql", name, params)
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        env.pop("DATABASE_URL", None)
        yield env, ("sqlite", str(tmp_path / "var" / "liudong.sqlite3"), None)


def liudong(env, *args, stdin=None):
    return subprocess.run(
        [LIUDONG, *args], env=env, capture_output=True, text=True, input=stdin, timeout=300
    )


def tamper(database, sql):
    vendor, name, params = database
    if vendor == "sqlite":
        with sqlite3.connect(name) as db:
            db.execute(sql)
    else:
        import psycopg

        with psycopg.connect(dbname=name, autocommit=True, **params) as db:
            db.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
            db.execute(sql)


def test_a_newcomers_session(fresh_database, tmp_path):
    env, database = fresh_database
    assert "import regions FILE" in liudong(env, "--help").stdout

    first = liudong(env, "migrate")
    assert first.returncode == 0, first.stderr
    assert "divisions: 44703 created" in first.stdout
    again = liudong(env, "migrate")
    assert again.returncode == 0 and "divisions: up to date" in again.stdout

    made = liudong(
        env, "createuser", "admin", "--role", "county", "--region", "330106", "--format", "json"
    )
    assert made.returncode == 0, made.stderr
    assert len(json.loads(made.stdout)["password"]) >= 10

    villages = tmp_path / "villages.csv"
    villages.write_text("区划代码,名称\n330106002001,北山社区\n330106002001001,第一村民小组\n")
    imported = liudong(
        env, "import", "regions", str(villages), "--user", "admin", "--format", "json"
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"] == 2

    verified = liudong(env, "audit", "verify")
    # the divisions load, the account, the village and its group
    assert verified.returncode == 0 and "intact: 4 entries" in verified.stdout

    tamper(database, "UPDATE audit_auditentry SET object_repr = 'someone else' WHERE seq = 2")
    broken = liudong(env, "audit", "verify", "--format", "json")
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["broken_entry"] == 2
    assert "#2" in liudong(env, "audit", "verify").stderr


def test_usage_errors_have_one_shape(fresh_database):
    env, _ = fresh_database
    unknown = liudong(env, "import", "people-and-pets", "x.csv")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("liudong: error: unknown import subcommand")
    missing = liudong(env, "import", "regions", "/no/such/file.csv")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "liudong: error: no such file: /no/such/file.csv"


def test_migrations_are_reversible(fresh_database):
    env, _ = fresh_database
    django_admin = [sys.executable, "-m", "django"]
    env = {**env, "DJANGO_SETTINGS_MODULE": "liudong.settings"}

    def migrate(*args):
        done = subprocess.run(
            [*django_admin, "migrate", *args, "-v", "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr

    migrate()
    for app in ("audit", "regions", "accounts"):
        migrate(app, "zero")
    migrate()


def test_generate_writes_the_template_without_a_database(tmp_path):
    env = {**os.environ, "LIUDONG_VAR_DIR": str(tmp_path / "var"), "LIUDONG_SECRET_KEY": "x"}
    out = tmp_path / "people.csv"
    done = liudong(env, "generate", "--persons", "25", "--out", str(out), "--seed", "3")
    assert done.returncode == 0, done.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("姓名,性别,公民身份号码") and len(lines) == 26
    bad = liudong(env, "generate", "--persons", "5", "--out", str(tmp_path / "x.pdf"))
    assert bad.returncode == 1 and bad.stderr.startswith("liudong: error:")
