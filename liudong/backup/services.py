"""Backing up and restoring a whole node: every table, streamed, plus the key files.

:func:`backup` reads one consistent snapshot of the database table by table in
primary-key order and streams each row as one JSON line into the archive (see
:mod:`.archive`), so a million persons never sit in memory. The values are written in a
database-independent form (ISO dates and times with their microseconds and offset,
decimals as text), so a backup of SQLite restores into PostgreSQL and back.

:func:`restore` refuses before writing anything when the file is damaged or altered, the
passphrase is wrong, the database holds data or a key file on this machine differs from
the backup's; then it loads every table in ONE transaction (a failure leaves the database
as empty as it was), resets PostgreSQL's sequences, and appends an audit entry saying who
restored what from when. The audit entries are inserted as they were (insertion is what
the append-only trigger allows), so the hash chain continues unbroken.

This module reads every table but changes none outside :func:`restore`; key files are
:mod:`.keyfiles`' business.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.duration import duration_iso_string

from liudong.audit import anchors, context
from liudong.audit import services as audit
from liudong.audit.models import Action

from . import keyfiles
from .archive import MIN_PASSPHRASE, BackupError, Reader, Writer

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

# Sessions are not carried: they are throw-away, and restored ones would keep old
# browser cookies signed in on the new server. Nor is the statistics store (stats.store*):
# its figures are derived from the registry, so a restored node counts them live until
# `liudong worker` (or `liudong stats rebuild`) has counted them again from the restored
# rows, never from figures that may not match them. Nor the workers' registry and leases:
# they name processes of the old server.
EXCLUDED = {
    "sessions.session",
    "stats.storedcount",
    "stats.storedmonth",
    "stats.storecell",
    "stats.storemark",
    "stats.storestate",
    "worker.workerprocess",
    "worker.lease",
}
# Tables `liudong migrate` fills by itself (content types and permissions, the standard
# indicators and quality rules of the stats migrations, the shipped national divisions, the
# national reward and assistance programmes).
# A database holding only these counts as empty; restore replaces their rows with the
# backup's, which are authoritative (a county may have added an indicator or a village).
# tests/test_backup.py::test_a_freshly_migrated_database_counts_as_empty fails when a new
# data migration fills a table that is missing here.
SEEDED = {
    "contenttypes.contenttype",
    "auth.permission",
    "stats.indicator",
    "stats.qualityrule",
    "regions.region",
    "regions.divisionsload",
    "programmes.programme",
}
BATCH = 2000
OBJECT_TYPE = "backup.archive"


def tables() -> list[type[models.Model]]:
    """Every table the backup holds, in a fixed order (foreign keys are checked at
    commit on both databases, so the order need not follow them)."""
    found = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and model._meta.label_lower not in EXCLUDED
    ]
    return sorted(found, key=lambda model: model._meta.label_lower)


def _columns(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


# --- writing --------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    # Not DjangoJSONEncoder: it cuts datetimes to milliseconds, and the audit hash covers
    # the microseconds.
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot write a {type(value).__name__} to a backup")


# One encoder for every row: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(default=_encode, ensure_ascii=False, separators=(",", ":"))


def _rows(model: type[models.Model]) -> Iterator[bytes]:
    names = [f.attname for f in _columns(model)]
    rows = model._base_manager.order_by("pk").values_list(*names).iterator(chunk_size=BATCH)
    encode = _ENCODER.encode
    for row in rows:
        yield (encode(row) + "\n").encode()


class _Snapshot:
    """One consistent view of every table for the whole backup, without blocking writers:
    PostgreSQL's REPEATABLE READ, SQLite's WAL read transaction. Inside an outer
    transaction (tests) that transaction already is the view."""

    def __enter__(self) -> None:
        self._atomic = None
        self._sqlite = False
        if connection.in_atomic_block:
            return
        if connection.vendor == "sqlite":
            # settings open SQLite transactions IMMEDIATE (the write lock): a long backup
            # must not hold every writer off, so it reads in a DEFERRED one.
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("BEGIN DEFERRED")
            self._sqlite = True
            return
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def __exit__(self, *exc_info: Any) -> None:
        if self._sqlite:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")  # nothing was written: this only ends the read
        elif self._atomic is not None:
            self._atomic.__exit__(*exc_info)


def applied_migrations() -> list[list[str]]:
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return []
    return sorted([app, name] for app, name in recorder.applied_migrations())


@dataclass
class BackupReport:
    path: Path
    backup_id: str
    rows: dict[str, int]
    keys: list[str]
    missing_keys: list[str]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def backup(
    out: Path, *, passphrase: str, progress: Callable[[str, int], None] | None = None
) -> BackupReport:
    """Write the database and the key files to ``out``; audited before the snapshot is
    taken, so the backup holds the entry recording it."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    if out.is_dir():
        raise BackupError(f"--out {out} is a folder: name the backup file")
    if not out.parent.is_dir():
        raise BackupError(f"--out: the folder {out.parent} does not exist")
    material = keyfiles.collect()
    backup_id = str(uuid.uuid4())
    missing = sorted(item.name for item in keyfiles.KEY_FILES if item.name not in material)
    with transaction.atomic():
        audit.record(
            Action.EXPORT,
            object_type=OBJECT_TYPE,
            object_id=backup_id,
            object_repr="database and key backup",
            detail={"file": str(out), "keys": sorted(material)},
        )
    writer = Writer(out, passphrase)
    rows: dict[str, int] = {}
    try:
        listed = []
        with _Snapshot():
            migrations = applied_migrations()
            for model in tables():
                label = model._meta.label_lower
                member = f"data/{label}.jsonl"
                count, digest = writer.write_lines(member, _rows(model))
                rows[label] = count
                listed.append(
                    {
                        "model": label,
                        "table": model._meta.db_table,
                        "columns": [f.attname for f in _columns(model)],
                        "member": member,
                        "rows": count,
                        "sha256": digest,
                    }
                )
                if progress:
                    progress(label, count)
        manifest = {
            "format": "liudong-backup",
            "version": 1,
            "backup_id": backup_id,
            "created": timezone.now().isoformat(),
            "created_by": context.current().operator or "",
            "database": connection.vendor,
            "migrations": migrations,
            "tables": listed,
            "keys": writer.write_keys(material),
            "kdf": writer.kdf(),
        }
        writer.finish(manifest)
    except BaseException:
        writer.abandon()
        raise
    return BackupReport(out, backup_id, rows, sorted(material), missing)


# --- reading --------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    backup_id: str
    created: str
    rows: dict[str, int]
    keys_written: list[str] = field(default_factory=list)
    keys_replaced: list[str] = field(default_factory=list)
    schema_created: bool = False
    upgraded: int = 0
    anchors_set_aside: str = ""  # the anchor file of the log this restore replaced

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def occupied_tables() -> dict[str, int]:
    """Tables holding rows other than the ones `liudong migrate` puts there: {label: rows}."""
    occupied = {}
    for model in tables():
        label = model._meta.label_lower
        if label not in SEEDED and model._base_manager.exists():
            occupied[label] = model._base_manager.count()
    return occupied


def _migration_targets(
    executor: MigrationExecutor, applied: set[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The last migration of each app in the backup's state (the executor's targets)."""
    graph = executor.loader.graph
    unknown = sorted(f"{app}.{name}" for app, name in applied if (app, name) not in graph.nodes)
    if unknown:
        raise BackupError(
            "the backup was made by a newer version of Liudong (migrations unknown here: "
            + ", ".join(unknown[:5])
            + "): install that version or a later one, then restore"
        )
    return [
        key
        for key in applied
        if not any(child.key in applied for child in graph.node_map[key].children)
    ]


def _prepare_schema(manifest: dict[str, Any]) -> bool:
    """Create the schema at the backup's migration state when the database has none;
    refuse when it has another one. True when the schema was created here."""
    wanted = {(app, name) for app, name in manifest["migrations"]}
    here = {tuple(item) for item in applied_migrations()}
    if here == wanted:
        return False
    executor = MigrationExecutor(connection)
    targets = _migration_targets(executor, wanted)
    if here:
        raise BackupError(
            "this database's schema is not the backup's (it has "
            f"{len(here - wanted)} migrations the backup lacks and lacks {len(wanted - here)} "
            "it has). Restore into a new database without tables: restore creates the "
            "schema as the backup had it, loads it, then upgrades it"
        )
    executor.migrate(targets)
    return True


def _decoder(model: type[models.Model], names: list[str]) -> Callable[[list[Any]], list[Any]]:
    by_name = {f.attname: f for f in _columns(model)}
    if sorted(names) != sorted(by_name):
        raise BackupError(
            f"table {model._meta.label_lower}: the backup's columns differ from this "
            "database's (the schema states differ)"
        )
    converters = [_converter(by_name[name]) for name in names]

    def decode(row: list[Any]) -> list[Any]:
        return [
            value if convert is None or value is None else convert(value)
            for convert, value in zip(converters, row, strict=True)
        ]

    return decode


# Field types whose JSON value (str, int, float, bool) is already what the database
# driver takes: no conversion. Exact types only: a subclass may prepare values its way.
_AS_IS = {
    models.CharField,
    models.TextField,
    models.SlugField,
    models.EmailField,
    models.BooleanField,
    models.FloatField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
}


def _converter(f: models.Field) -> Callable[[Any], Any] | None:
    """How one column's JSON value becomes what this database takes. Django's own
    ``get_db_prep_save(to_python(...))`` for every value took 29 of 40 seconds restoring
    45,000 regions; the common types get a direct path."""
    target = f
    while isinstance(target, models.ForeignKey):
        target = target.target_field
    kind = type(target)
    ops = connection.ops
    if kind in _AS_IS:
        return None
    if kind is models.DateTimeField:
        return lambda value: ops.adapt_datetimefield_value(datetime.datetime.fromisoformat(value))
    if kind is models.DateField:
        return lambda value: ops.adapt_datefield_value(datetime.date.fromisoformat(value))
    return lambda value: f.get_db_prep_save(f.to_python(value), connection)


def _load(reader: Reader, info: dict[str, Any], model: type[models.Model]) -> int:
    qn = connection.ops.quote_name
    names = info["columns"]
    decode = _decoder(model, names)  # first: it refuses columns this table lacks
    by_name = {f.attname: f for f in _columns(model)}
    columns = ", ".join(qn(str(by_name[name].column)) for name in names)
    placeholders = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    count = 0
    batch: list[list[Any]] = []
    with reader.lines(info["member"]) as member, connection.cursor() as cursor:
        for line in member:
            batch.append(decode(json.loads(line)))
            if len(batch) >= BATCH:
                _insert(cursor, sql, batch, model, count)
                count += len(batch)
                batch = []
        if batch:
            _insert(cursor, sql, batch, model, count)
            count += len(batch)
    if count != info["rows"]:
        raise BackupError(
            f"table {model._meta.label_lower}: {count} rows read, the manifest says {info['rows']}"
        )
    return count


def _insert(
    cursor: CursorWrapper, sql: str, batch: list[list[Any]], model: type[models.Model], before: int
) -> None:
    try:
        cursor.executemany(sql, batch)
    except DatabaseError as exc:
        raise BackupError(
            f"table {model._meta.label_lower}, rows {before + 1}-{before + len(batch)}: "
            f"this database refused them ({exc})"
        ) from exc


def open_backup(path: Path, passphrase: str) -> Reader:
    """The backup opened, authenticated and checked end to end; nothing written yet."""
    reader = Reader(path)
    try:
        reader.read_manifest()
        reader.authenticate(passphrase)
        reader.check_members()
    except BaseException:
        reader.close()
        raise
    return reader


def restore(path: Path, *, passphrase: str, replace_keys: bool = False) -> RestoreReport:
    reader = open_backup(path, passphrase)
    try:
        return _restore(reader, replace_keys=replace_keys)
    finally:
        reader.close()


def _restore(reader: Reader, *, replace_keys: bool) -> RestoreReport:
    manifest = reader.manifest
    placements = keyfiles.plan(reader.key_material())
    different = [str(p.target) for p in placements if p.state == "different"]
    if different and not replace_keys:
        raise BackupError(
            "key files on this machine differ from the backup's: "
            + ", ".join(different)
            + ". Restore with --replace-keys to put the backup's in place (the ones here are "
            "kept beside them as *.replaced-TIME)"
        )
    models_by_label = {model._meta.label_lower: model for model in tables()}
    unknown = [t["model"] for t in manifest["tables"] if t["model"] not in models_by_label]
    if unknown:
        raise BackupError(
            "the backup holds tables this version does not know: " + ", ".join(unknown)
        )
    schema_created = _prepare_schema(manifest)
    occupied = occupied_tables()
    if occupied:
        listed = ", ".join(f"{label} ({rows} rows)" for label, rows in sorted(occupied.items()))
        raise BackupError(
            "the database is not empty: "
            + listed
            + ". Restore only into an empty database: a new one, without running "
            "`liudong migrate` first (restore creates the tables itself)"
        )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    superseded = _last_anchor()
    # Keys first: an audit key that did not exist yet would be created by the first
    # audit entry below, and then differ from the backup's.
    written = keyfiles.place(placements, replace=replace_keys, stamp=stamp)
    rows: dict[str, int] = {}
    try:
        with transaction.atomic():
            qn = connection.ops.quote_name
            with connection.cursor() as cursor:
                for label in sorted(SEEDED):
                    cursor.execute(f"DELETE FROM {qn(models_by_label[label]._meta.db_table)}")  # noqa: S608
            for info in manifest["tables"]:
                rows[info["model"]] = _load(reader, info, models_by_label[info["model"]])
            loaded = [models_by_label[label] for label in rows]
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), loaded):
                    cursor.execute(statement)
            audit.record(
                Action.IMPORT,
                object_type=OBJECT_TYPE,
                object_id=manifest["backup_id"],
                object_repr=f"restore of the backup made {manifest['created']}",
                detail={
                    "file": str(reader.path),
                    "backup_created": manifest["created"],
                    "backup_created_by": manifest.get("created_by", ""),
                    "source_database": manifest.get("database", ""),
                    "rows": sum(rows.values()),
                    "tables": len(rows),
                    "keys": sorted(manifest["keys"]["names"]),
                    # What the log held when it was last anchored here before this restore:
                    # the entries after the backup that the restore cannot bring back.
                    "last_anchor_before_restore": superseded,
                },
            )
    except BaseException:
        written.undo()
        raise
    from liudong.certificates import keys

    keys.forget_cache()
    upgraded = _upgrade()
    anchors_set_aside = _anchor_restored_log(stamp)
    return RestoreReport(
        backup_id=manifest["backup_id"],
        created=manifest["created"],
        rows=rows,
        keys_written=[str(path) for path in written.created],
        keys_replaced=[str(original) for _aside, original in written.moved],
        schema_created=schema_created,
        upgraded=upgraded,
        anchors_set_aside=anchors_set_aside,
    )


def _last_anchor() -> dict | None:
    """The last anchor of the log this restore replaces (None: none, or unreadable)."""
    try:
        found = anchors.read_anchors()
    except anchors.AnchorError:
        return None
    return {"count": found[-1].count, "at": found[-1].at} if found else None


def _anchor_restored_log(stamp: str) -> str:
    """Anchor the restored log afresh. The anchors written here before describe the log
    that was lost, which the restored one (older, then the restore's entry) no longer
    matches: they are kept beside it as *.before-restore-TIME for the record, not deleted,
    and the restore's audit entry names their last count."""
    path = anchors.anchor_path()
    aside = ""
    if path.exists():
        aside_path = path.with_name(f"{path.name}.before-restore-{stamp}")
        path.rename(aside_path)
        aside = str(aside_path)
    anchors.write_anchor()
    return aside


def _upgrade() -> int:
    """Bring a schema restored at an older state up to this version's (its data
    migrations then run on the restored rows)."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", verbosity=0, interactive=False)
    return len(plan)
