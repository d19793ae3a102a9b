"""The certificate endpoints against their own OpenAPI schema (schemathesis), called by
her registration township with a certificate on file, so that lists, one certificate,
the PDF, revoking and checks answer with data, not only with 404: no server error, every
error in the one shape, and every response as the schema describes it.

(``liudong/api/tests/test_schemathesis.py`` runs every operation as a county
administrator with an empty registry.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from liudong.accounts.services import issue_token
from liudong.actors import OPERATOR
from liudong.api.tests.test_schemathesis import error_shape, keep_the_test_transaction
from liudong.certificates import services
from liudong.wsgi import application

from .conftest import HOUSEHOLD, make_person

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(
    path_regex=r"^/api/(certificates|verifications|notices)/"
)
pytestmark = pytest.mark.django_db
__all__ = ["keep_the_test_transaction"]  # the fixture, reused (autouse)


@pytest.fixture
def bearer(township_a):
    return {"Authorization": f"Bearer {issue_token(acting_user=OPERATOR, user=township_a).key}"}


@pytest.fixture
def certificate(township_a, villages):
    """She is registered and lives in township A: its office issues and verifies."""
    return services.issue(make_person(residence=HOUSEHOLD), acting_user=township_a)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_certificate_operations(case, bearer, certificate):
    # About half the calls name the certificate on file, her file, or its real payload.
    if case.path_parameters and len(str(case.path_parameters.get("number", ""))) % 2:
        case.path_parameters["number"] = certificate.number
    if isinstance(case.body, dict) and "payload" in case.body and len(str(case.body)) % 2:
        case.body["payload"] = certificate.payload
    if isinstance(case.body, dict) and "person" in case.body and len(str(case.body)) % 2:
        case.body["person"] = certificate.person_id
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
