"""Property tests of the API against its own OpenAPI schema (schemathesis): for generated
requests to every operation, no server error, and every error in the one shape."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from liudong.accounts.services import issue_token
from liudong.actors import OPERATOR
from liudong.wsgi import application

# The schema is served without a database (drf-spectacular's view reads only code).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
pytestmark = pytest.mark.django_db


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


@pytest.fixture
def bearer(county_admin):
    return {"Authorization": f"Bearer {issue_token(acting_user=OPERATOR, user=county_admin).key}"}


def error_shape(ctx, response, case):
    """4xx responses carry {"errors": [{"field", "code", "message"}]}."""
    if 400 <= response.status_code < 500 and response.status_code != 429:
        body = response.json()
        assert set(body) == {"errors"} and body["errors"], body
        for error in body["errors"]:
            assert set(error) == {"field", "code", "message"}, error


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_operations(case, bearer):
    if case.operation.path == "/api/auth/token/":
        return  # exercised in accounts tests: random passwords would lock accounts
    case.call_and_validate(
        headers=bearer,
        checks=[schemathesis.checks.not_a_server_error, error_shape],
        excluded_checks=[
            schemathesis.checks.status_code_conformance,
            schemathesis.checks.positive_data_acceptance,
            schemathesis.checks.negative_data_rejection,
            schemathesis.checks.missing_required_header,
            schemathesis.checks.unsupported_method,
            schemathesis.checks.ignored_auth,
        ],
    )
