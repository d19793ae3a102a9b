"""The workers' registry and leases, kept in the database so that workers on several
machines agree: every time is the database's (``Now()``), not a machine's clock.

Other apps ask here whether a worker is running (``any_alive``, ``alive``) and, inside a
task, whether the worker that runs it is stopping (``stop_requested``). This module must
not import the apps whose work the worker runs.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now

from .models import Lease, WorkerProcess

# The stop event of the worker whose task loop runs in this thread (none outside a worker).
_current = threading.local()


def new_worker_id() -> str:
    """``host:pid:random``: unique even for two workers in one process (tests)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


def _lease() -> timedelta:
    return timedelta(seconds=settings.WORKER_LEASE)


# --- who is alive ---------------------------------------------------------------------------


def report(worker_id: str) -> None:
    """This worker is alive (created on its first report)."""
    if not WorkerProcess.objects.filter(worker_id=worker_id).update(seen=Now()):
        host, _sep, rest = worker_id.partition(":")
        pid = rest.partition(":")[0]
        WorkerProcess.objects.update_or_create(
            worker_id=worker_id,
            defaults={"host": host, "pid": int(pid or 0), "started": Now(), "seen": Now()},
        )


def leave(worker_id: str) -> None:
    """A worker stopping cleanly: its leases pass to the others at once."""
    Lease.objects.filter(holder=worker_id).delete()
    WorkerProcess.objects.filter(worker_id=worker_id).delete()


def _fresh() -> Q:
    return Q(seen__gte=Now() - _lease())


def any_alive() -> bool:
    return WorkerProcess.objects.filter(_fresh()).exists()


def alive(worker_id: str) -> bool | None:
    """Whether that worker still reports; None when no worker of that id ever did (the
    runner of a job may be a web process running it inline)."""
    row = WorkerProcess.objects.filter(worker_id=worker_id).values_list("seen", flat=True)
    if not row.exists():
        return None
    return WorkerProcess.objects.filter(_fresh(), worker_id=worker_id).exists()


# --- leases ---------------------------------------------------------------------------------


def acquire(name: str, worker_id: str) -> bool:
    """Take (or keep) the lease ``name`` for WORKER_LEASE seconds: True when this worker
    holds it now. One UPDATE, so two workers asking at once cannot both get it (on
    PostgreSQL the second re-reads the row the first changed; SQLite writes one at a time)."""
    expires = Now() + _lease()
    taken = (
        Lease.objects.filter(name=name)
        .filter(Q(holder=worker_id) | Q(expires__lt=Now()))
        .update(holder=worker_id, expires=expires)
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=worker_id, expires=expires)
    except IntegrityError:
        return False  # held by another, or created by another just now
    return True


def renew(worker_id: str) -> int:
    """Keep every lease this worker holds (while a long round runs); their number."""
    return Lease.objects.filter(holder=worker_id).update(expires=Now() + _lease())


def holder(name: str) -> str | None:
    return (
        Lease.objects.filter(name=name, expires__gte=Now()).values_list("holder", flat=True).first()
    )


# --- inside a task --------------------------------------------------------------------------


def bind(worker_id: str | None, stop: threading.Event | None) -> None:
    """The task loop of a worker names itself, and its stop event, to the tasks it runs
    in its thread (None, None: unbind)."""
    _current.worker_id = worker_id
    _current.stop = stop


def stop_requested() -> bool:
    """True inside a task whose worker was asked to stop (SIGTERM): a long task stops at
    a safe point and puts itself back in the queue."""
    event = getattr(_current, "stop", None)
    return bool(event is not None and event.is_set())


def current_worker_id() -> str | None:
    """The id of the worker whose task runs in this thread (None outside a worker)."""
    return getattr(_current, "worker_id", None)
