"""Families, applications, the village's notice, review, approval and appeal: the rules
of ``programmes.services``, each refused case with what was (not) saved."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import make_user
from liudong.audit.models import AuditEntry
from liudong.base import StaleWrite
from liudong.regions.models import Region
from liudong.services.programmes import eligibility, services
from liudong.services.programmes.models import Application, Benefit, FamilyChild, Programme

from .conftest import VILLAGE_A1, D, id_number, make_family

pytestmark = pytest.mark.django_db
Status = Application.Status
POSTED, ENDS = D(2026, 11, 1), D(2026, 11, 8)


@pytest.fixture
def county_b_staff(villages):
    """A second account of county 330106's bureau: the one who did not review."""
    return make_user("county_admin2", "county", "330106")


def applied(family, township, programme, **kwargs):
    return services.apply(
        acting_user=township,
        family=family,
        programme=programme,
        id_number=kwargs.pop("id_number", family.applicant_id_number),
        applied_on=kwargs.pop("applied_on", D(2026, 10, 30)),
        bank_card=kwargs.pop("bank_card", "6217 0000 1111 2222"),
    )


def on_notice(application, township):
    services.post_notice(
        acting_user=township,
        village=Region.objects.get(code=VILLAGE_A1),
        posted_on=POSTED,
        ends_on=ENDS,
    )
    application.refresh_from_db()
    return application


def reviewed(application, reviewer):
    on_notice(application, reviewer)
    return services.review(acting_user=reviewer, application=application, passed=True)


# --- families ------------------------------------------------------------------------------


def test_a_family_is_created_audited_and_viewed_audited(family, township_a):
    assert family.children.count() == 1 and family.births_certified
    assert family.births_certified_by == township_a
    created = AuditEntry.objects.get(action="create", object_type="programmes.family")
    assert created.actor == township_a and created.region == VILLAGE_A1
    services.view_family(acting_user=township_a, family=family, via="web")
    assert AuditEntry.objects.filter(action="view", object_id=str(family.pk)).count() == 1


def test_a_family_outside_the_callers_region_is_refused(township_b, villages):
    with pytest.raises(PermissionDenied):
        make_family(township_b)
    assert not AuditEntry.objects.filter(object_type="programmes.family").exists()


def test_one_family_per_applicant_and_the_spouse_is_not_the_applicant(family, township_a):
    with pytest.raises(ValidationError) as refused:
        services.create_family(
            acting_user=township_a,
            applicant_name="另一人",
            applicant_id_number=family.applicant_id_number,
            household_type="agricultural",
            household_region=family.household_region,
        )
    assert "applicant_id_number" in refused.value.message_dict
    me = id_number(D(1961, 1, 1), "1")
    with pytest.raises(ValidationError) as refused:
        services.create_family(
            acting_user=township_a,
            applicant_name="张三",
            applicant_id_number=me,
            spouse_name="张三",
            spouse_id_number=me,
            household_type="agricultural",
            household_region=family.household_region,
        )
    assert "spouse_id_number" in refused.value.message_dict


def test_a_stale_edit_of_a_family_is_refused(family, township_a):
    seen = family.version
    services.update_family(
        acting_user=township_a, family=family, expected_version=seen, household_address="新址"
    )
    with pytest.raises(StaleWrite):
        services.update_family(
            acting_user=township_a, family=family, expected_version=seen, household_address="旧址"
        )
    family.refresh_from_db()
    assert family.household_address == "新址"


@pytest.mark.parametrize(
    ("child", "field"),
    [
        ({"state": "dead", "death_date": D(1989, 1, 1)}, "death_date"),  # before the birth
        ({"state": "living", "death_date": D(2000, 1, 1)}, "death_date"),
        ({"state": "disabled", "disability_grade": 5}, "disability_grade"),
        ({"state": "disabled", "disability_grade": 0}, "disability_grade"),
        ({"state": "living", "disability_grade": 2}, "disability_grade"),
        ({"birth_date": D(1959, 12, 31)}, "birth_date"),  # before the father was born
        ({"birth_date": D(2099, 1, 1)}, "birth_date"),
    ],
)
def test_a_wrong_child_is_refused_naming_the_field(family, township_a, child, field):
    values = {"sex": "1", "birth_date": D(1990, 1, 1), **child}
    with pytest.raises(ValidationError) as refused:
        services.add_child(acting_user=township_a, family=family, **values)
    assert field in refused.value.message_dict
    assert family.children.count() == 1


def test_a_death_date_before_the_birth_date_says_so(family, township_a):
    child = family.children.get()
    with pytest.raises(ValidationError) as refused:
        services.update_child(
            acting_user=township_a, child=child, state="dead", death_date=D(1980, 1, 1)
        )
    assert "before the birth date 1990-03-01" in refused.value.message_dict["death_date"][0]
    assert FamilyChild.objects.get(pk=child.pk).state == "living"


def test_a_disabled_child_with_grade_1_to_4_is_kept_and_the_family_version_moves(
    family, township_a
):
    version = family.version
    services.add_child(
        acting_user=township_a,
        family=family,
        sex="2",
        birth_date=D(1992, 1, 1),
        state="disabled",
        disability_grade=4,
        expected_version=version,
    )
    family.refresh_from_db()
    assert family.version == version + 1
    with pytest.raises(StaleWrite):
        services.add_child(
            acting_user=township_a,
            family=family,
            sex="2",
            birth_date=D(1993, 1, 1),
            expected_version=version,
        )
    assert family.children.count() == 2


# --- applying ------------------------------------------------------------------------------


def test_she_applies_when_she_qualifies(family, township_a, reward):
    application = applied(family, township_a, reward)
    assert application.status == Status.APPLIED
    assert application.name == "王建国" and application.bank_card == "6217000011112222"
    entry = AuditEntry.objects.get(action="create", object_type="programmes.application")
    assert entry.actor == township_a


def test_she_is_refused_with_the_first_rule_judge_gives(township_a, reward):
    family = make_family(township_a, certified=False)
    expected = eligibility.judge(eligibility.facts_of(family), D(2026, 10, 30)).not_["reward"]
    with pytest.raises(ValidationError) as refused:
        applied(family, township_a, reward)
    assert expected in refused.value.message_dict["programme"][0]
    assert not Application.objects.exists()


def test_the_one_applying_is_the_applicant_or_the_spouse(family, township_a, reward):
    with pytest.raises(ValidationError) as refused:
        applied(family, township_a, reward, id_number=id_number(D(1960, 1, 1), "1"))
    assert "id_number" in refused.value.message_dict


def test_the_same_person_applying_twice_for_one_programme_is_refused(family, township_a, reward):
    first = applied(family, township_a, reward)
    with pytest.raises(ValidationError) as refused:
        applied(family, township_a, reward)
    assert "one application per person and programme" in refused.value.message_dict["programme"][0]
    assert Application.objects.count() == 1
    # Her spouse applies on her own; and once she withdraws she may apply again.
    applied(family, township_a, reward, id_number=family.spouse_id_number)
    services.withdraw(acting_user=township_a, application=first)
    applied(family, township_a, reward)
    assert Application.objects.filter(id_number=family.applicant_id_number).count() == 2


def test_a_second_programme_of_a_group_is_refused_while_she_holds_one(township_a):
    # Her only child died: special_death; a benefit of the special group held already.
    family = make_family(
        township_a, children=(), mother=D(1970, 1, 1), household_type="resident_urban"
    )
    services.add_child(
        acting_user=township_a,
        family=family,
        sex="1",
        birth_date=D(1995, 1, 1),
        state="dead",
        death_date=D(2020, 1, 1),
    )
    special = Programme.objects.get(code="special_death")
    other = Programme.objects.create(
        code="special_local",
        name="地方特扶",
        group="special",
        rules=[{"rule": "children", "state": "dead", "min": 1}],
    )
    held = applied(family, township_a, special, id_number=family.spouse_id_number)
    Benefit.objects.create(
        application=held,
        family=family,
        programme=special,
        id_number=held.id_number,
        name=held.name,
        starts_on=D(2026, 12, 1),
    )
    with pytest.raises(ValidationError) as refused:
        applied(family, township_a, other, id_number=family.spouse_id_number)
    assert "one programme of this kind at a time" in refused.value.message_dict["programme"][0]
    # Another group is not held: the applicant's own reward-group application goes on.
    local_reward = Programme.objects.create(
        code="reward_local",
        name="地方奖扶",
        group="reward",
        rules=[{"rule": "children", "state": "dead", "min": 1}],
    )
    applied(family, township_a, local_reward, id_number=family.spouse_id_number)


# --- notice, review, approval --------------------------------------------------------------


def test_a_notice_of_six_days_is_refused_and_seven_posts(family, township_a, reward):
    application = applied(family, township_a, reward)
    village = Region.objects.get(code=VILLAGE_A1)
    with pytest.raises(ValidationError) as refused:
        services.post_notice(
            acting_user=township_a,
            village=village,
            posted_on=POSTED,
            ends_on=POSTED + datetime.timedelta(days=6),
        )
    assert "ends_on" in refused.value.message_dict
    application.refresh_from_db()
    assert application.status == Status.APPLIED and application.notice is None
    notice = services.post_notice(
        acting_user=township_a,
        village=village,
        posted_on=POSTED,
        ends_on=POSTED + datetime.timedelta(days=7),
    )
    application.refresh_from_db()
    assert application.status == Status.ON_NOTICE and application.notice == notice


def test_a_notice_lists_only_its_own_villages_applications(township_a, reward):
    mine = applied(make_family(township_a), township_a, reward)
    other = applied(make_family(township_a, village="330106002002"), township_a, reward)
    on_notice(mine, township_a)
    other.refresh_from_db()
    assert mine.status == Status.ON_NOTICE and other.status == Status.APPLIED


def test_review_before_the_notice_ended_is_refused(family, township_a, reward):
    application = on_notice(applied(family, township_a, reward), township_a)
    with pytest.raises(ValidationError):
        services.review(acting_user=township_a, application=application, passed=True, on=ENDS)
    application.refresh_from_db()
    assert application.status == Status.ON_NOTICE and application.reviewed_by is None
    services.review(
        acting_user=township_a,
        application=application,
        passed=True,
        on=ENDS + datetime.timedelta(days=1),
    )
    assert application.status == Status.REVIEWED and application.reviewed_by == township_a


def test_the_township_cannot_approve_what_it_reviewed(family, township_a, reward):
    application = reviewed(applied(family, township_a, reward), township_a)
    with pytest.raises(PermissionDenied):
        services.approve(acting_user=township_a, application=application)
    application.refresh_from_db()
    assert application.status == Status.REVIEWED and not Benefit.objects.exists()


def test_the_reviewer_never_approves_even_at_the_county(
    family, township_a, county_admin, county_b_staff, reward
):
    application = applied(family, township_a, reward)
    reviewed(application, county_admin)  # the county holds BENEFITS too
    with pytest.raises(PermissionDenied):
        services.approve(acting_user=county_admin, application=application)
    with pytest.raises(PermissionDenied):
        services.refuse(acting_user=county_admin, application=application, reason="不符合")
    assert not Benefit.objects.exists()
    benefit = services.approve(
        acting_user=county_b_staff, application=application, on=D(2026, 12, 7)
    )
    assert benefit.starts_on == D(2027, 1, 1)
    assert (benefit.id_number, benefit.name, benefit.bank_card) == (
        family.applicant_id_number,
        "王建国",
        "6217000011112222",
    )
    application.refresh_from_db()
    assert application.status == Status.APPROVED and application.decided_by == county_b_staff
    steps = AuditEntry.objects.filter(object_type="programmes.application", action="update")
    assert {(e.detail.get("step"), e.actor.username) for e in steps} == {
        ("notice", "county_admin"),
        ("review", "county_admin"),
        ("approval", "county_admin2"),
    }


def test_a_county_of_another_region_cannot_approve(family, township_a, county_b_admin, reward):
    application = reviewed(applied(family, township_a, reward), township_a)
    with pytest.raises(PermissionDenied):
        services.approve(acting_user=county_b_admin, application=application)


def test_refusal_without_a_reason_is_refused(family, township_a, county_admin, reward):
    application = on_notice(applied(family, township_a, reward), township_a)
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(ValidationError):
            services.review(
                acting_user=township_a, application=application, passed=False, reason=reason
            )
    application.refresh_from_db()
    assert application.status == Status.ON_NOTICE
    services.review(acting_user=township_a, application=application, passed=True)
    with pytest.raises(ValidationError):
        services.refuse(acting_user=county_admin, application=application, reason=" ")
    application.refresh_from_db()
    assert application.status == Status.REVIEWED


def test_an_appeal_is_heard_once_and_its_decision_is_final(
    family, township_a, county_admin, reward
):
    application = reviewed(applied(family, township_a, reward), township_a)
    services.refuse(acting_user=county_admin, application=application, reason="材料不全")
    with pytest.raises(ValidationError):
        services.appeal(acting_user=township_a, application=application, grounds="")
    services.appeal(acting_user=township_a, application=application, grounds="材料已补齐")
    assert application.status == Status.APPEALED
    services.decide_appeal(
        acting_user=county_admin, application=application, granted=False, reason="仍不符合"
    )
    assert application.status == Status.REFUSED and application.refusal_reason == "仍不符合"
    with pytest.raises(ValidationError) as refused:
        services.appeal(acting_user=township_a, application=application, grounds="再次申诉")
    assert "final" in str(refused.value)
    application.refresh_from_db()
    assert application.status == Status.REFUSED and application.appeal_reason == "材料已补齐"


def test_an_appeal_granted_starts_the_benefit(family, township_a, county_admin, reward):
    application = on_notice(applied(family, township_a, reward), township_a)
    services.review(acting_user=township_a, application=application, passed=False, reason="漏报")
    services.appeal(acting_user=township_a, application=application, grounds="复核无误")
    services.decide_appeal(
        acting_user=county_admin, application=application, granted=True, on=D(2026, 12, 1)
    )
    assert application.status == Status.APPROVED
    assert application.appeal_decided_by == county_admin
    assert Benefit.objects.get(application=application).starts_on == D(2027, 1, 1)


def test_she_withdraws_before_a_decision_not_after(family, township_a, county_admin, reward):
    application = reviewed(applied(family, township_a, reward), township_a)
    services.approve(acting_user=county_admin, application=application)
    with pytest.raises(ValidationError):
        services.withdraw(acting_user=township_a, application=application)
    assert Application.objects.get(pk=application.pk).status == Status.APPROVED
