"""Services pages: the hub with its tabs (campaigns, help requests, associations), campaign
pages with activities, the summary and its xlsx, the help-request worklist with counts and
export, association branches with members and activities, and the check-then-confirm
imports of members and activities.

Reads start from the user's scope (``in_scope``); every change is a ``services`` call
through ``apply_service``, with the version the user saw.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import RECORD_SERVICES, can
from liudong.tabular import TableError
from liudong.web import uploads
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import services, spreadsheets
from .forms import (
    ActivityForm,
    AssociationActivityForm,
    BranchForm,
    CampaignForm,
    CountsForm,
    HelpCreateForm,
    HelpEditForm,
    HelpFilterForm,
    MemberForm,
    MembershipEditForm,
    UploadForm,
)
from .models import (
    Activity,
    AssociationActivity,
    AssociationBranch,
    Campaign,
    HelpCategory,
    HelpRequest,
    HelpStatus,
    Membership,
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
    return get_object_or_404(
        Campaign.objects.in_scope(request.user).select_related("organiser_region"), pk=pk
    )


@require_GET
@staff_required()
def campaign_list(request):
    """The hub's first tab: campaigns in the user's region, current ones by default."""
    today = timezone.localdate()
    when = request.GET.get("when", "current")
    campaigns = Campaign.objects.in_scope(request.user).select_related("organiser_region")
    if when == "current":
        campaigns = campaigns.filter(ends_on__gte=today)
    elif when == "past":
        campaigns = campaigns.filter(ends_on__lt=today)
    else:
        when = "all"
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
    campaign = None
    if request.method == "POST" and form.is_valid():
        campaign = apply_service(
            form,
            lambda: services.create_campaign(acting_user=request.user, **form.values()),
        )
    if campaign is not None:
        messages.success(request, _("Campaign saved."))
        return redirect("services:campaign", pk=campaign.pk)
    return render(
        request,
        "services/form.html",
        {"form": form, "heading": _("New campaign"), "back": reverse("services:campaigns")},
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
    done = None
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: services.update_campaign(
                acting_user=request.user,
                campaign=campaign,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
    if done is not None:
        messages.success(request, _("Campaign saved."))
        return redirect("services:campaign", pk=campaign.pk)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("Edit campaign"),
            "back": reverse("services:campaign", args=[campaign.pk]),
        },
    )


@require_GET
@staff_required()
def campaign_detail(request, pk):
    campaign = _campaign(request, pk)
    activities = (
        Activity.objects.in_scope(request.user)
        .filter(campaign=campaign)
        .select_related("region")
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
    activity = get_object_or_404(
        Activity.objects.in_scope(request.user).select_related("campaign"), pk=pk
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


def _import_page(request, *, key: str, importer, subject: str, back: str, columns: str):
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


@staff_required(RECORD_SERVICES)
def member_import(request, pk):
    branch = _branch(request, pk)
    return _import_page(
        request,
        key=f"members:{branch.pk}",
        importer=lambda path, commit: spreadsheets.import_members(
            path, branch=branch, acting_user=request.user, commit=commit
        ),
        subject=_("Import members of %(name)s") % {"name": branch.name},
        back=reverse("services:branch", args=[branch.pk]),
        columns="公民身份号码, 角色, 入会日期",
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
    help_request = get_object_or_404(
        HelpRequest.objects.in_scope(request.user).select_related("person", "region", "handler"),
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
    return get_object_or_404(
        AssociationBranch.objects.in_scope(request.user).select_related("region"), pk=pk
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
    branch = None
    if request.method == "POST" and form.is_valid():
        branch = apply_service(
            form, lambda: services.create_branch(acting_user=request.user, **form.values())
        )
    if branch is not None:
        messages.success(request, _("Branch saved."))
        return redirect("services:branch", pk=branch.pk)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("New association branch"),
            "back": reverse("services:branches"),
        },
    )


@staff_required(RECORD_SERVICES)
def branch_edit(request, pk):
    branch = _branch(request, pk)
    form = BranchForm(request.POST or None, initial=_branch_initial(branch), user=request.user)
    done = None
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: services.update_branch(
                acting_user=request.user,
                branch=branch,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
    if done is not None:
        messages.success(request, _("Branch saved."))
        return redirect("services:branch", pk=branch.pk)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("Edit association branch"),
            "back": reverse("services:branch", args=[branch.pk]),
        },
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
    membership = get_object_or_404(
        Membership.objects.in_scope(request.user).select_related("branch", "person"), pk=pk
    )
    initial = {
        "role": membership.role,
        "joined_on": membership.joined_on,
        "left_on": membership.left_on,
        "version": membership.version,
    }
    form = MembershipEditForm(request.POST or None, initial=initial)
    done = None
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: services.update_membership(
                acting_user=request.user,
                membership=membership,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
    if done is not None:
        messages.success(request, _("Member saved."))
        return redirect("services:branch", pk=membership.branch_id)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("Edit member"),
            "subject": f"{membership.person.name} · {membership.branch.name}",
            "back": reverse("services:branch", args=[membership.branch_id]),
        },
    )


@require_POST
@staff_required(RECORD_SERVICES)
def member_leave(request, pk):
    """Mark a member as having left today (the edit page takes another date)."""
    membership = get_object_or_404(
        Membership.objects.in_scope(request.user).select_related("branch", "person"), pk=pk
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
    activity = get_object_or_404(
        AssociationActivity.objects.in_scope(request.user).select_related("branch"), pk=pk
    )
    initial = {
        "date": activity.date,
        "title": activity.title,
        "participants_count": activity.participants_count,
        "notes": activity.notes,
        "version": activity.version,
    }
    form = AssociationActivityForm(request.POST or None, initial=initial)
    done = None
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: services.update_association_activity(
                acting_user=request.user,
                activity=activity,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
    if done is not None:
        messages.success(request, _("Activity saved."))
        return redirect("services:branch", pk=activity.branch_id)
    return render(
        request,
        "services/form.html",
        {
            "form": form,
            "heading": _("Edit association activity"),
            "subject": activity.branch.name,
            "back": reverse("services:branch", args=[activity.branch_id]),
        },
    )
