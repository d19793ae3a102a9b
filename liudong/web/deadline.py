"""The request time limit (setting ``REQUEST_SECONDS``, ``LIUDONG_REQUEST_SECONDS``).

A request that runs past the limit ends with a 503 page (the API: its one error shape) and
its thread is free again for the next request. Three layers, from clean to blunt:

1. **The database is told.** Nearly all the time a slow request spends is spent in the
   database (a dashboard counting live, a report over a province). One watchdog thread per
   process knows every request's deadline; when one passes it cancels the query that
   request's thread is running: PostgreSQL through the connection's cancel request (the
   server stops the statement at once), SQLite through ``sqlite3.Connection.interrupt()``.
   The query raises, ``transaction.atomic`` rolls back as for any error, and the
   middleware answers 503. A request past its deadline may start no further query either
   (an execute wrapper refuses it), so a Python loop issuing many short queries, or one
   that catches the cancellation and goes on, stops at its next query.
2. **A request stuck outside the database** (a pure-Python loop that queries nothing) cannot
   be stopped safely from another thread: raising an exception into it could land inside a
   transaction's bookkeeping or a lock and leave the thread's connection unusable. Under
   gunicorn the watchdog instead retires the whole worker process ``RECYCLE_GRACE`` seconds
   after the deadline: the process stops accepting, the other threads finish what they
   hold (up to the limit and 5 s), the process exits without waiting for the stuck thread,
   and gunicorn starts a fresh one. Other processes keep serving meanwhile.
3. **gunicorn's own timeout** kills a process whose main loop stopped answering (stuck in C
   code holding the interpreter): the backstop, not the limit (with threaded workers it
   never sees a single slow request).

The clock starts when the request reaches this middleware, so the time a connection waited
in the backlog is not counted: the front proxy's read timeout covers the whole (README).
A request with a body gets the time the body takes at 1 MiB/s on top (an upload is read
by the view as it arrives).
Every request pays one set entry and one clock read per query; the watchdog sleeps
when no request is in flight.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

log = logging.getLogger("liudong.web.deadline")

# Seconds after the deadline before a request that is still running (so not in a query the
# cancellation reached) retires its process; only under gunicorn (server.py sets RECYCLE).
RECYCLE_GRACE = 10.0
RECYCLE = False
# Set once this process asked to be retired: its exit must not wait for the stuck thread.
RETIRING = threading.Event()
# A request's body arrives while the view reads it (an import file of up to 400 MB, straight
# from a township's PC when no proxy buffers it): its time at this slow a link is added.
BODY_BYTES_PER_SECOND = 1 << 20


class RequestTimedOut(Exception):
    """Raised instead of running a query once the request's deadline has passed."""


class Watch:
    """One request in flight: its deadline and the database connection of its thread."""

    __slots__ = ("database", "expired", "expires", "limit", "recycled")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.expires = time.monotonic() + limit
        self.expired = False
        self.recycled = False
        # The thread's own DatabaseWrapper (Django keeps one per thread): the watchdog
        # reaches its live connection from outside, to cancel what it runs.
        self.database = connections["default"]

    def passed(self) -> bool:
        if not self.expired and time.monotonic() >= self.expires:
            self.expired = True
        return self.expired


def cancel_query(database: Any) -> None:
    """Stop the statement the connection runs now, from another thread (no effect when
    it runs none)."""
    raw = database.connection
    if raw is None:
        return
    try:
        if database.vendor == "postgresql":
            # cancel_safe (psycopg 3.2+) waits until the server took the request.
            getattr(raw, "cancel_safe", raw.cancel)()
        elif database.vendor == "sqlite":
            raw.interrupt()
    except Exception:  # a connection closing meanwhile: the request ends anyway
        log.warning("could not cancel a query past the time limit", exc_info=True)


class Watchdog:
    """The process's one thread that ends requests past their deadline."""

    TICK = 0.1  # seconds between checks while requests are in flight

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: set[Watch] = set()
        self._busy = threading.Event()
        self._thread: threading.Thread | None = None

    def enter(self, watch: Watch) -> None:
        with self._lock:
            self._watches.add(watch)
            if self._thread is None or not self._thread.is_alive():
                # Started in the process that serves (after gunicorn forked it).
                self._thread = threading.Thread(
                    target=self._run, name="request-deadline", daemon=True
                )
                self._thread.start()
        self._busy.set()

    def leave(self, watch: Watch) -> None:
        # Under the lock: once this returns, no cancellation for this request can start,
        # so it cannot reach the thread's next request.
        with self._lock:
            self._watches.discard(watch)

    def check(self) -> None:
        """One round: cancel what runs past its deadline, retire a process stuck past it."""
        now = time.monotonic()
        with self._lock:
            for watch in self._watches:
                if now < watch.expires:
                    continue
                watch.expired = True
                # On every round until the request ends, not once: a statement that began
                # just as the deadline passed (the refusal below checked a moment before)
                # was not running yet when the first cancellation came, and SQLite and
                # PostgreSQL both drop a cancellation that finds no statement running.
                cancel_query(watch.database)
                if RECYCLE and not watch.recycled and now >= watch.expires + RECYCLE_GRACE:
                    watch.recycled = True
                    log.error(
                        "a request ran %.0f s past the %.0f s limit outside the database: "
                        "this worker process stops after its other requests (gunicorn "
                        "starts another)",
                        now - watch.expires,
                        watch.limit,
                    )
                    RETIRING.set()
                    os.kill(os.getpid(), signal.SIGTERM)  # gunicorn's graceful stop
            idle = not self._watches
            if idle:
                self._busy.clear()

    def _run(self) -> None:
        while True:
            self._busy.wait()
            time.sleep(self.TICK)
            try:
                self.check()
            except Exception:  # the watchdog must outlive any one request
                log.exception("request deadline watchdog")


WATCHDOG = Watchdog()


CLEAN_UP = ("ROLLBACK", "RELEASE SAVEPOINT")


def _refuse_late_queries(watch: Watch) -> Callable[..., Any]:
    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        # Rolling back to a savepoint is let through: it is how an atomic block cleans up
        # after the cancelled statement (refused, it would leave the outer transaction,
        # and under a test's transaction the connection, aborted).
        if watch.passed() and not sql.lstrip().upper().startswith(CLEAN_UP):
            raise RequestTimedOut
        return execute(sql, params, many, context)

    return wrapper


def request_limit(request: HttpRequest, seconds: float) -> float:
    """The limit for this request: the setting, plus the time its body may take to arrive."""
    try:
        body = max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        body = 0
    return seconds + body / BODY_BYTES_PER_SECOND


class RequestDeadlineMiddleware:
    """Puts every request under the time limit and turns a request stopped by it into a
    503 page (or the API's error shape)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = float(settings.REQUEST_SECONDS)
        if limit <= 0:
            return self.get_response(request)
        watch = Watch(request_limit(request, limit))
        request.deadline = watch  # type: ignore[attr-defined]  # read by process_exception
        WATCHDOG.enter(watch)
        try:
            with watch.database.execute_wrapper(_refuse_late_queries(watch)):
                response = self.get_response(request)
        finally:
            WATCHDOG.leave(watch)
        if watch.passed() and response.status_code == 500:
            # Stopped in another middleware's part (e.g. after the view): same answer.
            return busy_response(request, limit)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        watch: Watch | None = getattr(request, "deadline", None)
        # Whatever the view raised once its time was up (the cancelled query's error, the
        # refused next query, an error that followed from either) means: stopped by the
        # limit. A 5xx response: the session middleware saves nothing after it.
        if watch is not None and watch.passed():
            return busy_response(request, watch.limit)
        return None


def busy_response(request: HttpRequest, limit: float) -> HttpResponse:
    from liudong.api.errors import json_error

    # Whole seconds (a POST's limit has its body's time added: 20.0417 would read oddly).
    seconds = f"{limit:.0f}" if limit >= 1 else f"{limit:.2g}"
    message = _(
        "The server is busy: the request was stopped after %(seconds)s s. "
        "Try again in a moment, or narrow the request (a smaller region or period)."
    ) % {"seconds": seconds}
    if request.path.startswith("/api/"):
        response: HttpResponse = json_error(503, "timeout", message)
    else:
        # Rendered without the request: the base layout's menu would query the database,
        # which this request may no longer do.
        page = render_to_string("web/busy.html", {"message": message, "seconds": seconds})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = "10"
    return response
