"""The real `liudong` command, run as a newcomer would, against a fresh database of its own
(a SQLite file; and a throw-away PostgreSQL database when the suite runs on PostgreSQL)."""

import csv
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

# A test that gives its subprocess a database of the suite's kind asks for no database
# fixture, yet depends on the database: it runs on PostgreSQL too (conftest.py deselects
# the tests that do not depend on it there).
EVERY_DATABASE = pytest.mark.every_database


def _postgres_params() -> dict:
    settings = connection.settings_dict
    return {"host": settings["HOST"], "port": settings["PORT"], "user": settings["USER"]}


def _postgres_url(name: str) -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **_postgres_params()) as admin:
        admin.execute(sql)


def _database_env(var: Path, template: str | None = None):
    """Environment for a subprocess with a database nobody else uses (on PostgreSQL a new
    database, a copy of ``template`` when given); returns (env, database, drop)."""
    env = {**os.environ, "LIUDONG_VAR_DIR": str(var), "LIUDONG_SECRET_KEY": "cli-test"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    # The audit key and anchors in that var/ folder, as a newcomer's: the suite points these
    # at files of the running test, which a database copied from the template never saw.
    env.pop("LIUDONG_AUDIT_KEY", None)
    env.pop("LIUDONG_AUDIT_ANCHORS", None)
    if connection.vendor == "postgresql":
        name = f"liudong_cli_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        env["DATABASE_URL"] = _postgres_url(name)
        return env, ("postgresql", name, _postgres_params())
    env.pop("DATABASE_URL", None)
    return env, ("sqlite", str(var / "liudong.sqlite3"), None)


def _drop(database) -> None:
    vendor, name, _params = database
    if vendor == "postgresql":
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_database(tmp_path):
    """Environment for a subprocess with a database nobody else uses."""
    env, database = _database_env(tmp_path / "var")
    yield env, database
    _drop(database)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """One database `liudong migrate`d (the schema and 44,705 divisions: the slow part) and
    its var/ folder (audit key, node keys), made once per test process and copied by
    ``migrated_database``. ``test_a_newcomers_session`` still migrates from nothing."""
    folder = tmp_path_factory.mktemp("cli-template")
    env, database = _database_env(folder / "var")
    env["LIUDONG_NODE_KEY"] = str(folder / "node-keys")
    done = liudong(env, "migrate")
    assert done.returncode == 0, done.stderr
    yield folder, database
    _drop(database)


@pytest.fixture
def migrated_database(tmp_path, migrated_template):
    """Like ``fresh_database``, already migrated: a copy of the session's template (on
    PostgreSQL ``CREATE DATABASE ... TEMPLATE``), with copies of its keys."""
    import shutil

    folder, (vendor, template, _params) = migrated_template
    shutil.copytree(folder / "var", tmp_path / "var")
    if (folder / "node-keys").exists():
        shutil.copytree(folder / "node-keys", tmp_path / "node-keys")
    env, database = _database_env(tmp_path / "var", template if vendor == "postgresql" else None)
    env["LIUDONG_NODE_KEY"] = str(tmp_path / "node-keys")
    yield env, database
    _drop(database)


def scan_qr_codes(pdf) -> list[str]:
    """The texts of the QR codes on a PDF's pages, rendered to pixels and read by ZXing."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        texts = []
        for page in document:
            image = page.render(scale=150 / 72).to_pil()
            texts += [code.text for code in zxingcpp.read_barcodes(image)]
        return texts
    finally:
        document.close()


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


@EVERY_DATABASE
@pytest.mark.slow
def test_a_newcomers_session(fresh_database, tmp_path):
    env, database = fresh_database
    assert "import regions FILE" in liudong(env, "--help").stdout

    first = liudong(env, "migrate")
    assert first.returncode == 0, first.stderr
    assert "行政区划：新建 44705" in first.stdout  # Chinese like the pages
    again = liudong(env, "migrate")
    assert again.returncode == 0 and "行政区划：已是最新" in again.stdout

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
    assert verified.returncode == 0 and "审计日志完好：已核对 4 条记录" in verified.stdout

    tamper(database, "UPDATE audit_auditentry SET object_repr = 'someone else' WHERE seq = 2")
    broken = liudong(env, "audit", "verify", "--format", "json")
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["broken_entry"] == 2
    assert "#2" in liudong(env, "audit", "verify").stderr


@EVERY_DATABASE
def test_usage_errors_have_one_shape(fresh_database):
    env, _ = fresh_database
    unknown = liudong(env, "import", "people-and-pets", "x.csv")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("liudong: error: unknown import subcommand")
    missing = liudong(env, "import", "regions", "/no/such/file.csv")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "liudong: error: no such file: /no/such/file.csv"


@EVERY_DATABASE
@pytest.mark.slow
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
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:3] == ["姓名", "性别", "公民身份号码"] and len(rows) == 26
    bad = liudong(env, "generate", "--persons", "5", "--out", str(tmp_path / "x.pdf"))
    assert bad.returncode == 1 and bad.stderr.startswith("liudong: error:")


# --- certificates ----------------------------------------------------------------------------


def query(database, sql):
    vendor, name, params = database
    if vendor == "sqlite":
        with sqlite3.connect(name) as db:
            return db.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(dbname=name, autocommit=True, **params) as db:
        return db.execute(sql).fetchall()


@pytest.fixture
def certificate_office(migrated_database, tmp_path):
    """A migrated database with township 北山街道's account and two files registered
    there (a woman of 35 and a man), and a key folder of its own."""
    import datetime

    from liudong.people.idnumbers import make

    env, database = migrated_database
    made = liudong(env, "createuser", "beishan", "--role", "township", "--region", "330106002")
    assert made.returncode == 0, made.stderr
    woman = make("330106", datetime.date(1990, 5, 5), 12, "2")
    man = make("330106", datetime.date(1988, 1, 9), 13, "1")
    people = tmp_path / "people.csv"
    people.write_text(
        "姓名,性别,公民身份号码,婚姻状况,户籍地区划代码,现居住地区划代码,流入日期\n"
        f"周敏,女,{woman},20,330106002,330105001,2026-01-05\n"
        f"李强,男,{man},20,330106002,330105001,2026-01-05\n"
    )
    imported = liudong(env, "import", "persons", str(people), "--user", "beishan")
    assert imported.returncode == 0, imported.stderr
    return env, database, woman, man


@EVERY_DATABASE
@pytest.mark.slow
def test_issue_verify_print_and_revoke_a_certificate(certificate_office, tmp_path):
    env, database, woman, man = certificate_office
    issued = liudong(
        env, "certificate", "issue", "--id-number", woman, "--user", "beishan", "--format", "json"
    )
    assert issued.returncode == 0, issued.stderr
    certificate = json.loads(issued.stdout)
    number, payload = certificate["number"], certificate["payload"]
    assert number.startswith("330106002-") and number.endswith("-000001")

    ok = liudong(env, "certificate", "verify", payload)
    assert ok.returncode == 0, ok.stderr
    assert f"number: {number}" in ok.stdout and f"id_number: {woman}" in ok.stdout
    assert (
        json.loads(liudong(env, "certificate", "verify", payload, "--format", "json").stdout)[
            "fields"
        ]["name"]
        == "周敏"
    )

    body_end = payload.rindex(".")
    swapped = "A" if payload[body_end + 5] != "A" else "B"
    tampered = payload[: body_end + 5] + swapped + payload[body_end + 6 :]
    bad = liudong(env, "certificate", "verify", tampered)
    assert bad.returncode == 1 and bad.stderr.startswith("liudong: error: bad_signature")
    garbage = liudong(env, "certificate", "verify", "not a payload", "--format", "json")
    assert garbage.returncode == 1
    assert json.loads(garbage.stdout)["errors"][0]["code"] == "malformed"

    pdf = tmp_path / "certificate.pdf"
    public = {**env, "LIUDONG_PUBLIC_URL": "https://liudong.example.gov.cn/"}
    printed = liudong(public, "certificate", "pdf", number, "--out", str(pdf), "--user", "beishan")
    assert printed.returncode == 0, printed.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")
    # The printed page as a verifier sees it: rendered (PDFium) at 150 dpi, the QR read
    # by a standard reader (ZXing): a link a phone camera opens, the code in its fragment
    # (never sent to a server); the command line checks the link as scanned.
    scanned = scan_qr_codes(pdf)
    assert scanned == [f"https://liudong.example.gov.cn/verify/#{payload}"]
    assert liudong(env, "certificate", "verify", scanned[0]).returncode == 0

    twice = liudong(env, "certificate", "issue", "--id-number", woman, "--user", "beishan")
    assert twice.returncode == 1 and "已持有有效的婚育证明" in twice.stderr  # Chinese by default
    refused = liudong(env, "certificate", "issue", "--id-number", man, "--user", "beishan")
    assert refused.returncode == 1 and "只为女性出具" in refused.stderr

    rotated = liudong(env, "certificate", "rotate-key")  # the server operator's
    assert rotated.returncode == 0 and rotated.stdout.startswith("new signing key")
    assert liudong(env, "certificate", "verify", payload).returncode == 0

    revoked = liudong(
        env, "certificate", "revoke", number, "--reason", "issued in error", "--user", "beishan"
    )
    assert revoked.returncode == 0, revoked.stderr
    after = liudong(env, "certificate", "verify", payload)
    assert after.returncode == 1 and after.stderr.startswith("liudong: error: revoked")

    actions = query(
        database,
        "SELECT action, detail FROM audit_auditentry "
        "WHERE object_type = 'certificates.certificate' ORDER BY seq",
    )
    kinds = [
        json.loads(detail)["action"] if isinstance(detail, str) else detail["action"]
        for _action, detail in actions
    ]
    assert {"issue", "print", "verify", "revoke"} <= set(kinds)
    assert liudong(env, "audit", "verify").returncode == 0


@EVERY_DATABASE
def test_issue_in_bulk_from_a_file(certificate_office, tmp_path):
    env, _database, woman, man = certificate_office
    listing = tmp_path / "issue.csv"
    listing.write_text(
        f"序号,身份证号\n1,{woman}\n2,{man}\n3,110105199001011234\n4,12345\n5,{woman}\n",
    )
    done = liudong(
        env, "certificate", "issue", "--from", str(listing), "--user", "beishan", "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["issued"] == 1 and summary["certificates"][0]["row"] == 2
    assert [item["row"] for item in summary["skipped"]] == [6]
    assert [(item["row"], item["field"]) for item in summary["rejected"]] == [
        (3, "id_number"),
        (4, "id_number"),
        (5, "id_number"),
    ]
    assert "只为女性出具" in summary["rejected"][0]["message"]


@EVERY_DATABASE
@pytest.mark.slow
def test_the_operator_makes_a_residents_access_code(certificate_office):
    """`liudong resident code` (issue 19): the code and its validity, shown once; a second
    code revokes the first; the ID number appears in no output and no audit entry."""
    import datetime

    env, database, woman, _man = certificate_office
    first = liudong(env, "resident", "code", "--id-number", woman, "--format", "json")
    assert first.returncode == 0, first.stderr
    issued = json.loads(first.stdout)
    assert set(issued) == {"code", "valid_until"}
    assert len(issued["code"].replace("-", "")) == 10
    until = datetime.datetime.fromisoformat(issued["valid_until"])
    left = until - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(days=29) < left <= datetime.timedelta(days=30)
    short = liudong(
        env, "resident", "code", "--id-number", woman, "--days", "3", "--format", "json"
    )
    assert short.returncode == 0, short.stderr
    assert woman not in first.stdout + first.stderr + short.stdout + short.stderr
    # Only a township of her file may, and an unknown number is not echoed back.
    missing = liudong(env, "resident", "code", "--id-number", "110101199001011234")
    assert missing.returncode == 1 and "110101199001011234" not in missing.stderr
    rows = query(
        database,
        "SELECT revoked_at IS NULL, code_hash FROM residents_accesscode ORDER BY issued_at",
    )
    assert [bool(r[0]) for r in rows] == [False, True]
    assert not any(issued["code"].replace("-", "") in r[1] for r in rows)
    entries = query(
        database,
        "SELECT actor_username, detail FROM audit_auditentry "
        "WHERE object_type = 'residents.accesscode'",
    )
    assert len(entries) == 2
    assert all(woman not in str(e) and issued["code"] not in str(e) for e in entries)
