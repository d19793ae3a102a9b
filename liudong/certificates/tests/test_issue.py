"""Issuing and revoking: who may, to whom, the number, the snapshot, the audit entry."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.certificates import issuing
from liudong.certificates.models import Certificate, Contraception, Status

from .conftest import TODAY, make_person, years_before

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize(
    "born, accepted",
    [
        (years_before(TODAY, 18) + DAY, False),  # 17 years and 364 days old
        (years_before(TODAY, 18), True),  # 18 today
        (years_before(TODAY, 50) + DAY, True),  # 49, her 50th birthday is tomorrow
        (years_before(TODAY, 50), False),  # 50 today
    ],
    ids=["17y364d", "18-today", "49-last-day", "50-today"],
)
def test_she_must_be_18_to_49_today(born, accepted, township_a):
    person = make_person(born=born)
    if accepted:
        certificate = issuing.issue(person, acting_user=township_a, today=TODAY)
        assert certificate.status_on(TODAY) == Status.VALID
    else:
        with pytest.raises(ValidationError, match="aged 18 to 49") as refused:
            issuing.issue(person, acting_user=township_a, today=TODAY)
        assert refused.value.code == "age"
        assert not Certificate.objects.exists()


def test_a_man_is_refused(township_a):
    with pytest.raises(ValidationError, match="women only"):
        issuing.issue(make_person(sex="1"), acting_user=township_a, today=TODAY)


def test_another_township_may_not_issue(township_b, village_a1, county_admin, woman):
    with pytest.raises(PermissionDenied, match="township of her registration"):
        issuing.issue(woman, acting_user=township_b, today=TODAY)
    for user in (village_a1, county_admin):  # only a township office issues
        with pytest.raises(PermissionDenied, match="Only a township office"):
            issuing.issue(woman, acting_user=user, today=TODAY)
    assert not Certificate.objects.exists()


def test_a_household_region_known_only_to_the_county_cannot_be_issued(township_a):
    person = make_person(household="330106")
    with pytest.raises(ValidationError, match="record her township first"):
        issuing.issue(person, acting_user=OPERATOR, today=TODAY)


def test_the_number_encodes_township_year_and_a_sequence(township_a, villages):
    first = issuing.issue(make_person(), acting_user=township_a, today=TODAY)
    second = issuing.issue(make_person(), acting_user=township_a, today=TODAY)
    next_year = issuing.issue(make_person(), acting_user=township_a, today=TODAY.replace(year=2027))
    elsewhere = issuing.issue(
        make_person(household="330106004001"), acting_user=OPERATOR, today=TODAY
    )
    assert first.number == "330106002-2026-000001"
    assert second.number == "330106002-2026-000002"
    assert next_year.number == "330106002-2027-000001"
    assert elsewhere.number == "330106004-2026-000001"
    assert first.issuing_region_id == "330106002"


def test_a_refused_issue_gives_its_number_back(township_a, villages):
    """The counter moves in the issuing transaction: a failure leaves no gap."""
    issuing.issue(make_person(), acting_user=township_a, today=TODAY)
    with pytest.raises(ValidationError):
        issuing.issue(make_person(), acting_user=township_a, today=TODAY, contraception="quota")
    assert issuing.issue(make_person(), acting_user=township_a, today=TODAY).number.endswith(
        "-000002"
    )


def test_the_certificate_keeps_what_it_certified(township_a, villages):
    from liudong.people.services import add_child

    husband = make_person(sex="1", name="李强", residence=None)
    woman = make_person(spouse=husband, spouse_id_number=husband.id_number, children_count=2)
    add_child(acting_user=OPERATOR, parent=woman, sex="1", birth_date=datetime.date(2019, 3, 5))
    add_child(
        acting_user=OPERATOR,
        parent=woman,
        sex="2",
        birth_date=datetime.date(2022, 8, 1),
        birth_order=2,
    )
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    assert (certificate.name, certificate.sex, certificate.marital_status) == ("周敏", "2", "20")
    assert certificate.id_number == woman.id_number
    assert certificate.spouse_name == "李强"
    assert certificate.spouse_id_number == husband.id_number
    assert certificate.children_count == 2
    assert certificate.children == [
        {"birth_date": "2019-03-05", "sex": "1", "order": 1},
        {"birth_date": "2022-08-01", "sex": "2", "order": 2},
    ]
    assert certificate.contraception == Contraception.NOT_STATED
    assert certificate.issued_by == township_a
    # A later change to her file does not change the certificate in her hands.
    woman.name = "周敏敏"
    woman.save()
    certificate.refresh_from_db()
    assert certificate.name == "周敏"


def test_contraception_is_her_free_choice_and_never_required(township_a, villages):
    assert (
        issuing.issue(make_person(), acting_user=township_a, today=TODAY).contraception
        == "not_stated"
    )
    declared = issuing.issue(
        make_person(), acting_user=township_a, today=TODAY, contraception="condom"
    )
    assert declared.contraception == "condom"
    with pytest.raises(ValidationError, match="Unknown choice"):
        issuing.issue(make_person(), acting_user=township_a, today=TODAY, contraception="quota")


@pytest.mark.parametrize(
    "born, last_day",
    [
        (datetime.date(1990, 5, 5), datetime.date(2040, 5, 4)),
        (datetime.date(1980, 1, 1), datetime.date(2029, 12, 31)),
        # Born on 29 February: she turns 50 on 1 March of a common year.
        (datetime.date(1980, 2, 29), datetime.date(2030, 2, 28)),
        (datetime.date(1984, 2, 29), datetime.date(2034, 2, 28)),
    ],
)
def test_valid_until_is_the_day_before_her_50th_birthday(born, last_day):
    from liudong.people.models import age_on

    assert issuing.valid_until_for(born) == last_day
    assert age_on(born, last_day) == 49
    assert age_on(born, last_day + DAY) == 50


def test_she_cannot_hold_two_valid_certificates(township_a, woman):
    first = issuing.issue(woman, acting_user=township_a, today=TODAY)
    with pytest.raises(issuing.AlreadyHolds, match=first.number) as refused:
        issuing.issue(woman, acting_user=township_a, today=TODAY)
    assert refused.value.certificate == first
    issuing.revoke(first.number, "lost; a new one issued", acting_user=township_a)
    second = issuing.issue(woman, acting_user=township_a, today=TODAY)
    assert second.number != first.number
    assert Certificate.objects.filter(person=woman).count() == 2


def test_issue_revoke_and_their_audit_entries(township_a, woman):
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    issued = AuditEntry.objects.get(object_type="certificates.certificate", action="create")
    assert issued.detail == {"action": "issue"}
    assert issued.object_repr == certificate.number and issued.region == "330106002"
    # The log names the certificate, never her ID number or declared contraception.
    assert woman.id_number not in str(issued.after) and "contraception" not in issued.after

    issuing.revoke(certificate.number, "issued in error", acting_user=township_a)
    certificate.refresh_from_db()
    assert certificate.status_on(TODAY) == Status.REVOKED
    assert certificate.revoked_by == township_a and certificate.revoke_reason == "issued in error"
    revoked = AuditEntry.objects.get(object_type="certificates.certificate", action="update")
    assert revoked.detail == {"action": "revoke", "reason": "issued in error"}
    assert revoked.before["revoked_at"] is None and revoked.after["revoked_at"]


def test_revoking_needs_the_issuing_township_and_a_reason(township_a, township_b, woman):
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    with pytest.raises(ValidationError, match="No certificate numbered"):
        issuing.revoke(certificate.number, "x", acting_user=township_b)  # not even visible there
    with pytest.raises(ValidationError, match="reason"):
        issuing.revoke(certificate.number, "  ", acting_user=township_a)
    issuing.revoke(certificate.number, "moved abroad", acting_user=township_a)
    with pytest.raises(ValidationError, match="already revoked"):
        issuing.revoke(certificate.number, "again", acting_user=township_a)


def test_the_residence_sees_but_may_not_revoke(township_a, county_b_admin, woman):
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    assert Certificate.objects.in_scope(county_b_admin).filter(pk=certificate.pk).exists()
    with pytest.raises(PermissionDenied, match="issuing township"):
        issuing.revoke(certificate.number, "x", acting_user=county_b_admin)


def test_certificates_are_scoped(township_a, township_b, county_b_admin, woman):
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    assert list(Certificate.objects.in_scope(township_a)) == [certificate]
    assert list(Certificate.objects.in_scope(county_b_admin)) == [certificate]  # she lives there
    assert not Certificate.objects.in_scope(township_b).exists()


def test_expired_is_computed_from_valid_until(township_a, woman):
    certificate = issuing.issue(woman, acting_user=township_a, today=TODAY)
    assert certificate.status_on(certificate.valid_until) == Status.VALID
    assert certificate.status_on(certificate.valid_until + DAY) == Status.EXPIRED
    assert not Certificate.objects.valid(certificate.valid_until + DAY).exists()
