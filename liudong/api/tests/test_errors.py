"""Every API error has one shape: {"errors": [{"field", "code", "message"}]} (STYLE.md §7)."""

import pytest

from liudong.regions.models import Region

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status, code=None, field="any"):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}, error
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["code"], str) and error["code"]
    if code is not None:
        assert code in [e["code"] for e in body["errors"]], body
    if field != "any":
        assert field in [e["field"] for e in body["errors"]], body
    return body["errors"]


def test_validation_errors_name_each_field(county_admin, api_for):
    response = api_for(county_admin).post("/api/regions/", {"code": ""}, format="json")
    errors = assert_error_shape(response, 400)
    assert {e["field"] for e in errors} == {"code", "name"}


def test_service_rule_errors_name_the_field(county_admin, api_for):
    response = api_for(county_admin).post(
        "/api/regions/", {"code": "330106999001", "name": "孤村"}, format="json"
    )
    assert_error_shape(response, 400, field="code")


def test_unauthenticated(api_for):
    assert_error_shape(api_for().get("/api/users/"), 401, "not_authenticated")


def test_forbidden(township_a, api_for):
    response = api_for(township_a).post(
        "/api/regions/", {"code": "330106002009", "name": "村"}, format="json"
    )
    assert_error_shape(response, 403, "permission_denied")


def test_not_found_and_unknown_urls(county_admin, api_for):
    client = api_for(county_admin)
    assert_error_shape(client.get("/api/users/999999/"), 404, "not_found")
    assert_error_shape(client.get("/api/regions/99/"), 404, "not_found")
    assert_error_shape(client.get("/api/no-such-thing/"), 404, "not_found")


def test_method_not_allowed(county_admin, api_for):
    assert_error_shape(
        api_for(county_admin).delete("/api/regions/330106/"), 405, "method_not_allowed"
    )


def test_stale_write_is_a_conflict(county_admin, api_for):
    client = api_for(county_admin)
    assert (
        client.patch(
            "/api/regions/330106002001/", {"name": "一", "version": 1}, format="json"
        ).status_code
        == 200
    )
    response = client.patch(
        "/api/regions/330106002001/", {"name": "二", "version": 1}, format="json"
    )
    assert_error_shape(response, 409, "stale")
    assert Region.objects.get(code="330106002001").name == "一"


def test_malformed_json(county_admin, api_for):
    response = api_for(county_admin).generic(
        "POST", "/api/regions/", "{not json", content_type="application/json"
    )
    assert_error_shape(response, 400, "parse_error")


def test_csrf_is_enforced_for_session_authenticated_writes(county_admin):
    from django.test import Client

    from conftest import pass_second_factor

    client = Client(enforce_csrf_checks=True)
    client.force_login(county_admin)
    pass_second_factor(client, county_admin)
    response = client.post(
        "/api/regions/", {"code": "330106002009", "name": "村"}, content_type="application/json"
    )
    assert_error_shape(response, 403)
    assert not Region.objects.filter(code="330106002009").exists()


def test_schema_and_docs_are_served_with_vendored_assets(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/regions/", "/api/grids/", "/api/users/", "/api/audit/"} <= set(spec["paths"])
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower() and "//unpkg" not in docs


@pytest.mark.parametrize("bad", ["33\x00", "abc", "1" * 40, "\x00"])
def test_malformed_region_codes_are_field_errors_not_server_errors(bad, county_admin, api_for):
    client = api_for(county_admin)
    response = client.post(
        "/api/grids/", {"name": "g", "region": bad, "areas": [bad]}, format="json"
    )
    errors = assert_error_shape(response, 400)
    assert {"region", "areas"} <= {e["field"] for e in errors}
    for url in ("/api/grids/?region=", "/api/users/?region=", "/api/grids/?within="):
        response = client.get(url + bad)
        if response.status_code != 200:  # NUL bytes are refused by the filter form itself
            assert_error_shape(response, 400)


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "RegionCode" not in (tmp_path / "schema.yaml").read_text()


@pytest.mark.parametrize(
    "url",
    [
        "/api/match-reports/00000000000000000000000000000000/xlsx/?format=xlsx",
        "/api/campaigns/999999/summary/?format=xlsx",
    ],
)
def test_an_error_is_json_where_a_file_was_asked_for(county_admin, api_for, url):
    """Rendered by the xlsx renderer, the error went out as JSON text labelled as a
    spreadsheet (schemathesis' content-type check found it)."""
    response = api_for(county_admin).get(url)
    assert response["Content-Type"].startswith("application/json")
    assert_error_shape(response, 404)


def test_a_request_django_refuses_is_json_under_the_api(county_admin, client):
    """More query fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: Django refuses the request
    itself (a SuspiciousOperation); the API still answers in its one error shape, a page
    with Django's error page."""
    query = "&".join(f"f{n}=1" for n in range(1100))
    client.force_login(county_admin)
    api = client.get(f"/api/regions/?{query}")
    assert api.status_code == 400
    assert api.json()["errors"][0]["code"] == "bad_request"
    page = client.get(f"/people/?{query}")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
