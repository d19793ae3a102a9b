"""Property tests of the API against its own OpenAPI schema (schemathesis): for generated
requests to every operation, no server error, and every error in the one shape. The
harness (schema, checks, depth) is ``schemathesis_harness``; the operations of certificates,
places, services and stats are called by those apps' own schema tests (with records on
file), every other one here, as a county administrator."""

import pytest

from liudong.accounts.services import issue_token
from liudong.actors import OPERATOR
from liudong.api.tests import schemathesis_harness as harness
from liudong.api.tests.schemathesis_harness import error_shape, keep_the_test_transaction

schema = harness.rest_schema()
pytestmark = pytest.mark.django_db
# The fixture, reused (autouse); error_shape kept importable under its old name.
__all__ = ["error_shape", "keep_the_test_transaction"]


@pytest.fixture
def bearer(county_admin):
    return {"Authorization": f"Bearer {issue_token(acting_user=OPERATOR, user=county_admin).key}"}


@schema.parametrize()
@harness.depth(ci_examples=8)
def test_api_operations(case, bearer):
    if case.operation.path == "/api/auth/token/":
        return  # exercised in accounts tests: random passwords would lock accounts
    harness.call_and_validate(case, bearer)


def operations(schema) -> set[tuple[str, str]]:
    return {
        (result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()
    }


def test_every_operation_is_called_by_one_test():
    """Nothing falls between the app modules' schema tests and this one, and none is
    called twice (the suite's time): the parts add up to the whole API, without overlap."""
    parts = [operations(harness.app_schema(app)) for app in harness.APP_PATHS]
    parts.append(operations(harness.rest_schema()))
    everything = operations(harness.api_schema())
    assert len(everything) > 100
    assert set().union(*parts) == everything
    assert sum(len(part) for part in parts) == len(everything)
    assert all(parts), "each app's pattern still names operations"
