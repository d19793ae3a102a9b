"""`liudong worker`: one process running the queued tasks and the periodic jobs.

Threads: the task loop runs in the thread that calls ``serve()`` (one task at a time per
worker; start more workers for more at once); each periodic job has a thread of its own,
so a long import or statistics round does not hold back the exchange's deliveries; one
more thread reports the worker alive and renews its leases every third of WORKER_LEASE.

A periodic job runs only while this worker holds its lease (``services.acquire``): with
several workers, on one machine or on several, one of them runs each job. A job that
raises is logged and runs again at its next round; it never stops the worker.

Stopping (SIGTERM, SIGINT, or ``stop`` set): no new task starts; a running import stops
at its next batch and queues itself again (``jobs.services``); the leases are given back
so another worker takes the periodic jobs at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Worker as QueueWorker

from . import services
from .periodic import Periodic, jobs

logger = logging.getLogger("liudong.worker")

QUEUE_POLL = 1.0  # seconds between two looks at an empty queue


class TaskLoop(QueueWorker):
    """django-tasks-db's loop over the queue (claim a ready task, run it, record the
    outcome), stopped by our event rather than by exiting the process."""

    def __init__(self, worker_id: str, *, batch: bool = False) -> None:
        super().__init__(
            queue_names=["*"],
            interval=QUEUE_POLL,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )


class Worker:
    def __init__(
        self,
        *,
        periodic: bool = True,
        worker_id: str | None = None,
        log: Callable[[str], object] | None = None,
        periodic_jobs: list[Periodic] | None = None,
    ) -> None:
        self.id = worker_id or services.new_worker_id()
        self.stop = threading.Event()
        self.log = log or logger.info
        if periodic_jobs is None:
            periodic_jobs = jobs() if periodic else []
        self.periodic_jobs = [job for job in periodic_jobs if job.interval > 0]
        self._loop: TaskLoop | None = None

    # --- one step at a time (tests call these from their own thread) ------------------------

    def run_periodic(self, job: Periodic) -> bool:
        """One round of ``job`` if this worker holds (or takes) its lease: True when it
        ran. A job that raises is logged; the next round tries again."""
        try:
            if not services.acquire(job.name, self.id):
                return False
        except Exception:
            logger.exception("worker: lease %s not taken", job.name)
            return False
        try:
            outcome = job.run()
            if outcome is not None:
                self.log(str(outcome))
        except Exception as exc:
            logger.exception("worker: %s failed", job.name)
            self.log(f"worker: {job.name} failed: {exc}")
        finally:
            close_old_connections()
        return True

    def run_queued(self) -> None:
        """Run the tasks waiting now, then return (``liudong worker --batch``, tests)."""
        services.bind(self.id, self.stop)
        try:
            TaskLoop(self.id, batch=True).run()
        finally:
            services.bind(None, None)

    # --- the long-running worker ----------------------------------------------------------

    def serve(self, *, handle_signals: bool = True) -> None:
        """Run until stopped: the queue here, each periodic job in its own thread."""
        services.report(self.id)
        if handle_signals:
            self._handle_signals()
        threads = [self._thread("keeper", self._keep_alive)]
        threads += [self._thread(job.name, self._periodic_loop, job) for job in self.periodic_jobs]
        names = ", ".join(job.name for job in self.periodic_jobs) or "none"
        self.log(f"worker {self.id}: running queued tasks; periodic jobs: {names}")
        self._loop = TaskLoop(self.id)
        services.bind(self.id, self.stop)
        try:
            if not self.stop.is_set():
                self._loop.run()
        finally:
            self.stop.set()
            services.bind(None, None)
            for thread in threads:
                thread.join(timeout=settings.WORKER_LEASE)
            try:
                services.leave(self.id)
            finally:
                close_old_connections()
            self.log(f"worker {self.id}: stopped")

    def request_stop(self) -> None:
        self.stop.set()
        if self._loop is not None:
            self._loop.running = False  # read by the loop before it takes the next task

    def _handle_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.log(f"worker: {signal.strsignal(signum)}: stopping after the current step")
            self.request_stop()
            # A second signal ends the process at once (what waits stays in the queue).
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    def _thread(self, name: str, target: Callable[..., None], *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=f"worker-{name}", daemon=True)
        thread.start()
        return thread

    def _periodic_loop(self, job: Periodic) -> None:
        services.bind(self.id, self.stop)
        while not self.stop.is_set():
            self.run_periodic(job)
            if self.stop.wait(job.interval):
                break
        close_old_connections()

    def _keep_alive(self) -> None:
        every = max(settings.WORKER_LEASE / 3, 0.5)
        while not self.stop.wait(every):
            try:
                services.report(self.id)
                services.renew(self.id)
            except Exception as exc:  # the database away for a moment: try again
                self.log(f"worker: could not report: {exc}")
            finally:
                close_old_connections()
