"""Association branch, member and activity imports and their export rows. Changes go
through ``associations.services``; must not touch the other sub-domains.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from liudong.actors import Actor
from liudong.people import idnumbers
from liudong.services.associations import services as association_services
from liudong.services.models import (
    AssociationActivity,
    AssociationBranch,
    Membership,
)
from liudong.services.spreadsheets import (
    Sheet,
    SheetTarget,
    day_cell,
    find_person,
    parse_date,
    parse_optional_count,
    parse_optional_date,
    parse_region,
    parse_role,
    parse_text,
    run_rows,
    save_row,
    write_logged,
)
from liudong.tabular import ImportSummary, read_table

MEMBER_COLUMNS = {
    "id_number": ("公民身份号码", "身份证号码", "身份证号"),
    "role": ("角色",),
    "joined_on": ("入会日期",),
}
MEMBER_REQUIRED = ("id_number", "joined_on")


def import_members(
    path: Path, *, branch: AssociationBranch, acting_user: Actor, commit: bool = True
) -> ImportSummary:
    """Members of ``branch`` from a file (公民身份号码, 角色, 入会日期). A person already an
    open member is updated when role or date differ, else left unchanged, so importing
    the same file twice changes nothing the second time. Raises ``TableError`` when the
    file as a whole cannot be read."""
    rows = read_table(path, MEMBER_COLUMNS, MEMBER_REQUIRED)

    def one_row(values: dict) -> str:
        person = find_person(acting_user, values["id_number"])
        return save_row(
            Membership.objects.filter(branch=branch, person=person, left_on__isnull=True).first(),
            {
                "joined_on": parse_date(values["joined_on"], "joined_on"),
                "role": parse_role(values["role"]),
            },
            acting_user=acting_user,
            create=partial(association_services.create_membership, branch=branch, person=person),
            update=(association_services.update_membership, "membership"),
        )

    return run_rows(rows, one_row, commit=commit, denied_field="id_number")


MEMBER_HEADER = ["公民身份号码", "姓名", "角色", "入会日期", "退会日期"]


def write_members(branch: AssociationBranch, target: SheetTarget, *, acting_user: Actor) -> int:
    """The branch's members (past ones too) as xlsx, ID numbers masked; logged."""
    memberships = branch.memberships.select_related("person").order_by("left_on", "joined_on")
    rows = (
        [
            idnumbers.mask(m.person.id_number),
            m.person.name,
            str(m.get_role_display()),
            day_cell(m.joined_on),
            day_cell(m.left_on),
        ]
        for m in memberships
    )
    return write_logged(
        target,
        MEMBER_HEADER,
        rows,
        sheet_title="协会会员",
        acting_user=acting_user,
        region=branch.region_id,
        what="association members",
        obj=branch,
    )


BRANCH_COLUMNS = {
    "name": ("名称", "协会名称"),
    "region": ("区划代码", "行政区划代码"),
    "place": ("地点", "所在地点"),
    "founded_on": ("成立日期",),
}
BRANCH_HEADER = [names[0] for names in BRANCH_COLUMNS.values()]


def import_branches(path: Path, *, acting_user: Actor, commit: bool = True) -> ImportSummary:
    """Association branches from a file (名称, 区划代码, 地点, 成立日期) through
    ``create_branch`` and ``update_branch``: a branch of that name in that region is
    updated or left unchanged, else created (in the caller's region)."""
    rows = read_table(path, BRANCH_COLUMNS, ("name", "region"))
    branches = AssociationBranch.objects.in_scope(acting_user)

    def one_row(values: dict) -> str:
        key: dict[str, Any] = {
            "name": parse_text(values["name"]) or "",
            "region": parse_region(values["region"]),
        }
        return save_row(
            branches.filter(**key).first(),
            {
                "place": parse_text(values["place"]),
                "founded_on": parse_optional_date(values["founded_on"], "founded_on"),
            },
            acting_user=acting_user,
            create=partial(association_services.create_branch, **key),
            update=(association_services.update_branch, "branch"),
        )

    return run_rows(rows, one_row, commit=commit, denied_field="region")


def branch_rows(branches: Iterable[AssociationBranch]) -> Iterable[list]:
    for branch in branches:
        yield [branch.name, branch.region_id, branch.place, day_cell(branch.founded_on)]


ASSOCIATION_ACTIVITY_COLUMNS = {
    "date": ("日期", "活动日期"),
    "title": ("主题", "活动主题", "标题"),
    "participants_count": ("参加人数",),
    "notes": ("备注",),
}
ASSOCIATION_ACTIVITY_HEADER = [names[0] for names in ASSOCIATION_ACTIVITY_COLUMNS.values()]


def import_association_activities(
    path: Path, *, branch: AssociationBranch, acting_user: Actor, commit: bool = True
) -> ImportSummary:
    """Activities of ``branch`` from a file (日期, 主题, 参加人数, 备注) through
    ``create_association_activity`` and ``update_association_activity``: an activity of
    that date and title is updated or left unchanged, else created."""
    rows = read_table(path, ASSOCIATION_ACTIVITY_COLUMNS, ("date", "title"), free_text=("notes",))

    def one_row(values: dict) -> str:
        key: dict[str, Any] = {
            "date": parse_date(values["date"], "date"),
            "title": parse_text(values["title"]) or "",
        }
        return save_row(
            branch.activities.filter(**key).first(),
            {
                "participants_count": parse_optional_count(
                    values["participants_count"], "participants_count"
                ),
                "notes": parse_text(values["notes"]),
            },
            acting_user=acting_user,
            create=partial(association_services.create_association_activity, branch=branch, **key),
            update=(association_services.update_association_activity, "activity"),
        )

    return run_rows(rows, one_row, commit=commit, denied_field="branch")


def association_activity_rows(activities: Iterable[AssociationActivity]) -> Iterable[list]:
    for activity in activities:
        yield [day_cell(activity.date), activity.title, activity.participants_count, activity.notes]


BRANCH_SHEET = Sheet(
    BRANCH_HEADER, branch_rows, "计生协会", "association branches", AssociationBranch
)
ASSOCIATION_ACTIVITY_SHEET = Sheet(
    ASSOCIATION_ACTIVITY_HEADER,
    association_activity_rows,
    "协会活动",
    "association activities",
    AssociationActivity,
)
