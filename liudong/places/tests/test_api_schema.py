"""The place endpoints against their own OpenAPI schema (schemathesis), called by
township A with an employer, a rental house, a site, an agreement and a safety issue on
file: no server error, and every error in the one shape."""

from __future__ import annotations

import pytest

from liudong.accounts.services import issue_token
from liudong.actors import OPERATOR
from liudong.api.tests import schemathesis_harness as harness
from liudong.api.tests.schemathesis_harness import keep_the_test_transaction

from .conftest import days, make_agreement, make_issue

schema = harness.app_schema("places")
pytestmark = pytest.mark.django_db
__all__ = ["keep_the_test_transaction"]  # the fixture, reused (autouse)


@pytest.fixture
def bearer(township_a):
    return {"Authorization": f"Bearer {issue_token(acting_user=OPERATOR, user=township_a).key}"}


@pytest.fixture
def on_file(township_a, employer, house, site):
    make_agreement(township_a, employer, signed_on=days(-10), valid_until=days(10))
    make_issue(township_a, house, found_on=days(-3), deadline=days(3))
    return {"employer": employer.pk, "rental_house": house.pk, "site": site.pk}


@schema.parametrize()
@harness.depth(ci_examples=10)
def test_place_operations(case, bearer, on_file):
    # About half the calls name the records on file.
    if case.path_parameters and len(str(case.path_parameters)) % 2:
        case.path_parameters["id"] = 1
    if isinstance(case.body, dict) and len(str(case.body)) % 2:
        for name, pk in on_file.items():
            if name in case.body:
                case.body[name] = pk
    harness.call_and_validate(case, bearer)
