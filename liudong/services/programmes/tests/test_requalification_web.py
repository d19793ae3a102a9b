"""The re-qualification pages: the township's worklist and a re-qualification's forms
(confirm, end, a new child), the county's round (open, progress, close after the deadline)
and the end of a benefit from its own form. What the pages save or refuse is asserted in
the database; the rules themselves are test_requalification.py's."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from liudong.regions.models import Region
from liudong.services.programmes import requalification as rq
from liudong.services.programmes.eligibility import facts_of, judge
from liudong.services.programmes.models import (
    Benefit,
    FamilyChild,
    Requalification,
    RequalificationRound,
)
from liudong.services.programmes.tests import factories

D = datetime.date
pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    return timezone.localdate()


def opened(county_admin, *, deadline_in_days: int = 30) -> RequalificationRound:
    return rq.open_round(
        acting_user=county_admin,
        county=Region.objects.get(code="330106"),
        year=2026,
        deadline=today() + datetime.timedelta(days=deadline_in_days),
        today=today() - datetime.timedelta(days=60),
    )


def test_the_township_confirms_from_its_worklist(county_admin, township_a, client_for):
    benefit = factories.benefit()
    opened(county_admin)
    item = Requalification.objects.get(benefit=benefit)
    web = client_for(township_a)

    page = web.get(reverse("requalification:list")).content.decode()
    assert reverse("requalification:detail", args=[item.pk]) in page
    assert benefit.id_number not in page  # masked in the list

    response = web.post(
        reverse("requalification:detail", args=[item.pk]),
        {"action": "confirm", "confirm-on": today().isoformat(), "confirm-version": item.version},
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.outcome, item.decided_by) == ("confirmed", township_a)
    page = web.get(reverse("requalification:list")).content.decode()
    assert reverse("requalification:detail", args=[item.pk]) not in page


def test_a_confirmation_of_one_no_longer_eligible_shows_the_rule(
    county_admin, township_a, client_for
):
    benefit = factories.benefit()
    opened(county_admin)
    FamilyChild.objects.create(family=benefit.family, sex="1", birth_date=D(2001, 1, 1))
    item = Requalification.objects.get(benefit=benefit)
    web = client_for(township_a)

    response = web.post(
        reverse("requalification:detail", args=[item.pk]),
        {"action": "confirm", "confirm-on": today().isoformat(), "confirm-version": item.version},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    rule = judge(facts_of(benefit.family, benefit.id_number), today()).not_["reward"]
    assert rule in response.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    item.refresh_from_db()
    assert item.outcome == "pending"


def test_another_township_does_not_find_the_requalification(county_admin, township_b, client_for):
    benefit = factories.benefit()
    opened(county_admin)
    item = Requalification.objects.get(benefit=benefit)
    response = client_for(township_b).post(
        reverse("requalification:detail", args=[item.pk]),
        {"action": "confirm", "confirm-on": today().isoformat()},
    )
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.outcome == "pending"


def test_a_death_recorded_on_the_requalification_ends_the_benefit(
    county_admin, township_a, client_for
):
    benefit = factories.benefit()
    opened(county_admin)
    item = Requalification.objects.get(benefit=benefit)
    died = today() - datetime.timedelta(days=3)

    response = client_for(township_a).post(
        reverse("requalification:detail", args=[item.pk]),
        {"action": "end", "end-cause": "death", "end-on": died.isoformat(), "end-note": ""},
    )

    assert response.status_code == 302
    benefit.refresh_from_db()
    assert (benefit.status, benefit.ends_on) == ("ended", rq.last_day_of_month(died))
    assert Requalification.objects.get(pk=item.pk).outcome == "ended"


def test_a_new_child_recorded_at_requalification_ends_the_special_assistance(
    county_admin, township_a, client_for
):
    special = factories.benefit(factories.family(kind="special"), programme="special_death")
    opened(county_admin)
    item = Requalification.objects.get(benefit=special)
    born = today() - datetime.timedelta(days=10)

    response = client_for(township_a).post(
        reverse("requalification:detail", args=[item.pk]),
        {"action": "child", "child-sex": "2", "child-birth_date": born.isoformat()},
    )

    assert response.status_code == 302
    assert special.family.children.filter(birth_date=born).exists()
    special.refresh_from_db()
    assert special.status == "ended"


def test_the_benefit_end_form_ends_it_with_the_reason(township_a, client_for):
    benefit = factories.benefit()
    moved = today() - datetime.timedelta(days=1)
    response = client_for(township_a).post(
        reverse("requalification:benefit_end", args=[benefit.pk]),
        {
            "cause": "household_moved",
            "on": moved.isoformat(),
            "note": "迁往河南省淅川县",
            "version": benefit.version,
        },
    )
    assert response.status_code == 302
    benefit.refresh_from_db()
    assert benefit.status == "ended"
    assert benefit.status_reason.endswith("迁往河南省淅川县")
    assert benefit.ends_on == rq.last_day_of_month(moved)


def test_the_county_opens_a_round_from_its_page(county_admin, client_for):
    factories.benefit()
    deadline = today() + datetime.timedelta(days=90)
    response = client_for(county_admin).post(
        reverse("requalification:round_open"),
        {"county": "330106", "year": today().year, "deadline": deadline.isoformat()},
    )
    made = RequalificationRound.objects.get()
    assert response.status_code == 302
    assert (made.region_id, made.deadline, made.opened_by) == ("330106", deadline, county_admin)
    assert made.requalifications.count() == 1


def test_a_township_may_not_open_a_round(township_a, client_for):
    response = client_for(township_a).get(reverse("requalification:round_open"))
    assert response.status_code == 403


def test_the_close_button_shows_after_the_deadline_and_suspends(county_admin, client_for):
    benefit = factories.benefit()
    web = client_for(county_admin)
    early = opened(county_admin, deadline_in_days=0)  # the deadline is today
    page = web.get(reverse("requalification:round", args=[early.pk])).content.decode()
    assert 'data-testid="close-round"' not in page
    assert 'data-testid="progress-330106002"' in page
    web.post(reverse("requalification:round_close", args=[early.pk]))
    benefit.refresh_from_db()
    assert benefit.status == "active"  # refused before the deadline has passed

    RequalificationRound.objects.filter(pk=early.pk).update(
        deadline=today() - datetime.timedelta(days=1)
    )
    page = web.get(reverse("requalification:round", args=[early.pk])).content.decode()
    assert 'data-testid="close-round"' in page
    web.post(reverse("requalification:round_close", args=[early.pk]))

    benefit.refresh_from_db()
    assert benefit.status == "suspended"
    assert Benefit.objects.filter(pk=benefit.pk).exists()
