"""Business rules for campaigns, their activities and the activities' photos, and the
per-region summary of a campaign. Web pages, the API, the command line and the importers
call these functions; each change is one transaction with its audit entry. Refusals name
the field and the rule: a ``ValidationError`` keyed by field for bad input,
``PermissionDenied`` for a record outside the caller's region. Must not touch the other
sub-domains (associations, help requests, service records).
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from liudong.accounts.models import User
from liudong.actors import Actor, Caller, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.regions.codes import subtree_q
from liudong.regions.models import Region
from liudong.services.common import (
    authorize_recording,
    check_choice,
    child_length,
    not_negative,
    record_change,
    save_new_or_versioned,
    set_fields,
    snapshot,
)
from liudong.services.models import (
    MAX_ACTIVITY_PHOTOS,
    Activity,
    ActivityPhoto,
    Campaign,
    CampaignKind,
)
from liudong.services.photos import photo_folder, photo_path, remove_photo_files

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


# --- campaigns and activities --------------------------------------------------------------


def _campaign_image(campaign: Campaign, codes: list[str]) -> dict:
    return snapshot(campaign, (*CAMPAIGN_FIELDS, "organiser_region"), regions=codes)


def _check_campaign(campaign: Campaign, codes: list[str]) -> None:
    if not (campaign.name or "").strip():
        raise ValidationError({"name": _("name: a campaign needs a name.")})
    check_choice(campaign.kind, CampaignKind, "kind")
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
    acting_user: Actor,
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
    authorize_recording(acting_user, organiser_region.code, "organiser_region")
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
    record_change(
        Action.CREATE,
        acting_user=acting_user,
        obj=campaign,
        region=organiser_region.code,
        after=_campaign_image(campaign, codes),
    )
    return campaign


@transaction.atomic
def update_campaign(
    *,
    acting_user: Actor,
    campaign: Campaign,
    expected_version: int | None = None,
    regions: Iterable[Region] | None = None,
    **changes: Any,
) -> Campaign:
    """Change a campaign (its organising office or one above it). Its activities must still
    fit the new period and regions."""
    authorize_recording(acting_user, campaign.organiser_region_id, "organiser_region")
    old_codes = campaign.region_codes()
    before = _campaign_image(campaign, old_codes)
    set_fields(campaign, CAMPAIGN_FIELDS, changes)
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
    save_new_or_versioned(campaign, expected_version)
    if regions is not None and codes != old_codes:
        campaign.regions.set(Region.objects.filter(code__in=codes))
    record_change(
        Action.UPDATE,
        acting_user=acting_user,
        obj=campaign,
        region=campaign.organiser_region_id,
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
    not_negative(activity, COUNT_FIELDS)


@transaction.atomic
def create_activity(*, acting_user: Actor, campaign: Campaign, **values: Any) -> Activity:
    """An activity held in the caller's region, within the campaign's period and regions."""
    set_fields(
        activity := Activity(campaign=campaign, created_by=account_of(acting_user)),
        ACTIVITY_FIELDS,
        values,
    )
    if activity.region_id is None:
        raise ValidationError({"region": _("region is required.")})
    authorize_recording(acting_user, activity.region_id)
    _check_activity(activity, campaign)
    activity.save()
    record_change(
        Action.CREATE,
        acting_user=acting_user,
        obj=activity,
        region=activity.region_id,
        after=snapshot(activity, (*ACTIVITY_FIELDS, "campaign")),
    )
    return activity


@transaction.atomic
def update_activity(
    *, acting_user: Actor, activity: Activity, expected_version: int | None = None, **changes: Any
) -> Activity:
    authorize_recording(acting_user, activity.region_id)
    before = snapshot(activity, (*ACTIVITY_FIELDS, "campaign"))
    set_fields(activity, ACTIVITY_FIELDS, changes)
    authorize_recording(acting_user, activity.region_id)
    _check_activity(activity, activity.campaign)
    save_new_or_versioned(activity, expected_version)
    record_change(
        Action.UPDATE,
        acting_user=acting_user,
        obj=activity,
        region=activity.region_id,
        before=before,
        after=snapshot(activity, (*ACTIVITY_FIELDS, "campaign")),
    )
    return activity


@transaction.atomic
def delete_activity(*, acting_user: Actor, activity: Activity) -> None:
    """An activity entered by mistake; the audit log keeps what it said."""
    authorize_recording(acting_user, activity.region_id)
    before = snapshot(activity, (*ACTIVITY_FIELDS, "campaign"))
    record_change(
        Action.DELETE,
        acting_user=acting_user,
        obj=activity,
        region=activity.region_id,
        before=before,
    )
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


def summary_region(campaign: Campaign, user: Caller = None) -> Region:
    """Whose children the summary lists: the organiser's, or the caller's own region when
    it lies below the organiser (a township sees its part of a county's campaign)."""
    organiser = campaign.organiser_region
    # Only an account has a region object to list (the operator sees the organiser's).
    if (
        isinstance(user, User)
        and (user.region_id or "").startswith(organiser.code)
        and user.region is not None
    ):
        return user.region
    return organiser


def campaign_summary(campaign: Campaign, *, user: Caller = None) -> CampaignSummary:
    """Activities, participants, materials and contraceptives handed out, per child region
    of :func:`summary_region` and in total. Activities held at that region itself (by its
    own office) form a row of their own. Children the campaign covers appear even with
    nothing recorded, so a missing report shows as a zero."""
    base = summary_region(campaign, user)
    length = child_length(base.code)
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


def write_summary_xlsx(
    summary: CampaignSummary, target: str | Path | IO[Any], *, acting_user: Actor
) -> None:
    """The summary as xlsx: a title row, the period, one row per region and a total row.
    Every export is logged (DESIGN.md §2 principle 2)."""
    from liudong.safesheet import Workbook, font, lay_out

    campaign = summary.campaign
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "活动汇总"
    lay_out(sheet, SUMMARY_HEADER, header_row=3, widths=(16, 20, 10, 10, 12, 18), autofilter=False)
    sheet.append([f"{campaign.name} 宣传服务活动汇总表"])
    sheet["A1"].font = font(bold=True, size=14)
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
    for cell in sheet[sheet.max_row]:
        cell.font = font(bold=True)
    workbook.save(target)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=campaign,
        region=summary.region.code,
        detail={"format": "xlsx", "what": "campaign summary", "rows": len(summary.rows)},
    )


def find_campaign(pk: int, user: Caller) -> Campaign:
    """A campaign the caller may see (the operator sees every one)."""
    campaigns = Campaign.objects.in_scope(user)
    campaign = campaigns.select_related("organiser_region").filter(pk=pk).first()
    if campaign is None:
        raise ValidationError({"id": _("id: no campaign %(id)s in your region.") % {"id": pk}})
    return campaign


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


def _open_photo(uploaded: UploadedFile) -> tuple[Image.Image, str]:
    """The upload as a decoded image and its format, judged by its content."""
    name = getattr(uploaded, "name", "") or ""
    size = uploaded.size or 0
    if size > MAX_PHOTO_BYTES:
        raise ValidationError(
            {
                "photo": _("photo: “%(name)s” is larger than 5 MB (%(size).1f MB).")
                % {"name": name, "size": size / 1024 / 1024}
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


def add_activity_photo(
    *, acting_user: Actor, activity: Activity, uploaded: UploadedFile
) -> ActivityPhoto:
    """A photo of an activity in the caller's region: a JPEG, PNG or WebP image (opened
    to tell) of at most 5 MB, at most MAX_ACTIVITY_PHOTOS per activity. Stored
    re-encoded without its metadata, under a random name, with a thumbnail; audited."""
    authorize_recording(acting_user, activity.region_id, "activity")
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
            record_change(
                Action.CREATE,
                acting_user=acting_user,
                obj=photo,
                region=activity.region_id,
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
def remove_activity_photo(*, acting_user: Actor, photo: ActivityPhoto) -> None:
    """A photo removed by an office of the activity's region; audited. Its files go when
    the removal is committed (``models._remove_photo_files``)."""
    region = photo.activity.region_id
    authorize_recording(acting_user, region, "activity")
    record_change(
        Action.DELETE,
        acting_user=acting_user,
        obj=photo,
        region=region,
        before=audit.snapshot(photo, PHOTO_AUDIT_FIELDS),
    )
    photo.delete()


def photos_for(user: Caller) -> QuerySet[ActivityPhoto]:
    """The photos of the activities the caller sees (the operator sees all)."""
    return ActivityPhoto.objects.in_scope(user)
