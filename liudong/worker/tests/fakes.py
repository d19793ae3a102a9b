"""Things the worker tests point the worker at: a task and a statistics refresher that
leave a trace in a file (named by the WORKER_TEST_TRACE environment variable)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django_tasks import task


def _trace(entry: dict) -> None:
    with Path(os.environ["WORKER_TEST_TRACE"]).open("a") as handle:
        handle.write(json.dumps(entry) + "\n")


def traced(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@task()
def note(word: str) -> str:
    _trace({"task": word})
    return word


def refresh(budget_seconds: float | None = None) -> dict:
    _trace({"refresh": budget_seconds})
    return {"refreshed": 0}


def keep_the_test_connection(monkeypatch) -> None:
    """A worker run inside a test: between two tasks it closes a connection that is not in
    autocommit, which the test's open transaction is (on PostgreSQL that ends the test's
    connection; the in-memory SQLite one is never closed)."""
    from django_tasks_db.management.commands import db_worker

    from liudong.worker import runner

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(runner, "close_old_connections", lambda: None)
