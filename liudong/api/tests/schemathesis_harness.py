"""The one schemathesis harness of the API tests: the OpenAPI schema built once per test
process, the checks every operation must pass, the fixture that keeps the test transaction
open, and the depth of the run.

Owns: how the schema tests call the API and how many examples they generate. Must not
touch the application: the schema is read from the running WSGI app as a client would.

Depth (the environment setting SCHEMATHESIS_DEPTH reads in the root conftest.py):
- ``ci`` (the default, what ``make test`` runs): every operation, schemathesis' examples and
  coverage phases in full (its deterministic positive and negative cases per operation:
  boundary values, missing and wrongly typed fields; about 80 an operation), plus a few
  random fuzzing examples (half as many as before the harness: ``ci_examples``).
- ``deep``: the same with many more fuzzing examples per operation, for a nightly or
  manual run (README, "Running the tests"), e.g. ``-k operations`` for these tests alone.
"""

from __future__ import annotations

import functools

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

# Chosen in the root conftest.py (a developer's setting, read with the suite's others).
from conftest import SCHEMATHESIS_DEPTH as DEPTH

# Random fuzzing examples per operation on top of the deterministic coverage cases: CI's
# default (a module may ask for more), and every module's at the deep depth.
CI_EXAMPLES = 8
DEEP_EXAMPLES = 150


# Operations an app's own schema test calls (certificates, places and services with records
# on file, so they answer with data and not only 404); ``test_schemathesis`` calls every
# other operation. Each operation is called by exactly one test, at the same depth
# (``test_every_operation_is_called_by_one_test``).
APP_PATHS = {
    "certificates": r"^/api/(certificates|verifications|notices)/",
    "places": r"^/api/(employers|rental-houses|sites|agreements|safety-issues)/",
    "services": r"^/api/(campaigns|activities|association-branches|memberships|"
    r"association-activities|help-requests|service-records|follow-ups)/",
    "stats": r"^/api/(indicators|monthly-reports|targets|assessments|quality)/",
}


def app_schema(app: str):
    """The operations the schema test of ``app`` (a key of APP_PATHS) calls."""
    return api_schema().include(path_regex=APP_PATHS[app])


def rest_schema():
    """Every operation no app module calls with records of its own."""
    return api_schema().exclude(path_regex="|".join(f"(?:{p})" for p in APP_PATHS.values()))


@functools.cache
def api_schema():
    """The whole API's schema, fetched once per process (drf-spectacular builds it from
    code in a few seconds: five modules each building it made collection slow). Each
    module narrows it with ``.include(...)``, which copies without fetching again."""
    from liudong.wsgi import application

    # The schema is served without a database (drf-spectacular's view reads only code).
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


def depth(ci_examples: int = CI_EXAMPLES):
    """Hypothesis settings for a schema test at the run's depth."""
    examples = ci_examples if DEPTH == "ci" else DEEP_EXAMPLES
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def error_shape(ctx, response, case):
    """4xx responses carry {"errors": [{"field", "code", "message"}]}."""
    if 400 <= response.status_code < 500 and response.status_code != 429:
        body = response.json()
        assert set(body) == {"errors"} and body["errors"], body
        for error in body["errors"]:
            assert set(error) == {"field", "code", "message"}, error


CHECKS = [
    schemathesis.checks.not_a_server_error,
    error_shape,
    # Every answer as the schema declares it (issue 16: a generated client trusts it): its
    # status code, its content type and its body.
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
# What the API deliberately does otherwise than schemathesis' stricter defaults expect.
EXCLUDED_CHECKS = [
    schemathesis.checks.positive_data_acceptance,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.missing_required_header,
    schemathesis.checks.unsupported_method,
    schemathesis.checks.ignored_auth,
]


def call_and_validate(case, headers) -> None:
    """Send the case to the app and hold the response to the harness' checks."""
    case.call_and_validate(headers=headers, checks=CHECKS, excluded_checks=EXCLUDED_CHECKS)


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """Calling the WSGI app directly fires request_finished, whose handler closes a
    connection that is inside a transaction (the test's own); Django's test client
    disconnects it the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
