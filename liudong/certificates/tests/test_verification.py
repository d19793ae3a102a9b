"""Verification at the residence (查验) and notices to obtain a certificate (限期办理通知书)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.audit.models import AuditEntry
from liudong.certificates import issuing, notices, verification
from liudong.certificates.models import Method, Notice, Verification
from liudong.people.models import HeldCertificate, ResidenceEpisode

from .conftest import TODAY, make_person, years_before

pytestmark = pytest.mark.django_db
ARRIVED = datetime.date(2026, 5, 1)


@pytest.fixture
def certificate(township_a, woman):
    return issuing.issue(woman, acting_user=township_a, today=TODAY)


def stay(person) -> ResidenceEpisode:
    return ResidenceEpisode.objects.get(person=person, departure_date__isnull=True)


def test_a_scanned_qr_is_recorded_against_her_current_stay(certificate, woman, county_b_admin):
    recorded = verification.verify_at_residence(
        acting_user=county_b_admin, method="qr", payload=certificate.payload, today=TODAY
    )
    assert recorded.person == woman and recorded.certificate == certificate
    assert recorded.episode == stay(woman) and recorded.region_id == "330105001001"
    assert recorded.days_after_arrival == (TODAY - ARRIVED).days == 45
    assert recorded.verified_by == county_b_admin and recorded.method == Method.QR
    assert stay(woman).verified_on == TODAY
    entry = AuditEntry.objects.get(object_type="certificates.verification")
    assert entry.detail["action"] == "verify" and entry.region == "330105001001"


def test_the_stay_keeps_its_first_verification_day(certificate, woman, county_b_admin):
    first = ARRIVED + datetime.timedelta(days=10)
    verification.verify_at_residence(
        acting_user=county_b_admin, method="qr", payload=certificate.payload, today=first
    )
    verification.verify_at_residence(
        acting_user=county_b_admin, method="number", number=certificate.number, today=TODAY
    )
    assert stay(woman).verified_on == first
    assert Verification.objects.filter(person=woman).count() == 2


def test_a_bad_payload_records_nothing(certificate, township_a, county_b_admin):
    issuing.revoke(certificate.number, "issued in error", acting_user=township_a)
    with pytest.raises(ValidationError, match="revoked") as refused:
        verification.verify_at_residence(
            acting_user=county_b_admin, method="qr", payload=certificate.payload, today=TODAY
        )
    assert refused.value.error_dict["payload"][0].code == "revoked"
    with pytest.raises(ValidationError, match="Not a certificate payload"):
        verification.verify_at_residence(
            acting_user=county_b_admin, method="qr", payload="nonsense", today=TODAY
        )
    assert not Verification.objects.exists()


def test_a_certificate_looked_up_by_number(certificate, woman, county_b_admin):
    recorded = verification.verify_at_residence(
        acting_user=county_b_admin, method="number", number=certificate.number, today=TODAY
    )
    assert recorded.certificate == certificate and recorded.method == "number"


def test_a_number_from_an_imported_register_row_is_found_as_well(woman, county_b_admin):
    held = HeldCertificate.objects.create(
        person=woman,
        number="豫婚育2025-0815",
        issuer="411522101",
        issued_on=datetime.date(2025, 1, 2),
    )
    recorded = verification.verify_at_residence(
        acting_user=county_b_admin, method="number", number="豫婚育2025-0815", today=TODAY
    )
    assert recorded.certificate is None and recorded.held_certificate == held
    assert recorded.person == woman


def test_an_unknown_number_or_a_revoked_one_is_refused(certificate, township_a, county_b_admin):
    with pytest.raises(ValidationError, match="No certificate numbered"):
        verification.verify_at_residence(
            acting_user=county_b_admin, method="number", number="330106002-2026-999999", today=TODAY
        )
    issuing.revoke(certificate.number, "lost", acting_user=township_a)
    with pytest.raises(ValidationError, match="revoked"):
        verification.verify_at_residence(
            acting_user=county_b_admin, method="number", number=certificate.number, today=TODAY
        )


def test_the_exchanged_record_needs_her_file(woman, county_b_admin):
    with pytest.raises(ValidationError, match="Choose whose"):
        verification.verify_at_residence(
            acting_user=county_b_admin, method="exchanged", today=TODAY
        )
    recorded = verification.verify_at_residence(
        acting_user=county_b_admin, method="exchanged", person=woman, today=TODAY
    )
    assert recorded.certificate is None and recorded.method == "exchanged"


def test_only_the_residence_verifies(certificate, township_a, township_b, provider_a):
    # township_a issued it but she lives in county B; township_b sees nothing of her.
    with pytest.raises(PermissionDenied, match="does not live in your region"):
        verification.verify_at_residence(
            acting_user=township_a, method="qr", payload=certificate.payload, today=TODAY
        )
    with pytest.raises(ValidationError, match="No file with this ID number"):
        verification.verify_at_residence(
            acting_user=township_b, method="qr", payload=certificate.payload, today=TODAY
        )
    assert not Verification.objects.exists()


def test_a_payload_of_someone_else_is_refused(certificate, county_b_admin, villages):
    other = make_person(name="王芳")
    with pytest.raises(ValidationError, match="belongs to someone else"):
        verification.verify_at_residence(
            acting_user=county_b_admin,
            method="qr",
            person=other,
            payload=certificate.payload,
            today=TODAY,
        )


def test_the_30_day_rate_is_computable_from_what_is_stored(township_a, county_b_admin, villages):
    arrivals = [TODAY - datetime.timedelta(days=d) for d in (10, 30, 31, 60)]
    for arrived in arrivals:
        woman = make_person(arrived=arrived)
        verification.verify_at_residence(
            acting_user=county_b_admin, method="exchanged", person=woman, today=TODAY
        )
    days = sorted(Verification.objects.values_list("days_after_arrival", flat=True))
    assert days == [10, 30, 31, 60]
    assert Verification.objects.filter(days_after_arrival__lte=30).count() == 2


# --- notices ---------------------------------------------------------------------------


def test_a_notice_gives_three_months_and_is_issued_once_per_stay(woman, county_b_admin):
    notice = notices.issue_notice(woman, acting_user=county_b_admin, today=TODAY)
    assert (notice.issued_on, notice.deadline) == (TODAY, datetime.date(2026, 9, 15))
    assert notice.episode == stay(woman) and notice.region_id == "330105001001"
    assert notices.issue_notice(woman, acting_user=county_b_admin, today=TODAY) == notice
    assert Notice.objects.count() == 1
    entry = AuditEntry.objects.get(object_type="certificates.notice")
    assert entry.detail == {"action": "notice"}


@pytest.mark.parametrize(
    "day, deadline",
    [
        (datetime.date(2026, 11, 30), datetime.date(2027, 2, 28)),
        (datetime.date(2027, 11, 30), datetime.date(2028, 2, 29)),
        (datetime.date(2026, 1, 31), datetime.date(2026, 4, 30)),
        (datetime.date(2026, 12, 1), datetime.date(2027, 3, 1)),
    ],
)
def test_three_months_at_the_end_of_a_month(day, deadline):
    assert notices.add_months(day, 3) == deadline


def test_a_notice_only_where_she_lives_and_only_for_a_woman_18_to_49(
    woman, township_a, county_b_admin, villages
):
    with pytest.raises(PermissionDenied):
        notices.issue_notice(woman, acting_user=township_a, today=TODAY)
    with pytest.raises(ValidationError, match="aged 18 to 49"):
        notices.issue_notice(make_person(sex="1"), acting_user=county_b_admin, today=TODAY)
    with pytest.raises(ValidationError, match="aged 18 to 49"):
        notices.issue_notice(
            make_person(born=years_before(TODAY, 17)), acting_user=county_b_admin, today=TODAY
        )


def test_no_notice_once_verified(woman, county_b_admin):
    verification.verify_at_residence(
        acting_user=county_b_admin, method="exchanged", person=woman, today=TODAY
    )
    with pytest.raises(ValidationError, match="already verified"):
        notices.issue_notice(woman, acting_user=county_b_admin, today=TODAY)


def test_overdue_notices_worklist(county_b_admin, county_admin, township_a, villages):
    late = make_person(arrived=datetime.date(2026, 1, 2))
    on_time = make_person(arrived=datetime.date(2026, 1, 2))
    done = make_person(arrived=datetime.date(2026, 1, 2))
    for person in (late, on_time, done):
        notices.issue_notice(person, acting_user=county_b_admin, today=datetime.date(2026, 2, 1))
    Notice.objects.filter(person=on_time).update(deadline=datetime.date(2026, 7, 1))
    # She brought her certificate (issued at home) and the residence verified it.
    certificate = issuing.issue(done, acting_user=township_a, today=datetime.date(2026, 3, 1))
    verification.verify_at_residence(
        acting_user=county_b_admin,
        method="qr",
        payload=certificate.payload,
        today=datetime.date(2026, 3, 10),
    )
    assert Notice.objects.get(person=done).fulfilled_on == datetime.date(2026, 3, 10)
    overdue = notices.overdue_notices(county_b_admin, today=TODAY)
    assert [n.person for n in overdue] == [late]
    assert not notices.overdue_notices(county_admin, today=TODAY).exists()  # another county
    assert not notices.overdue_notices(county_b_admin, today=datetime.date(2026, 5, 1)).exists()


def test_the_verify_command_prints_marital_status_as_its_label(certificate):
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("certificate_verify", certificate.payload, stdout=out)
    lines = out.getvalue().splitlines()
    assert "marital_status: 已婚" in lines  # not the code 20
    as_json = io.StringIO()
    call_command("certificate_verify", certificate.payload, "--format", "json", stdout=as_json)
    assert json.loads(as_json.getvalue())["fields"]["marital_status"] == "20"
