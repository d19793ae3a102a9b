"""What an insider with the database but not the key or anchor files can do to the audit
log, and what `liudong audit verify` then says: a rewritten chain (even recomputed with
plain SHA-256 or another key), an emptied log, a removed tail (issue 13 item 5)."""

import io
import json
import os

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liudong.audit import anchors, keys
from liudong.audit import services as audit
from liudong.audit.models import AuditEntry, AuditHead

from .intruder import as_intruder, cut_tail, empty_the_log, rechain, verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("audit_keys")]


@pytest.fixture
def log(township_a):
    """The divisions load, the account and four views, anchored; then two views more, which
    no anchor covers yet (only the MAC protects those)."""
    for number in range(6):
        audit.record(
            "view", acting_user=township_a, object_type="people.person", object_id=str(number)
        )
        if number == 3:
            anchors.write_anchor()
    return AuditEntry.objects.order_by("seq")


def since_the_anchor(log):
    anchored = anchors.read_anchors()[-1].count
    assert log.count() == anchored + 2
    return anchored + 1


# --- the happy path ---------------------------------------------------------------------


def test_an_untouched_log_verifies_against_its_anchor(log):
    status, report = verify()
    assert status == 0, report
    assert report["ok"] and report["checked"] == log.count() == log.last().seq
    assert report["keyed_from"] == 1 and report["anchors"] == 1
    assert report["last_anchor"]["count"] == log.count() - 2


def test_new_entries_are_keyed_with_the_key_file(log, audit_keys):
    entry = log.last()
    key = bytes.fromhex((audit_keys / "audit-key").read_text())
    assert entry.algorithm == keys.HMAC_SHA256
    assert entry.hash == keys.chain_mac(key, entry.prev_hash, entry.keyed_body())
    assert entry.hash != entry.compute_hash(os.urandom(32))


# --- a rewritten chain ------------------------------------------------------------------


def test_an_edited_entry_rehashed_with_plain_sha256_is_caught(log, audit_keys):
    """The old attack: edit, then recompute SHA-256 over this entry and all after it (here
    after the last anchor, and with the anchor file gone: the chain alone tells)."""
    target = since_the_anchor(log)
    (audit_keys / "audit-anchors.jsonl").unlink()
    rechain(target, algorithm=keys.PLAIN, edit="someone else")
    status, report = verify()
    assert status == 1 and report["problem"] == "downgraded"
    assert report["broken_entry"] == target


def test_a_plain_hash_under_the_keyed_label_is_caught(log):
    target = log.get(seq=since_the_anchor(log))
    target.object_repr = "someone else"
    target.algorithm = keys.PLAIN
    plain = target.compute_hash()  # SHA-256 of the edited entry, label left keyed
    as_intruder(
        (
            "UPDATE audit_auditentry SET object_repr = %s, hash = %s WHERE seq = %s",
            ["someone else", plain, target.seq],
        )
    )
    status, report = verify()
    assert status == 1 and report["problem"] == "altered" and report["broken_entry"] == target.seq


def test_a_chain_recomputed_with_another_key_is_caught(log):
    target = since_the_anchor(log)
    rechain(target, algorithm=keys.HMAC_SHA256, key=os.urandom(32), edit="someone else")
    status, report = verify()
    assert status == 1 and report["problem"] == "altered" and report["broken_entry"] == target


def test_the_whole_chain_relabelled_plain_is_caught_by_the_switch_over_anchor(log, audit_keys):
    """Every entry recomputed as plain SHA-256 leaves no keyed entry to fail; the anchor
    written when keyed chaining began says it began at entry #1."""
    (audit_keys / "audit-anchors.jsonl").unlink()  # even without the regular anchor
    keys_file = audit_keys / "audit-key"
    keys_file.unlink()
    empty_the_log()
    keys.forget_cache()
    audit.record("view", object_type="people.person", object_id="1")  # keyed chaining begins
    audit.record("view", object_type="people.person", object_id="2")
    assert [a.legacy_until for a in anchors.read_anchors()] == [0]
    rechain(1, algorithm=keys.PLAIN)
    status, report = verify()
    assert status == 1 and report["problem"] == "downgraded" and report["broken_entry"] == 1


def test_an_anchored_entry_rewritten_with_the_key_is_still_caught(log):
    """Even with the key (an insider with both), what was anchored cannot be rewritten."""
    anchored = anchors.read_anchors()[-1].count
    rechain(2, algorithm=keys.HMAC_SHA256, key=keys.chain_key(), edit="someone else")
    status, report = verify()
    assert status == 1 and report["problem"] == "rewritten"
    assert report["broken_entry"] == anchored


# --- an emptied log ---------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a trigger on PostgreSQL")
@pytest.mark.parametrize("table", ["audit_auditentry", "audit_audithead"])
def test_postgresql_refuses_truncate(log, table):
    count = log.count()
    with (
        pytest.raises(DatabaseError, match="TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AuditEntry.objects.count() == count and AuditHead.objects.filter(pk=1).exists()


def test_an_emptied_log_is_reported_against_the_anchor(log):
    anchored = since_the_anchor(log) - 1
    empty_the_log()
    status, report = verify()
    assert status == 1 and report["problem"] == "truncated" and report["checked"] == 0
    assert str(anchored) in report["reason"]


def test_an_emptied_log_begun_again_is_reported(log):
    """The application writes on after the tables were emptied: a fresh, valid chain,
    shorter or longer, is not the one anchored."""
    anchored = since_the_anchor(log) - 1
    empty_the_log()
    for number in range(anchored + 2):
        audit.record("view", object_type="people.person", object_id=str(number))
    status, report = verify()
    assert status == 1 and report["problem"] == "rewritten"
    assert report["broken_entry"] == anchored


# --- a removed tail ---------------------------------------------------------------------


def test_a_tail_cut_below_the_anchor_is_reported(log):
    anchored = since_the_anchor(log) - 1
    cut_tail(anchored - 2)
    status, report = verify()
    assert status == 1 and report["problem"] == "tail_cut"
    assert report["broken_entry"] == anchored - 1 and report["checked"] == anchored - 2


def test_a_tail_cut_after_the_anchor_is_not_detectable(log):
    """The limit README states: entries written since the last anchor can be removed
    unseen by someone who also sets the head row."""
    cut_tail(since_the_anchor(log) - 1)
    assert verify()[0] == 0


# --- the anchor file --------------------------------------------------------------------


def test_an_edited_anchor_is_refused(log, audit_keys):
    path = audit_keys / "audit-anchors.jsonl"
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"count": 1}
    path.write_text("\n".join([*lines[:-1], json.dumps(forged)]) + "\n")
    status, report = verify()
    assert status == 1 and report["problem"] == "anchor_invalid"
    assert f"line {len(lines)}" in report["reason"]


def test_an_anchor_signed_by_another_key_is_refused(log, audit_keys, monkeypatch, tmp_path):
    from liudong.certificates import keys as node_keys

    monkeypatch.setenv("LIUDONG_NODE_KEY", str(tmp_path / "other-node-keys"))
    node_keys.forget_cache()
    anchors.write_anchor()  # signed by a key this node's folder does not hold
    monkeypatch.setenv("LIUDONG_NODE_KEY", str(tmp_path / "node-keys"))
    node_keys.forget_cache()
    status, report = verify()
    assert status == 1 and report["problem"] == "anchor_invalid"


def test_the_anchor_command_appends_a_signed_line(log, audit_keys):
    out = io.StringIO()
    call_command("audit_anchor", "--format", "json", stdout=out)
    written = json.loads(out.getvalue())
    on_record = anchors.read_anchors()
    assert written["count"] == log.count() == on_record[-1].count
    assert written["head"] == log.last().hash == on_record[-1].head
    assert len(on_record) == 2  # the fixture's and this one; nothing rewritten


class Rounds:
    """A stop event for anchor_loop that ends it after some rounds, doing ``between``
    while it waits."""

    def __init__(self, rounds, between=None):
        self.rounds, self.between = rounds, between

    def wait(self, _interval):
        self.rounds -= 1
        if self.rounds > 0 and self.between:
            self.between()
        return self.rounds <= 0


def test_the_serve_loop_anchors_at_start_and_again_only_when_the_log_grew(log, monkeypatch):
    # The loop lets go of its connection after each round; here that is the test's own.
    monkeypatch.setattr("django.db.close_old_connections", lambda: None)
    before = len(anchors.read_anchors())
    anchors.anchor_loop(Rounds(3), interval=60, log=print)
    assert len(anchors.read_anchors()) == before + 1  # at start; then nothing new

    def grow():
        audit.record("view", object_type="people.person", object_id="x")

    anchors.anchor_loop(Rounds(2, between=grow), interval=60, log=print)
    on_record = anchors.read_anchors()
    assert len(on_record) == before + 3
    assert on_record[-1].count == log.count() and on_record[-2].count == log.count() - 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a trigger on PostgreSQL")
def test_the_test_suites_flush_still_empties_the_audit_tables(log):
    """Transactional tests end with Django's flush (TRUNCATE); conftest lifts the guard for
    it alone, and the guard is back afterwards."""
    from django.core.management.color import no_style

    flush = connection.ops.sql_flush(no_style(), ["audit_auditentry", "audit_audithead"])
    connection.ops.execute_sql_flush(flush)
    assert not AuditEntry.objects.exists()
    with (
        pytest.raises(DatabaseError, match="TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditentry")


# --- the anchor file's parser, against anything written into it ------------------------

FIELDS = ("v", "at", "count", "head", "legacy_until", "key_id", "signature")
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(line=st.one_of(st.text(), st.dictionaries(st.sampled_from(FIELDS), VALUES).map(json.dumps)))
def test_any_line_that_is_not_a_genuine_anchor_is_refused_by_name(log, audit_keys, line):
    path = audit_keys / "audit-anchors.jsonl"
    genuine = path.read_text().splitlines()[0]
    path.write_text(f"{genuine}\n{line.replace(chr(10), ' ')}\n")
    try:
        on_record = anchors.read_anchors()
    except anchors.AnchorError as exc:
        assert "line 2" in str(exc)
    else:  # only a blank line may pass, and adds nothing
        assert not line.strip() and len(on_record) == 1


@SETTINGS
@given(field=st.sampled_from(FIELDS[:-1]), value=VALUES)
def test_a_genuine_anchor_with_any_field_changed_is_refused(log, audit_keys, field, value):
    path = audit_keys / "audit-anchors.jsonl"
    genuine = json.loads(path.read_text().splitlines()[0])
    if genuine[field] == value:
        return
    path.write_text(json.dumps(genuine | {field: value}) + "\n")
    with pytest.raises(anchors.AnchorError):
        anchors.read_anchors()
