"""The audit log is append-only and hash-chained; `liudong audit verify` finds tampering."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from liudong.audit import services as audit
from liudong.audit.models import AuditEntry, AuditImmutable

pytestmark = pytest.mark.django_db


def verify():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", "--format", "json", stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, json.loads(out.getvalue())


@pytest.fixture
def entries(township_a):
    # township_a's creation already wrote one entry; add a few of every shape
    audit.record("view", acting_user=township_a, object_type="people.person", object_id="7")
    audit.record(
        "update",
        acting_user=township_a,
        object_type="regions.region",
        object_id="330106002001",
        before={"name": "北山社区", "n": 1.5},
        after={"name": "北山一社区", "n": 2},
    )
    audit.record("export", acting_user=township_a, detail={"rows": 12, "filters": {}})
    return AuditEntry.objects.order_by("seq")


def raw_sql(sql, params=()):
    """Change the table behind the application's back, as a DBA or an intruder could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")


def test_an_intact_log_verifies(entries):
    status, report = verify()
    assert status == 0 and report["ok"] and report["checked"] == entries.count()


def test_each_entry_carries_the_previous_hash(entries):
    previous = None
    for entry in entries:
        if previous is not None:
            assert entry.prev_hash == previous.hash
        assert entry.hash == entry.compute_hash()
        previous = entry


def test_an_entry_altered_in_the_database_is_named(entries):
    target = entries[2]
    raw_sql(
        "UPDATE audit_auditentry SET object_repr = %s WHERE seq = %s", ["someone else", target.seq]
    )
    status, report = verify()
    assert status == 1 and not report["ok"]
    assert report["broken_entry"] == target.seq
    assert "altered" in report["reason"]


def test_a_rehashed_entry_breaks_the_link_to_the_next(entries):
    target = entries[1]
    target.actor_username = "intruder"
    raw_sql(
        "UPDATE audit_auditentry SET actor_username = %s, hash = %s WHERE seq = %s",
        ["intruder", target.compute_hash(), target.seq],
    )
    status, report = verify()
    assert status == 1 and report["broken_entry"] == target.seq + 1


def test_a_deleted_entry_is_reported_missing(entries):
    raw_sql("DELETE FROM audit_auditentry WHERE seq = %s", [2])
    status, report = verify()
    assert status == 1 and report["broken_entry"] == 2 and "missing" in report["reason"]


def test_entries_removed_from_the_end_are_detected(entries):
    last = entries.last().seq
    raw_sql("DELETE FROM audit_auditentry WHERE seq = %s", [last])
    status, report = verify()
    assert status == 1 and report["broken_entry"] == last


def test_the_application_cannot_change_or_delete_entries(entries):
    entry = entries.first()
    entry.object_repr = "changed"
    with pytest.raises(AuditImmutable):
        entry.save()
    with pytest.raises(AuditImmutable):
        entry.delete()
    with pytest.raises(AuditImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="x")
    with pytest.raises(AuditImmutable):
        AuditEntry.objects.all().delete()
    assert verify()[0] == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database trigger on PostgreSQL")
def test_postgresql_refuses_updates_even_in_raw_sql(entries):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditentry SET object_repr = 'x'")


def test_no_write_api(county_admin, auditor, api_for):
    client = api_for(auditor)
    seq = AuditEntry.objects.in_scope(auditor).first().seq
    assert client.get(f"/api/audit/{seq}/").status_code == 200
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/audit/{seq}/", {}).status_code == 405
    assert client.post("/api/audit/", {}).status_code == 405
