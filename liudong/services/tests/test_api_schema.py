"""The services endpoints against their own OpenAPI schema (schemathesis), called by
township A with a campaign, a branch, a resident and a service record on file, so that
lists, one record, the summary (json and xlsx), creates and PATCHes answer with data, not
only with 404: no server error, every error in the one shape."""

from __future__ import annotations

import pytest

from liudong.accounts.services import issue_token
from liudong.actors import OPERATOR
from liudong.api.tests import schemathesis_harness as harness
from liudong.api.tests.schemathesis_harness import keep_the_test_transaction
from liudong.regions.models import Region
from liudong.services.associations import services as association_services
from liudong.services.records import services as record_services

schema = harness.app_schema("services")
pytestmark = pytest.mark.django_db
__all__ = ["keep_the_test_transaction"]  # the fixture, reused (autouse)


@pytest.fixture
def bearer(township_a):
    return {"Authorization": f"Bearer {issue_token(acting_user=OPERATOR, user=township_a).key}"}


@pytest.fixture
def on_file(township_a, campaign, resident_a):
    branch = association_services.create_branch(
        acting_user=township_a, name="北山协会", region=Region.objects.get(code="330106002001")
    )
    service = record_services.create_service_record(
        acting_user=township_a,
        person=resident_a,
        service_type="counselling",
        date=campaign.starts_on,
        consent_recorded=True,
    )
    return {
        "campaign": campaign.pk,
        "branch": branch.pk,
        "person": resident_a.pk,
        "service": service.pk,
    }


@schema.parametrize()
@harness.depth(ci_examples=8)
def test_services_operations(case, bearer, on_file):
    # About half the calls name the records on file.
    if case.path_parameters and len(str(case.path_parameters.get("id", ""))) % 2:
        case.path_parameters["id"] = on_file["campaign"]
    if isinstance(case.body, dict) and len(str(case.body)) % 2:
        for name in ("campaign", "branch", "person", "service"):
            if name in case.body:
                case.body[name] = on_file[name]
    harness.call_and_validate(case, bearer)
