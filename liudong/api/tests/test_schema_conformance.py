"""Every GET endpoint's real answers hold to the OpenAPI schema the API serves (issue 16,
item 7): a registry with blank, null and filled values (``answers.seed``) read through
every list and each of its records, each answer validated by openapi-core against
``/api/schema/`` - types, required fields, nullability, enums, formats. A client generated
from the schema trusts exactly these declarations (``test_generated_client``).
"""

from __future__ import annotations

import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from liudong.api.tests import answers

pytestmark = [pytest.mark.django_db]


def problems_of(spec: OpenAPI, answer: answers.Answer) -> list[str]:
    """What openapi-core finds wrong with one answer (nothing: [])."""
    request = MockRequest(
        "http://testserver", "get", answer.url, path_pattern=answer.path, args=answer.query
    )
    content_type = answer.content_type.split(";")[0]
    response = MockResponse(answer.body, status_code=answer.status, content_type=content_type)
    try:
        spec.validate_response(request, response)
    except Exception as exc:  # openapi-core's errors chain the schema errors as the cause
        errors = getattr(exc.__cause__, "schema_errors", ())
        where = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in errors]
        return (
            [f"{answer.url}: {type(exc).__name__}"]
            + [f"    {w}" for w in where[:8]]
            + ([] if where else [f"    {str(exc)[:300]}"])
        )
    return []


def test_every_get_answer_is_what_the_schema_declares(served_schema, registry):
    spec = OpenAPI.from_dict(served_schema)
    refused = [f"{a.url}: HTTP {a.status}" for a in registry if a.status != 200]
    assert not refused, refused
    problems = [line for answer in registry for line in problems_of(spec, answer)]
    assert not problems, "\n".join(problems)


def test_no_get_path_is_skipped(served_schema, registry):
    """Every GET path of the schema was called, and every list path and detail path
    answered with at least one record (an empty list proves nothing about its items)."""
    called = {answer.path for answer in registry}
    assert called == set(answers.get_paths(served_schema))
    for answer in registry:
        if answer.content_type.startswith("application/json") and "results" in answer.json():
            assert answer.json()["results"], f"{answer.url} listed nothing"
