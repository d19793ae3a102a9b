"""The certificate endpoints against their own OpenAPI schema (schemathesis), called by
her registration township with a certificate on file, so that lists, one certificate,
the PDF, revoking and checks answer with data, not only with 404: no server error, every
error in the one shape, and every response as the schema describes it.

(``liudong/api/tests/test_schemathesis.py`` runs every operation as a county
administrator with an empty registry.)
"""

from __future__ import annotations

import pytest

from liudong.accounts.services import issue_token
from liudong.actors import OPERATOR
from liudong.api.tests import schemathesis_harness as harness
from liudong.api.tests.schemathesis_harness import keep_the_test_transaction
from liudong.certificates import services

from .conftest import HOUSEHOLD, make_person

schema = harness.app_schema("certificates")
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
@harness.depth(ci_examples=12)
def test_certificate_operations(case, bearer, certificate):
    # About half the calls name the certificate on file, her file, or its real payload.
    if case.path_parameters and len(str(case.path_parameters.get("number", ""))) % 2:
        case.path_parameters["number"] = certificate.number
    if isinstance(case.body, dict) and "payload" in case.body and len(str(case.body)) % 2:
        case.body["payload"] = certificate.payload
    if isinstance(case.body, dict) and "person" in case.body and len(str(case.body)) % 2:
        case.body["person"] = certificate.person_id
    harness.call_and_validate(case, bearer)
