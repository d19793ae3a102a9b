"""Business rules for association branches, their memberships and their activities. Each
change is one transaction with its audit entry; refusals name the field and the rule.
Must not touch campaigns, help requests or service records.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from liudong.actors import Actor
from liudong.audit.models import Action
from liudong.people.models import Person
from liudong.services.common import (
    authorize_recording,
    check_choice,
    check_past,
    check_person_in_scope,
    not_negative,
    record_change,
    save_new_or_versioned,
    set_fields,
    snapshot,
)
from liudong.services.models import (
    AssociationActivity,
    AssociationBranch,
    MemberRole,
    Membership,
)

BRANCH_FIELDS = ("name", "region", "place", "founded_on")
MEMBERSHIP_FIELDS = ("joined_on", "role", "left_on")
ASSOCIATION_ACTIVITY_FIELDS = ("date", "title", "participants_count", "notes")


# --- associations --------------------------------------------------------------------------


def _check_branch(branch: AssociationBranch) -> None:
    if not (branch.name or "").strip():
        raise ValidationError({"name": _("name: a branch needs a name.")})
    if branch.region_id is None:
        raise ValidationError({"region": _("region is required.")})
    check_past(branch.founded_on, "founded_on")


@transaction.atomic
def create_branch(*, acting_user: Actor, **values: Any) -> AssociationBranch:
    set_fields(branch := AssociationBranch(), BRANCH_FIELDS, values)
    _check_branch(branch)
    authorize_recording(acting_user, branch.region_id)
    branch.save()
    record_change(
        Action.CREATE,
        acting_user=acting_user,
        obj=branch,
        region=branch.region_id,
        after=snapshot(branch, BRANCH_FIELDS),
    )
    return branch


@transaction.atomic
def update_branch(
    *,
    acting_user: Actor,
    branch: AssociationBranch,
    expected_version: int | None = None,
    **changes: Any,
) -> AssociationBranch:
    authorize_recording(acting_user, branch.region_id)
    before = snapshot(branch, BRANCH_FIELDS)
    set_fields(branch, BRANCH_FIELDS, changes)
    _check_branch(branch)
    authorize_recording(acting_user, branch.region_id)
    save_new_or_versioned(branch, expected_version)
    record_change(
        Action.UPDATE,
        acting_user=acting_user,
        obj=branch,
        region=branch.region_id,
        before=before,
        after=snapshot(branch, BRANCH_FIELDS),
    )
    return branch


def _check_membership(membership: Membership) -> None:
    check_choice(membership.role, MemberRole, "role")
    if membership.joined_on is None:
        raise ValidationError({"joined_on": _("joined_on is required.")})
    check_past(membership.joined_on, "joined_on")
    if membership.joined_on < membership.person.birth_date:
        raise ValidationError(
            {"joined_on": _("joined_on: the date is before the person's birth date.")}
        )
    if membership.left_on is not None:
        check_past(membership.left_on, "left_on")
        if membership.left_on < membership.joined_on:
            raise ValidationError(
                {
                    "left_on": _("left_on: the date %(day)s is before joining.")
                    % {"day": membership.left_on}
                }
            )
    if membership.left_on is None:
        other = (
            Membership.objects.filter(
                branch_id=membership.branch_id, person_id=membership.person_id, left_on__isnull=True
            )
            .exclude(pk=membership.pk)
            .first()
        )
        if other is not None:
            raise ValidationError(
                {
                    "person": _("person: already a member of this branch since %(day)s.")
                    % {"day": other.joined_on}
                }
            )


@transaction.atomic
def create_membership(
    *,
    acting_user: Actor,
    branch: AssociationBranch,
    person: Person,
    joined_on: datetime.date,
    role: str = MemberRole.MEMBER,
    left_on: datetime.date | None = None,
) -> Membership:
    """She joins a branch in the caller's region; her file must be in the caller's scope."""
    authorize_recording(acting_user, branch.region_id, "branch")
    check_person_in_scope(acting_user, person)
    membership = Membership(
        branch=branch, person=person, joined_on=joined_on, role=role, left_on=left_on
    )
    _check_membership(membership)
    membership.save()
    record_change(
        Action.CREATE,
        acting_user=acting_user,
        obj=membership,
        region=branch.region_id,
        after=snapshot(membership, (*MEMBERSHIP_FIELDS, "branch", "person")),
    )
    return membership


@transaction.atomic
def update_membership(
    *,
    acting_user: Actor,
    membership: Membership,
    expected_version: int | None = None,
    **changes: Any,
) -> Membership:
    """Change her role, or record that she left (``left_on``)."""
    authorize_recording(acting_user, membership.branch.region_id, "branch")
    before = snapshot(membership, (*MEMBERSHIP_FIELDS, "branch", "person"))
    set_fields(membership, MEMBERSHIP_FIELDS, changes)
    _check_membership(membership)
    save_new_or_versioned(membership, expected_version)
    record_change(
        Action.UPDATE,
        acting_user=acting_user,
        obj=membership,
        region=membership.branch.region_id,
        before=before,
        after=snapshot(membership, (*MEMBERSHIP_FIELDS, "branch", "person")),
    )
    return membership


def _check_association_activity(activity: AssociationActivity) -> None:
    if activity.date is None:
        raise ValidationError({"date": _("date is required.")})
    if not (activity.title or "").strip():
        raise ValidationError({"title": _("title: an activity needs a title.")})
    branch = activity.branch
    if branch.founded_on and activity.date < branch.founded_on:
        raise ValidationError(
            {
                "date": _("date: %(day)s is before the branch was founded (%(founded)s).")
                % {"day": activity.date, "founded": branch.founded_on}
            }
        )
    not_negative(activity, ("participants_count",))


@transaction.atomic
def create_association_activity(
    *, acting_user: Actor, branch: AssociationBranch, **values: Any
) -> AssociationActivity:
    authorize_recording(acting_user, branch.region_id, "branch")
    set_fields(activity := AssociationActivity(branch=branch), ASSOCIATION_ACTIVITY_FIELDS, values)
    _check_association_activity(activity)
    activity.save()
    record_change(
        Action.CREATE,
        acting_user=acting_user,
        obj=activity,
        region=branch.region_id,
        after=snapshot(activity, (*ASSOCIATION_ACTIVITY_FIELDS, "branch")),
    )
    return activity


@transaction.atomic
def update_association_activity(
    *,
    acting_user: Actor,
    activity: AssociationActivity,
    expected_version: int | None = None,
    **changes: Any,
) -> AssociationActivity:
    authorize_recording(acting_user, activity.branch.region_id, "branch")
    before = snapshot(activity, (*ASSOCIATION_ACTIVITY_FIELDS, "branch"))
    set_fields(activity, ASSOCIATION_ACTIVITY_FIELDS, changes)
    _check_association_activity(activity)
    save_new_or_versioned(activity, expected_version)
    record_change(
        Action.UPDATE,
        acting_user=acting_user,
        obj=activity,
        region=activity.branch.region_id,
        before=before,
        after=snapshot(activity, (*ASSOCIATION_ACTIVITY_FIELDS, "branch")),
    )
    return activity


@transaction.atomic
def delete_association_activity(*, acting_user: Actor, activity: AssociationActivity) -> None:
    authorize_recording(acting_user, activity.branch.region_id, "branch")
    before = snapshot(activity, (*ASSOCIATION_ACTIVITY_FIELDS, "branch"))
    record_change(
        Action.DELETE,
        acting_user=acting_user,
        obj=activity,
        region=activity.branch.region_id,
        before=before,
    )
    activity.delete()
