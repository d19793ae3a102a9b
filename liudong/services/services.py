"""Business rules for campaigns and their activities (with their photos), association
branches, memberships and activities, help requests, and service records with their
follow-ups (and the counts the statistics take from them), and what of these a person's
file page shows. The API, the command line (and later the web pages and
importers) call these functions; each change is one transaction with its audit entry.

Refusals name the field and the rule: a ``ValidationError`` keyed by field for bad input,
``PermissionDenied`` for a record or person outside the caller's region. ``acting_user``
None is the server operator (command line), bound by no region.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from liudong import events
from liudong.accounts.roles import CHANGE_PEOPLE, RECORD_SERVICES, Role, can
from liudong.actors import Actor, Caller, account_of, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import allowed, authorize
from liudong.people.models import Person
from liudong.places.models import Site
from liudong.regions.codes import LEVEL_LENGTHS, subtree_q
from liudong.regions.models import Grid, Region

from .models import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    HELP_DEADLINE_DAYS,
    MAX_ACTIVITY_PHOTOS,
    OUTCOME_STATUSES,
    Activity,
    ActivityPhoto,
    AssociationActivity,
    AssociationBranch,
    Campaign,
    CampaignKind,
    ContraceptiveMethod,
    FollowUp,
    HelpCategory,
    HelpRequest,
    HelpStatus,
    MemberRole,
    Membership,
    ServiceRecord,
    ServiceType,
)

# Re-exported: the photo view and the services' callers name them from here.
from .photos import photo_folder, photo_path
from .photos import remove_photo_files as remove_photo_files
from .servicesheet import SERVICE_EXPORT_HEADERS as SERVICE_EXPORT_HEADERS
from .servicesheet import write_service_sheet

CAMPAIGN_FIELDS = ("name", "kind", "starts_on", "ends_on", "description")
ACTIVITY_FIELDS = (
    "date",
    "place",
    "region",
    "participants_count",
    "materials_count",
    "free_contraceptives_count",
    "notes",
)
COUNT_FIELDS = ("participants_count", "materials_count", "free_contraceptives_count")
BRANCH_FIELDS = ("name", "region", "place", "founded_on")
MEMBERSHIP_FIELDS = ("joined_on", "role", "left_on")
ASSOCIATION_ACTIVITY_FIELDS = ("date", "title", "participants_count", "notes")
HELP_FIELDS = (
    "category",
    "description",
    "received_on",
    "handler",
    "status",
    "deadline",
    "outcome",
    "resolved_on",
)


# --- shared checks -------------------------------------------------------------------------


# The caller may record here: a role that records services, and the region the record
# belongs to inside the caller's region: authorize(actor, RECORD_SERVICES, code,
# outside=OUTSIDE_FIELD, field=…), the message naming the field.
OUTSIDE_FIELD = gettext_lazy("%(field)s: region %(code)s lies outside your region %(region)s.")


def check_person_in_scope(user: Caller, person: Person, field: str = "person") -> None:
    """Only a file registered or living in the caller's region may be named (a scope rule,
    not a capability: whoever records a service may name only a file they may read)."""
    if not Person.objects.in_scope(user).filter(pk=person.pk).exists():
        raise PermissionDenied(
            _("%(field)s: this person's file lies outside your region %(region)s.")
            % {"field": field, "region": getattr(user, "region_id", "") or ""}
        )


def _not_negative(obj, fields: Iterable[str]) -> None:
    errors = {
        name: _("%(field)s must be 0 or more, got %(value)s.") % {"field": name, "value": value}
        for name in fields
        if (value := getattr(obj, name)) is None or value < 0
    }
    if errors:
        raise ValidationError(errors)


def _check_choice(value, choices, field: str) -> None:
    if not value:
        raise ValidationError({field: _("%(field)s is required.") % {"field": field}})
    if value not in choices.values:
        raise ValidationError(
            {
                field: _("%(field)s: “%(value)s” is not one of %(choices)s.")
                % {"field": field, "value": value, "choices": ", ".join(choices.values)}
            }
        )


def _check_past(day: datetime.date | None, field: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ValidationError(
            {
                field: _("%(field)s: the date %(day)s is in the future.")
                % {"field": field, "day": day}
            }
        )


def _set(obj, allowed: Iterable[str], changes: dict) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    for name, value in changes.items():
        setattr(obj, name, value)


def _snapshot(obj, fields: Iterable[str], **extra) -> dict:
    names = [obj._meta.get_field(name).attname for name in fields] + ["version"]
    return {**audit.snapshot(obj, names), **extra}


def _record(action: str, acting_user, obj, region: str, before=None, after=None) -> None:
    audit.record(
        action, acting_user=acting_user, obj=obj, region=region, before=before, after=after
    )


def _save(obj, expected_version: int | None) -> None:
    if obj.pk is None:
        obj.save()
    else:
        obj.save_versioned(expected_version=expected_version)


# --- campaigns and activities --------------------------------------------------------------


def _campaign_image(campaign: Campaign, codes: list[str]) -> dict:
    return _snapshot(campaign, (*CAMPAIGN_FIELDS, "organiser_region"), regions=codes)


def _check_campaign(campaign: Campaign, codes: list[str]) -> None:
    if not (campaign.name or "").strip():
        raise ValidationError({"name": _("name: a campaign needs a name.")})
    _check_choice(campaign.kind, CampaignKind, "kind")
    if campaign.ends_on < campaign.starts_on:
        raise ValidationError(
            {
                "ends_on": _("ends_on: the end %(end)s is before the start %(start)s.")
                % {"end": campaign.ends_on, "start": campaign.starts_on}
            }
        )
    if not codes:
        raise ValidationError({"regions": _("regions: a campaign covers at least one region.")})
    organiser = campaign.organiser_region_id
    outside = [code for code in codes if not code.startswith(organiser)]
    if outside:
        raise ValidationError(
            {
                "regions": _("regions: %(codes)s lie outside the organising region %(region)s.")
                % {"codes": ", ".join(outside), "region": organiser}
            }
        )


@transaction.atomic
def create_campaign(
    *,
    acting_user,
    name: str,
    kind: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    regions: Iterable[Region] = (),
    organiser_region: Region | None = None,
    description: str = "",
) -> Campaign:
    """A campaign organised by the caller's office (the operator names the organiser);
    without regions it covers the organiser's whole region."""
    if organiser_region is None:
        account = account_of(acting_user)
        if account is None:
            raise ValidationError({"organiser_region": _("organiser_region is required.")})
        organiser_region = account.region
    assert organiser_region is not None
    authorize(
        acting_user,
        RECORD_SERVICES,
        organiser_region.code,
        outside=OUTSIDE_FIELD,
        field="organiser_region",
    )
    regions = list(regions) or [organiser_region]
    codes = sorted({region.code for region in regions})
    campaign = Campaign(
        name=name,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        organiser_region=organiser_region,
        description=description,
        created_by=account_of(acting_user),
    )
    _check_campaign(campaign, codes)
    campaign.save()
    campaign.regions.set(Region.objects.filter(code__in=codes))
    _record(
        Action.CREATE,
        acting_user,
        campaign,
        organiser_region.code,
        after=_campaign_image(campaign, codes),
    )
    return campaign


@transaction.atomic
def update_campaign(
    *,
    acting_user,
    campaign: Campaign,
    expected_version: int | None = None,
    regions: Iterable[Region] | None = None,
    **changes,
) -> Campaign:
    """Change a campaign (its organising office or one above it). Its activities must still
    fit the new period and regions."""
    authorize(
        acting_user,
        RECORD_SERVICES,
        campaign.organiser_region_id,
        outside=OUTSIDE_FIELD,
        field="organiser_region",
    )
    old_codes = campaign.region_codes()
    before = _campaign_image(campaign, old_codes)
    _set(campaign, CAMPAIGN_FIELDS, changes)
    codes = old_codes if regions is None else sorted({region.code for region in regions})
    _check_campaign(campaign, codes)
    for activity in campaign.activities.only("pk", "date", "region_id"):
        if not campaign.starts_on <= activity.date <= campaign.ends_on:
            raise ValidationError(
                {
                    "ends_on" if activity.date > campaign.ends_on else "starts_on": _(
                        "An activity of %(day)s would fall outside the period %(start)s to %(end)s."
                    )
                    % {"day": activity.date, "start": campaign.starts_on, "end": campaign.ends_on}
                }
            )
        if not any(activity.region_id.startswith(code) for code in codes):
            raise ValidationError(
                {
                    "regions": _("regions: the activity in %(code)s would lie outside them.")
                    % {"code": activity.region_id}
                }
            )
    _save(campaign, expected_version)
    if regions is not None and codes != old_codes:
        campaign.regions.set(Region.objects.filter(code__in=codes))
    _record(
        Action.UPDATE,
        acting_user,
        campaign,
        campaign.organiser_region_id,
        before=before,
        after=_campaign_image(campaign, codes),
    )
    return campaign


def _check_activity(activity: Activity, campaign: Campaign) -> None:
    if activity.date is None:
        raise ValidationError({"date": _("date is required.")})
    if not campaign.starts_on <= activity.date <= campaign.ends_on:
        raise ValidationError(
            {
                "date": _("date: %(day)s lies outside the campaign's period %(start)s to %(end)s.")
                % {"day": activity.date, "start": campaign.starts_on, "end": campaign.ends_on}
            }
        )
    if not campaign.covers(activity.region_id):
        raise ValidationError(
            {
                "region": _("region: %(code)s lies outside the campaign's regions %(codes)s.")
                % {"code": activity.region_id, "codes": ", ".join(campaign.region_codes())}
            }
        )
    _not_negative(activity, COUNT_FIELDS)


@transaction.atomic
def create_activity(*, acting_user, campaign: Campaign, **values) -> Activity:
    """An activity held in the caller's region, within the campaign's period and regions."""
    _set(
        activity := Activity(campaign=campaign, created_by=account_of(acting_user)),
        ACTIVITY_FIELDS,
        values,
    )
    if activity.region_id is None:
        raise ValidationError({"region": _("region is required.")})
    authorize(
        acting_user, RECORD_SERVICES, activity.region_id, outside=OUTSIDE_FIELD, field="region"
    )
    _check_activity(activity, campaign)
    activity.save()
    _record(
        Action.CREATE,
        acting_user,
        activity,
        activity.region_id,
        after=_snapshot(activity, (*ACTIVITY_FIELDS, "campaign")),
    )
    return activity


@transaction.atomic
def update_activity(
    *, acting_user, activity: Activity, expected_version: int | None = None, **changes
) -> Activity:
    authorize(
        acting_user, RECORD_SERVICES, activity.region_id, outside=OUTSIDE_FIELD, field="region"
    )
    before = _snapshot(activity, (*ACTIVITY_FIELDS, "campaign"))
    _set(activity, ACTIVITY_FIELDS, changes)
    authorize(
        acting_user, RECORD_SERVICES, activity.region_id, outside=OUTSIDE_FIELD, field="region"
    )
    _check_activity(activity, activity.campaign)
    _save(activity, expected_version)
    _record(
        Action.UPDATE,
        acting_user,
        activity,
        activity.region_id,
        before=before,
        after=_snapshot(activity, (*ACTIVITY_FIELDS, "campaign")),
    )
    return activity


@transaction.atomic
def delete_activity(*, acting_user, activity: Activity) -> None:
    """An activity entered by mistake; the audit log keeps what it said."""
    authorize(
        acting_user, RECORD_SERVICES, activity.region_id, outside=OUTSIDE_FIELD, field="region"
    )
    before = _snapshot(activity, (*ACTIVITY_FIELDS, "campaign"))
    _record(Action.DELETE, acting_user, activity, activity.region_id, before=before)
    activity.delete()


# --- campaign summary ----------------------------------------------------------------------


@dataclasses.dataclass
class SummaryRow:
    region: str
    region_name: str
    activities: int = 0
    participants: int = 0
    materials: int = 0
    contraceptives: int = 0


@dataclasses.dataclass
class CampaignSummary:
    campaign: Campaign
    region: Region  # the rows are this region's children (and the region itself)
    rows: list[SummaryRow]
    total: SummaryRow


def _child_length(code: str) -> int:
    longer = sorted(n for n in LEVEL_LENGTHS.values() if n > len(code))
    return longer[0] if longer else len(code)


def summary_region(campaign: Campaign, user=None) -> Region:
    """Whose children the summary lists: the organiser's, or the caller's own region when
    it lies below the organiser (a township sees its part of a county's campaign)."""
    organiser = campaign.organiser_region
    if not is_operator(user) and user.region_id.startswith(organiser.code):
        return user.region
    return organiser


def campaign_summary(campaign: Campaign, *, user=None) -> CampaignSummary:
    """Activities, participants, materials and contraceptives handed out, per child region
    of :func:`summary_region` and in total. Activities held at that region itself (by its
    own office) form a row of their own. Children the campaign covers appear even with
    nothing recorded, so a missing report shows as a zero."""
    base = summary_region(campaign, user)
    length = _child_length(base.code)
    activities = Activity.objects.filter(campaign=campaign).filter(
        subtree_q(base.code, "region_id")
    )
    grouped = (
        activities.annotate(child=Substr("region_id", 1, length))
        .values("child")
        .annotate(
            activities=Count("pk"),
            participants=Sum("participants_count"),
            materials=Sum("materials_count"),
            contraceptives=Sum("free_contraceptives_count"),
        )
    )
    counted: dict[str, dict] = {row["child"]: dict(row) for row in grouped}
    codes = campaign.region_codes()
    children = [
        child
        for child in Region.objects.filter(parent=base)
        if any(child.code.startswith(c) or c.startswith(child.code) for c in codes)
    ]
    wanted = {child.code: child.name for child in children}
    for code in counted:
        if code not in wanted:
            wanted[code] = ""  # a region since removed, or the base itself
    names = dict(Region.objects.filter(code__in=list(wanted)).values_list("code", "name"))
    rows = []
    for code in sorted(wanted):
        row = counted.get(code, {})
        rows.append(
            SummaryRow(
                region=code,
                region_name=names.get(code, wanted[code]),
                activities=row.get("activities") or 0,
                participants=row.get("participants") or 0,
                materials=row.get("materials") or 0,
                contraceptives=row.get("contraceptives") or 0,
            )
        )
    total = SummaryRow(
        region=base.code,
        region_name=base.name,
        activities=sum(r.activities for r in rows),
        participants=sum(r.participants for r in rows),
        materials=sum(r.materials for r in rows),
        contraceptives=sum(r.contraceptives for r in rows),
    )
    return CampaignSummary(campaign=campaign, region=base, rows=rows, total=total)


# The annual work summary quotes these columns; the sheet is a printed report in Chinese.
SUMMARY_HEADER = [
    "行政区划代码",
    "行政区划",
    "活动次数",
    "参加人数",
    "宣传品(份)",
    "免费避孕药具(份)",
]


def write_summary_xlsx(summary: CampaignSummary, target, *, acting_user) -> None:
    """The summary as xlsx: a title row, the period, one row per region and a total row.
    Every export is logged (DESIGN.md §2 principle 2)."""
    from openpyxl.styles import Font

    from liudong.safesheet import Workbook

    campaign = summary.campaign
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "活动汇总"
    sheet.append([f"{campaign.name} 宣传服务活动汇总表"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(
        [
            f"活动期间：{campaign.starts_on.isoformat()} 至 {campaign.ends_on.isoformat()}",
            f"汇总范围：{summary.region.name}（{summary.region.code}）",
        ]
    )
    sheet.append(SUMMARY_HEADER)
    for row in summary.rows:
        sheet.append(
            [
                row.region,
                row.region_name or ("本级" if row.region == summary.region.code else ""),
                row.activities,
                row.participants,
                row.materials,
                row.contraceptives,
            ]
        )
    total = summary.total
    sheet.append(
        ["合计", "", total.activities, total.participants, total.materials, total.contraceptives]
    )
    for letter, width in zip("ABCDEF", (16, 20, 10, 10, 12, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    workbook.save(target)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=campaign,
        region=summary.region.code,
        detail={"format": "xlsx", "what": "campaign summary", "rows": len(summary.rows)},
    )


def find_campaign(pk: int, user) -> Campaign:
    """A campaign the caller may see (the operator sees every one)."""
    campaigns = Campaign.objects.in_scope(user)
    campaign = campaigns.select_related("organiser_region").filter(pk=pk).first()
    if campaign is None:
        raise ValidationError({"id": _("id: no campaign %(id)s in your region.") % {"id": pk}})
    return campaign


# --- associations --------------------------------------------------------------------------


def _check_branch(branch: AssociationBranch) -> None:
    if not (branch.name or "").strip():
        raise ValidationError({"name": _("name: a branch needs a name.")})
    if branch.region_id is None:
        raise ValidationError({"region": _("region is required.")})
    _check_past(branch.founded_on, "founded_on")


@transaction.atomic
def create_branch(*, acting_user, **values) -> AssociationBranch:
    _set(branch := AssociationBranch(), BRANCH_FIELDS, values)
    _check_branch(branch)
    authorize(acting_user, RECORD_SERVICES, branch.region_id, outside=OUTSIDE_FIELD, field="region")
    branch.save()
    _record(
        Action.CREATE, acting_user, branch, branch.region_id, after=_snapshot(branch, BRANCH_FIELDS)
    )
    return branch


@transaction.atomic
def update_branch(
    *, acting_user, branch: AssociationBranch, expected_version: int | None = None, **changes
) -> AssociationBranch:
    authorize(acting_user, RECORD_SERVICES, branch.region_id, outside=OUTSIDE_FIELD, field="region")
    before = _snapshot(branch, BRANCH_FIELDS)
    _set(branch, BRANCH_FIELDS, changes)
    _check_branch(branch)
    authorize(acting_user, RECORD_SERVICES, branch.region_id, outside=OUTSIDE_FIELD, field="region")
    _save(branch, expected_version)
    _record(
        Action.UPDATE,
        acting_user,
        branch,
        branch.region_id,
        before=before,
        after=_snapshot(branch, BRANCH_FIELDS),
    )
    return branch


def _check_membership(membership: Membership) -> None:
    _check_choice(membership.role, MemberRole, "role")
    if membership.joined_on is None:
        raise ValidationError({"joined_on": _("joined_on is required.")})
    _check_past(membership.joined_on, "joined_on")
    if membership.joined_on < membership.person.birth_date:
        raise ValidationError(
            {"joined_on": _("joined_on: the date is before the person's birth date.")}
        )
    if membership.left_on is not None:
        _check_past(membership.left_on, "left_on")
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
    acting_user,
    branch: AssociationBranch,
    person: Person,
    joined_on: datetime.date,
    role: str = MemberRole.MEMBER,
    left_on: datetime.date | None = None,
) -> Membership:
    """She joins a branch in the caller's region; her file must be in the caller's scope."""
    authorize(acting_user, RECORD_SERVICES, branch.region_id, outside=OUTSIDE_FIELD, field="branch")
    check_person_in_scope(acting_user, person)
    membership = Membership(
        branch=branch, person=person, joined_on=joined_on, role=role, left_on=left_on
    )
    _check_membership(membership)
    membership.save()
    _record(
        Action.CREATE,
        acting_user,
        membership,
        branch.region_id,
        after=_snapshot(membership, (*MEMBERSHIP_FIELDS, "branch", "person")),
    )
    return membership


@transaction.atomic
def update_membership(
    *, acting_user, membership: Membership, expected_version: int | None = None, **changes
) -> Membership:
    """Change her role, or record that she left (``left_on``)."""
    authorize(
        acting_user,
        RECORD_SERVICES,
        membership.branch.region_id,
        outside=OUTSIDE_FIELD,
        field="branch",
    )
    before = _snapshot(membership, (*MEMBERSHIP_FIELDS, "branch", "person"))
    _set(membership, MEMBERSHIP_FIELDS, changes)
    _check_membership(membership)
    _save(membership, expected_version)
    _record(
        Action.UPDATE,
        acting_user,
        membership,
        membership.branch.region_id,
        before=before,
        after=_snapshot(membership, (*MEMBERSHIP_FIELDS, "branch", "person")),
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
    _not_negative(activity, ("participants_count",))


@transaction.atomic
def create_association_activity(
    *, acting_user, branch: AssociationBranch, **values
) -> AssociationActivity:
    authorize(acting_user, RECORD_SERVICES, branch.region_id, outside=OUTSIDE_FIELD, field="branch")
    _set(activity := AssociationActivity(branch=branch), ASSOCIATION_ACTIVITY_FIELDS, values)
    _check_association_activity(activity)
    activity.save()
    _record(
        Action.CREATE,
        acting_user,
        activity,
        branch.region_id,
        after=_snapshot(activity, (*ASSOCIATION_ACTIVITY_FIELDS, "branch")),
    )
    return activity


@transaction.atomic
def update_association_activity(
    *,
    acting_user,
    activity: AssociationActivity,
    expected_version: int | None = None,
    **changes,
) -> AssociationActivity:
    authorize(
        acting_user,
        RECORD_SERVICES,
        activity.branch.region_id,
        outside=OUTSIDE_FIELD,
        field="branch",
    )
    before = _snapshot(activity, (*ASSOCIATION_ACTIVITY_FIELDS, "branch"))
    _set(activity, ASSOCIATION_ACTIVITY_FIELDS, changes)
    _check_association_activity(activity)
    _save(activity, expected_version)
    _record(
        Action.UPDATE,
        acting_user,
        activity,
        activity.branch.region_id,
        before=before,
        after=_snapshot(activity, (*ASSOCIATION_ACTIVITY_FIELDS, "branch")),
    )
    return activity


@transaction.atomic
def delete_association_activity(*, acting_user, activity: AssociationActivity) -> None:
    authorize(
        acting_user,
        RECORD_SERVICES,
        activity.branch.region_id,
        outside=OUTSIDE_FIELD,
        field="branch",
    )
    before = _snapshot(activity, (*ASSOCIATION_ACTIVITY_FIELDS, "branch"))
    _record(Action.DELETE, acting_user, activity, activity.branch.region_id, before=before)
    activity.delete()


# --- help requests -------------------------------------------------------------------------


def _help_image(help_request: HelpRequest) -> dict:
    return _snapshot(help_request, (*HELP_FIELDS, "person", "region"))


def _check_help(help_request: HelpRequest) -> None:
    """The rules of a help request, whichever way it was changed."""
    _check_choice(help_request.category, HelpCategory, "category")
    _check_choice(help_request.status, HelpStatus, "status")
    if help_request.received_on is None:
        raise ValidationError({"received_on": _("received_on is required.")})
    _check_past(help_request.received_on, "received_on")
    if help_request.received_on < help_request.person.birth_date:
        raise ValidationError(
            {"received_on": _("received_on: the date is before the person's birth date.")}
        )
    if help_request.deadline < help_request.received_on:
        raise ValidationError(
            {
                "deadline": _(
                    "deadline: %(day)s is before the request was received (%(received)s)."
                )
                % {"day": help_request.deadline, "received": help_request.received_on}
            }
        )
    if help_request.status in OUTCOME_STATUSES and not (help_request.outcome or "").strip():
        raise ValidationError(
            {
                "outcome": _("outcome: say what was done when a request is %(status)s.")
                % {"status": HelpStatus(help_request.status).label}
            }
        )
    if help_request.status in FINISHED_STATUSES:
        if help_request.resolved_on is None:
            help_request.resolved_on = timezone.localdate()
        _check_past(help_request.resolved_on, "resolved_on")
        if help_request.resolved_on < help_request.received_on:
            raise ValidationError(
                {"resolved_on": _("resolved_on: the date is before the request was received.")}
            )
    else:
        help_request.resolved_on = None  # reopened: no longer resolved
    handler = help_request.handler
    if handler is not None and (
        not handler.is_active
        or not can(handler, RECORD_SERVICES)
        or not help_request.region_id.startswith(handler.region_id or "-")
    ):
        raise ValidationError(
            {
                "handler": _(
                    "handler: %(user)s is not an active staff member serving region %(code)s."
                )
                % {"user": handler.username, "code": help_request.region_id}
            }
        )


@transaction.atomic
def create_help_request(
    *,
    acting_user,
    person: Person,
    category: str = "",
    received_on: datetime.date | None = None,
    description: str = "",
    handler=None,
    status: str = HelpStatus.OPEN,
    deadline: datetime.date | None = None,
    outcome: str = "",
    resolved_on: datetime.date | None = None,
    region: Region | None = None,
) -> HelpRequest:
    """Her request, received by the office of ``region``: by default where she lives when
    that is in the caller's region, else the caller's own region. Received today unless
    said otherwise; the deadline is 15 days after receipt unless set."""
    # Refused before anything else: a request without a category cannot be routed.
    _check_choice(category, HelpCategory, "category")
    received_on = received_on or timezone.localdate()
    check_person_in_scope(acting_user, person)
    if region is None:
        residence = person.residence_region_id
        if residence and residence.startswith(acting_user.region_id):
            region_code = residence
        else:
            region_code = (
                acting_user.region_id
                if not is_operator(acting_user)
                else person.household_region_id
            )
    else:
        region_code = region.code
    authorize(acting_user, RECORD_SERVICES, region_code, outside=OUTSIDE_FIELD, field="region")
    help_request = HelpRequest(
        person=person,
        region_id=region_code,
        category=category,
        description=description,
        received_on=received_on,
        handler=handler,
        status=status,
        deadline=deadline or received_on + datetime.timedelta(days=HELP_DEADLINE_DAYS),
        outcome=outcome,
        resolved_on=resolved_on,
    )
    _check_help(help_request)
    help_request.save()
    _record(
        Action.CREATE,
        acting_user,
        help_request,
        region_code,
        after=_help_image(help_request),
    )
    return help_request


@transaction.atomic
def update_help_request(
    *,
    acting_user,
    help_request: HelpRequest,
    expected_version: int | None = None,
    **changes,
) -> HelpRequest:
    """Take it on, move it along, resolve or refer it (with the outcome), or reopen it."""
    authorize(
        acting_user, RECORD_SERVICES, help_request.region_id, outside=OUTSIDE_FIELD, field="region"
    )
    before = _help_image(help_request)
    _set(help_request, HELP_FIELDS, changes)
    _check_help(help_request)
    _save(help_request, expected_version)
    _record(
        Action.UPDATE,
        acting_user,
        help_request,
        help_request.region_id,
        before=before,
        after=_help_image(help_request),
    )
    return help_request


def help_worklist(user, today: datetime.date | None = None):
    """Requests still open or in progress in the caller's region: overdue first, then by
    deadline and date received."""
    today = today or timezone.localdate()
    return (
        HelpRequest.objects.in_scope(user)
        .active()
        .select_related("person", "region", "handler")
        .annotate(
            late=Case(
                When(deadline__lt=today, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("late", "deadline", "received_on", "pk")
    )


def help_counts(
    user,
    *,
    region: str | None = None,
    received_from: datetime.date | None = None,
    received_to: datetime.date | None = None,
    today: datetime.date | None = None,
) -> dict:
    """Requests received in a region (subtree, within the caller's) and period, by category
    and by status, with how many are overdue today. Every category and status is listed,
    zeros included."""
    today = today or timezone.localdate()
    requests = HelpRequest.objects.in_scope(user)
    if region:
        requests = requests.filter(subtree_q(region, "region_id"))
    if received_from:
        requests = requests.filter(received_on__gte=received_from)
    if received_to:
        requests = requests.filter(received_on__lte=received_to)
    by_category = dict.fromkeys(HelpCategory.values, 0)
    by_category.update(
        requests.order_by().values("category").annotate(n=Count("pk")).values_list("category", "n")
    )
    by_status = dict.fromkeys(HelpStatus.values, 0)
    by_status.update(
        requests.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {
        "total": sum(by_category.values()),
        "overdue": requests.filter(status__in=ACTIVE_STATUSES, deadline__lt=today).count(),
        "by_category": by_category,
        "by_status": by_status,
    }


# --- service records -----------------------------------------------------------------------

SERVICE_FIELDS = (
    "service_type",
    "date",
    "provider",
    "provider_name",
    "region",
    "free_of_charge",
    "consent_recorded",
    "contraceptive_method",
    "contraceptive_method_other",
    "campaign",
    "result",
)
# Worked out from her file, never typed in: the spouse's number on a pre-pregnancy check.
DERIVED_SERVICE_FIELDS = ("spouse_id_number",)
FOLLOW_UP_FIELDS = ("due_on", "done_on", "notes")


def may_see_result(user: Caller, record: ServiceRecord) -> bool:
    """The result is sensitive health data (PIPL): only a service station and the
    township specialist of her residence or registration see it. The operator sees it;
    a village, county or inspector account does not (a rule beyond capability and region:
    it depends on the role)."""
    if is_operator(user):
        return True
    if not allowed(user, RECORD_SERVICES):
        return False
    role, region = getattr(user, "role", ""), getattr(user, "region_id", "") or ""
    if role == Role.PROVIDER:
        return True
    if role != Role.TOWNSHIP:
        return False
    person = record.person
    return any(
        (code or "").startswith(region)
        for code in (person.residence_region_id, person.household_region_id)
    )


def _service_image(record: ServiceRecord) -> dict:
    """The audit image of a record. The result itself stays out of the log (anyone who
    reads the region's audit log would read it): only whether one is kept."""
    fields = [name for name in SERVICE_FIELDS if name != "result"]
    return _snapshot(
        record,
        (*fields, *DERIVED_SERVICE_FIELDS, "person"),
        has_result=bool((record.result or "").strip()),
    )


def _check_service(record: ServiceRecord, acting_user) -> None:
    """The rules of a service record, whichever way it was made or changed."""
    _check_choice(record.service_type, ServiceType, "service_type")
    # Service, not coercion (DESIGN.md §2.1): only what she asked for or accepted is kept.
    if not record.consent_recorded:
        raise ValidationError(
            {
                "consent_recorded": _(
                    "consent_recorded: a service is recorded only when she asked for or "
                    "accepted it; tick that her consent was recorded."
                )
            }
        )
    if record.date is None:
        raise ValidationError({"date": _("date is required.")})
    _check_past(record.date, "date")
    person = record.person
    if record.date < person.birth_date:
        raise ValidationError(
            {
                "date": _("date: %(day)s is before the person's birth date %(born)s.")
                % {"day": record.date, "born": person.birth_date}
            }
        )
    if record.service_type == ServiceType.PRE_PREGNANCY:
        spouse = person.spouse
        spouse_number = spouse.id_number if spouse is not None else person.spouse_id_number
        if not spouse_number:
            raise ValidationError(
                {
                    "service_type": _(
                        "service_type: a pre-pregnancy health check is for a couple; her "
                        "file has no spouse (record the spouse on her file first)."
                    )
                }
            )
        record.spouse_id_number = spouse_number
    else:
        record.spouse_id_number = ""
    if record.service_type == ServiceType.CONTRACEPTIVE:
        # Her choice is never defaulted: no method, no record.
        if not record.contraceptive_method:
            raise ValidationError(
                {
                    "contraceptive_method": _(
                        "contraceptive_method: a contraceptive supply records the method she chose."
                    )
                }
            )
        _check_choice(record.contraceptive_method, ContraceptiveMethod, "contraceptive_method")
        if (
            record.contraceptive_method == ContraceptiveMethod.OTHER
            and not (record.contraceptive_method_other or "").strip()
        ):
            raise ValidationError(
                {
                    "contraceptive_method_other": _(
                        "contraceptive_method_other: name the other method she chose."
                    )
                }
            )
        if record.contraceptive_method != ContraceptiveMethod.OTHER:
            record.contraceptive_method_other = ""
    elif record.contraceptive_method or record.contraceptive_method_other:
        # Minimum necessary data: a method is kept only with a supply.
        raise ValidationError(
            {
                "contraceptive_method": _(
                    "contraceptive_method: a method is recorded only with a contraceptive supply."
                )
            }
        )
    provider = record.provider
    if provider is not None:
        if provider.kind != Site.Kind.SERVICE_STATION:
            raise ValidationError(
                {
                    "provider": _("provider: %(name)s is not a service station.")
                    % {"name": provider.name}
                }
            )
        if (record.provider_name or "").strip():
            raise ValidationError(
                {
                    "provider_name": _(
                        "provider_name: name a provider only when it is not a registered station."
                    )
                }
            )
    campaign = record.campaign
    if campaign is not None and not campaign.starts_on <= record.date <= campaign.ends_on:
        raise ValidationError(
            {
                "date": _("date: %(day)s lies outside the campaign's period %(start)s to %(end)s.")
                % {"day": record.date, "start": campaign.starts_on, "end": campaign.ends_on}
            }
        )
    if (record.result or "").strip() and not may_see_result(acting_user, record):
        raise PermissionDenied(
            _(
                "result: only a service station or her township specialist keeps the result "
                "of a service."
            )
        )


def _default_service_region(acting_user, person: Person) -> str:
    """Where she lives when that is in the caller's region, else the caller's region."""
    residence = person.residence_region_id
    if residence and residence.startswith(acting_user.region_id):
        return residence
    if not is_operator(acting_user):
        return acting_user.region_id
    if not residence:
        raise ValidationError({"region": _("region is required: she has no residence on file.")})
    return residence


@transaction.atomic
def create_service_record(
    *, acting_user, person: Person, region: Region | None = None, **values
) -> ServiceRecord:
    """Record a service she asked for or accepted. Given where she lives (in the
    caller's region) unless ``region`` says where; her file must be in the caller's
    scope."""
    check_person_in_scope(acting_user, person)
    region_code = (
        region.code if region is not None else _default_service_region(acting_user, person)
    )
    authorize(acting_user, RECORD_SERVICES, region_code, outside=OUTSIDE_FIELD, field="region")
    record = ServiceRecord(
        person=person, region_id=region_code, recorded_by=account_of(acting_user)
    )
    _set(record, [name for name in SERVICE_FIELDS if name != "region"], values)
    _check_service(record, acting_user)
    record.save()
    _record(Action.CREATE, acting_user, record, region_code, after=_service_image(record))
    events.publish(
        events.ServiceGiven(
            id_number=record.person.id_number,
            household_region=record.person.household_region_id,
            region=record.region_id,
            service_type=record.service_type,
            date=record.date,
        )
    )
    return record


@transaction.atomic
def update_service_record(
    *,
    acting_user,
    record: ServiceRecord,
    expected_version: int | None = None,
    **changes,
) -> ServiceRecord:
    """Correct a record (the person stays); every rule is checked again."""
    authorize(acting_user, RECORD_SERVICES, record.region_id, outside=OUTSIDE_FIELD, field="region")
    if "result" in changes and not may_see_result(acting_user, record):
        raise PermissionDenied(
            _(
                "result: only a service station or her township specialist keeps the result "
                "of a service."
            )
        )
    before = _service_image(record)
    _set(record, SERVICE_FIELDS, changes)
    authorize(acting_user, RECORD_SERVICES, record.region_id, outside=OUTSIDE_FIELD, field="region")
    _check_service(record, acting_user)
    _save(record, expected_version)
    _record(
        Action.UPDATE,
        acting_user,
        record,
        record.region_id,
        before=before,
        after=_service_image(record),
    )
    return record


def read_service_record(user, record: ServiceRecord) -> bool:
    """Whether ``user`` sees the record's result; a result shown is logged as a view
    (a read of sensitive health data, PIPL)."""
    visible = may_see_result(user, record)
    if visible and (record.result or "").strip():
        audit.record_view(
            acting_user=user, obj=record, region=record.region_id, via="service record result"
        )
    return visible


def service_records_for(user):
    """The records the caller sees (the operator sees all)."""
    records = ServiceRecord.objects.in_scope(user)
    return records.select_related("person", "region", "provider", "campaign", "recorded_by")


# --- follow-ups ----------------------------------------------------------------------------


def _check_service_in_scope(acting_user: Actor, record: ServiceRecord) -> None:
    authorize(acting_user, RECORD_SERVICES)
    if not ServiceRecord.objects.in_scope(acting_user).filter(pk=record.pk).exists():
        raise PermissionDenied(
            _("service: this service record lies outside your region %(region)s.")
            % {"region": acting_user.region_id}
        )


def _check_follow_up(follow_up: FollowUp) -> None:
    service = follow_up.service
    if follow_up.due_on is None:
        raise ValidationError({"due_on": _("due_on is required.")})
    if follow_up.due_on <= service.date:
        raise ValidationError(
            {
                "due_on": _("due_on: %(day)s is not after the service it follows (%(service)s).")
                % {"day": follow_up.due_on, "service": service.date}
            }
        )
    if follow_up.done_on is not None:
        _check_past(follow_up.done_on, "done_on")
        if follow_up.done_on < service.date:
            raise ValidationError(
                {
                    "done_on": _("done_on: %(day)s is before the service (%(service)s).")
                    % {"day": follow_up.done_on, "service": service.date}
                }
            )


@transaction.atomic
def schedule_follow_up(
    *,
    acting_user,
    service: ServiceRecord,
    due_on: datetime.date | None = None,
    notes: str = "",
    done_on: datetime.date | None = None,
) -> FollowUp:
    """A follow-up of a service the caller sees, due after the service date."""
    _check_service_in_scope(acting_user, service)
    if due_on is None:
        raise ValidationError({"due_on": _("due_on is required.")})
    follow_up = FollowUp(service=service, due_on=due_on, notes=notes, done_on=done_on)
    if done_on is not None:
        follow_up.done_by = account_of(acting_user)
    _check_follow_up(follow_up)
    follow_up.save()
    _record(
        Action.CREATE,
        acting_user,
        follow_up,
        service.region_id,
        after=_snapshot(follow_up, (*FOLLOW_UP_FIELDS, "service", "done_by")),
    )
    return follow_up


@transaction.atomic
def update_follow_up(
    *, acting_user, follow_up: FollowUp, expected_version: int | None = None, **changes
) -> FollowUp:
    """Mark it done (``done_on``; the caller is recorded as who did it), move its due
    date, or add notes."""
    _check_service_in_scope(acting_user, follow_up.service)
    before = _snapshot(follow_up, (*FOLLOW_UP_FIELDS, "service", "done_by"))
    was_done = follow_up.done_on
    _set(follow_up, FOLLOW_UP_FIELDS, changes)
    if follow_up.done_on is None:
        follow_up.done_by = None
    elif follow_up.done_on != was_done:
        follow_up.done_by = account_of(acting_user)
    _check_follow_up(follow_up)
    _save(follow_up, expected_version)
    _record(
        Action.UPDATE,
        acting_user,
        follow_up,
        follow_up.service.region_id,
        before=before,
        after=_snapshot(follow_up, (*FOLLOW_UP_FIELDS, "service", "done_by")),
    )
    return follow_up


# A follow-up shows on the worklist from a week before it is due.
FOLLOW_UP_NOTICE_DAYS = 7


def in_grid(follow_ups, grid: Grid):
    """Follow-ups of people living in the grid (her residence in one of its areas)."""
    return follow_ups.filter(grid.area_q("service__person__residence_region_id"))


def due_follow_ups(follow_ups, today: datetime.date):
    """Not done and due within the notice period or overdue: overdue first, then by due
    date."""
    horizon = today + datetime.timedelta(days=FOLLOW_UP_NOTICE_DAYS)
    return (
        follow_ups.filter(done_on__isnull=True, due_on__lte=horizon)
        .annotate(
            late=Case(
                When(due_on__lt=today, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("late", "due_on", "pk")
    )


def followups_due(user, today: datetime.date | None = None, grid: Grid | None = None):
    """The follow-up worklist: due (within a week) and overdue follow-ups of the
    services the caller sees, overdue first; with ``grid``, only of people living in
    it."""
    today = today or timezone.localdate()
    follow_ups = FollowUp.objects.in_scope(user)
    if grid is not None:
        follow_ups = in_grid(follow_ups, grid)
    return due_follow_ups(follow_ups.select_related("service", "service__person", "done_by"), today)


# --- counts for the statistics -------------------------------------------------------------


def _services_in(region_code: str, start: datetime.date, end: datetime.date):
    """Recorded services given in the region's subtree between ``start`` and ``end``
    (both included). Every stored record carries her consent (the rules refuse one
    without)."""
    return ServiceRecord.objects.filter(
        subtree_q(region_code, "region_id"), date__gte=start, date__lte=end, consent_recorded=True
    )


def persons_with_free_service(region_code: str, start: datetime.date, end: datetime.date) -> int:
    """Distinct persons who received at least one free service in the period, counted
    where the service was given."""
    return (
        _services_in(region_code, start, end)
        .filter(free_of_charge=True)
        .values("person_id")
        .distinct()
        .count()
    )


def persons_with_service_type(
    region_code: str, start: datetime.date, end: datetime.date, service_type: str
) -> int:
    """Distinct persons who accepted a service of this type in the period (e.g. the
    reproductive-health check), counted where the service was given."""
    if service_type not in ServiceType.values:
        raise ValueError(f"unknown service type {service_type!r}")
    return (
        _services_in(region_code, start, end)
        .filter(service_type=service_type)
        .values("person_id")
        .distinct()
        .count()
    )


# --- export --------------------------------------------------------------------------------


def export_services_xlsx(
    target, *, acting_user, region_code: str, start: datetime.date, end: datetime.date
) -> int:
    """One row per service given in the region's subtree in the period (masked ID
    number; never the result). The export is logged. Returns the number of rows.
    The sheet itself is ``spreadsheets.write_service_sheet``, shared with the web page."""
    if not (
        region_code.startswith(acting_user.region_id)
        or acting_user.region_id.startswith(region_code)
    ):
        raise PermissionDenied(
            _("region: %(code)s lies outside your region %(region)s.")
            % {"code": region_code, "region": acting_user.region_id}
        )
    if end < start:
        raise ValidationError(
            {
                "to": _("to: the end %(end)s is before the start %(start)s.")
                % {"end": end, "start": start}
            }
        )
    records = (
        service_records_for(acting_user)
        .filter(subtree_q(region_code, "region_id"), date__gte=start, date__lte=end)
        .order_by("date", "pk")
    )
    rows = write_service_sheet(records, target)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type="services.servicerecord",
        region=region_code,
        detail={
            "format": "xlsx",
            "what": "service records",
            "from": start.isoformat(),
            "to": end.isoformat(),
            "rows": rows,
        },
    )
    return rows


# --- her services on her file --------------------------------------------------------------

# The file page shows her latest entries; the tabs of the services pages list them all.
PERSON_SECTION_LIMIT = 20


@dataclasses.dataclass
class ServiceEntry:
    record: ServiceRecord
    # Empty unless the caller may see it (``may_see_result``): the template never reads
    # ``record.result`` itself.
    result: str


@dataclasses.dataclass
class DueEntry:
    follow_up: FollowUp
    overdue: bool


@dataclasses.dataclass
class HelpEntry:
    help_request: HelpRequest
    overdue: bool


@dataclasses.dataclass
class PersonServices:
    """What the services app holds about one person, as far as the caller may see it."""

    records: list[ServiceEntry]
    more_records: bool
    follow_ups: list[DueEntry]
    # None: the caller's role does not see her personal affairs (PersonalAffairsQuerySet).
    help_requests: list[HelpEntry] | None
    memberships: list[Membership] | None
    # The caller records services (and may open the services pages the entries link to).
    may_record: bool
    today: datetime.date


def services_of_person(
    user, person: Person, *, today: datetime.date | None = None, limit: int = PERSON_SECTION_LIMIT
) -> PersonServices:
    """Her service records (newest first), the open follow-ups of those records (due
    first), and, for the roles that keep person files, her help requests and association
    memberships: each read from the caller's scope, a fixed number of queries however
    many there are. A result shown is a read of sensitive health data: logged, one entry
    per record, in one append."""
    today = today or timezone.localdate()
    records = list(
        service_records_for(user).filter(person=person).order_by("-date", "-pk")[: limit + 1]
    )
    entries = [
        ServiceEntry(record, record.result if may_see_result(user, record) else "")
        for record in records[:limit]
    ]
    follow_ups = FollowUp.objects.in_scope(user)
    due = [
        DueEntry(follow_up, follow_up.due_on < today)
        for follow_up in follow_ups.open()
        .filter(service__person=person)
        .select_related("service")
        .order_by("due_on", "pk")[:limit]
    ]
    help_entries = memberships = None
    if can(user, CHANGE_PEOPLE):
        asked = HelpRequest.objects.in_scope(user)
        help_entries = [
            HelpEntry(help_request, help_request.is_overdue(today))
            for help_request in asked.filter(person=person).order_by("-received_on", "-pk")[:limit]
        ]
        member_of = Membership.objects.in_scope(user)
        memberships = list(
            member_of.filter(person=person)
            .select_related("branch")
            .order_by("-joined_on", "-pk")[:limit]
        )
    shown = [entry.record for entry in entries if entry.result.strip()]
    if shown:
        audit.append(
            [
                audit.entry(
                    Action.VIEW,
                    acting_user=user,
                    obj=record,
                    region=record.region_id,
                    detail={"via": "person file: service record result"},
                )
                for record in shown
            ]
        )
    return PersonServices(
        records=entries,
        more_records=len(records) > limit,
        follow_ups=due,
        help_requests=help_entries,
        memberships=memberships,
        may_record=can(user, RECORD_SERVICES),
        today=today,
    )


# --- activity photos -----------------------------------------------------------------------

MAX_PHOTO_BYTES = 5 * 1024 * 1024
# What the upload really is (Pillow opens it; the file name counts for nothing) and the
# suffix it is stored with.
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# A larger picture is refused before it is decoded (a small file can unpack to gigabytes).
MAX_PHOTO_PIXELS = 50_000_000
# Stored no larger than this (a phone's 12-megapixel photo is more than a page shows).
PHOTO_MAX_SIDE = 2560
THUMBNAIL_SIDE = 320
PHOTO_AUDIT_FIELDS = ("activity_id", "file", "uploaded_by_id")


def _not_an_image(name: str) -> ValidationError:
    return ValidationError(
        {"photo": _("photo: “%(name)s” is not a JPEG, PNG or WebP image.") % {"name": name or "?"}}
    )


def _open_photo(uploaded) -> tuple[Image.Image, str]:
    """The upload as a decoded image and its format, judged by its content."""
    name = getattr(uploaded, "name", "") or ""
    if uploaded.size > MAX_PHOTO_BYTES:
        raise ValidationError(
            {
                "photo": _("photo: “%(name)s” is larger than 5 MB (%(size).1f MB).")
                % {"name": name, "size": uploaded.size / 1024 / 1024}
            }
        )
    try:
        uploaded.seek(0)
        with Image.open(uploaded) as probe:
            kind = probe.format or ""
            width, height = probe.size
            if kind in PHOTO_FORMATS and width * height <= MAX_PHOTO_PIXELS:
                probe.verify()
        if kind not in PHOTO_FORMATS:
            raise _not_an_image(name)
        if width * height > MAX_PHOTO_PIXELS:
            raise ValidationError(
                {
                    "photo": _("photo: “%(name)s” has too many pixels (%(width)s × %(height)s).")
                    % {"name": name, "width": width, "height": height}
                }
            )
        uploaded.seek(0)
        image = Image.open(uploaded)
        image.load()  # the first frame of an animation
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise _not_an_image(name) from exc
    return image, kind


def _bare(image: Image.Image, kind: str) -> Image.Image:
    """Only the pixels, turned upright, at most PHOTO_MAX_SIDE: a new image built from
    them carries none of the upload's metadata (EXIF, GPS, XMP, comments, ICC)."""
    upright = ImageOps.exif_transpose(image)
    alpha = kind != "JPEG" and (
        upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    )
    mode = "RGBA" if alpha else "RGB"
    pixels = upright.convert(mode)
    bare = Image.frombytes(mode, pixels.size, pixels.tobytes())
    bare.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    return bare


def _write_photo(image: Image.Image, kind: str, target: Path) -> None:
    if kind == "JPEG":
        image.save(target, "JPEG", quality=85, optimize=True)
    elif kind == "PNG":
        image.save(target, "PNG", optimize=True)
    else:
        image.save(target, "WEBP", quality=85)


def _check_room_for_photo(activity: Activity) -> None:
    if ActivityPhoto.objects.filter(activity=activity).count() >= MAX_ACTIVITY_PHOTOS:
        raise ValidationError(
            {
                "photo": _("photo: an activity has at most %(count)s photos; remove one first.")
                % {"count": MAX_ACTIVITY_PHOTOS}
            }
        )


def add_activity_photo(*, acting_user, activity: Activity, uploaded) -> ActivityPhoto:
    """A photo of an activity in the caller's region: a JPEG, PNG or WebP image (opened
    to tell) of at most 5 MB, at most MAX_ACTIVITY_PHOTOS per activity. Stored
    re-encoded without its metadata, under a random name, with a thumbnail; audited."""
    authorize(
        acting_user, RECORD_SERVICES, activity.region_id, outside=OUTSIDE_FIELD, field="activity"
    )
    _check_room_for_photo(activity)
    image, kind = _open_photo(uploaded)
    with image:
        bare = _bare(image, kind)
    thumbnail = bare.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    photo = ActivityPhoto(
        activity=activity,
        file=f"{secrets.token_hex(16)}.{PHOTO_FORMATS[kind]}",
        uploaded_by=account_of(acting_user),
    )
    photo_folder().mkdir(parents=True, exist_ok=True)
    try:
        _write_photo(bare, kind, photo_path(photo.file))
        _write_photo(thumbnail, kind, photo_path(photo.thumbnail_name))
        with transaction.atomic():
            # One upload at a time per activity, so two at once cannot make a sixth.
            Activity.objects.select_for_update().filter(pk=activity.pk).first()
            _check_room_for_photo(activity)
            photo.save()
            _record(
                Action.CREATE,
                acting_user,
                photo,
                activity.region_id,
                after={
                    **audit.snapshot(photo, PHOTO_AUDIT_FIELDS),
                    "format": kind,
                    "size": list(bare.size),
                },
            )
    except BaseException:
        remove_photo_files(photo)
        raise
    return photo


@transaction.atomic
def remove_activity_photo(*, acting_user, photo: ActivityPhoto) -> None:
    """A photo removed by an office of the activity's region; audited. Its files go when
    the removal is committed (``models._remove_photo_files``)."""
    region = photo.activity.region_id
    authorize(acting_user, RECORD_SERVICES, region, outside=OUTSIDE_FIELD, field="activity")
    _record(
        Action.DELETE,
        acting_user,
        photo,
        region,
        before=audit.snapshot(photo, PHOTO_AUDIT_FIELDS),
    )
    photo.delete()


def photos_for(user):
    """The photos of the activities the caller sees (the operator sees all)."""
    return ActivityPhoto.objects.in_scope(user)
