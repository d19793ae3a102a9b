"""The staff pages of certificates: issue from her file, the certificate page (QR, PDF,
revoke), verification at the residence (scan, paste or type; record against her stay),
notices (give, print, worklist), and what another region sees (nothing).

She is registered in township A (330106002) and lives in county B (330105) unless a test
says otherwise: township A issues, county B's administrator verifies.
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from liudong.audit.models import Action, AuditEntry
from liudong.certificates import issuing, notices, verification
from liudong.certificates.models import Certificate, Method, Notice, Verification
from liudong.people.idnumbers import mask

from .conftest import make_person

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(n: int) -> datetime.date:
    return today() - datetime.timedelta(days=n)


@pytest.fixture
def web(client_for):
    """web(user): a signed-in client whose pages come in English (plain assertions)."""

    def make(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
        return client

    return make


@pytest.fixture
def she(villages):
    """周敏, 30, registered in 北山社区 (township A); came to 拱宸桥社区 (county B) 12 days ago."""
    return make_person(arrived=days_ago(12))


@pytest.fixture
def certificate(she, township_a):
    return issuing.issue(she, acting_user=township_a)


def html(response) -> str:
    return response.content.decode()


def audited(kind: str, object_type: str, **detail) -> bool:
    """An audit entry of this kind about this type of record, whose detail holds ``detail``."""
    entries = AuditEntry.objects.filter(action=kind, object_type=object_type)
    return any(all(e.detail.get(k) == v for k, v in detail.items()) for e in entries)


# --- issue ------------------------------------------------------------------------------


def test_her_registration_township_issues_from_her_file(web, she, township_a):
    client = web(township_a)
    page = html(client.get(f"/people/{she.pk}/"))
    assert 'data-testid="certificate-section"' in page and 'data-testid="issue-form"' in page
    assert "free choice" in page and "not required" in page

    response = client.post(f"/certificates/issue/{she.pk}/", {"contraception": ""})

    certificate = Certificate.objects.get(person=she)
    assert response.status_code == 302
    assert response["Location"] == f"/certificates/{certificate.number}/"
    assert certificate.contraception == "not_stated" and certificate.issued_by == township_a
    assert audited(Action.CREATE, "certificates.certificate", action="issue")
    page = html(client.get(f"/people/{she.pk}/"))
    assert certificate.number in page and 'data-testid="issue-form"' not in page


def test_what_she_chooses_to_declare_is_recorded(web, she, township_a):
    web(township_a).post(f"/certificates/issue/{she.pk}/", {"contraception": "iud"})
    assert Certificate.objects.get(person=she).contraception == "iud"


def test_another_township_may_not_issue(web, villages, township_b):
    # Registered in township A, living in township B: B sees her file, A issues.
    her = make_person(residence="330106004001", arrived=days_ago(5))
    client = web(township_b)
    page = html(client.get(f"/people/{her.pk}/"))
    assert 'data-testid="issue-form"' not in page
    assert 'data-testid="verify-person"' in page  # B is where she lives: B verifies

    refused = client.post(f"/certificates/issue/{her.pk}/", {"contraception": ""})

    assert refused.status_code == 403 and "household registration lies outside" in html(refused)
    assert client.get(f"/certificates/issue/{her.pk}/").status_code == 403
    assert not Certificate.objects.exists()


def test_a_man_gets_a_clear_refusal(web, villages, township_a):
    man = make_person(sex="1", name="王强", arrived=days_ago(5))
    client = web(township_a)
    shown = html(client.get(f"/certificates/issue/{man.pk}/"))
    assert "issued to women only" in shown and 'data-testid="issue-certificate"' not in shown

    response = client.post(f"/certificates/issue/{man.pk}/", {"contraception": ""})

    assert response.status_code == 200 and "issued to women only" in html(response)
    assert not Certificate.objects.exists()


def test_issuing_twice_names_the_certificate_she_holds(web, certificate, she, township_a):
    response = web(township_a).post(f"/certificates/issue/{she.pk}/", {"contraception": ""})
    assert certificate.number in html(response) and "already holds" in html(response)
    assert Certificate.objects.count() == 1


# --- the certificate page ---------------------------------------------------------------


def test_the_certificate_page_shows_the_qr_and_gives_the_pdf(web, certificate, township_a):
    client = web(township_a)
    page = html(client.get(f"/certificates/{certificate.number}/"))
    assert '<svg viewBox="0 0' in page and 'class="qr"' in page
    assert certificate.payload in page and certificate.id_number in page
    assert audited(Action.VIEW, "certificates.certificate", via="web")

    pdf = client.get(f"/certificates/{certificate.number}/pdf/")

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f"{certificate.number}.pdf" in pdf["Content-Disposition"]
    assert audited(Action.EXPORT, "certificates.certificate", action="print", format="pdf")


def test_revoking_needs_a_reason_and_shows_revoked(web, certificate, township_a):
    client = web(township_a)
    assert 'data-testid="revoke-form"' in html(client.get(f"/certificates/{certificate.number}/"))

    empty = client.post(f"/certificates/{certificate.number}/revoke/", {"reason": "  "})

    assert empty.status_code == 400 and 'data-testid="field-error-reason"' in html(empty)
    certificate.refresh_from_db()
    assert certificate.revoked_at is None

    done = client.post(f"/certificates/{certificate.number}/revoke/", {"reason": "issued in error"})

    assert done.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None and certificate.revoke_reason == "issued in error"
    page = html(client.get(f"/certificates/{certificate.number}/"))
    assert "status-revoked" in page and "issued in error" in page
    assert 'data-testid="revoke-form"' not in page and 'data-testid="download-pdf"' not in page
    assert audited(Action.UPDATE, "certificates.certificate", action="revoke")
    # The file now offers a new one.
    assert 'data-testid="issue-form"' in html(client.get(f"/people/{certificate.person_id}/"))


def test_the_residence_sees_the_certificate_but_may_not_revoke(web, certificate, county_b_admin):
    client = web(county_b_admin)
    page = html(client.get(f"/certificates/{certificate.number}/"))
    assert 'class="qr"' in page and 'data-testid="revoke-form"' not in page
    refused = client.post(f"/certificates/{certificate.number}/revoke/", {"reason": "no"})
    assert refused.status_code == 403
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


# --- verification -----------------------------------------------------------------------


def test_a_good_payload_is_valid_and_its_verification_is_recorded(
    web, certificate, she, county_b_admin
):
    client = web(county_b_admin)
    assert 'data-testid="verify-code"' in html(client.get("/certificates/verify/"))

    checked = html(client.post("/certificates/verify/", {"code": certificate.payload + "\n"}))

    assert 'data-ok="true"' in checked and "within 30 days" in checked
    assert "12 days since arrival" in checked and mask(she.id_number) in checked
    assert 'data-testid="record-verification"' in checked
    assert audited(Action.VIEW, "certificates.certificate", via="web", result="valid")
    assert not Verification.objects.exists()  # checking alone records nothing

    recorded = client.post(
        "/certificates/verify/record/", {"method": "qr", "code": certificate.payload}
    )

    assert recorded.status_code == 302
    verification = Verification.objects.get()
    assert verification.person == she and verification.certificate == certificate
    assert verification.method == Method.QR and verification.days_after_arrival == 12
    assert verification.verified_by == county_b_admin
    assert audited(Action.CREATE, "certificates.verification", action="verify")
    flash = html(client.get(recorded["Location"]))
    assert "12 days after her arrival, in time" in flash


def test_a_tampered_payload_is_invalid_with_its_reason(web, certificate, county_b_admin):
    body_at = len("LD1.") + 5
    changed = "A" if certificate.payload[body_at] != "A" else "B"
    tampered = certificate.payload[:body_at] + changed + certificate.payload[body_at + 1 :]

    checked = html(web(county_b_admin).post("/certificates/verify/", {"code": tampered}))

    assert 'data-ok="false"' in checked
    assert "bad_signature" in checked or "malformed" in checked
    assert 'data-testid="record-verification"' not in checked
    assert audited(Action.VIEW, "certificates.certificate", via="web", result="bad_signature") or (
        audited(Action.VIEW, "certificates.certificate", via="web", result="malformed")
    )
    # Recording it anyway is refused by the service.
    web(county_b_admin).post("/certificates/verify/record/", {"method": "qr", "code": tampered})
    assert not Verification.objects.exists()


def test_a_revoked_certificate_is_invalid(web, certificate, township_a, county_b_admin):
    issuing.revoke(certificate.number, "issued in error", acting_user=township_a)
    checked = html(web(county_b_admin).post("/certificates/verify/", {"code": certificate.payload}))
    assert 'data-ok="false"' in checked and "revoked" in checked


def test_a_typed_number_is_looked_up_and_recorded(web, certificate, she, county_b_admin):
    client = web(county_b_admin)
    checked = html(client.post("/certificates/verify/", {"code": certificate.number}))
    assert 'data-ok="true"' in checked and 'value="number"' in checked
    client.post("/certificates/verify/record/", {"method": "number", "code": certificate.number})
    assert Verification.objects.get().method == Method.NUMBER
    unknown = html(client.post("/certificates/verify/", {"code": "330106002-2026-999999"}))
    assert 'data-ok="false"' in unknown and "not_found" in unknown


def test_the_exchanged_record_is_recorded_for_her(web, she, county_b_admin):
    client = web(county_b_admin)
    page = html(client.get(f"/certificates/verify/?person={she.pk}"))
    assert 'data-testid="record-exchanged"' in page and "12 days since arrival" in page

    client.post("/certificates/verify/record/", {"method": "exchanged", "person": she.pk})

    verification = Verification.objects.get()
    assert verification.method == Method.EXCHANGED and verification.person == she


def test_a_late_check_says_it_is_past_30_days(web, villages, township_a, county_b_admin):
    her = make_person(arrived=days_ago(45))
    certificate = issuing.issue(her, acting_user=township_a)
    checked = html(web(county_b_admin).post("/certificates/verify/", {"code": certificate.payload}))
    assert "45 days since arrival" in checked and "more than 30 days" in checked


def test_a_payload_of_someone_not_living_here_cannot_be_recorded(web, certificate, township_b):
    # Township B may verify, but she does not live there (and has no file there).
    checked = html(web(township_b).post("/certificates/verify/", {"code": certificate.payload}))
    assert 'data-ok="true"' in checked and 'data-testid="record-refusal"' in checked
    assert 'data-testid="record-verification"' not in checked
    assert certificate.id_number not in checked


# --- notices ----------------------------------------------------------------------------


def test_the_notice_is_given_from_her_file_and_printed(web, she, county_b_admin):
    client = web(county_b_admin)
    page = html(client.get(f"/people/{she.pk}/"))
    assert 'data-testid="give-notice"' in page

    given = client.post(f"/certificates/notices/give/{she.pk}/")

    notice = Notice.objects.get(person=she)
    assert given["Location"] == f"/certificates/notices/{notice.pk}/print/"
    assert audited(Action.CREATE, "certificates.notice", action="notice")
    printed = html(client.get(given["Location"]))
    assert "限期办理通知书" in printed and "免费" in printed
    assert mask(she.id_number) in printed and she.id_number not in printed
    assert "北山街道" in printed  # where she obtains it: her registration township
    assert notice.deadline.strftime("%Y年") in printed
    assert audited(Action.EXPORT, "certificates.notice", action="print", format="html")
    assert 'data-testid="print-notice"' in html(client.get(f"/people/{she.pk}/"))


def test_no_notice_once_verified(web, certificate, she, county_b_admin):
    verification.verify_at_residence(
        acting_user=county_b_admin, method="qr", payload=certificate.payload
    )
    client = web(county_b_admin)
    assert 'data-testid="give-notice"' not in html(client.get(f"/people/{she.pk}/"))
    refused = client.post(f"/certificates/notices/give/{she.pk}/", follow=True)
    assert "already verified" in html(refused) and not Notice.objects.exists()


def test_overdue_notices_come_first_in_the_worklist(web, villages, county_b_admin):
    recent = make_person(name="李新", arrived=days_ago(5))
    late = make_person(name="赵迟", arrived=days_ago(200))
    notices.issue_notice(recent, acting_user=county_b_admin)
    notices.issue_notice(late, acting_user=county_b_admin, today=days_ago(150))

    page = html(web(county_b_admin).get("/certificates/notices/"))

    assert page.index("赵迟") < page.index("李新")
    assert page.count('data-testid="overdue"') == 1 and 'class="overdue"' in page
    assert mask(late.id_number) in page and late.id_number not in page
    assert recent.id_number not in page


# --- access -----------------------------------------------------------------------------


def test_another_region_finds_nothing(web, certificate, she, county_b_admin, township_b):
    notice_holder = make_person(name="孙某", arrived=days_ago(3))
    notice = notices.issue_notice(notice_holder, acting_user=county_b_admin)
    client = web(township_b)
    assert client.get(f"/certificates/{certificate.number}/").status_code == 404
    assert client.get(f"/certificates/{certificate.number}/pdf/").status_code == 404
    assert client.get(f"/certificates/notices/{notice.pk}/print/").status_code == 404
    assert client.get(f"/certificates/verify/?person={she.pk}").status_code == 404
    assert client.post(f"/certificates/notices/give/{she.pk}/").status_code == 404
    assert client.post(f"/certificates/issue/{she.pk}/").status_code == 404
    assert "孙某" not in html(client.get("/certificates/notices/"))
    unknown = html(client.post("/certificates/verify/", {"code": certificate.number}))
    assert 'data-ok="false"' in unknown and she.name not in unknown


def test_pages_need_sign_in_and_the_capability(client, web, certificate, provider_a):
    for url in (
        "/certificates/verify/",
        "/certificates/notices/",
        f"/certificates/{certificate.number}/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert web(provider_a).get(url).status_code == 403
