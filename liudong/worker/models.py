"""What the workers share through the database: who is alive, and who holds which periodic
job. The queued tasks themselves are django-tasks-db's table."""

from __future__ import annotations

from django.db import models


class WorkerProcess(models.Model):
    """One running `liudong worker`, reporting every few seconds (database time): one not
    seen for WORKER_LEASE seconds is dead, and what it held passes to another."""

    worker_id = models.CharField(max_length=100, primary_key=True)
    host = models.CharField(max_length=100)
    pid = models.PositiveIntegerField()
    started = models.DateTimeField()
    seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker_id


class Lease(models.Model):
    """A periodic job held by one worker until ``expires`` (database time): the others
    skip it, so the job never runs twice at the same moment."""

    name = models.CharField(max_length=60, primary_key=True)
    holder = models.CharField(max_length=100)
    expires = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.holder})"
