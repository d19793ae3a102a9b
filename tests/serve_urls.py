"""Test-only routes for the server tests (tests/test_serve.py, liudong/web/tests/
test_deadline.py): never in production's URL configuration. Mounted beside the real ones
through ``tests.serve_settings`` (a served subprocess) or ``@pytest.mark.urls``."""

import contextlib
import os
import time

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

from liudong.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def pid(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"pid": os.getpid()})


def slow_query(request: HttpRequest) -> JsonResponse:
    """One statement that runs for minutes unless the database is told to stop it."""
    # A savepoint of its own, so that under a test's transaction a cancelled statement on
    # PostgreSQL rolls back to it instead of aborting the test's transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_sleep(300)")
        else:
            cursor.execute(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                "WHERE x < 100000000000) SELECT count(*) FROM c"
            )
    return JsonResponse({"finished": True})


def late_query(request: HttpRequest) -> JsonResponse:
    """Python work past the limit (no query running to cancel), then a query."""
    time.sleep(float(settings.REQUEST_SECONDS) + 0.3)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"finished": True})


def swallowing(request: HttpRequest) -> JsonResponse:
    """A view that catches the cancelled statement's error and carries on querying."""
    with contextlib.suppress(Exception):  # the point of the test
        slow_query(request)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"finished": True})


def python_loop(request: HttpRequest) -> JsonResponse:
    """Stuck outside the database (no query to cancel) for up to a minute."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        time.sleep(0.05)
    return JsonResponse({"finished": True})


urlpatterns = [
    path("test/python-loop", python_loop),
    path("test/pid", pid),
    path("test/slow-query", slow_query),
    path("api/test/slow-query", slow_query),
    path("test/late-query", late_query),
    path("test/swallowing", swallowing),
    *urlpatterns,
]
