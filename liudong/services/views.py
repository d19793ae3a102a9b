"""Services pages: the hub with its tabs (campaigns, service records, follow-ups, help
requests, associations), campaign pages with activities, the summary and its xlsx, service
records with their follow-ups (the result only for those who may see it), the follow-up
and help-request worklists, association branches with members and activities, and the
xlsx exports and check-then-confirm imports of each of them.

Reads start from the user's scope (``in_scope``); every change is a ``services`` call
through ``apply_service``, with the version the user saw.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import NamedTuple

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import CHANGE_PEOPLE, RECORD_SERVICES, Role, can
from liudong.base import scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.regions.codes import subtree_q
from liudong.tabular import ImportSummary, TableError
from liudong.web import uploads
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import services, spreadsheets
from .forms import (
    ActivityForm,
    ActivityPhotoForm,
    AssociationActivityForm,
    BranchForm,
    CampaignForm,
    CountsForm,
    FollowUpForm,
    HelpCreateForm,
    HelpEditForm,
    HelpFilterForm,
    MemberForm,
    MembershipEditForm,
    ServiceFilterForm,
    ServiceRecordForm,
    UploadForm,
    VersionedForm,
)
from .models import (
    MAX_ACTIVITY_PHOTOS,
    Activity,
    AssociationActivity,
    AssociationBranch,
    Campaign,
    FollowUp,
    HelpCategory,
    HelpRequest,
    HelpStatus,
    Membership,
    ServiceRecord,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _may_change_campaign(user, campaign: Campaign) -> bool:
    return can(user, RECORD_SERVICES) and campaign.organiser_region_id.startswith(user.region_id)


# --- campaigns -----------------------------------------------------------------------------


def _campaign(request, pk) -> Campaign:
    return scoped_object_or_404(
        Campaign.objects.select_related("organiser_region"), request.user, pk=pk
    )


def _form_page(request, form, save, *, saved, heading, back, done_url=None, subject=""):
    """A page with one form saved through a service: on success a message and a redirect
    (to ``done_url(result)``, else ``back``); otherwise the form again, errors on their
    fields."""
    if request.method == "POST" and form.is_valid():
        result = apply_service(form, save)
        if result is not None:
            messages.success(request, saved)
            return redirect(done_url(result) if done_url else back)
    return render(
        request,
        "services/form.html",
        {"form": form, "heading": heading, "subject": subject, "back": back},
    )


def _campaign_listing(request, today):
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


def _export(request, sheet: str, records, name: str, *, obj=None, region: str = ""):
    """The records a page lists as the xlsx ``spreadsheets.SHEETS[sheet]``, the export
    logged (under ``obj``, the campaign or branch they belong to, when given)."""
    region = region or request.user.region_id
    buffer = io.BytesIO()
    spreadsheets.write_sheet(
        sheet, records, buffer, acting_user=request.user, region=region, obj=obj
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _xlsx(buffer.getvalue(), f"{name}-{region}-{stamp}.xlsx")


@require_GET
@staff_required()
def campaign_export(request):
    campaigns, _when = _campaign_listing(request, timezone.localdate())
    return _export(request, "campaigns", campaigns.prefetch_related("regions"), "campaigns")


@require_GET
@staff_required()
def campaign_list(request):
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
def campaign_create(request):
    form = CampaignForm(request.POST or None, user=request.user)
    return _form_page(
        request,
        form,
        lambda: services.create_campaign(acting_user=request.user, **form.values()),
        saved=_("Campaign saved."),
        heading=_("New campaign"),
        back=reverse("services:campaigns"),
        done_url=lambda campaign: reverse("services:campaign", args=[campaign.pk]),
    )


@staff_required(RECORD_SERVICES)
def campaign_edit(request, pk):
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
    return _form_page(
        request,
        form,
        lambda: services.update_campaign(
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
def campaign_detail(request, pk):
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
            "summary": services.campaign_summary(campaign, user=request.user),
            "may_change": _may_change_campaign(request.user, campaign),
            "may_record": can(request.user, RECORD_SERVICES),
        },
    )


@require_GET
@staff_required()
def campaign_summary_xlsx(request, pk):
    campaign = _campaign(request, pk)
    summary = services.campaign_summary(campaign, user=request.user)
    buffer = io.BytesIO()
    services.write_summary_xlsx(summary, buffer, acting_user=request.user)
    return _xlsx(buffer.getvalue(), f"campaign-{campaign.pk}-summary.xlsx")


@require_GET
@staff_required()
def activity_export(request, pk):
    """The campaign's activities in the user's region, in the columns the import reads."""
    campaign = _campaign(request, pk)
    activities = (
        Activity.objects.in_scope(request.user).filter(campaign=campaign).order_by("date", "pk")
    )
    name = f"campaign-{campaign.pk}-activities"
    return _export(request, "campaign_activities", activities, name, obj=campaign)


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
def activity_create(request, pk):
    campaign = _campaign(request, pk)
    form = ActivityForm(
        request.POST or None,
        user=request.user,
        campaign=campaign,
        initial={"date": min(timezone.localdate(), campaign.ends_on)},
    )
    activity = None
    if request.method == "POST" and form.is_valid():
        activity = apply_service(
            form,
            lambda: services.create_activity(
                acting_user=request.user, campaign=campaign, **form.values()
            ),
        )
    if activity is not None:
        messages.success(request, _("Activity saved."))
        return redirect("services:campaign", pk=campaign.pk)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("New activity"),
            "subject": campaign.name,
            "back": reverse("services:campaign", args=[campaign.pk]),
        },
    )


@staff_required(RECORD_SERVICES)
def activity_edit(request, pk):
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
    done = None
    if request.method == "POST" and "delete" in request.POST:
        services.delete_activity(acting_user=request.user, activity=activity)
        messages.success(request, _("Activity deleted."))
        return redirect("services:campaign", pk=campaign.pk)
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: services.update_activity(
                acting_user=request.user,
                activity=activity,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
    if done is not None:
        messages.success(request, _("Activity saved."))
        return redirect("services:campaign", pk=campaign.pk)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("Edit activity"),
            "subject": campaign.name,
            "back": reverse("services:campaign", args=[campaign.pk]),
            "deletable": True,
        },
    )


# --- imports (upload, preview, confirm) ----------------------------------------------------


def _import_page(
    request, *, key: str, importer, subject: str, back: str, columns: str, note: str = ""
):
    """Upload a file and see what it would do (nothing saved); confirm to import the
    valid rows. The file waits under var/uploads/ between the two, named in the session."""
    session_key = f"services-import:{key}"
    if request.method == "POST" and "confirm" in request.POST:
        token = request.session.pop(session_key, None)
        if not token:
            messages.error(request, _("The uploaded file is gone: upload it again."))
            return redirect(request.path)
        try:
            summary = importer(uploads.upload_path(token), commit=True)
        except (FileNotFoundError, TableError) as exc:
            messages.error(request, str(exc) or _("The uploaded file is gone: upload it again."))
            return redirect(request.path)
        finally:
            uploads.discard(token)
        messages.success(
            request,
            _(
                "Imported: %(imported)s new, %(updated)s updated, %(unchanged)s unchanged, "
                "%(rejected)s rows refused."
            )
            % {
                "imported": summary.imported,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "rejected": len({p["row"] for p in summary.rejected}),
            },
        )
        return redirect(back)
    form = UploadForm(request.POST or None, request.FILES or None)
    summary = None
    if request.method == "POST" and form.is_valid():
        try:
            token = uploads.save_upload(form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            try:
                summary = importer(uploads.upload_path(token), commit=False)
            except TableError as exc:
                uploads.discard(token)
                form.add_error("file", str(exc))
            else:
                old = request.session.get(session_key)
                if old:
                    uploads.discard(old)
                request.session[session_key] = token
    return render(
        request,
        "services/import.html",
        {
            "form": form,
            "summary": summary,
            "valid": (summary.imported + summary.updated + summary.unchanged) if summary else 0,
            "subject": subject,
            "back": back,
            "columns": columns,
            "note": note,
        },
    )


@staff_required(RECORD_SERVICES)
def activity_import(request, pk):
    campaign = _campaign(request, pk)
    return _import_page(
        request,
        key=f"activities:{campaign.pk}",
        importer=lambda path, commit: spreadsheets.import_activities(
            path, campaign=campaign, acting_user=request.user, commit=commit
        ),
        subject=_("Import activities of %(name)s") % {"name": campaign.name},
        back=reverse("services:campaign", args=[campaign.pk]),
        columns="日期, 地点, 区划代码, 参加人数, 宣传品, 避孕药具",
    )


def _branch_import(request, pk, what: str, importer, subject: str, columns: str):
    """An import page into one branch: ``importer`` takes the file, the branch,
    ``acting_user`` and ``commit``; ``subject`` names the branch as %(name)s."""
    branch = _branch(request, pk)
    return _import_page(
        request,
        key=f"{what}:{branch.pk}",
        importer=lambda path, commit: importer(
            path, branch=branch, acting_user=request.user, commit=commit
        ),
        subject=subject % {"name": branch.name},
        back=reverse("services:branch", args=[branch.pk]),
        columns=columns,
    )


@staff_required(RECORD_SERVICES)
def member_import(request, pk):
    subject = _("Import members of %(name)s")
    columns = "公民身份号码, 角色, 入会日期"
    return _branch_import(request, pk, "members", spreadsheets.import_members, subject, columns)


@staff_required(RECORD_SERVICES)
def branch_activity_import(request, pk):
    importer = spreadsheets.import_association_activities
    subject = _("Import activities of %(name)s")
    columns = _columns(spreadsheets.ASSOCIATION_ACTIVITY_COLUMNS)
    return _branch_import(request, pk, "association-activities", importer, subject, columns)


class ListImport(NamedTuple):
    """An import page of a whole list: the ``spreadsheets`` function (taking the file,
    ``acting_user`` and ``commit``), the page's title, the list it returns to, the
    columns it reads, those that find an existing record, and the capability it needs
    besides recording services."""

    importer: Callable[..., ImportSummary]
    subject: str | Promise
    back: str
    columns: dict
    matched_by: str
    capability: str = RECORD_SERVICES


LIST_IMPORTS = {
    # Help requests are a person's own affairs: only roles that see them import them.
    "help": ListImport(
        spreadsheets.import_help_requests,
        gettext_lazy("Import help requests"),
        "services:help_list",
        spreadsheets.HELP_COLUMNS,
        "编号, 或 公民身份号码 (完整), 类别, 受理日期",
        CHANGE_PEOPLE,
    ),
    "follow_ups": ListImport(
        spreadsheets.import_follow_ups,
        gettext_lazy("Import follow-ups"),
        "services:followups",
        spreadsheets.FOLLOW_UP_COLUMNS,
        "编号, 或 公民身份号码 (完整), 服务类型, 服务日期, 随访日期",
    ),
    "campaigns": ListImport(
        spreadsheets.import_campaigns,
        gettext_lazy("Import campaigns"),
        "services:campaigns",
        spreadsheets.CAMPAIGN_COLUMNS,
        "名称, 开始日期 (组织单位代码)",
    ),
    "branches": ListImport(
        spreadsheets.import_branches,
        gettext_lazy("Import association branches"),
        "services:branches",
        spreadsheets.BRANCH_COLUMNS,
        "名称, 区划代码",
    ),
}


def _columns(columns: dict) -> str:
    return ", ".join(names[0] for names in columns.values())


@staff_required(RECORD_SERVICES)
def list_import(request, what: str):
    """Upload, preview and confirm one of ``LIST_IMPORTS`` (the URL names which)."""
    spec = LIST_IMPORTS[what]
    if not can(request.user, spec.capability):
        raise PermissionDenied(_("Your role does not allow this page."))
    return _import_page(
        request,
        key=what,
        importer=lambda path, commit: spec.importer(path, acting_user=request.user, commit=commit),
        subject=str(spec.subject),
        back=reverse(spec.back),
        columns=_columns(spec.columns),
        note=_(
            "A row changes the record with the same %(key)s, else it adds one. Blank cells "
            "leave a value as it is: a file exported here imports back unchanged."
        )
        % {"key": spec.matched_by},
    )


# --- help requests -------------------------------------------------------------------------


def _help_listing(request):
    form = HelpFilterForm(request.GET or None)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    status = data.get("status") or ""
    if status:
        requests = (
            HelpRequest.objects.in_scope(request.user)
            .filter(status=status)
            .select_related("person", "region", "handler")
            .order_by("deadline", "pk")
        )
    else:
        requests = services.help_worklist(request.user)
    if data.get("category"):
        requests = requests.filter(category=data["category"])
    return form, requests


@require_GET
@staff_required(RECORD_SERVICES)
def help_list(request):
    """The worklist: open and in progress, overdue first; and counts for a region and period."""
    form, requests = _help_listing(request)
    counts_form = CountsForm(
        request.GET or None, user=request.user, initial={"region": request.user.region_id}
    )
    counts_form.is_valid()
    period = getattr(counts_form, "cleaned_data", {}) or {}
    region = period.get("region")
    counts = services.help_counts(
        request.user,
        region=region.code if region else None,
        received_from=period.get("received_from"),
        received_to=period.get("received_to"),
    )
    return render(
        request,
        "services/help_list.html",
        {
            "tab": "help",
            "form": form,
            "counts_form": counts_form,
            "requests": requests[:500],
            "today": timezone.localdate(),
            "counts": counts,
            "by_category": [
                (label, counts["by_category"][value]) for value, label in HelpCategory.choices
            ],
            "by_status": [
                (label, counts["by_status"][value]) for value, label in HelpStatus.choices
            ],
            "query": request.GET.urlencode(),
            "may_import": can(request.user, CHANGE_PEOPLE),
        },
    )


@require_GET
@staff_required(RECORD_SERVICES)
def help_export(request):
    _form, requests = _help_listing(request)
    buffer = io.BytesIO()
    spreadsheets.write_help_requests(
        requests, buffer, acting_user=request.user, region=request.user.region_id
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _xlsx(buffer.getvalue(), f"help-requests-{request.user.region_id}-{stamp}.xlsx")


@staff_required(RECORD_SERVICES)
def help_create(request):
    initial = {"id_number": request.GET.get("id_number", "")}
    form = HelpCreateForm(request.POST or None, user=request.user, initial=initial)
    form.fields["id_number"].widget.attrs.update(_lookup_attrs())
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = apply_service(
            form,
            lambda: services.create_help_request(
                acting_user=request.user,
                person=form.person,
                category=data["category"],
                description=data["description"],
                received_on=data["received_on"],
                deadline=data["deadline"],
            ),
        )
    if created is not None:
        messages.success(request, _("Help request recorded."))
        return redirect("services:help", pk=created.pk)
    return render(
        request,
        "services/help_create.html",
        {"tab": "help", "form": form, "back": reverse("services:help_list")},
    )


@require_GET
@staff_required(RECORD_SERVICES)
def person_lookup(request):
    """Whose file an ID number typed in a form names (htmx): the name, or why not."""
    raw = request.GET.get("id_number", "").strip()
    context: dict = {"typed": raw}
    if len(raw) >= 15:
        try:
            context["person"] = spreadsheets.find_person(request.user, raw)
        except spreadsheets.RowProblem as problem:
            context["error"] = problem.message
    return render(request, "services/_person_lookup.html", context)


@staff_required(RECORD_SERVICES)
def help_detail(request, pk):
    help_request = scoped_object_or_404(
        HelpRequest.objects.select_related("person", "region", "handler"),
        request.user,
        pk=pk,
    )
    initial = {
        "handler": help_request.handler_id,
        "status": help_request.status,
        "category": help_request.category,
        "description": help_request.description,
        "deadline": help_request.deadline,
        "outcome": help_request.outcome,
        "resolved_on": help_request.resolved_on,
        "version": help_request.version,
    }
    form = HelpEditForm(
        request.POST or None, initial=initial, user=request.user, help_request=help_request
    )
    done = None
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: services.update_help_request(
                acting_user=request.user,
                help_request=help_request,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
    if done is not None:
        messages.success(request, _("Help request saved."))
        return redirect("services:help", pk=help_request.pk)
    if request.method == "POST":
        help_request.refresh_from_db()
    return render(
        request,
        "services/help_detail.html",
        {
            "tab": "help",
            "item": help_request,
            "form": form,
            "overdue": help_request.is_overdue(timezone.localdate()),
        },
    )


# --- associations --------------------------------------------------------------------------


def _branch(request, pk) -> AssociationBranch:
    return scoped_object_or_404(
        AssociationBranch.objects.select_related("region"), request.user, pk=pk
    )


@require_GET
@staff_required(RECORD_SERVICES)
def branch_list(request):
    from django.db.models import Count, Q

    branches = (
        AssociationBranch.objects.in_scope(request.user)
        .select_related("region")
        .annotate(members=Count("memberships", filter=Q(memberships__left_on__isnull=True)))
    )
    return render(request, "services/branches.html", {"tab": "associations", "branches": branches})


def _branch_initial(branch: AssociationBranch) -> dict:
    return {
        "name": branch.name,
        "region": branch.region_id,
        "place": branch.place,
        "founded_on": branch.founded_on,
        "version": branch.version,
    }


@staff_required(RECORD_SERVICES)
def branch_create(request):
    form = BranchForm(request.POST or None, user=request.user)
    return _form_page(
        request,
        form,
        lambda: services.create_branch(acting_user=request.user, **form.values()),
        saved=_("Branch saved."),
        heading=_("New association branch"),
        back=reverse("services:branches"),
        done_url=lambda branch: reverse("services:branch", args=[branch.pk]),
    )


@staff_required(RECORD_SERVICES)
def branch_edit(request, pk):
    branch = _branch(request, pk)
    form = BranchForm(request.POST or None, initial=_branch_initial(branch), user=request.user)
    return _form_page(
        request,
        form,
        lambda: services.update_branch(
            acting_user=request.user,
            branch=branch,
            expected_version=form.cleaned_data["version"],
            **form.values(),
        ),
        saved=_("Branch saved."),
        heading=_("Edit association branch"),
        back=reverse("services:branch", args=[branch.pk]),
    )


@require_GET
@staff_required(RECORD_SERVICES)
def branch_detail(request, pk):
    branch = _branch(request, pk)
    memberships = list(
        branch.memberships.select_related("person").order_by("left_on", "-joined_on", "pk")
    )
    return render(
        request,
        "services/branch.html",
        {
            "tab": "associations",
            "branch": branch,
            "current": [m for m in memberships if m.left_on is None],
            "former": [m for m in memberships if m.left_on is not None],
            "activities": branch.activities.order_by("-date", "-pk"),
        },
    )


@require_GET
@staff_required(RECORD_SERVICES)
def member_export(request, pk):
    branch = _branch(request, pk)
    buffer = io.BytesIO()
    spreadsheets.write_members(branch, buffer, acting_user=request.user)
    return _xlsx(buffer.getvalue(), f"association-{branch.pk}-members.xlsx")


@require_GET
@staff_required(RECORD_SERVICES)
def branch_export(request):
    branches = AssociationBranch.objects.in_scope(request.user).order_by("region_id", "name")
    return _export(request, "branches", branches, "association-branches")


@require_GET
@staff_required(RECORD_SERVICES)
def branch_activity_export(request, pk):
    branch = _branch(request, pk)
    activities = branch.activities.order_by("date", "pk")
    name = f"association-{branch.pk}-activities"
    return _export(
        request, "association_activities", activities, name, obj=branch, region=branch.region_id
    )


@staff_required(RECORD_SERVICES)
def member_add(request, pk):
    branch = _branch(request, pk)
    form = MemberForm(
        request.POST or None, user=request.user, initial={"joined_on": timezone.localdate()}
    )
    form.fields["id_number"].widget.attrs.update(_lookup_attrs())
    membership = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        membership = apply_service(
            form,
            lambda: services.create_membership(
                acting_user=request.user,
                branch=branch,
                person=form.person,
                joined_on=data["joined_on"],
                role=data["role"],
            ),
        )
    if membership is not None:
        messages.success(request, _("Member added."))
        return redirect("services:branch", pk=branch.pk)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("Add member"),
            "subject": branch.name,
            "lookup": True,
            "back": reverse("services:branch", args=[branch.pk]),
        },
    )


def _lookup_attrs() -> dict:
    return {
        "hx-get": reverse("services:person_lookup"),
        "hx-trigger": "input changed delay:400ms, change",
        "hx-target": "#person-lookup",
        "hx-swap": "outerHTML",
        "hx-sync": "this:replace",
    }


@staff_required(RECORD_SERVICES)
def member_edit(request, pk):
    membership = scoped_object_or_404(
        Membership.objects.select_related("branch", "person"), request.user, pk=pk
    )
    initial = {
        "role": membership.role,
        "joined_on": membership.joined_on,
        "left_on": membership.left_on,
        "version": membership.version,
    }
    form = MembershipEditForm(request.POST or None, initial=initial)
    return _form_page(
        request,
        form,
        lambda: services.update_membership(
            acting_user=request.user,
            membership=membership,
            expected_version=form.cleaned_data["version"],
            **form.values(),
        ),
        saved=_("Member saved."),
        heading=_("Edit member"),
        back=reverse("services:branch", args=[membership.branch_id]),
        subject=f"{membership.person.name} · {membership.branch.name}",
    )


@require_POST
@staff_required(RECORD_SERVICES)
@post_guarded
def member_leave(request, pk):
    """Mark a member as having left today (the edit page takes another date)."""
    membership = scoped_object_or_404(
        Membership.objects.select_related("branch", "person"), request.user, pk=pk
    )
    form = MembershipEditForm(
        {
            "role": membership.role,
            "joined_on": membership.joined_on,
            "left_on": timezone.localdate(),
            "version": request.POST.get("version"),
        }
    )
    saved = None
    if form.is_valid():
        saved = apply_service(
            form,
            lambda: services.update_membership(
                acting_user=request.user,
                membership=membership,
                expected_version=form.cleaned_data["version"],
                left_on=form.cleaned_data["left_on"],
            ),
        )
    if saved is not None:
        messages.success(
            request, _("%(name)s has left the branch.") % {"name": membership.person.name}
        )
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems) or _("Not saved."))
    return redirect("services:branch", pk=membership.branch_id)


@staff_required(RECORD_SERVICES)
def branch_activity_create(request, pk):
    branch = _branch(request, pk)
    form = AssociationActivityForm(request.POST or None, initial={"date": timezone.localdate()})
    activity = None
    if request.method == "POST" and form.is_valid():
        activity = apply_service(
            form,
            lambda: services.create_association_activity(
                acting_user=request.user, branch=branch, **form.values()
            ),
        )
    if activity is not None:
        messages.success(request, _("Activity saved."))
        return redirect("services:branch", pk=branch.pk)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("New association activity"),
            "subject": branch.name,
            "back": reverse("services:branch", args=[branch.pk]),
        },
    )


@staff_required(RECORD_SERVICES)
def branch_activity_edit(request, pk):
    activity = scoped_object_or_404(
        AssociationActivity.objects.select_related("branch"), request.user, pk=pk
    )
    initial = {
        "date": activity.date,
        "title": activity.title,
        "participants_count": activity.participants_count,
        "notes": activity.notes,
        "version": activity.version,
    }
    form = AssociationActivityForm(request.POST or None, initial=initial)
    return _form_page(
        request,
        form,
        lambda: services.update_association_activity(
            acting_user=request.user,
            activity=activity,
            expected_version=form.cleaned_data["version"],
            **form.values(),
        ),
        saved=_("Activity saved."),
        heading=_("Edit association activity"),
        back=reverse("services:branch", args=[activity.branch_id]),
        subject=activity.branch.name,
    )


# --- service records and follow-ups --------------------------------------------------------


def _record(request, pk) -> ServiceRecord:
    return get_object_or_404(services.service_records_for(request.user), pk=pk)


def _record_listing(request):
    """The records in the user's scope under the page's filter, newest first."""
    form = ServiceFilterForm(request.GET or None, user=request.user)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    records = services.service_records_for(request.user).order_by("-date", "-pk")
    if data.get("service_type"):
        records = records.filter(service_type=data["service_type"])
    if data.get("date_from"):
        records = records.filter(date__gte=data["date_from"])
    if data.get("date_to"):
        records = records.filter(date__lte=data["date_to"])
    if data.get("region"):
        records = records.filter(subtree_q(data["region"].code, "region_id"))
    if data.get("free") in ("yes", "no"):
        records = records.filter(free_of_charge=data["free"] == "yes")
    if data.get("campaign"):
        records = records.filter(campaign=data["campaign"])
    query = (data.get("q") or "").strip()
    if query:
        number = query.upper()
        records = records.filter(Q(person__name__contains=query) | Q(person__id_number=number))
    return form, records, data


@require_GET
@staff_required(RECORD_SERVICES)
def record_list(request):
    """The service-records tab: what was given in the user's scope (never the result)."""
    form, records, _data = _record_listing(request)
    return render(
        request,
        "services/records.html",
        {
            "tab": "records",
            "form": form,
            "records": records[:500],
            "query": request.GET.urlencode(),
            "due_count": services.followups_due(request.user).count(),
        },
    )


@require_GET
@staff_required(RECORD_SERVICES)
def record_export(request):
    _form, records, data = _record_listing(request)
    region = data["region"].code if data.get("region") else request.user.region_id
    filters = {
        key: str(getattr(value, "pk", value))
        for key, value in data.items()
        if value not in (None, "")
    }
    buffer = io.BytesIO()
    spreadsheets.write_service_records(
        records.order_by("date", "pk"),
        buffer,
        acting_user=request.user,
        region=region,
        filters=filters,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _xlsx(buffer.getvalue(), f"service-records-{region}-{stamp}.xlsx")


def _may_keep_results(user) -> bool:
    """Whether a new record's form offers the result (the service checks her file)."""
    return user.role in (Role.PROVIDER, Role.TOWNSHIP)


@staff_required(RECORD_SERVICES)
def record_create(request):
    initial = {"id_number": request.GET.get("id_number", ""), "free_of_charge": True}
    form = ServiceRecordForm(
        request.POST or None,
        user=request.user,
        with_person=True,
        with_result=_may_keep_results(request.user),
        initial=initial,
    )
    form.fields["id_number"].widget.attrs.update(_lookup_attrs())
    created = None
    if request.method == "POST" and form.is_valid():

        def record_and_schedule() -> ServiceRecord:
            with transaction.atomic():
                record = services.create_service_record(
                    acting_user=request.user, person=form.person, **form.values()
                )
                due_on = form.cleaned_data.get("follow_up_on")
                if due_on is not None:
                    try:
                        services.schedule_follow_up(
                            acting_user=request.user, service=record, due_on=due_on
                        )
                    except ValidationError as exc:
                        # Its field on this form is follow_up_on.
                        raise ValidationError({"follow_up_on": exc.messages}) from exc
                return record

        created = apply_service(form, record_and_schedule)
    if created is not None:
        messages.success(request, _("Service recorded."))
        return redirect("services:record", pk=created.pk)
    return render(
        request,
        "services/record_form.html",
        {
            "tab": "records",
            "form": form,
            "heading": _("Record a service"),
            "back": reverse("services:records"),
            "person": form.person,
        },
    )


def _record_initial(record: ServiceRecord, *, with_result: bool) -> dict:
    initial = {
        "service_type": record.service_type,
        "date": record.date,
        "provider": record.provider_id,
        "provider_name": record.provider_name,
        "region": record.region_id,
        "free_of_charge": record.free_of_charge,
        "consent_recorded": record.consent_recorded,
        "contraceptive_method": record.contraceptive_method,
        "contraceptive_method_other": record.contraceptive_method_other,
        "campaign": record.campaign_id,
        "version": record.version,
    }
    if with_result:
        initial["result"] = record.result
    return initial


@staff_required(RECORD_SERVICES)
def record_detail(request, pk):
    """A record with its follow-ups, and the form to correct it. The result is shown
    (and its reading logged) only to those who may see it."""
    record = _record(request, pk)
    may_see = services.may_see_result(request.user, record)
    form = ServiceRecordForm(
        request.POST or None,
        initial=_record_initial(record, with_result=may_see),
        user=request.user,
        with_person=False,
        with_result=may_see,
    )
    done = None
    if request.method == "POST" and form.is_valid():
        values = form.values()
        values.setdefault("region", record.region)
        done = apply_service(
            form,
            lambda: services.update_service_record(
                acting_user=request.user,
                record=record,
                expected_version=form.cleaned_data["version"],
                **values,
            ),
        )
    if done is not None:
        messages.success(request, _("Service saved."))
        return redirect("services:record", pk=record.pk)
    if request.method == "POST":
        record = _record(request, pk)
    shows_result = services.read_service_record(request.user, record)
    return render(
        request,
        "services/record.html",
        {
            "tab": "records",
            "record": record,
            "form": form,
            "shows_result": shows_result,
            # The service keeps a result out of reach of those who may not see it: they
            # cannot correct such a record, so they are not offered the form.
            "may_correct": shows_result or not (record.result or "").strip(),
            "follow_ups": record.follow_ups.select_related("done_by").order_by("due_on", "pk"),
            "follow_up_form": FollowUpForm(prefix="fu"),
            "today": timezone.localdate(),
        },
    )


@require_POST
@staff_required(RECORD_SERVICES)
def follow_up_create(request, pk):
    record = _record(request, pk)
    form = FollowUpForm(request.POST, prefix="fu")
    saved = None
    if form.is_valid():
        saved = apply_service(
            form,
            lambda: services.schedule_follow_up(
                acting_user=request.user,
                service=record,
                due_on=form.cleaned_data["due_on"],
                notes=form.cleaned_data["notes"],
            ),
        )
    if saved is not None:
        messages.success(request, _("Follow-up scheduled."))
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems) or _("Not saved."))
    return redirect("services:record", pk=record.pk)


@require_POST
@staff_required(RECORD_SERVICES)
@post_guarded
def follow_up_done(request, pk):
    """Mark a follow-up done today, with the version the user saw."""
    follow_up = scoped_object_or_404(
        FollowUp.objects.select_related("service", "service__person"),
        request.user,
        pk=pk,
    )
    form = VersionedForm(request.POST)
    saved = None
    if form.is_valid():
        saved = apply_service(
            form,
            lambda: services.update_follow_up(
                acting_user=request.user,
                follow_up=follow_up,
                expected_version=form.cleaned_data["version"],
                done_on=timezone.localdate(),
            ),
        )
    if saved is not None:
        messages.success(
            request,
            _("Follow-up of %(name)s marked done.") % {"name": follow_up.service.person.name},
        )
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(problems) or _("Not saved."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("services:followups")
    return redirect(target)


@require_GET
@staff_required(RECORD_SERVICES)
def followup_list(request):
    """Due (within a week) and overdue follow-ups in the user's scope, overdue first."""
    return render(
        request,
        "services/followups.html",
        {
            "tab": "followups",
            "follow_ups": services.followups_due(request.user)[:500],
            "today": timezone.localdate(),
        },
    )


@require_GET
@staff_required(RECORD_SERVICES)
def followup_export(request):
    """The worklist as the page lists it (masked ID numbers, never a service's result),
    with a 完成日期 column to fill in and import back."""
    return _export(request, "follow_ups", services.followups_due(request.user), "follow-ups")


@staff_required(RECORD_SERVICES)
def record_import(request):
    return _import_page(
        request,
        key="service-records",
        importer=lambda path, commit: spreadsheets.import_service_records(
            path, acting_user=request.user, commit=commit
        ),
        subject=_("Import service records"),
        back=reverse("services:records"),
        columns="公民身份号码, 服务类型, 服务日期, 服务机构, 免费 (是/否), 本人同意 (是), 避孕方法",
    )


# --- activity photos -----------------------------------------------------------------------


def _photo_activity(request, pk) -> Activity:
    return scoped_object_or_404(
        Activity.objects.select_related("campaign", "region"), request.user, pk=pk
    )


@staff_required(RECORD_SERVICES)
def activity_photos(request, pk):
    """An activity's photos: add one (opened and re-encoded by the service), remove one."""
    activity = _photo_activity(request, pk)
    form = ActivityPhotoForm(request.POST or None, request.FILES or None)
    added = None
    if request.method == "POST" and form.is_valid():
        added = apply_service(
            form,
            lambda: services.add_activity_photo(
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
def activity_photo(request, pk):
    """The photo (``?size=thumb``: its thumbnail), only for a reader who sees the
    activity: the files are not public media."""
    photo = get_object_or_404(services.photos_for(request.user), pk=pk)
    name = photo.thumbnail_name if request.GET.get("size") == "thumb" else photo.file
    try:
        handle = services.photo_path(name).open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The photo file is missing.")) from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@staff_required(RECORD_SERVICES)
def activity_photo_remove(request, pk):
    photo = get_object_or_404(services.photos_for(request.user).select_related("activity"), pk=pk)
    try:
        services.remove_activity_photo(acting_user=request.user, photo=photo)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Photo removed."))
    return redirect("services:activity_photos", pk=photo.activity_id)
