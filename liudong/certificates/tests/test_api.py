"""The certificate API: scoped lists with masked ID numbers, one certificate in full
(logged), issuing by her registration township and its refusals in the one error shape,
revoking, the PDF, staff checks of a payload, verifications at the residence and notices.

She (周敏) is registered in township A (330106002) and lives in county B (330105), whose
administrator is the residence that verifies.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from liudong.audit.models import AuditEntry
from liudong.certificates import issuing, notices, verification
from liudong.certificates.models import Certificate, Notice, Verification
from liudong.people import idnumbers

from .conftest import make_person, years_before

pytestmark = pytest.mark.django_db
ARRIVED = datetime.date(2026, 5, 1)


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def certificate(township_a, woman):
    return issuing.issue(woman, acting_user=township_a)


def assert_error(response, status: int, field: str | None = None, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"} and error["message"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    if code is not None:
        assert code in [e["code"] for e in body["errors"]], body


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


# --- lists and one certificate --------------------------------------------------------


def test_the_list_carries_masked_numbers_only(certificate, woman, township_a, api_for):
    response = api_for(township_a).get("/api/certificates/")
    assert numbers(response) == [certificate.number]
    row = response.json()["results"][0]
    assert row["id_number_masked"] == idnumbers.mask(woman.id_number)
    assert row["status"] == "valid" and row["issuing_region"] == "330106002"
    assert "payload" not in row and "id_number" not in row
    assert woman.id_number not in response.content.decode()


def test_the_registration_and_the_residence_see_it_another_region_does_not(
    certificate, township_a, township_b, county_b_admin, county_admin, api_for
):
    assert numbers(api_for(county_b_admin).get("/api/certificates/")) == [certificate.number]
    assert numbers(api_for(county_admin).get("/api/certificates/")) == [certificate.number]
    other = api_for(township_b)
    assert numbers(other.get("/api/certificates/")) == []
    assert_error(other.get(f"/api/certificates/{certificate.number}/"), 404)
    assert_error(other.get(f"/api/certificates/{certificate.number}/pdf/"), 404)
    assert not AuditEntry.objects.filter(action__in=["view", "export"]).exists()


def test_one_certificate_in_full_and_the_read_is_logged(
    certificate, woman, county_b_admin, api_for
):
    response = api_for(county_b_admin).get(f"/api/certificates/{certificate.number}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id_number"] == woman.id_number and body["payload"] == certificate.payload
    assert body["name"] == "周敏" and body["contraception"] == "not_stated"
    entry = AuditEntry.objects.get(action="view", object_type="certificates.certificate")
    assert entry.object_id == str(certificate.pk) and entry.detail == {"via": "api"}
    assert entry.actor_username == "county_b_admin"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["valid", "revoked"]),
        ({"status": "valid"}, ["valid"]),
        ({"status": "revoked"}, ["revoked"]),
        ({"status": "expired"}, []),
        ({"issuing_region": "330106"}, ["valid", "revoked"]),
        ({"issuing_region": "330106004"}, []),
        ({"issuing_region": "33x"}, []),
        ({"issued_after": "2026-01-01"}, ["valid"]),
        ({"issued_before": "2025-12-31"}, ["revoked"]),
    ],
)
def test_filters(params, expected, township_a, villages, api_for):
    first = make_person(name="吴丽")
    revoked = issuing.issue(first, acting_user=township_a, today=datetime.date(2025, 6, 1))
    issuing.revoke(revoked.number, "issued in error", acting_user=township_a)
    valid = issuing.issue(
        make_person(name="郑红"), acting_user=township_a, today=datetime.date(2026, 6, 1)
    )
    by_status = {valid.number: "valid", revoked.number: "revoked"}
    response = api_for(township_a).get("/api/certificates/", params)
    assert sorted(by_status[n] for n in numbers(response)) == sorted(expected)


def test_a_malformed_filter_is_a_validation_error(township_a, api_for):
    response = api_for(township_a).get("/api/certificates/", {"issued_after": "someday"})
    assert_error(response, 400, "issued_after")


# --- issuing --------------------------------------------------------------------------


def test_her_registration_township_issues_through_the_api(woman, township_a, api_for):
    response = api_for(township_a).post(
        "/api/certificates/",
        {"id_number": woman.id_number, "contraception": "iud"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    certificate = Certificate.objects.get(number=body["number"])
    assert certificate.person == woman and certificate.contraception == "iud"
    assert body["number"].startswith(f"330106002-{today().year}-")
    assert body["payload"] == certificate.payload and body["status"] == "valid"
    assert verification.verify_payload(body["payload"]).ok
    assert AuditEntry.objects.filter(action="create", object_id=str(certificate.pk)).exists()


def test_contraception_is_optional(woman, township_a, api_for):
    response = api_for(township_a).post(
        "/api/certificates/", {"id_number": woman.id_number}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["contraception"] == "not_stated"


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ({"sex": "1", "name": "张伟"}, "not_a_woman"),
        ({"born": years_before(datetime.date.today(), 17)}, "age"),
        ({"born": years_before(datetime.date.today(), 51)}, "age"),
    ],
    ids=["a-man", "aged-17", "aged-51"],
)
def test_she_must_be_a_woman_of_18_to_49(who, code, township_a, villages, api_for):
    person = make_person(**who)
    response = api_for(township_a).post(
        "/api/certificates/", {"id_number": person.id_number}, format="json"
    )
    assert_error(response, 400, "id_number", code)
    assert not Certificate.objects.exists()


def test_issuing_twice_is_refused_naming_the_first(certificate, woman, township_a, api_for):
    response = api_for(township_a).post(
        "/api/certificates/", {"id_number": woman.id_number}, format="json"
    )
    assert_error(response, 400, "id_number", "already_holds")
    assert certificate.number in response.json()["errors"][0]["message"]
    assert Certificate.objects.count() == 1


def test_another_township_may_not_issue(township_b, villages, api_for):
    # She lives in township B, so township B sees her file; she is registered in A.
    person = make_person(residence="330106004001")
    response = api_for(township_b).post(
        "/api/certificates/", {"id_number": person.id_number}, format="json"
    )
    assert_error(response, 403)
    assert "户籍地乡镇" in response.json()["errors"][0]["message"]
    assert not Certificate.objects.exists()


def test_a_file_outside_the_region_is_not_found(woman, township_b, api_for):
    response = api_for(township_b).post(
        "/api/certificates/", {"id_number": woman.id_number}, format="json"
    )
    assert_error(response, 400, "id_number", "not_found")
    assert "周敏" not in response.content.decode()


@pytest.mark.parametrize("role", ["village_a1", "county_admin", "provider_a"])
def test_only_a_township_issues(role, woman, api_for, request):
    user = request.getfixturevalue(role)
    response = api_for(user).post(
        "/api/certificates/", {"id_number": woman.id_number}, format="json"
    )
    assert_error(response, 403)
    assert not Certificate.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "id_number"),
        ({"id_number": "abc"}, "id_number"),
        ({"id_number": "330106199601010000", "contraception": "quota"}, "contraception"),
    ],
)
def test_bad_input_names_its_field(data, field, township_a, api_for):
    response = api_for(township_a).post("/api/certificates/", data, format="json")
    assert_error(response, 400, field)


# --- revoking, printing, checking -------------------------------------------------------


def test_revoke_then_verify_says_revoked(certificate, township_a, county_b_admin, api_for):
    response = api_for(township_a).post(
        f"/api/certificates/{certificate.number}/revoke/",
        {"reason": "issued in error"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    assert response.json()["revoke_reason"] == "issued in error"
    check = api_for(county_b_admin).post(
        "/api/certificates/verify/", {"payload": certificate.payload}, format="json"
    )
    assert check.status_code == 200, check.content
    assert check.json()["valid"] is False and check.json()["reason"] == "revoked"
    again = api_for(township_a).post(
        f"/api/certificates/{certificate.number}/revoke/", {"reason": "again"}, format="json"
    )
    assert_error(again, 400, code="already_revoked")


def test_revoking_needs_the_issuing_township_and_a_reason(
    certificate, township_a, county_b_admin, api_for
):
    url = f"/api/certificates/{certificate.number}/revoke/"
    assert_error(api_for(county_b_admin).post(url, {"reason": "x"}, format="json"), 403)
    assert_error(api_for(township_a).post(url, {"reason": "  "}, format="json"), 400, "reason")
    assert_error(api_for(township_a).post(url, {}, format="json"), 400, "reason")
    assert Certificate.objects.get(pk=certificate.pk).revoked_at is None


def test_the_pdf(certificate, township_a, api_for):
    response = api_for(township_a).get(f"/api/certificates/{certificate.number}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="export", object_id=str(certificate.pk)).exists()


def test_staff_check_a_payload_and_the_check_is_logged(certificate, county_b_admin, api_for):
    api = api_for(county_b_admin)
    good = api.post("/api/certificates/verify/", {"payload": certificate.payload}, format="json")
    assert good.status_code == 200, good.content
    body = good.json()
    assert body["valid"] is True and body["reason"] is None
    assert body["fields"]["number"] == certificate.number
    assert body["fields"]["id_number"] == certificate.id_number
    tampered = certificate.payload[:-3] + ("A" if certificate.payload[-3] != "A" else "B") + "AA"
    bad = api.post("/api/certificates/verify/", {"payload": tampered}, format="json").json()
    assert bad["valid"] is False and bad["reason"] in ("bad_signature", "malformed")
    assert bad["fields"] is None
    entries = AuditEntry.objects.filter(action="view", object_type="certificates.certificate")
    assert {e.detail["via"] for e in entries} == {"api"} and entries.count() == 2


def test_a_role_that_does_not_verify_may_not_check(certificate, provider_a, api_for):
    response = api_for(provider_a).post(
        "/api/certificates/verify/", {"payload": certificate.payload}, format="json"
    )
    assert_error(response, 403)


# --- verifications at the residence ----------------------------------------------------


def test_a_verification_records_the_days_after_arrival(certificate, woman, county_b_admin, api_for):
    response = api_for(county_b_admin).post(
        "/api/verifications/", {"payload": certificate.payload}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["method"] == "qr" and body["certificate"] == certificate.number
    assert body["days_after_arrival"] == (today() - ARRIVED).days
    assert body["person"] == woman.pk and body["region"] == "330105001001"
    assert body["id_number_masked"] == idnumbers.mask(woman.id_number)
    assert Verification.objects.get().days_after_arrival == body["days_after_arrival"]
    listed = api_for(county_b_admin).get("/api/verifications/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]


def test_verification_by_number_and_by_exchanged_record(
    certificate, woman, county_b_admin, api_for
):
    api = api_for(county_b_admin)
    by_number = api.post("/api/verifications/", {"number": certificate.number}, format="json")
    assert by_number.status_code == 201, by_number.content
    assert by_number.json()["method"] == "number"
    exchanged = api.post(
        "/api/verifications/", {"method": "exchanged", "person": woman.pk}, format="json"
    )
    assert exchanged.status_code == 201, exchanged.content
    assert exchanged.json()["method"] == "exchanged" and exchanged.json()["certificate"] is None


def test_a_verification_is_refused_with_its_field(
    certificate, woman, township_a, township_b, county_b_admin, api_for
):
    issuing.revoke(certificate.number, "issued in error", acting_user=township_a)
    api = api_for(county_b_admin)
    revoked = api.post("/api/verifications/", {"payload": certificate.payload}, format="json")
    assert_error(revoked, 400, "payload", "revoked")
    unknown = api.post("/api/verifications/", {"number": "330106002-2026-999999"}, format="json")
    assert_error(unknown, 400, "number", "not_found")
    # Another region's file id is unknown, like any id that does not exist.
    elsewhere = api_for(township_b).post(
        "/api/verifications/", {"method": "exchanged", "person": woman.pk}, format="json"
    )
    assert_error(elsewhere, 400, "person", "does_not_exist")
    # Her registration township sees her file but is not where she lives.
    not_here = api_for(township_a).post(
        "/api/verifications/", {"method": "exchanged", "person": woman.pk}, format="json"
    )
    assert_error(not_here, 403)
    assert not Verification.objects.exists()


def test_verifications_are_scoped(certificate, county_b_admin, township_b, api_for):
    verification.verify_at_residence(
        acting_user=county_b_admin, method="qr", payload=certificate.payload
    )
    assert api_for(county_b_admin).get("/api/verifications/").json()["count"] == 1
    assert api_for(township_b).get("/api/verifications/").json()["count"] == 0
    key = Verification.objects.get().pk
    assert_error(api_for(township_b).get(f"/api/verifications/{key}/"), 404)


# --- notices ---------------------------------------------------------------------------


def test_a_notice_through_the_api(woman, county_b_admin, api_for):
    response = api_for(county_b_admin).post("/api/notices/", {"person": woman.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["person"] == woman.pk and body["issued_on"] == today().isoformat()
    assert body["deadline"] == notices.add_months(today(), 3).isoformat()
    assert body["overdue"] is False and body["fulfilled_on"] is None
    again = api_for(county_b_admin).post("/api/notices/", {"person": woman.pk}, format="json")
    assert again.json()["id"] == body["id"] and Notice.objects.count() == 1


def test_a_notice_is_refused_with_the_person_field(villages, county_b_admin, api_for):
    man = make_person(sex="1", name="张伟")
    response = api_for(county_b_admin).post("/api/notices/", {"person": man.pk}, format="json")
    assert_error(response, 400, "person", "age")


def test_the_overdue_worklist(county_b_admin, township_b, villages, api_for):
    late = make_person(name="吴丽", arrived=datetime.date(2026, 1, 2))
    recent = make_person(name="郑红", arrived=datetime.date(2026, 1, 2))
    notices.issue_notice(late, acting_user=county_b_admin, today=datetime.date(2026, 2, 1))
    notices.issue_notice(recent, acting_user=county_b_admin)
    api = api_for(county_b_admin)

    def people(params):
        response = api.get("/api/notices/", params)
        assert response.status_code == 200, response.content
        return sorted(row["person_name"] for row in response.json()["results"])

    assert people({}) == ["吴丽", "郑红"]
    assert people({"overdue": "true"}) == ["吴丽"]
    assert people({"overdue": "false"}) == ["郑红"]
    rows = api.get("/api/notices/", {"overdue": "true"}).json()["results"]
    assert rows[0]["overdue"] is True
    assert api_for(township_b).get("/api/notices/").json()["count"] == 0


# --- nobody anonymous ------------------------------------------------------------------


def test_an_anonymous_caller_reaches_no_api_endpoint(certificate, api_for):
    """Every operation of the schema (but signing in) refuses an anonymous caller."""
    import re

    schema = api_for(None).get("/api/schema/", {"format": "json"}).json()
    anonymous = api_for(None)
    samples = {"number": certificate.number, "id": "1", "seq": "1", "code": "330106"}
    samples["report_id"] = "0" * 32  # a match report is named by 32 hex digits
    checked = 0
    for path, operations in schema["paths"].items():
        if path == "/api/auth/token/":
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: samples.get(m.group(1), "1"), path)
        for method in operations:
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            call = getattr(anonymous, method)
            response = call(url) if method == "get" else call(url, {}, format="json")
            assert response.status_code in (401, 403), (method, url, response.status_code)
            checked += 1
    assert checked > 20
    assert not AuditEntry.objects.filter(action__in=["view", "export"]).exists()


# --- no N+1 ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/certificates/", "/api/verifications/", "/api/notices/"])
def test_lists_keep_their_query_count(url, township_a, county_b_admin, villages, api_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(count: int) -> None:
        for _n in range(count):
            woman = make_person()
            notices.issue_notice(woman, acting_user=county_b_admin)
            certificate = issuing.issue(woman, acting_user=township_a)
            verification.verify_at_residence(
                acting_user=county_b_admin, method="qr", payload=certificate.payload
            )

    api = api_for(county_b_admin)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    add(1)
    one = queries()
    add(4)
    assert queries() == one
