"""Backup and restore: a round trip gives the same rows and an intact audit chain; a
wrong passphrase, a damaged or altered file, a database holding data and a different key
on this machine are each refused with nothing written; a failed restore leaves the
database empty. Runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from liudong.audit.models import Action, AuditEntry
from liudong.audit.services import verify_chain
from liudong.backup import archive, services
from liudong.backup.archive import BackupError
from liudong.certificates import issuing, verification
from liudong.certificates.models import Certificate
from liudong.certificates.tests.conftest import make_person
from liudong.people.models import Person
from liudong.services.records import services as record_services

pytestmark = pytest.mark.django_db
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    """scrypt at its floor (16 MiB): the cost is recorded per file, restore reads it."""
    monkeypatch.setattr(archive, "SCRYPT_N", 2**14)


@pytest.fixture
def var_dir(settings, tmp_path, node_keys, audit_keys):
    """A var folder of this test's own, holding a secret key; node keys in node_keys, the
    audit chain's key and anchors in audit_keys."""
    folder = tmp_path / "var"
    folder.mkdir()
    (folder / "secret_key").write_text("the-secret-key-of-this-node")
    settings.VAR_DIR = folder
    return folder


@pytest.fixture(autouse=True)
def keep_sequences(db):
    """PostgreSQL's sequences do not roll back with the test: put them back as they were,
    or the next test's rows would take ids the database already holds."""
    if connection.vendor != "postgresql":
        yield
        return
    kept = []
    with connection.cursor() as cursor:
        for sequence in connection.introspection.sequence_list():
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)", [sequence["table"], sequence["column"]]
            )
            name = cursor.fetchone()[0]
            cursor.execute(f"SELECT last_value, is_called FROM {name}")  # noqa: S608
            kept.append((name, *cursor.fetchone()))
    yield
    with connection.cursor() as cursor:
        for name, value, called in kept:
            cursor.execute("SELECT setval(%s, %s, %s)", [name, value, called])


def _without_checks(cursor) -> None:
    # Triggers off for this transaction (PostgreSQL): the append-only guard, and the
    # foreign-key checks that would otherwise run for every deleted row at teardown.
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL session_replication_role = replica")


def _with_checks(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@pytest.fixture
def few_divisions(db):
    """The shipped divisions cut to the two test counties' branch: 45,000 regions cost
    seconds to back up and restore, and only the round trip needs them all."""
    with connection.cursor() as cursor:
        _without_checks(cursor)
        cursor.execute(
            "DELETE FROM regions_region WHERE code NOT IN ('33', '3301') "
            "AND code NOT LIKE '330105%%' AND code NOT LIKE '330106%%'"
        )
        _with_checks(cursor)


@pytest.fixture
def populated(var_dir, township_a):
    """Persons, a signed certificate, a service record and their audit entries."""
    woman = make_person(name="周敏")  # registered in township A, lives in county B
    issuing.issue(woman, acting_user=township_a, today=datetime.date(2026, 6, 15))
    resident = make_person(household="330105001001", residence="330106002001", name="王芳")
    record_services.create_service_record(
        acting_user=township_a,
        person=resident,
        service_type="reproductive_health",
        date=datetime.date(2025, 6, 1),
        consent_recorded=True,
    )
    return woman


def counts() -> dict[str, int]:
    return {m._meta.label_lower: m._base_manager.count() for m in services.tables()}


def wipe() -> None:
    """Empty every table as a new database would be, sequences back at 1 (inside the
    test's transaction, which rolls back; keep_sequences puts the sequences back).
    PostgreSQL: the append-only trigger is switched off for this transaction only, as a
    test may and the application never does."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        _without_checks(cursor)
        # Every table, those a backup leaves out (the statistics store, sessions) too: a new
        # database has none of their rows, and their sequences are reset below as well.
        for model in apps.get_models(include_auto_created=True):
            if model._meta.managed and not model._meta.proxy:
                cursor.execute(f"DELETE FROM {qn(model._meta.db_table)}")  # noqa: S608
        _with_checks(cursor)
        if connection.vendor == "postgresql":
            sequences = connection.introspection.sequence_list()
            for sql in connection.ops.sequence_reset_by_name_sql(no_style(), sequences):
                cursor.execute(sql)
    assert not any(counts().values())


def make_backup(tmp_path: Path) -> Path:
    out = tmp_path / "node.liudong-backup"
    services.backup(out, passphrase=PASSPHRASE)
    return out


# --- the round trip --------------------------------------------------------------------------


def test_round_trip_gives_the_same_rows_and_an_intact_audit_chain(populated, tmp_path):
    out = make_backup(tmp_path)
    before = counts()
    person_rows = list(Person.objects.order_by("pk").values())
    chain_before = list(AuditEntry.objects.order_by("seq").values_list("seq", "hash"))
    assert before["people.person"] == 2 and before["certificates.certificate"] == 1
    assert before["services.servicerecord"] == 1 and before["audit.auditentry"] > 3

    wipe()
    report = services.restore(out, passphrase=PASSPHRASE)

    after = counts()
    assert after.pop("audit.auditentry") == before.pop("audit.auditentry") + 1
    assert after == before
    assert report.total == sum(before.values()) + len(chain_before)
    assert list(Person.objects.order_by("pk").values()) == person_rows
    restored_chain = list(AuditEntry.objects.order_by("seq").values_list("seq", "hash"))
    assert restored_chain[:-1] == chain_before
    assert verify_chain().ok
    # Who restored what from when: the last entry of the chain.
    last = AuditEntry.objects.order_by("-seq").first()
    assert last.action == Action.IMPORT and last.object_type == "backup.archive"
    assert last.detail["backup_created"] == report.created and last.detail["rows"] == report.total
    # The audit chain's key travels with the backup: the restored log verifies and grows.
    assert "audit-key" in last.detail["keys"]
    # The certificate still verifies: its signing key came back with the backup.
    certificate = Certificate.objects.get()
    assert verification.verify_payload(certificate.payload).ok
    # New rows get new ids (PostgreSQL's sequences were moved past the restored rows).
    make_person(name="李娜", household="330106002001", residence="330105001001")
    assert Person.objects.count() == 3


def test_a_restore_sets_aside_the_anchors_of_the_log_it_replaces(populated, tmp_path):
    """Entries written after the backup are lost with the database; the anchors that
    recorded them no longer fit the restored log: they are kept aside (not deleted), the
    restore's entry names how far they went, and the restored log is anchored afresh."""
    from liudong.audit import anchors
    from liudong.audit import services as audit

    out = make_backup(tmp_path)
    audit.record("view", object_type="people.person", object_id="1")  # after the backup
    anchors.write_anchor()
    anchored = AuditEntry.objects.count()
    wipe()
    report = services.restore(out, passphrase=PASSPHRASE)
    assert report.anchors_set_aside and Path(report.anchors_set_aside).exists()
    assert verify_chain().ok  # against the fresh anchor, not the set-aside ones
    assert anchors.read_anchors()[-1].count == AuditEntry.objects.count()
    last = AuditEntry.objects.order_by("-seq").first()
    assert last.detail["last_anchor_before_restore"]["count"] == anchored


def test_the_backup_itself_is_audited_and_inside_the_file(few_divisions, populated, tmp_path):
    out = make_backup(tmp_path)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == Action.EXPORT and entry.object_type == "backup.archive"
    with zipfile.ZipFile(out) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
        audit_rows = zipped.read("data/audit.auditentry.jsonl").decode().splitlines()
    assert manifest["backup_id"] == entry.object_id
    assert json.loads(audit_rows[-1])[1] == entry.seq  # columns: id, seq, ...


def test_the_file_holds_no_key_in_the_clear(few_divisions, populated, tmp_path, node_keys):
    out = make_backup(tmp_path)
    raw = b""
    with zipfile.ZipFile(out) as zipped:
        for name in zipped.namelist():
            raw += zipped.read(name)
    for pem in node_keys.glob("*.pem"):
        assert pem.read_bytes() not in raw
    assert b"the-secret-key-of-this-node" not in raw
    assert out.stat().st_mode & 0o077 == 0


def test_a_new_machine_gets_the_keys_with_mode_0600(
    few_divisions, populated, tmp_path, monkeypatch, settings
):
    out = make_backup(tmp_path)
    wipe()
    new_var = tmp_path / "new-machine"
    settings.VAR_DIR = new_var
    monkeypatch.setenv("LIUDONG_NODE_KEY", str(new_var / "node-keys"))
    report = services.restore(out, passphrase=PASSPHRASE)
    assert (new_var / "secret_key").read_text() == "the-secret-key-of-this-node"
    written = [Path(p) for p in report.keys_written]
    assert new_var / "secret_key" in written and len(written) >= 3  # + key and `current`
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o600


# --- refusals: nothing written -------------------------------------------------------------


def test_a_wrong_passphrase_is_refused_before_anything_is_written(
    few_divisions, populated, tmp_path, settings
):
    out = make_backup(tmp_path)
    wipe()
    settings.VAR_DIR = tmp_path / "empty"
    with pytest.raises(BackupError, match="wrong passphrase"):
        services.restore(out, passphrase="not the passphrase at all")
    assert not any(counts().values())
    assert not (tmp_path / "empty").exists()


def test_a_damaged_file_is_refused_before_anything_is_written(few_divisions, populated, tmp_path):
    out = make_backup(tmp_path)
    data = bytearray(out.read_bytes())
    with zipfile.ZipFile(out) as zipped:
        info = zipped.getinfo("data/people.person.jsonl")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF
    out.write_bytes(bytes(data))
    wipe()
    with pytest.raises(BackupError, match=r"damaged|altered"):
        services.restore(out, passphrase=PASSPHRASE)
    assert not any(counts().values())


def test_a_table_edited_with_its_checksum_recomputed_is_refused(few_divisions, populated, tmp_path):
    """Whoever edits a row and the manifest's checksum cannot re-sign the manifest."""
    out = make_backup(tmp_path)
    with zipfile.ZipFile(out) as zipped:
        members = {name: zipped.read(name) for name in zipped.namelist()}
    edited = members["data/people.person.jsonl"].replace("周敏".encode(), "周某".encode())
    assert edited != members["data/people.person.jsonl"]
    members["data/people.person.jsonl"] = edited
    manifest = json.loads(members["manifest.json"])
    for table in manifest["tables"]:
        if table["member"] == "data/people.person.jsonl":
            import hashlib

            table["sha256"] = hashlib.sha256(edited).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    forged = tmp_path / "forged.liudong-backup"
    with zipfile.ZipFile(forged, "w") as zipped:
        for name, content in members.items():
            zipped.writestr(name, content)
    wipe()
    with pytest.raises(BackupError, match="altered"):
        services.restore(forged, passphrase=PASSPHRASE)
    assert not any(counts().values())


def test_a_database_holding_data_is_refused(few_divisions, populated, tmp_path):
    out = make_backup(tmp_path)
    before = counts()
    with pytest.raises(BackupError, match=r"not empty: .*people.person \(2 rows\)"):
        services.restore(out, passphrase=PASSPHRASE)
    assert counts() == before


def test_only_the_tables_migrate_fills_count_as_empty():
    """The test database is `liudong migrate`d: migrations and the shipped divisions. A new
    data migration filling a table not in SEEDED turns this red. The divisions load's own
    audit entry stays: the log cannot be emptied, so restore needs a new database."""
    occupied = services.occupied_tables()
    # The log's first entry begins keyed chaining, whose anchor is signed with the node key:
    # on a machine with no node key yet, migrate also registers the new key's public half.
    assert set(occupied) - {"certificates.signingkey"} == {"audit.auditentry", "audit.audithead"}
    assert list(AuditEntry.objects.values_list("object_type", flat=True)) == ["regions.region"]


def test_a_different_key_here_is_refused_unless_replace_keys(
    few_divisions, populated, tmp_path, monkeypatch, node_keys
):
    out = make_backup(tmp_path)
    wipe()
    (node_keys / "current").write_text("0badc0de\n")
    with pytest.raises(BackupError, match=r"differ from the backup's: .*current"):
        services.restore(out, passphrase=PASSPHRASE)
    assert not any(counts().values())
    assert (node_keys / "current").read_text() == "0badc0de\n"

    report = services.restore(out, passphrase=PASSPHRASE, replace_keys=True)
    assert report.keys_replaced == [str(node_keys / "current")]
    assert (node_keys / "current").read_text() != "0badc0de\n"
    kept = list(node_keys.glob("current.replaced-*"))
    assert [p.read_text() for p in kept] == ["0badc0de\n"]


def test_a_failed_restore_leaves_the_database_empty_and_no_key_written(
    few_divisions, populated, tmp_path, monkeypatch, settings
):
    out = make_backup(tmp_path)
    wipe()
    settings.VAR_DIR = tmp_path / "new-machine"
    loaded = []
    real_load = services._load

    def load_then_fail(reader, info, model):
        if len(loaded) == 5:
            raise BackupError("disk full (simulated)")
        loaded.append(info["model"])
        return real_load(reader, info, model)

    monkeypatch.setattr(services, "_load", load_then_fail)
    with pytest.raises(BackupError, match="simulated"):
        services.restore(out, passphrase=PASSPHRASE)
    assert not any(counts().values())
    assert not (tmp_path / "new-machine" / "secret_key").exists()


def test_a_short_passphrase_is_refused(var_dir, tmp_path):
    with pytest.raises(BackupError, match="at least 12"):
        services.backup(tmp_path / "b", passphrase="short")
    assert not (tmp_path / "b").exists()


# --- the commands --------------------------------------------------------------------------


def test_commands_read_the_passphrase_from_stdin(few_divisions, populated, tmp_path):
    out = tmp_path / "cli.liudong-backup"
    stdout = io.StringIO()
    call_command("backup", out=str(out), stdin=io.StringIO(PASSPHRASE + "\n"), stdout=stdout)
    assert out.exists() and "backup written" in stdout.getvalue()
    wipe()
    stdout = io.StringIO()
    call_command(
        "restore", str(out), "--format", "json", stdin=io.StringIO(PASSPHRASE + "\n"), stdout=stdout
    )
    result = json.loads(stdout.getvalue())
    assert result["audit"]["ok"] is True
    assert result["rows"]["people.person"] == 2


def test_the_restore_command_names_a_wrong_passphrase(few_divisions, populated, tmp_path, capsys):
    out = make_backup(tmp_path)
    wipe()
    with pytest.raises(SystemExit) as exit_info:
        call_command("restore", str(out), stdin=io.StringIO("a wrong passphrase\n"))
    assert exit_info.value.code == 1
    assert "wrong passphrase" in capsys.readouterr().err
    assert not any(counts().values())
