"""The audit chain key: kept in a file outside the database, created once with mode 0600,
never silently replaced; entries chained before keyed chaining keep verifying."""

import io
import stat

import pytest
from django.core.management import call_command

from liudong.audit import anchors, keys
from liudong.audit import services as audit
from liudong.audit.models import GENESIS_HASH, AuditEntry

from .intruder import as_intruder, empty_the_log, rechain, verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("audit_keys")]


def test_the_key_is_created_once_readable_by_its_owner_only(tmp_path, monkeypatch):
    path = tmp_path / "keys" / "audit-key"
    monkeypatch.setenv("LIUDONG_AUDIT_KEY", str(path))
    first = keys.chain_key()
    assert len(first) == keys.KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.chain_key() == first and keys.chain_key(create=False) == first


def test_a_missing_key_is_not_created_without_leave(tmp_path, monkeypatch):
    monkeypatch.setenv("LIUDONG_AUDIT_KEY", str(tmp_path / "audit-key"))
    with pytest.raises(keys.AuditKeyMissing):
        keys.chain_key(create=False)
    assert not (tmp_path / "audit-key").exists()


def test_a_lost_key_stops_writes_instead_of_starting_a_new_chain(township_a, audit_keys):
    """A new key would leave every keyed entry unverifiable: nothing is written until the
    key file is restored."""
    count = AuditEntry.objects.count()
    saved = (audit_keys / "audit-key").read_bytes()
    (audit_keys / "audit-key").unlink()
    with pytest.raises(keys.AuditKeyError, match="restore the file"):
        audit.record("view", acting_user=township_a, object_type="people.person", object_id="1")
    assert AuditEntry.objects.count() == count and not (audit_keys / "audit-key").exists()
    status, report = verify()
    assert status == 1 and report["problem"] == "key_missing"
    (audit_keys / "audit-key").write_bytes(saved)
    audit.record("view", acting_user=township_a, object_type="people.person", object_id="1")
    assert verify()[0] == 0


def test_verify_does_not_create_a_key(township_a, audit_keys):
    (audit_keys / "audit-key").unlink()
    verify()
    assert not (audit_keys / "audit-key").exists()


def plain_entries(count):
    """Entries as the release before keyed chaining wrote them: plain SHA-256."""
    previous = GENESIS_HASH
    rows = []
    for seq in range(1, count + 1):
        entry = audit.entry("view", object_type="people.person", object_id=str(seq))
        entry.seq, entry.prev_hash, entry.algorithm = seq, previous, keys.PLAIN
        entry.hash = previous = entry.compute_hash()
        rows.append(entry)
    AuditEntry.objects.bulk_create(rows)
    as_intruder(
        ("INSERT INTO audit_audithead (id, seq, hash) VALUES (1, %s, %s)", [count, previous])
    )


@pytest.fixture
def upgraded(audit_keys):
    """A log of 5 plain entries from before the upgrade, no key yet, then 3 new entries."""
    empty_the_log()
    (audit_keys / "audit-key").unlink()
    keys.forget_cache()
    plain_entries(5)
    for number in range(3):
        audit.record("view", object_type="people.person", object_id=f"new-{number}")
    return AuditEntry.objects.order_by("seq")


def test_entries_from_before_the_upgrade_keep_verifying(upgraded, audit_keys):
    assert [e.algorithm for e in upgraded] == [keys.PLAIN] * 5 + [keys.HMAC_SHA256] * 3
    assert (audit_keys / "audit-key").exists()
    status, report = verify()
    assert status == 0, report
    assert report["keyed_from"] == 6 and report["checked"] == 8


def test_verify_says_where_keyed_chaining_begins(upgraded):
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "#1 to #5 are chained with plain SHA-256" in out.getvalue()
    assert "keyed from entry #6" in out.getvalue()


def test_the_switch_over_is_anchored_when_keyed_chaining_begins(upgraded):
    (switch,) = anchors.read_anchors()
    assert (switch.count, switch.legacy_until) == (5, 5)
    assert switch.head == upgraded.get(seq=5).hash


def test_keyed_entries_relabelled_plain_after_the_upgrade_are_caught(upgraded):
    rechain(6, algorithm=keys.PLAIN, edit="someone else")
    status, report = verify()
    assert status == 1 and report["problem"] == "downgraded" and report["broken_entry"] == 6
    assert "keyed chaining from entry #6" in report["reason"]


def test_the_national_option_keys_new_entries_with_sm3_and_the_chain_still_verifies(
    township_a, monkeypatch
):
    """LIUDONG_CRYPTO=sm: entries from then on are HMAC-SM3 (GB/T 32905); the entries
    before keep HMAC-SHA256, and the chain verifies across the change."""
    audit.record("view", acting_user=township_a, object_type="people.person", object_id="1")
    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    audit.record("view", acting_user=township_a, object_type="people.person", object_id="2")
    before, after = AuditEntry.objects.order_by("-seq")[1:2].get(), AuditEntry.objects.first()
    assert (before.algorithm, after.algorithm) == (keys.HMAC_SHA256, keys.HMAC_SM3)
    assert audit.verify_chain().ok
    # The SM3 entry is really checked with SM3: another MAC under its name does not pass.
    monkeypatch.setitem(keys.MACS, keys.HMAC_SM3, keys.MACS[keys.HMAC_SHA256])
    report = audit.verify_chain()
    assert not report.ok and report.broken_seq == after.seq


def test_anchors_are_signed_and_checked_with_an_sm2_node_key(township_a, monkeypatch):
    """Under LIUDONG_CRYPTO=sm the node key is SM2: the anchors it signs read back."""
    pytest.importorskip("gmssl_pyx", reason="SM2 needs gmssl-pyx (x86-64)")
    from liudong.certificates import keys as node_keys

    monkeypatch.setenv("LIUDONG_CRYPTO", "sm")
    node_keys.rotate()
    assert node_keys.current_key().algorithm == "sm2"
    audit.record("view", acting_user=township_a, object_type="people.person", object_id="1")
    anchors.write_anchor()
    assert anchors.read_anchors()[-1].key_id == node_keys.current_key().key_id
    assert audit.verify_chain().ok
