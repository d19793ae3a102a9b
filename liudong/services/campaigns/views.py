"""The campaign pages: the list, a campaign with its activities and summary, their forms,
imports and exports, and the activities' photos. Thin: rules are
``campaigns.services``'; must not touch the other sub-domains.
"""

from __future__ import annotations

import datetime
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.models import User
from liudong.accounts.roles import RECORD_SERVICES, can
from liudong.base import scoped_object_or_404
from liudong.services import photos
from liudong.services.campaigns import services as campaign_services
from liudong.services.campaigns import spreadsheets as campaign_sheets
from liudong.services.forms import (
    ActivityForm,
    ActivityPhotoForm,
    CampaignForm,
)
from liudong.services.models import (
    MAX_ACTIVITY_PHOTOS,
    Activity,
    Campaign,
)
from liudong.services.views import StaffRequest, export_list, form_page, import_page, xlsx_response
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service


def _may_change_campaign(user: User, campaign: Campaign) -> bool:
    own = user.region_id  # an account without a region changes nothing
    return (
        can(user, RECORD_SERVICES)
        and own is not None
        and campaign.organiser_region_id.startswith(own)
    )


# --- campaigns -----------------------------------------------------------------------------


def _campaign(request: StaffRequest, pk: int) -> Campaign:
    return scoped_object_or_404(
        Campaign.objects.select_related("organiser_region"), request.user, pk=pk
    )


def _campaign_listing(
    request: StaffRequest, today: datetime.date
) -> tuple[QuerySet[Campaign], str]:
    """The campaigns the list shows (and exports): current and coming, past, or all."""
    when = request.GET.get("when", "current")
    campaigns = Campaign.objects.in_scope(request.user).select_related("organiser_region")
    if when == "current":
        campaigns = campaigns.filter(ends_on__gte=today)
    elif when == "past":
        campaigns = campaigns.filter(ends_on__lt=today)
    else:
        when = "all"
    return campaigns, when


@require_GET
@staff_required()
def campaign_export(request: StaffRequest) -> HttpResponse:
    campaigns, _when = _campaign_listing(request, timezone.localdate())
    return export_list(
        request, campaign_sheets.CAMPAIGN_SHEET, campaigns.prefetch_related("regions"), "campaigns"
    )


@require_GET
@staff_required()
def campaign_list(request: StaffRequest) -> HttpResponse:
    """The hub's first tab: campaigns in the user's region, current ones by default."""
    today = timezone.localdate()
    campaigns, when = _campaign_listing(request, today)
    return render(
        request,
        "services/campaigns.html",
        {
            "tab": "campaigns",
            "campaigns": campaigns.prefetch_related("regions"),
            "when": when,
            "today": today,
            "may_record": can(request.user, RECORD_SERVICES),
        },
    )


@staff_required(RECORD_SERVICES)
def campaign_create(request: StaffRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, user=request.user)
    return form_page(
        request,
        form,
        lambda: campaign_services.create_campaign(acting_user=request.user, **form.values()),
        saved=_("Campaign saved."),
        heading=_("New campaign"),
        back=reverse("services:campaigns"),
        done_url=lambda campaign: reverse("services:campaign", args=[campaign.pk]),
    )


@staff_required(RECORD_SERVICES)
def campaign_edit(request: StaffRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    codes = campaign.region_codes()
    initial = {
        "name": campaign.name,
        "kind": campaign.kind,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "regions": codes,
        "description": campaign.description,
        "version": campaign.version,
    }
    form = CampaignForm(request.POST or None, initial=initial, user=request.user, current=codes)
    return form_page(
        request,
        form,
        lambda: campaign_services.update_campaign(
            acting_user=request.user,
            campaign=campaign,
            expected_version=form.cleaned_data["version"],
            **form.values(),
        ),
        saved=_("Campaign saved."),
        heading=_("Edit campaign"),
        back=reverse("services:campaign", args=[campaign.pk]),
    )


@require_GET
@staff_required()
def campaign_detail(request: StaffRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    activities = (
        Activity.objects.in_scope(request.user)
        .filter(campaign=campaign)
        .select_related("region")
        .prefetch_related("photos")
        .order_by("-date", "-pk")
    )
    return render(
        request,
        "services/campaign.html",
        {
            "tab": "campaigns",
            "campaign": campaign,
            "regions": campaign.regions.order_by("code"),
            "activities": activities,
            "summary": campaign_services.campaign_summary(campaign, user=request.user),
            "may_change": _may_change_campaign(request.user, campaign),
            "may_record": can(request.user, RECORD_SERVICES),
        },
    )


@require_GET
@staff_required()
def campaign_summary_xlsx(request: StaffRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    summary = campaign_services.campaign_summary(campaign, user=request.user)
    buffer = io.BytesIO()
    campaign_services.write_summary_xlsx(summary, buffer, acting_user=request.user)
    return xlsx_response(buffer.getvalue(), f"campaign-{campaign.pk}-summary.xlsx")


@require_GET
@staff_required()
def activity_export(request: StaffRequest, pk: int) -> HttpResponse:
    """The campaign's activities in the user's region, in the columns the import reads."""
    campaign = _campaign(request, pk)
    activities = (
        Activity.objects.in_scope(request.user).filter(campaign=campaign).order_by("date", "pk")
    )
    name = f"campaign-{campaign.pk}-activities"
    return export_list(request, campaign_sheets.ACTIVITY_SHEET, activities, name, obj=campaign)


def _activity_values(activity: Activity) -> dict:
    return {
        "date": activity.date,
        "place": activity.place,
        "region": activity.region_id,
        "participants_count": activity.participants_count,
        "materials_count": activity.materials_count,
        "free_contraceptives_count": activity.free_contraceptives_count,
        "notes": activity.notes,
        "version": activity.version,
    }


@staff_required(RECORD_SERVICES)
def activity_create(request: StaffRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    form = ActivityForm(
        request.POST or None,
        user=request.user,
        campaign=campaign,
        initial={"date": min(timezone.localdate(), campaign.ends_on)},
    )
    return form_page(
        request,
        form,
        lambda: campaign_services.create_activity(
            acting_user=request.user, campaign=campaign, **form.values()
        ),
        saved=_("Activity saved."),
        heading=_("New activity"),
        back=reverse("services:campaign", args=[campaign.pk]),
        subject=campaign.name,
    )


@staff_required(RECORD_SERVICES)
def activity_edit(request: StaffRequest, pk: int) -> HttpResponse:
    activity = scoped_object_or_404(
        Activity.objects.select_related("campaign"), request.user, pk=pk
    )
    campaign = activity.campaign
    form = ActivityForm(
        request.POST or None,
        initial=_activity_values(activity),
        user=request.user,
        campaign=campaign,
    )
    if request.method == "POST" and "delete" in request.POST:
        campaign_services.delete_activity(acting_user=request.user, activity=activity)
        messages.success(request, _("Activity deleted."))
        return redirect("services:campaign", pk=campaign.pk)
    return form_page(
        request,
        form,
        lambda: campaign_services.update_activity(
            acting_user=request.user,
            activity=activity,
            expected_version=form.cleaned_data["version"],
            **form.values(),
        ),
        saved=_("Activity saved."),
        heading=_("Edit activity"),
        back=reverse("services:campaign", args=[campaign.pk]),
        subject=campaign.name,
        deletable=True,
    )


@staff_required(RECORD_SERVICES)
def activity_import(request: StaffRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    return import_page(
        request,
        key=f"activities:{campaign.pk}",
        importer=lambda path, commit: campaign_sheets.import_activities(
            path, campaign=campaign, acting_user=request.user, commit=commit
        ),
        subject=_("Import activities of %(name)s") % {"name": campaign.name},
        back=reverse("services:campaign", args=[campaign.pk]),
        columns="日期, 地点, 区划代码, 参加人数, 宣传品, 避孕药具",
    )


# --- activity photos -----------------------------------------------------------------------


def _photo_activity(request: StaffRequest, pk: int) -> Activity:
    return scoped_object_or_404(
        Activity.objects.select_related("campaign", "region"), request.user, pk=pk
    )


@staff_required(RECORD_SERVICES)
def activity_photos(request: StaffRequest, pk: int) -> HttpResponse:
    """An activity's photos: add one (opened and re-encoded by the service), remove one."""
    activity = _photo_activity(request, pk)
    form = ActivityPhotoForm(request.POST or None, request.FILES or None)
    added = None
    if request.method == "POST" and form.is_valid():
        added = apply_service(
            form,
            lambda: campaign_services.add_activity_photo(
                acting_user=request.user, activity=activity, uploaded=form.cleaned_data["photo"]
            ),
        )
    if added is not None:
        messages.success(request, _("Photo added."))
        return redirect("services:activity_photos", pk=activity.pk)
    photos = list(activity.photos.order_by("uploaded_at", "pk"))
    return render(
        request,
        "services/activity_photos.html",
        {
            "tab": "campaigns",
            "activity": activity,
            "photos": photos,
            "form": form,
            "room": len(photos) < MAX_ACTIVITY_PHOTOS,
            "max_photos": MAX_ACTIVITY_PHOTOS,
        },
    )


@require_GET
@staff_required()
def activity_photo(request: StaffRequest, pk: int) -> FileResponse:
    """The photo (``?size=thumb``: its thumbnail), only for a reader who sees the
    activity: the files are not public media."""
    photo = get_object_or_404(campaign_services.photos_for(request.user), pk=pk)
    name = photo.thumbnail_name if request.GET.get("size") == "thumb" else photo.file
    try:
        handle = photos.photo_path(name).open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The photo file is missing.")) from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@staff_required(RECORD_SERVICES)
def activity_photo_remove(request: StaffRequest, pk: int) -> HttpResponse:
    photo = get_object_or_404(
        campaign_services.photos_for(request.user).select_related("activity"), pk=pk
    )
    try:
        campaign_services.remove_activity_photo(acting_user=request.user, photo=photo)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Photo removed."))
    return redirect("services:activity_photos", pk=photo.activity_id)
