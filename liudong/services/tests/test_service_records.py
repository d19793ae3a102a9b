"""Service records and follow-ups: each rule refused with its field named (and each test
fails without its rule), who sees the result, the follow-up worklist, the counts the
statistics take, scope and the audit entries."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from liudong.audit.models import AuditEntry
from liudong.certificates.tests.conftest import make_person
from liudong.places import services as places
from liudong.regions.models import Region
from liudong.services.models import FollowUp, ServiceRecord
from liudong.services.records import services as record_services

pytestmark = pytest.mark.django_db
D = datetime.date
DAY = D(2025, 6, 1)


def region(code):
    return Region.objects.get(code=code)


def record(user, person, **values):
    values = {
        "service_type": "reproductive_health",
        "date": DAY,
        "consent_recorded": True,
        **values,
    }
    return record_services.create_service_record(acting_user=user, person=person, **values)


@pytest.fixture
def station(township_a):
    return places.create_site(
        acting_user=township_a,
        kind="service_station",
        name="北山街道计生服务站",
        region="330106002",
    )


@pytest.fixture
def married_a(villages):
    return make_person(
        household="330105001001",
        residence="330106002001",
        arrived=D(2025, 3, 1),
        name="王芳",
        spouse_id_number="330105199001011237",
    )


# --- rules ---------------------------------------------------------------------------------


def test_a_service_for_a_person_outside_the_scope_is_refused(township_a, resident_b):
    with pytest.raises(PermissionDenied, match="person"):
        record(township_a, resident_b)
    assert not ServiceRecord.objects.exists()


def test_a_service_before_her_birth_or_in_the_future_is_refused(township_a, resident_a):
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, date=resident_a.birth_date - datetime.timedelta(days=1))
    assert "before the person's birth date" in refused.value.message_dict["date"][0]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, date=tomorrow)
    assert "in the future" in refused.value.message_dict["date"][0]
    assert record(township_a, resident_a, date=resident_a.birth_date).pk


def test_a_pre_pregnancy_check_needs_a_spouse_on_her_file(township_a, resident_a, married_a):
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, service_type="pre_pregnancy")
    assert "for a couple" in refused.value.message_dict["service_type"][0]
    made = record(township_a, married_a, service_type="pre_pregnancy")
    assert made.spouse_id_number == "330105199001011237"  # kept with the service


def test_a_pre_pregnancy_check_takes_the_spouse_file(township_a, resident_a, married_a):
    married_a.spouse_id_number = ""
    married_a.spouse = resident_a  # a file on record is enough
    married_a.save()
    made = record(township_a, married_a, service_type="pre_pregnancy")
    assert made.spouse_id_number == resident_a.id_number


def test_a_contraceptive_supply_needs_the_method_she_chose(township_a, resident_a):
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, service_type="contraceptive")
    assert "the method she chose" in refused.value.message_dict["contraceptive_method"][0]
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, service_type="contraceptive", contraceptive_method="other")
    assert "contraceptive_method_other" in refused.value.message_dict
    made = record(
        township_a, resident_a, service_type="contraceptive", contraceptive_method="condom"
    )
    assert made.contraceptive_method == "condom"
    # A method is kept only with a supply (minimum necessary data).
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, contraceptive_method="iud")
    assert (
        "only with a contraceptive supply" in refused.value.message_dict["contraceptive_method"][0]
    )


@pytest.mark.parametrize("service_type", ["reproductive_health", "counselling", "return_home"])
def test_a_service_without_consent_is_refused(township_a, resident_a, service_type):
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, service_type=service_type, consent_recorded=False)
    assert "asked for or accepted" in refused.value.message_dict["consent_recorded"][0]
    assert not ServiceRecord.objects.exists()


def test_a_campaign_service_falls_within_its_period(township_a, resident_a, campaign):
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, campaign=campaign, date=D(2025, 3, 1))
    assert "outside the campaign's period" in refused.value.message_dict["date"][0]
    made = record(
        township_a, resident_a, campaign=campaign, date=D(2025, 2, 28), service_type="return_home"
    )
    assert made.campaign == campaign


def test_a_follow_up_due_before_the_service_is_refused(township_a, resident_a):
    made = record(township_a, resident_a)
    for due in (DAY - datetime.timedelta(days=1), DAY):
        with pytest.raises(ValidationError) as refused:
            record_services.schedule_follow_up(acting_user=township_a, service=made, due_on=due)
        assert "not after the service" in refused.value.message_dict["due_on"][0]
    follow_up = record_services.schedule_follow_up(
        acting_user=township_a, service=made, due_on=DAY + datetime.timedelta(days=30)
    )
    assert follow_up.pk


def test_the_provider_is_a_service_station(township_a, resident_a, station):
    market = places.create_site(
        acting_user=township_a, kind="market", name="北山农贸市场", region="330106002001"
    )
    with pytest.raises(ValidationError) as refused:
        record(township_a, resident_a, provider=market)
    assert "not a service station" in refused.value.message_dict["provider"][0]
    assert record(township_a, resident_a, provider=station).provider == station
    assert record(township_a, resident_a, provider_name="市妇幼保健院").provider is None


def test_the_region_must_be_the_callers(township_a, resident_a):
    with pytest.raises(PermissionDenied, match="region"):
        record(township_a, resident_a, region=region("330106004001"))
    made = record(township_a, resident_a)
    assert made.region_id == "330106002001"  # where she lives, by default
    assert made.free_of_charge is True


def test_a_stale_write_is_refused(township_a, resident_a):
    from liudong.base import StaleWrite

    made = record(township_a, resident_a)
    record_services.update_service_record(acting_user=township_a, record=made, free_of_charge=False)
    with pytest.raises(StaleWrite):
        record_services.update_service_record(
            acting_user=township_a, record=made, expected_version=1, free_of_charge=True
        )


# --- the result ----------------------------------------------------------------------------


def test_who_sees_the_result(
    township_a, township_b, village_a1, county_admin, provider_a, resident_a, inspector
):
    made = record(provider_a, resident_a, result="未见异常")
    assert record_services.may_see_result(provider_a, made)
    assert record_services.may_see_result(township_a, made)  # her township (residence)
    for user in (township_b, village_a1, county_admin, inspector):
        assert not record_services.may_see_result(user, made), user.username


def test_the_registration_township_sees_the_result(provider_a, resident_a, villages):
    from conftest import make_user

    household_township = make_user("township_home", "township", "330105001")
    made = record(provider_a, resident_a, result="未见异常")
    assert record_services.may_see_result(household_township, made)


def test_only_those_who_see_a_result_may_write_it(village_a1, township_a, resident_a):
    with pytest.raises(PermissionDenied, match="result"):
        record(village_a1, resident_a, result="x")
    made = record(village_a1, resident_a)
    with pytest.raises(PermissionDenied, match="result"):
        record_services.update_service_record(acting_user=village_a1, record=made, result="x")
    record_services.update_service_record(acting_user=township_a, record=made, result="未见异常")


def test_reading_a_result_is_logged_and_the_log_keeps_no_result(provider_a, village_a1, resident_a):
    made = record(provider_a, resident_a, result="宫颈炎，已建议复查")
    entries = AuditEntry.objects.filter(
        object_type="services.servicerecord", object_id=str(made.pk)
    )
    create = entries.get(action="create")
    assert create.after["has_result"] is True and "result" not in create.after
    assert record_services.read_service_record(village_a1, made) is False
    assert not entries.filter(action="view").exists()
    assert record_services.read_service_record(provider_a, made) is True
    assert entries.filter(action="view", actor_username="provider_a").count() == 1


# --- scope ---------------------------------------------------------------------------------


def test_scope_of_offices_and_stations(
    township_a, township_b, provider_a, county_admin, resident_a, resident_b
):
    mine = record(township_a, resident_a)
    theirs = record(township_b, resident_b)
    assert list(ServiceRecord.objects.in_scope(township_a)) == [mine]
    assert list(ServiceRecord.objects.in_scope(township_b)) == [theirs]
    assert set(ServiceRecord.objects.in_scope(county_admin)) == {mine, theirs}
    # The station (township A) sees what was given in its region, not B's.
    assert list(ServiceRecord.objects.in_scope(provider_a)) == [mine]


# --- follow-ups ----------------------------------------------------------------------------


def test_follow_up_worklist_overdue_first_and_by_grid(
    township_a, township_b, resident_a, grid_a, grid_b, villages
):
    today = D(2025, 7, 1)
    elsewhere = make_person(
        household="330105001001", residence="330106002001001", arrived=D(2025, 3, 1), name="赵丽"
    )
    outside_grid = make_person(
        household="330105001001", residence="330106002", arrived=D(2025, 3, 1), name="钱红"
    )
    service = record(township_a, resident_a)
    in_group = record(township_a, elsewhere)
    not_in_grid = record(township_a, outside_grid)

    def schedule(svc, due):
        return record_services.schedule_follow_up(acting_user=township_a, service=svc, due_on=due)

    soon = schedule(service, D(2025, 7, 5))  # due within a week
    late = schedule(in_group, D(2025, 6, 20))  # overdue
    later_late = schedule(service, D(2025, 6, 25))  # overdue, less so
    schedule(service, D(2025, 8, 1))  # not due yet
    done = schedule(service, D(2025, 6, 10))
    record_services.update_follow_up(acting_user=township_a, follow_up=done, done_on=D(2025, 6, 10))
    assert done.done_by == township_a
    other_grid = schedule(not_in_grid, D(2025, 6, 15))

    worklist = list(record_services.followups_due(township_a, today=today))
    assert worklist == [other_grid, late, later_late, soon]
    # The grid's areas are villages 001 and 002: a group of 001 is in, the township is not.
    assert list(record_services.followups_due(township_a, today=today, grid=grid_a)) == [
        late,
        later_late,
        soon,
    ]
    assert list(record_services.followups_due(township_a, today=today, grid=grid_b)) == []
    assert list(record_services.followups_due(township_b, today=today)) == []


def test_follow_up_outside_the_scope_is_refused(township_a, township_b, resident_a):
    made = record(township_a, resident_a)
    with pytest.raises(PermissionDenied, match="service"):
        record_services.schedule_follow_up(
            acting_user=township_b, service=made, due_on=D(2025, 7, 1)
        )


# --- counts --------------------------------------------------------------------------------


def test_counts_for_the_statistics(township_a, township_b, resident_a, resident_b, married_a):
    start, end = D(2025, 1, 1), D(2025, 12, 31)
    record(township_a, resident_a, date=D(2025, 3, 1))
    record(township_a, resident_a, date=D(2025, 4, 1), service_type="counselling")
    record(township_a, married_a, service_type="pre_pregnancy", free_of_charge=False)
    record(township_a, married_a, date=D(2024, 12, 31))  # before the period
    record(township_b, resident_b, service_type="counselling")

    assert record_services.persons_with_free_service("330106", start, end) == 2  # her and him
    assert record_services.persons_with_free_service("330106002", start, end) == 1  # only her
    assert record_services.persons_with_free_service("330106002", D(2024, 1, 1), end) == 2
    assert record_services.persons_with_free_service("330105", start, end) == 0

    assert (
        record_services.persons_with_service_type("330106", start, end, "reproductive_health") == 1
    )
    assert record_services.persons_with_service_type("330106", start, end, "counselling") == 2
    assert record_services.persons_with_service_type("330106", start, end, "pre_pregnancy") == 1
    assert record_services.persons_with_service_type("330106004", start, end, "counselling") == 1
    with pytest.raises(ValueError, match="unknown service type"):
        record_services.persons_with_service_type("330106", start, end, "fines")


# --- audit ---------------------------------------------------------------------------------


def test_every_change_is_audited(township_a, resident_a):
    made = record(township_a, resident_a)
    record_services.update_service_record(acting_user=township_a, record=made, free_of_charge=False)
    entries = AuditEntry.objects.filter(object_type="services.servicerecord")
    update = entries.get(action="update")
    assert update.before["free_of_charge"] is True and update.after["free_of_charge"] is False
    assert entries.filter(action="create").exists()

    follow_up = record_services.schedule_follow_up(
        acting_user=township_a, service=made, due_on=D(2025, 7, 1)
    )
    record_services.update_follow_up(
        acting_user=township_a, follow_up=follow_up, done_on=D(2025, 7, 1)
    )
    actions = set(
        AuditEntry.objects.filter(object_type="services.followup").values_list("action", flat=True)
    )
    assert actions == {"create", "update"}
    assert FollowUp.objects.get().done_on == D(2025, 7, 1)


# --- export --------------------------------------------------------------------------------


def test_export_services_command(tmp_path, township_a, provider_a, resident_a, campaign, station):
    from django.core.management import call_command
    from openpyxl import load_workbook

    record(
        provider_a,
        resident_a,
        provider=station,
        campaign=campaign,
        date=D(2025, 2, 1),
        service_type="return_home",
        result="机密结果",
    )
    out = tmp_path / "services.xlsx"
    call_command(
        "export_services",
        "--region",
        "330106002",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--out",
        str(out),
        "--user",
        "township_a",
    )
    sheet = load_workbook(out).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["公民身份号码", "姓名", "服务类型"]
    assert len(rows) == 2
    assert "********" in rows[1][0] and rows[1][1] == resident_a.name
    assert rows[1][2] == "春节返乡服务" and rows[1][5] == "北山街道计生服务站"
    assert rows[1][6] == "是" and rows[1][7] == "2025年温暖冬春行动"
    assert not any("机密结果" in str(v) for row in rows for v in row)
    assert AuditEntry.objects.filter(
        action="export", object_type="services.servicerecord", actor_username="township_a"
    ).exists()


def test_chinese_messages_name_the_field_as_the_pages_do(township_a, resident_a):
    """`consent_recorded：…` and `date：…` leaked the field codes into Chinese messages;
    they name the field as the form does. The code stays the error's key (API, CLI)."""
    from django.utils import translation

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as no_consent:
            record(township_a, resident_a, consent_recorded=False)
        with pytest.raises(ValidationError) as future:
            record(township_a, resident_a, date=tomorrow)
    (consent,) = no_consent.value.message_dict["consent_recorded"]
    assert consent.startswith("本人申请或同意：") and "consent_recorded" not in consent
    (day,) = future.value.message_dict["date"]
    assert day.startswith("日期：") and "date" not in day
    with translation.override("zh-hans"), pytest.raises(PermissionDenied) as outside:
        record(township_a, resident_a, region=region("330106004001"))
    assert str(outside.value).startswith("行政区划：")  # not `region：`
