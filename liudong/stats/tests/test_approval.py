"""Submitting a month upward, approving (which freezes the figures), returning and
reopening with a reason; who may do each, and the audit trail."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.base import StaleWrite
from liudong.stats import services
from liudong.stats.engine import Period
from liudong.stats.models import MonthlyReport, ReportStatus

from .conftest import resident

OCTOBER = Period(2026, 10)
TODAY = datetime.date(2026, 11, 22)


@pytest.fixture
def submitted(township_a):
    resident()
    return services.submit_report(acting_user=township_a, period=OCTOBER, today=TODAY)


def test_a_township_submits_its_month_with_the_live_figures(submitted, township_a):
    assert submitted.status == ReportStatus.SUBMITTED
    assert submitted.region_id == "330106002"
    assert submitted.figures["indicators"]["inflow_total"] == 1
    assert submitted.events.get().action == ReportStatus.SUBMITTED


def test_a_month_not_over_cannot_be_submitted(township_a):
    with pytest.raises(ValidationError, match="not over"):
        services.submit_report(acting_user=township_a, period=Period(2026, 11), today=TODAY)


def test_approval_freezes_the_figures(submitted, county_admin, township_a):
    services.approve_report(acting_user=county_admin, report=submitted)
    resident()  # a file registered after approval
    live = services.monthly_report("330106002", OCTOBER, acting_user=OPERATOR)
    shown = services.report_to_show("330106002", OCTOBER, acting_user=township_a)
    assert live["indicators"]["inflow_total"] == 2
    assert shown.frozen and shown.figures["indicators"]["inflow_total"] == 1
    assert shown.record.decided_by == county_admin


def test_the_next_month_is_shown_beside_the_frozen_one(submitted, county_admin, township_a):
    services.approve_report(acting_user=county_admin, report=submitted)
    resident()
    shown = services.report_to_show("330106002", Period(2026, 11), acting_user=township_a)
    assert shown.previous["indicators"]["inflow_total"] == 1
    assert shown.figures["indicators"]["inflow_total"] == 2


def test_an_approved_month_cannot_be_submitted_again(submitted, county_admin, township_a):
    services.approve_report(acting_user=county_admin, report=submitted)
    with pytest.raises(ValidationError, match="frozen"):
        services.submit_report(acting_user=township_a, period=OCTOBER, today=TODAY)


def test_returning_needs_a_reason_and_the_unit_submits_again(submitted, county_admin, township_a):
    with pytest.raises(ValidationError) as caught:
        services.return_report(acting_user=county_admin, report=submitted, reason="  ")
    assert "reason" in caught.value.message_dict
    returned = services.return_report(
        acting_user=county_admin, report=submitted, reason="流入数与上月差异过大，请核实"
    )
    assert returned.status == ReportStatus.RETURNED and returned.reason.startswith("流入")
    again = services.submit_report(acting_user=township_a, period=OCTOBER, today=TODAY)
    assert again.status == ReportStatus.SUBMITTED and again.reason == ""
    assert [e.action for e in again.events.all()] == ["submitted", "returned", "submitted"]


def test_reopening_an_approved_month_needs_a_reason_and_is_audited(
    submitted, county_admin, township_a
):
    approved = services.approve_report(acting_user=county_admin, report=submitted)
    with pytest.raises(ValidationError):
        services.reopen_report(acting_user=county_admin, report=approved, reason="")
    services.reopen_report(acting_user=county_admin, report=approved, reason="抽查发现错误")
    entry = AuditEntry.objects.filter(object_type="stats.monthlyreport").order_by("seq").last()
    assert entry.detail["report"] == "reopened" and entry.detail["reason"] == "抽查发现错误"
    assert not services.report_to_show("330106002", OCTOBER, acting_user=township_a).frozen
    services.submit_report(acting_user=township_a, period=OCTOBER, today=TODAY)


def test_a_unit_cannot_approve_its_own_report(county_admin, villages):
    resident()
    own = services.submit_report(acting_user=county_admin, period=OCTOBER, today=TODAY)
    with pytest.raises(PermissionDenied):
        services.approve_report(acting_user=county_admin, report=own)


def test_only_the_office_above_approves(submitted, county_b_admin, township_b):
    with pytest.raises(PermissionDenied):
        services.approve_report(acting_user=county_b_admin, report=submitted)  # another county
    with pytest.raises(PermissionDenied):
        services.approve_report(acting_user=township_b, report=submitted)  # no such role
    assert MonthlyReport.objects.get().status == ReportStatus.SUBMITTED


def test_a_decision_on_a_stale_page_is_refused(submitted, county_admin):
    services.approve_report(acting_user=county_admin, report=submitted)
    with pytest.raises(StaleWrite):
        services.reopen_report(
            acting_user=county_admin, report=submitted, reason="x", version=submitted.version
        )


def test_approving_twice_is_refused(submitted, county_admin):
    services.approve_report(acting_user=county_admin, report=submitted)
    with pytest.raises(ValidationError, match="cannot be"):
        services.approve_report(acting_user=county_admin, report=submitted)
