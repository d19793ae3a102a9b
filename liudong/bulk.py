"""Fast inserts for imports: plain tuples into a table, by COPY on PostgreSQL and one
executemany on SQLite, skipping the ORM's per-object work (a million-row import spends
most of its time there otherwise).

Callers hand over database-ready values (dates, numbers, strings, booleans, None; the
only datetimes are `now`, adapted once with :func:`db_now`), inside a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model
from django.utils import timezone


def db_now() -> object:
    """The current time as the database driver expects it in a raw statement."""
    now = timezone.now()
    if connection.vendor == "sqlite":
        return connection.ops.adapt_datetimefield_value(now)
    return now


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys so that rows can be linked before they are written.

    PostgreSQL takes them from the table's sequence. SQLite continues from the largest key:
    safe because liudong's SQLite transactions hold the write lock from BEGIN (settings).
    """
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def insert(model: type[Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
