"""The yearly re-qualification (issue 17 item 3): a round per county and year, the
township's confirmation judged by eligibility.judge, suspension at the deadline (not an
end) resumed by a later confirmation, and a benefit ended from the next payment by a death,
a new child or a household moved out. (Asking her residence: exchange/tests/test_living.py.)

Township A is 北山街道 (330106002) of 西湖区 (330106); township B 西溪街道 (330106004)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.audit.models import AuditEntry
from liudong.people.models import Person
from liudong.people.services import update_person
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
OPENED = D(2026, 3, 1)
DEADLINE = D(2026, 6, 30)

pytestmark = pytest.mark.django_db


def county() -> Region:
    return Region.objects.get(code="330106")


def open_2026(county_admin) -> RequalificationRound:
    return rq.open_round(
        acting_user=county_admin, county=county(), year=2026, deadline=DEADLINE, today=OPENED
    )


# --- rounds ---------------------------------------------------------------------------------


def test_opening_a_round_makes_one_pending_requalification_per_current_benefit(
    county_admin, villages
):
    active = factories.benefit()
    suspended = factories.benefit(status="suspended")
    factories.benefit(status="ended")
    factories.benefit(factories.family(village="330105001001"))  # another county

    opened = open_2026(county_admin)

    made = Requalification.objects.filter(round=opened)
    assert sorted(made.values_list("benefit_id", flat=True)) == sorted([active.pk, suspended.pk])
    assert set(made.values_list("outcome", flat=True)) == {"pending"}
    assert AuditEntry.objects.filter(
        object_type="programmes.requalificationround", object_id=str(opened.pk)
    ).exists()


def test_a_second_round_for_the_county_and_year_is_refused(county_admin, villages):
    open_2026(county_admin)
    with pytest.raises(ValidationError) as refused:
        rq.open_round(
            acting_user=county_admin, county=county(), year=2026, deadline=D(2026, 9, 30),
            today=OPENED,
        )  # fmt: skip
    assert refused.value.error_dict["year"][0].code == "duplicate"
    assert RequalificationRound.objects.count() == 1


def test_a_township_may_not_open_a_round(township_a):
    with pytest.raises(PermissionDenied):
        rq.open_round(
            acting_user=township_a, county=county(), year=2026, deadline=DEADLINE, today=OPENED
        )
    assert not RequalificationRound.objects.exists()


def test_a_deadline_not_after_today_is_refused(county_admin):
    with pytest.raises(ValidationError) as refused:
        rq.open_round(
            acting_user=county_admin, county=county(), year=2026, deadline=OPENED, today=OPENED
        )
    assert "deadline" in refused.value.error_dict


# --- confirming -----------------------------------------------------------------------------


def test_the_township_confirms_her_alive_and_eligible(county_admin, township_a):
    benefit = factories.benefit()
    open_2026(county_admin)
    item = Requalification.objects.get(benefit=benefit)

    rq.confirm(acting_user=township_a, requalification=item, on=D(2026, 4, 2))

    item.refresh_from_db()
    assert (item.outcome, item.decided_on, item.decided_by) == (
        "confirmed",
        D(2026, 4, 2),
        township_a,
    )


def test_a_township_outside_the_familys_region_may_not_confirm(county_admin, township_b):
    benefit = factories.benefit()
    open_2026(county_admin)
    item = Requalification.objects.get(benefit=benefit)

    with pytest.raises(PermissionDenied):
        rq.confirm(acting_user=township_b, requalification=item, on=D(2026, 4, 2))
    item.refresh_from_db()
    assert item.outcome == "pending"


def test_one_no_longer_eligible_is_refused_with_the_rules_message(county_admin, township_a):
    benefit = factories.benefit()
    open_2026(county_admin)
    # A second child, a boy: neither one living child nor two girls any more.
    FamilyChild.objects.create(family=benefit.family, sex="1", birth_date=D(2000, 2, 2))
    item = Requalification.objects.get(benefit=benefit)
    rule = judge(facts_of(benefit.family, benefit.id_number), D(2026, 4, 2)).not_["reward"]

    with pytest.raises(ValidationError) as refused:
        rq.confirm(acting_user=township_a, requalification=item, on=D(2026, 4, 2))

    assert refused.value.code == "not_eligible"
    assert rule in refused.value.messages[0]
    item.refresh_from_db()
    assert item.outcome == "pending"


# --- closing at the deadline ---------------------------------------------------------------


def test_closing_before_the_deadline_is_refused(county_admin):
    factories.benefit()
    opened = open_2026(county_admin)
    with pytest.raises(ValidationError) as refused:
        rq.close_round(opened, DEADLINE, acting_user=county_admin)
    assert refused.value.code == "before_deadline"
    assert set(Requalification.objects.values_list("outcome", flat=True)) == {"pending"}


def test_closing_suspends_only_the_pending_ones_and_twice_changes_nothing(county_admin, township_a):
    waiting, confirmed = factories.benefit(), factories.benefit()
    opened = open_2026(county_admin)
    rq.confirm(
        acting_user=township_a,
        requalification=Requalification.objects.get(benefit=confirmed),
        on=D(2026, 5, 5),
    )

    assert rq.close_round(opened, D(2026, 7, 1), acting_user=county_admin) == 1

    waiting.refresh_from_db()
    confirmed.refresh_from_db()
    assert (waiting.status, waiting.status_reason) == (
        "suspended",
        "not confirmed by the re-qualification deadline 2026-06-30",
    )
    assert waiting.ends_on is None  # suspended, not ended
    assert confirmed.status == "active"
    assert Requalification.objects.get(benefit=waiting).outcome == "suspended"
    opened.refresh_from_db()
    assert opened.closed_on == D(2026, 7, 1)

    entries = AuditEntry.objects.count()
    versions = sorted(Benefit.objects.values_list("pk", "version"))
    assert rq.close_round(opened, D(2026, 7, 9), acting_user=county_admin) == 0
    assert AuditEntry.objects.count() == entries
    assert sorted(Benefit.objects.values_list("pk", "version")) == versions
    opened.refresh_from_db()
    assert opened.closed_on == D(2026, 7, 1)


def test_the_worker_closes_the_rounds_past_their_deadline(county_admin):
    waiting = factories.benefit()
    open_2026(county_admin)

    assert rq.close_due_rounds(DEADLINE) == 0  # on the deadline day: still open
    assert rq.close_due_rounds(D(2026, 7, 1)) == 1

    waiting.refresh_from_db()
    assert waiting.status == "suspended"


def test_a_confirmation_after_the_suspension_resumes_the_benefit(county_admin, township_a):
    benefit = factories.benefit()
    opened = open_2026(county_admin)
    rq.close_round(opened, D(2026, 7, 1), acting_user=county_admin)

    rq.confirm(
        acting_user=township_a,
        requalification=Requalification.objects.get(benefit=benefit),
        on=D(2026, 7, 15),
    )

    benefit.refresh_from_db()
    assert (benefit.status, benefit.status_reason, benefit.ends_on) == ("active", "", None)
    # The suspension's reason is kept in the audit log.
    resumed = AuditEntry.objects.filter(
        object_type="programmes.benefit", object_id=str(benefit.pk)
    ).latest("seq")
    assert resumed.before["status_reason"].startswith("not confirmed by the re-qualification")
    assert resumed.after["status"] == "active"


# --- ending a benefit ------------------------------------------------------------------------


def test_a_death_ends_her_benefits_from_the_next_payment(county_admin, township_a):
    of = factories.family(kind="special")
    special = factories.benefit(of, programme="special_death")
    open_2026(county_admin)

    ended = rq.record_death(acting_user=township_a, benefit=special, died_on=D(2026, 4, 12))

    assert [b.pk for b in ended] == [special.pk]
    special.refresh_from_db()
    assert (special.status, special.ends_on, special.status_changed_on) == (
        "ended",
        D(2026, 4, 30),
        D(2026, 4, 12),
    )
    assert special.status_reason == "death of the beneficiary (2026-04-12)"
    item = Requalification.objects.get(benefit=special)
    assert (item.outcome, item.outcome_reason) == ("ended", special.status_reason)
    with pytest.raises(ValidationError) as twice:
        rq.end_benefit(acting_user=township_a, benefit=special, reason="again", on=D(2026, 5, 1))
    assert twice.value.code == "ended"


@pytest.mark.parametrize(("died", "paid_until"), [(D(2026, 2, 28), D(2026, 2, 28))])
def test_the_last_payment_is_the_end_of_the_month_of_the_event(township_a, died, paid_until):
    benefit = factories.benefit()
    rq.end_benefit(acting_user=township_a, benefit=benefit, reason="迁往外省", on=died)
    benefit.refresh_from_db()
    assert benefit.ends_on == paid_until


def test_a_new_child_ends_the_special_assistance(township_a):
    of = factories.family(kind="special")
    special = factories.benefit(of, programme="special_death")
    child = FamilyChild.objects.create(family=of, sex="2", birth_date=D(2026, 3, 3), adopted=True)

    ended = rq.child_added(acting_user=township_a, child=child)

    assert [b.pk for b in ended] == [special.pk]
    special.refresh_from_db()
    assert special.status == "ended"
    assert special.status_reason.startswith("a new child (2026-03-03): ")
    assert special.ends_on == D(2026, 3, 31)


def test_a_second_girl_keeps_the_reward(township_a):
    of = factories.family(kind="reward")
    of.children.update(sex="2")
    reward = factories.benefit(of)
    child = FamilyChild.objects.create(family=of, sex="2", birth_date=D(2010, 3, 3))

    assert rq.child_added(acting_user=township_a, child=child) == []
    reward.refresh_from_db()
    assert reward.status == "active"


def _her_file(benefit: Benefit) -> Person:
    return Person.objects.create(
        id_number=benefit.id_number,
        name=benefit.name,
        name_initials="wxy",
        sex="2",
        birth_date=D(1962, 5, 1),
        marital_status="20",
        household_region_id="330106002001",
    )


def test_her_household_moved_out_of_the_county_ends_her_benefit(county_admin):
    benefit = factories.benefit()
    her = _her_file(benefit)

    update_person(
        acting_user=county_admin,
        person=her,
        household_region=Region.objects.get(code="330106004001"),
    )
    benefit.refresh_from_db()
    assert benefit.status == "active"  # within the county: nothing ends

    update_person(
        acting_user=county_admin, person=her, household_region=Region.objects.get(code="411326")
    )

    benefit.refresh_from_db()
    assert benefit.status == "ended"
    assert benefit.status_reason.startswith("household registration moved out of the county")
    assert "411326" in benefit.status_reason
    assert Benefit.objects.filter(pk=benefit.pk).exists()  # kept, never deleted


# --- lists ------------------------------------------------------------------------------------


def test_the_worklist_and_the_progress_are_the_users_region(county_admin, township_a, township_b):
    mine = factories.benefit()
    theirs = factories.benefit(factories.family(village="330106004001"))
    opened = open_2026(county_admin)

    assert [i.benefit_id for i in rq.worklist(township_a)] == [mine.pk]
    assert [i.benefit_id for i in rq.worklist(township_b)] == [theirs.pk]
    counts = {p.township: (p.pending, p.total) for p in rq.progress(opened, county_admin)}
    assert counts == {"330106002": (1, 1), "330106004": (1, 1)}


def test_a_child_added_on_the_family_page_ends_the_special_assistance(township_a):
    """The family's own service (the page and the API use it) judges the benefits again:
    not only the re-qualification's form."""
    from liudong.services.programmes import services

    of = factories.family(kind="special")
    special = factories.benefit(of, programme="special_death")

    services.add_child(acting_user=township_a, family=of, sex="1", birth_date=D(2026, 3, 3))

    special.refresh_from_db()
    assert (special.status, special.ends_on) == ("ended", D(2026, 3, 31))


def test_a_disabled_child_recorded_dead_ends_the_disability_assistance(township_a):
    from liudong.services.programmes import services

    of = factories.family(kind="special")
    of.children.update(state="disabled", death_date=None, disability_grade=2)
    benefit = factories.benefit(of, programme="special_disability")
    child = of.children.get()

    services.update_child(
        acting_user=township_a,
        child=child,
        state="dead",
        death_date=D(2026, 1, 5),
        disability_grade=None,
    )

    benefit.refresh_from_db()
    assert benefit.status == "ended"
