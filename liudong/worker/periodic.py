"""The periodic jobs a worker runs, each at its own interval and under its own lease (one
worker runs it at a time). A job is a function taking nothing; what it returns is logged
when it is not None. To add one: a line in ``jobs()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("liudong.worker")


@dataclass(frozen=True)
class Periodic:
    name: str  # also the name of its lease
    interval: float  # seconds between two rounds; 0: never
    run: Callable[[], object]


def deliver_messages() -> object:
    """Messages to peer nodes leave from the outbox (what `liudong exchange flush` does)."""
    from liudong.exchange.messaging.services import delivery_round

    counts = delivery_round()
    if counts and (counts["delivered"] or counts["failed"]):
        return f"exchange: delivered {counts['delivered']}, not yet {counts['failed']}"
    return None


def anchor_audit_log() -> object:
    """A signed anchor of the audit chain's head when the log has grown."""
    from liudong.audit.anchors import anchor_round

    anchor = anchor_round()
    return f"audit: anchored entry {anchor.count}" if anchor else None


# The refresher's dotted path when it could not be imported (logged once, then skipped).
_missing_refresher: list[str] = []


def refresh_statistics() -> object:
    """The pre-counted statistics brought up to date (liudong.stats.store, or whatever
    STATS_REFRESHER names), within STATS_REFRESH_BUDGET seconds."""
    path = settings.STATS_REFRESHER
    if not path or path in _missing_refresher:
        return None
    try:
        refresher = import_string(path)
    except ImportError as exc:
        _missing_refresher.append(path)
        logger.warning("statistics refresher %s cannot be imported (%s): skipped", path, exc)
        return None
    return refresher(budget_seconds=settings.STATS_REFRESH_BUDGET)


def resume_imports() -> object:
    """Imports whose worker died are queued again (liudong.jobs)."""
    from liudong.jobs.services import resume_interrupted

    resumed = resume_interrupted()
    return f"imports: {resumed} resumed" if resumed else None


def prune_task_results() -> object:
    """Finished queued tasks' result rows older than WORKER_KEEP_RESULTS_DAYS are deleted
    (django-tasks-db keeps them for ever otherwise); waiting and running ones stay."""
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    before = timezone.now() - timedelta(days=settings.WORKER_KEEP_RESULTS_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=before).delete()
    return f"queue: {deleted} finished task results pruned" if deleted else None


def close_requalification_rounds() -> object:
    """Re-qualification rounds past their deadline are closed: a benefit still not
    confirmed is suspended with the reason, never ended (liudong.services.programmes)."""
    from liudong.services.programmes.requalification import close_due_rounds

    suspended = close_due_rounds()
    return f"programmes: {suspended} benefits suspended at the deadline" if suspended else None


def jobs() -> list[Periodic]:
    """Every periodic job with its interval as the settings give it now."""
    return [
        Periodic("exchange-delivery", settings.EXCHANGE_INTERVAL, deliver_messages),
        Periodic("audit-anchor", settings.AUDIT_ANCHOR_INTERVAL, anchor_audit_log),
        Periodic("stats-refresh", settings.STATS_REFRESH_INTERVAL, refresh_statistics),
        # As often as a dead worker is noticed: its lease.
        Periodic("import-resume", settings.WORKER_LEASE, resume_imports),
        Periodic("task-prune", 3600, prune_task_results),
        # Hourly: a round closes within the hour after its deadline day has passed.
        Periodic("requalification-close", 3600, close_requalification_rounds),
    ]
