"""Writing and checking the audit log. Other apps call :func:`record` inside the same
transaction as the change it describes, so the change and its entry commit together.

Entries are chained with a MAC keyed by a secret outside the database (``audit.keys``);
signed anchors of the chain's head, outside the database too (``audit.anchors``), let
:func:`verify_chain` see a log that was emptied or cut short."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from liudong.actors import account_of

from . import anchors, context, keys
from .masking import mask_value
from .models import GENESIS_HASH, Action, AuditEntry, AuditHead

if TYPE_CHECKING:
    from liudong.actors import Actor, Caller


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict:
    """A JSON-ready dict of an object's concrete fields (before/after images)."""
    names = fields or [
        f.attname for f in obj._meta.concrete_fields if f.attname not in ("password",)
    ]
    return _jsonable({name: getattr(obj, name) for name in names})


def changed_fields(before: dict | None, after: dict | None) -> list[str]:
    before, after = before or {}, after or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def _jsonable(value: object) -> Any:
    """Round-trip through JSON so what is hashed is exactly what the database returns."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def entry(
    action: str,
    *,
    acting_user: Caller = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    region: str = "",
    before: dict | None = None,
    after: dict | None = None,
    detail: dict | None = None,
    actor_username: str = "",
) -> AuditEntry:
    """An unsaved entry for :func:`append` (its place in the chain is set there)."""
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    ctx = context.current()
    if ctx.offline:
        detail = {**(detail or {}), "offline": ctx.offline}
    account = account_of(acting_user)  # the operator and a peer node have no account row
    return AuditEntry(
        at=timezone.now(),
        actor=account,
        actor_username=(account.username if account else actor_username or ctx.operator)[:150],
        actor_role=(account.role if account else "") or "",
        address=ctx.address or "",
        request_id=ctx.request_id or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:200],
        region=region or (account.region_id if account else "") or "",
        before=_jsonable(before),
        after=_jsonable(after),
        # A detail describes (a search, a filter, a count): it never needs a full ID number.
        detail=_jsonable(mask_value(detail)),
    )


def append(entries: list[AuditEntry], *, batch_size: int = 1000) -> list[AuditEntry]:
    """Chain and insert entries under one lock of the chain head (atomic with the caller).

    One lock per call: an importer that changes 10,000 rows appends their 10,000 entries
    in one call instead of taking the lock 10,000 times.
    """
    if not entries:
        return entries
    head_table = connection.ops.quote_name(AuditHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(), connection.cursor() as cursor:
        # SQLite has no row locks: its IMMEDIATE transactions (settings) serialise writers.
        cursor.execute(f"SELECT seq, hash FROM {head_table} WHERE id = 1{lock}")  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {head_table} (id, seq, hash) VALUES (1, 0, %s)",  # noqa: S608
                [GENESIS_HASH],
            )
            row = (0, GENESIS_HASH)
        seq, previous = row
        key = _chain_key(seq, previous)
        algorithm = keys.chain_algorithm()
        for item in entries:
            seq += 1
            item.seq, item.prev_hash, item.algorithm = seq, previous, algorithm
            item.hash = previous = item.compute_hash(key)
        AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
        cursor.execute(
            f"UPDATE {head_table} SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608
            [seq, previous],
        )
    return entries


def _chain_key(seq: int, head: str) -> bytes:
    """The chain key, created when keyed chaining begins (under the head lock, so once)."""
    try:
        return keys.chain_key(create=False)
    except keys.AuditKeyMissing:
        pass
    last = AuditEntry.objects.filter(seq=seq).values_list("algorithm", flat=True).first()
    if last is not None and last != keys.PLAIN:
        # Fail closed: a new key would leave every keyed entry unverifiable, and an
        # unaudited write is worse than a refused one.
        raise keys.AuditKeyError(
            f"the audit key file {keys.key_path()} is missing, but the log up to entry "
            f"#{seq} is keyed with it: restore the file from the backup; nothing was written"
        )
    # Keyed chaining begins with entry #seq+1. Put that on record outside the database
    # first: relabelling keyed entries as plain SHA-256 is then caught even before the
    # next regular anchor.
    anchors.write_anchor(count=seq, head=head, legacy=seq)
    return keys.chain_key()


def record(action: str, **fields: Any) -> AuditEntry:
    """Append one entry to the chain (atomic with the caller's transaction)."""
    return append([entry(action, **fields)])[0]


def record_view(*, acting_user: Actor, obj: models.Model, region: str, via: str) -> AuditEntry:
    """A read of one record holding personal data (a file, an account): who saw it, where."""
    return record(Action.VIEW, acting_user=acting_user, obj=obj, region=region, detail={"via": via})


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    # What is wrong, as a code: missing, relinked, altered, downgraded, rewritten, truncated,
    # tail_cut, head_mismatch, anchor_invalid, key_missing.
    problem: str = ""
    keyed_from: int | None = None  # the first keyed entry (earlier ones are plain SHA-256)
    on_record: list[anchors.Anchor] = field(default_factory=list)  # anchors held against

    def as_dict(self) -> dict:
        last = self.on_record[-1].as_dict() if self.on_record else None
        return {
            "ok": self.ok,
            "checked": self.checked,
            "broken_entry": self.broken_seq,
            "reason": self.reason,
            "problem": self.problem or None,
            "keyed_from": self.keyed_from,
            "anchors": len(self.on_record),
            "last_anchor": last,
        }


def verify_chain(
    *, chunk_size: int = 5000, progress: Callable[[int], object] | None = None
) -> ChainReport:
    """Recompute every hash and MAC in order and hold the log against every anchor on
    record; report the first thing that does not fit."""
    try:
        on_record = anchors.read_anchors()
    except anchors.AnchorError as exc:
        return ChainReport(
            False, 0, None, f"the anchor file is not genuine: {exc}", "anchor_invalid"
        )
    report = ChainReport(True, 0, on_record=on_record)

    def broken(seq: int | None, problem: str, reason: str) -> ChainReport:
        report.ok, report.broken_seq, report.problem, report.reason = False, seq, problem, reason
        return report

    at_position: dict[int, list[anchors.Anchor]] = defaultdict(list)
    for anchor in on_record:
        at_position[anchor.count].append(anchor)
    # Where keyed chaining began, as first put on record outside the database.
    plain_limit = min(on_record, key=lambda a: a.legacy_until, default=None)
    key: bytes | None = None
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk_size):
        seq = entry.seq
        if seq != expected_seq:
            return broken(expected_seq, "missing", f"entry #{expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return broken(
                seq,
                "relinked",
                f"entry #{seq} does not follow entry #{seq - 1} (its previous-hash differs)",
            )
        if entry.algorithm == keys.PLAIN:
            if report.keyed_from is not None:
                return broken(
                    seq,
                    "downgraded",
                    f"entry #{seq} is chained with plain SHA-256 although keyed chaining "
                    f"began at entry #{report.keyed_from}: the chain was rewritten without the key",
                )
            if plain_limit is not None and seq > plain_limit.legacy_until:
                return broken(
                    seq,
                    "downgraded",
                    f"entry #{seq} is chained with plain SHA-256, but the anchor of "
                    f"{plain_limit.at} records keyed chaining from entry "
                    f"#{plain_limit.legacy_until + 1}: the chain was rewritten without the key",
                )
        else:
            if report.keyed_from is None:
                report.keyed_from = seq
            if key is None:
                try:
                    key = keys.chain_key(create=False)
                except keys.AuditKeyError as exc:
                    return broken(
                        seq, "key_missing", f"keyed entries from #{seq} cannot be checked: {exc}"
                    )
        try:
            expected = entry.compute_hash(key)
        except keys.AuditKeyError as exc:
            return broken(seq, "altered", f"entry #{seq} cannot be checked: {exc}")
        if expected != entry.hash:
            what = "hash" if entry.algorithm == keys.PLAIN else "MAC (or it was keyed anew)"
            return broken(
                seq,
                "altered",
                f"entry #{seq} was altered (its contents no longer match its {what})",
            )
        for anchor in at_position.get(seq, ()):
            if entry.hash != anchor.head:
                return broken(
                    seq,
                    "rewritten",
                    f"entry #{seq} is not the one anchored at {anchor.at}: the log was "
                    "rewritten up to here (or emptied and begun again)",
                )
        expected_prev = entry.hash
        expected_seq += 1
        report.checked += 1
        if progress:
            progress(report.checked)
    checked = report.checked
    longest = max(on_record, key=lambda a: a.count, default=None)
    if longest is not None and longest.count > checked:
        if checked == 0:
            return broken(
                1,
                "truncated",
                f"the log is empty, but the anchor of {longest.at} records {longest.count} "
                "entries: the audit tables were emptied",
            )
        return broken(
            checked + 1,
            "tail_cut",
            f"the log ends at entry #{checked}, but the anchor of {longest.at} records "
            f"{longest.count} entries: entries #{checked + 1} to #{longest.count} were removed",
        )
    head = AuditHead.objects.filter(pk=1).first()
    if head and (head.seq != checked or head.hash != expected_prev):
        return broken(
            checked + 1,
            "head_mismatch",
            f"the log ends at entry #{checked} but its head records entry #{head.seq}: "
            "entries were removed from the end",
        )
    return report


EXPORT_COLUMNS = [
    ("seq", "序号 seq"),
    ("at", "时间 time"),
    ("actor_username", "用户 user"),
    ("actor_role", "角色 role"),
    ("address", "地址 address"),
    ("request_id", "请求号 request id"),
    ("action", "操作 action"),
    ("object_type", "对象类型 object type"),
    ("object_id", "对象编号 object id"),
    ("object_repr", "对象 object"),
    ("region", "区划 region"),
    ("before", "修改前 before"),
    ("after", "修改后 after"),
    ("detail", "说明 detail"),
    ("hash", "哈希 hash"),
]


# Text columns that may carry an ID number typed by someone (an object's name, a search).
MASKED_TEXT = ("object_repr", "object_id")


def export_xlsx(
    entries: QuerySet[AuditEntry], *, acting_user: Actor, filters: dict | None = None
) -> bytes:
    """Write entries to an xlsx workbook and log the export (with the filters used)."""
    import io

    from liudong.safesheet import Workbook, lay_out

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审计日志")
    header = [label for _name, label in EXPORT_COLUMNS]
    lay_out(sheet, header, text_columns=())  # masked text, never an ID number column
    sheet.append(header)
    count = 0
    for entry in entries.order_by("seq").iterator(chunk_size=2000):
        row = []
        for name, _label in EXPORT_COLUMNS:
            value = getattr(entry, name)
            if isinstance(value, dict | list):
                value = json.dumps(mask_value(value), ensure_ascii=False, sort_keys=True)
            elif name in MASKED_TEXT:
                value = mask_value(value)
            row.append(value)
        sheet.append(row)
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type="audit.auditentry",
        object_repr=f"audit log export ({count} entries)",
        region=getattr(acting_user, "region_id", "") or "",
        detail={"rows": count, "filters": filters or {}},
    )
    return buffer.getvalue()
