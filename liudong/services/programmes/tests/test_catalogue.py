"""The programme catalogue: the province's bureau sets rules, adds programmes and sets each
year's amounts; a county or township reads them and changes nothing."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from conftest import make_user
from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.services.programmes import catalogue
from liudong.services.programmes.eligibility import judge
from liudong.services.programmes.models import Programme, ProgrammeAmount
from liudong.services.programmes.tests.test_rules import reward_family

pytestmark = pytest.mark.django_db


@pytest.fixture
def province(villages):
    """The bureau of 浙江省 (33): a county-role account over the province."""
    return make_user("province", "county", "33")


def reward():
    return Programme.objects.get(code="reward")


def test_the_province_sets_an_amount_and_a_second_call_replaces_it(province):
    catalogue.set_amount(
        acting_user=province,
        programme=reward(),
        year=2026,
        province="33",
        yuan_per_year=Decimal(960),
    )
    catalogue.set_amount(
        acting_user=province,
        programme=reward(),
        year=2026,
        province="33",
        yuan_per_year=Decimal("1080.50"),
        schedule="monthly",
    )
    amount = ProgrammeAmount.objects.get()
    assert (amount.yuan_per_year, amount.schedule) == (Decimal("1080.50"), "monthly")
    changes = AuditEntry.objects.filter(object_type="programmes.programmeamount")
    assert [entry.action for entry in changes.order_by("seq")] == ["create", "update"]


def test_a_county_sets_no_amount_and_a_province_none_of_another(province, county_admin):
    with pytest.raises(PermissionDenied):
        catalogue.set_amount(
            acting_user=county_admin,
            programme=reward(),
            year=2026,
            province="33",
            yuan_per_year=Decimal(960),
        )
    with pytest.raises(PermissionDenied):
        catalogue.set_amount(
            acting_user=province,
            programme=reward(),
            year=2026,
            province="41",
            yuan_per_year=Decimal(960),
        )
    assert not ProgrammeAmount.objects.exists()


def test_an_amount_of_nothing_is_refused(province):
    with pytest.raises(ValidationError):
        catalogue.set_amount(
            acting_user=province,
            programme=reward(),
            year=2026,
            province="33",
            yuan_per_year=Decimal(0),
        )


def test_changed_rules_are_judged_at_once():
    """A province raises the reward programme's age to 65: the same family no longer
    qualifies, with no release."""
    rules = [dict(rule) for rule in reward().rules]
    age = next(rule for rule in rules if rule["rule"] == "reaches_age")
    age["years"] = 65
    on = datetime.date(2026, 6, 30)
    assert "reward" in judge(reward_family(), on).programmes
    catalogue.save_rules(acting_user=OPERATOR, programme=reward(), rules=rules)
    verdict = judge(reward_family(), on)
    assert "reward" not in verdict.programmes
    assert "65" in verdict.not_["reward"]


def test_bad_rules_are_refused_and_nothing_changes():
    before = reward().rules
    with pytest.raises(ValidationError):
        catalogue.save_rules(
            acting_user=OPERATOR, programme=reward(), rules=[{"rule": "reaches_age", "who": "x"}]
        )
    assert reward().rules == before


def test_the_pages(province, county_admin, township_a, client_for):
    page = client_for(township_a).get(reverse("programmes:catalogue"))
    assert page.status_code == 200
    assert "reward" in page.context["programmes"][0][0].code
    assert not page.context["may_set"]
    # Rules in words, one line per rule.
    assert len(page.context["programmes"][0][1]) == len(reward().rules)

    county = client_for(county_admin)
    assert county.get(reverse("programmes:catalogue_rules", args=["reward"])).status_code == 403
    assert county.get(reverse("programmes:catalogue_amount", args=["reward"])).status_code == 403

    bureau = client_for(province)
    bad = bureau.post(reverse("programmes:catalogue_rules", args=["reward"]), {"rules": "[{"})
    assert bad.status_code == 200 and bad.context["form"].errors
    wrong = bureau.post(
        reverse("programmes:catalogue_rules", args=["reward"]),
        {"rules": json.dumps([{"rule": "favourite_colour"}])},
    )
    assert wrong.status_code == 200 and wrong.context["form"].errors
    saved = bureau.post(
        reverse("programmes:catalogue_amount", args=["reward"]),
        {"year": "2026", "yuan_per_year": "960", "schedule": "yearly", "example": "on"},
    )
    assert saved.status_code == 302
    amount = ProgrammeAmount.objects.get()
    assert (amount.province, amount.example) == ("33", True)
    added = bureau.post(
        reverse("programmes:catalogue_new"),
        {
            "code": "zj_elderly",
            "name": "浙江省扶助",
            "rules": json.dumps([{"rule": "reaches_age", "who": "applicant", "years": 70}]),
        },
    )
    assert added.status_code == 302
    assert Programme.objects.get(code="zj_elderly").group == "zj_elderly"
    listed = bureau.get(reverse("programmes:catalogue"))
    reward_amounts = next(row[2] for row in listed.context["programmes"] if row[0].code == "reward")
    assert [(a.year, name) for a, name in reward_amounts] == [(2026, "浙江省")]
