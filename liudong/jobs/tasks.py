"""The jobs' queued tasks (django-tasks; `liudong worker` runs them)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def run_import_job(job_id: int) -> str:
    """Run import job ``job_id``: "done", "failed", "released" (the worker stopped; the
    job is queued again) or "skipped" (no longer waiting for a worker)."""
    return services.run_queued(job_id)
