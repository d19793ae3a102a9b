"""What an insider with the database, but neither the audit key nor the anchor file, can
do to the audit log; and `liudong audit verify` as a test reads it."""

import io
import json

from django.core.management import call_command
from django.db import connection, transaction

from liudong.audit.models import GENESIS_HASH, AuditEntry

TRIGGERS = {
    "audit_auditentry": ("audit_entry_append_only", "audit_entry_no_truncate"),
    "audit_audithead": ("audit_head_no_truncate",),
}


def verify():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", "--format", "json", stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, json.loads(out.getvalue())


def as_intruder(*statements):
    """SQL typed by someone who owns the tables (and so may lift the triggers), but holds
    neither the key file nor the anchor file."""
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            for table, names in TRIGGERS.items():
                for name in names:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        for sql, params in statements:
            cursor.execute(sql, params)
        if postgres:
            for table, names in TRIGGERS.items():
                for name in names:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")


def rechain(from_seq, *, algorithm, key=None, edit=None):
    """Edit entry ``from_seq`` (if ``edit``) and recompute every link from it to the end,
    as plain SHA-256 or with a key of the intruder's own, the head row included."""
    rows = list(AuditEntry.objects.filter(seq__gte=from_seq).order_by("seq"))
    previous = AuditEntry.objects.get(seq=from_seq - 1).hash if from_seq > 1 else GENESIS_HASH
    statements = []
    for row in rows:
        if edit and row.seq == from_seq:
            row.object_repr = edit
        row.prev_hash, row.algorithm = previous, algorithm
        row.hash = previous = row.compute_hash(key)
        statements.append(
            (
                "UPDATE audit_auditentry SET object_repr = %s, prev_hash = %s, algorithm = %s, "
                "hash = %s WHERE seq = %s",
                [row.object_repr, row.prev_hash, row.algorithm, row.hash, row.seq],
            )
        )
    statements.append(
        ("UPDATE audit_audithead SET seq = %s, hash = %s WHERE id = 1", [rows[-1].seq, previous])
    )
    as_intruder(*statements)


def cut_tail(keep):
    """Remove every entry after #keep and set the head to match, as a careful intruder."""
    last = AuditEntry.objects.get(seq=keep)
    as_intruder(
        ("DELETE FROM audit_auditentry WHERE seq > %s", [keep]),
        ("UPDATE audit_audithead SET seq = %s, hash = %s WHERE id = 1", [keep, last.hash]),
    )


def empty_the_log():
    if connection.vendor == "postgresql":
        as_intruder(("TRUNCATE audit_auditentry, audit_audithead", []))
    else:  # SQLite has no TRUNCATE: DELETE without WHERE is its truncate
        as_intruder(("DELETE FROM audit_auditentry", []), ("DELETE FROM audit_audithead", []))
