"""The standard indicators against registries counted by hand, at every boundary the
rules have (DESIGN.md §5): ages 17/18/49/50 on the reference date, same-county moves,
districts of one city, stays ending on the reference date, expired and revoked
certificates, verification on day 30 and 31, the statistical year's first day."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.stats.engine import Period, years_before
from liudong.stats.services import monthly_report, parse_period

from .conftest import REFERENCE, certificate, child, resident, service

D = REFERENCE
TOWNSHIP_A = "330106002"
TOWNSHIP_B = "330106004"


def _totals(report):
    return report["indicators"]


def test_ages_are_whole_years_on_the_last_day_of_the_period(report):
    resident(born=years_before(D, 18))  # 18 on the day itself
    resident(born=years_before(D, 18) + datetime.timedelta(days=1))  # still 17
    resident(born=years_before(D, 50) + datetime.timedelta(days=1))  # 49 until tomorrow
    resident(born=years_before(D, 50))  # 50 on the day
    resident(age=30, sex="1")  # a man
    resident(age=30, married=False)  # unmarried, 30
    counts = _totals(report())
    assert counts["inflow_total"] == 6
    assert counts["inflow_adult_wcba"] == 3  # 18, 49 and the unmarried 30-year-old
    assert counts["inflow_married_wcba"] == 2


def test_a_leap_day_birthday_turns_a_year_older_on_the_first_of_march(report):
    # Born 29 February 2008: 18 on 1 March 2026, so 17 on 28 February 2026.
    resident(born=datetime.date(2008, 2, 29))
    assert _totals(report(period=Period(2026, 2)))["inflow_adult_wcba"] == 0
    assert _totals(report(period=Period(2026, 3)))["inflow_adult_wcba"] == 1


def test_who_counts_as_floating(report):
    resident()  # from Henan: floating
    resident(household="330106004")  # the same county: not floating
    resident(household="330105")  # 拱墅区 to 西湖区, two districts of 杭州: not floating
    resident(household="330122")  # 桐庐县 (a county of 杭州) to a district: floating
    resident(household="330106002", lives_in="411326")  # left 西湖区 for Henan: outflow
    counts = _totals(report())
    assert counts["inflow_total"] == 2
    assert counts["outflow_total"] == 1


def test_a_stay_is_counted_on_the_days_it_covers(report):
    resident(arrived=D)  # arrived on the reference date: counted
    resident(arrived=D + datetime.timedelta(days=1))  # after it: not yet
    resident(arrived=datetime.date(2026, 1, 1), left=D)  # left on the day: gone
    resident(arrived=datetime.date(2026, 1, 1), left=D + datetime.timedelta(days=1))  # still here
    assert _totals(report())["inflow_total"] == 2


def test_certificates_valid_on_the_reference_date(report):
    valid = resident()
    certificate(valid)
    expired = resident()
    certificate(expired, until=D - datetime.timedelta(days=1))
    last_day = resident()
    certificate(last_day, until=D)  # valid through its last day
    revoked = resident()
    certificate(revoked, revoked=datetime.datetime(2026, 10, 15, 9, tzinfo=datetime.UTC))
    revoked_later = resident()  # revoked after the period: valid when it ended
    certificate(revoked_later, revoked=datetime.datetime(2026, 11, 3, 9, tzinfo=datetime.UTC))
    not_yet = resident()
    certificate(not_yet, issued=D + datetime.timedelta(days=1))
    resident()  # holds none
    counts = _totals(report())
    assert counts["inflow_adult_wcba"] == 7
    assert counts["inflow_certificate_holders"] == 3


def test_certificate_held_from_a_register_counts_from_its_issue_date(report):
    from liudong.people.models import HeldCertificate

    person = resident()
    HeldCertificate.objects.create(person=person, number="豫-1", issued_on=D)
    later = resident()
    HeldCertificate.objects.create(person=later, number="豫-2", issued_on=D + datetime.timedelta(1))
    assert _totals(report())["inflow_certificate_holders"] == 1


def test_verification_within_thirty_days_of_arrival(report):
    arrived = datetime.date(2026, 9, 1)
    resident(arrived=arrived, verified=arrived + datetime.timedelta(days=30))  # day 30
    resident(arrived=arrived, verified=arrived + datetime.timedelta(days=31))  # day 31
    resident(arrived=arrived, verified=D + datetime.timedelta(days=1))  # after the period
    resident(arrived=arrived)  # not verified
    counts = _totals(report())
    assert counts["inflow_verified"] == 2
    assert counts["inflow_verification_rate"] == 50.0
    assert counts["inflow_verified_within_30d_rate"] == 25.0


def test_services_count_within_the_statistical_year_with_her_consent(report):
    checked = resident()
    service(checked, datetime.date(2026, 10, 1))  # the statistical year's first day
    last_year = resident()
    service(last_year, datetime.date(2026, 9, 30))  # the previous statistical year
    paid = resident()
    service(paid, datetime.date(2026, 10, 2), "counselling", free=False)
    resident()
    counts = _totals(report())
    assert counts["inflow_married_wcba"] == 4
    assert counts["inflow_health_check_rate"] == 25.0
    assert counts["free_service_rate"] == 25.0


def test_births_and_the_sex_ratio(report):
    mother = resident(arrived=datetime.date(2025, 1, 1))
    child(mother, datetime.date(2026, 10, 10), sex="1")
    child(mother, datetime.date(2026, 10, 31), sex="2")
    child(mother, datetime.date(2026, 9, 30), sex="1")  # the month before
    counts = _totals(report())
    assert counts["births"] == 2
    assert counts["sex_ratio_at_birth"] == 100.0
    # One resident at the end of September and at the end of October: 2 per 1 → 2000‰.
    assert counts["birth_rate_permille"] == 2000.0


def test_a_child_born_before_the_mother_arrived_is_not_a_birth_here(report):
    mother = resident(arrived=datetime.date(2026, 10, 20))
    child(mother, datetime.date(2026, 10, 10))
    assert _totals(report())["births"] == 0


def test_rows_add_up_to_the_region_and_rates_are_null_without_a_denominator(report):
    resident(lives_in="330106002001")
    resident(lives_in="330106004001", sex="1")
    resident(lives_in="330106")  # coded at the county only
    result = report()
    rows = {row["region"]: row for row in result["rows"]}
    assert rows[TOWNSHIP_A]["indicators"]["inflow_total"] == 1
    assert rows[TOWNSHIP_B]["indicators"]["inflow_total"] == 1
    assert rows["330106"]["name"] == "本级"
    for code, value in result["indicators"].items():
        if isinstance(value, int):
            assert sum(row["indicators"][code] for row in result["rows"]) == value, code
    assert rows[TOWNSHIP_B]["indicators"]["inflow_verification_rate"] is None  # no women
    assert result["period"] == "2026-10" and result["region"] == "330106"


def test_a_township_report_has_a_row_per_village(report):
    resident(lives_in="330106002002")
    result = report(TOWNSHIP_A)
    assert [row["region"] for row in result["rows"]] == ["330106002001", "330106002002"]
    assert result["rows"][1]["indicators"]["inflow_total"] == 1


def test_rates_are_rounded_to_two_decimals(report):
    for n in range(3):
        resident(verified=datetime.date(2026, 4, 1) if n == 0 else None)
    assert _totals(report())["inflow_verification_rate"] == 33.33


@pytest.mark.parametrize("raw", ["2026-13", "2026-1", "26-10", "2026/10", "", "abcd-ef", "1900-01"])
def test_a_malformed_period_is_refused(raw):
    with pytest.raises(ValidationError) as caught:
        parse_period(raw, today=datetime.date(2026, 11, 22))
    assert "period" in caught.value.message_dict


def test_a_future_period_is_refused_and_the_current_one_allowed():
    today = datetime.date(2026, 11, 22)
    assert str(parse_period("2026-11", today=today)) == "2026-11"
    with pytest.raises(ValidationError, match="not begun"):
        parse_period("2026-12", today=today)


def test_a_region_outside_the_callers_is_refused(township_a):
    with pytest.raises(PermissionDenied):
        monthly_report("330106004", Period(2026, 10), acting_user=township_a)
    assert monthly_report("330106002", Period(2026, 10), acting_user=township_a)["region"]
