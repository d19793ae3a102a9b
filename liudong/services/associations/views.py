"""The association pages: branches, their members and activities, with their imports and
exports. Thin: rules are ``associations.services``'; must not touch the other sub-domains.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import RECORD_SERVICES
from liudong.base import scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.services.associations import services as association_services
from liudong.services.associations import spreadsheets as association_sheets
from liudong.services.forms import (
    AssociationActivityForm,
    BranchForm,
    MemberForm,
    MembershipEditForm,
)
from liudong.services.models import (
    AssociationActivity,
    AssociationBranch,
    Membership,
)
from liudong.services.views import (
    StaffRequest,
    column_names,
    export_list,
    form_page,
    import_page,
    lookup_attrs,
    xlsx_response,
)
from liudong.tabular import ImportSummary
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service


def _branch_import(
    request: StaffRequest,
    pk: int,
    what: str,
    importer: Callable[..., ImportSummary],
    subject: str,
    columns: str,
) -> HttpResponse:
    """An import page into one branch: ``importer`` takes the file, the branch,
    ``acting_user`` and ``commit``; ``subject`` names the branch as %(name)s."""
    branch = _branch(request, pk)
    return import_page(
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
def member_import(request: StaffRequest, pk: int) -> HttpResponse:
    subject = _("Import members of %(name)s")
    columns = "公民身份号码, 角色, 入会日期"
    return _branch_import(
        request, pk, "members", association_sheets.import_members, subject, columns
    )


@staff_required(RECORD_SERVICES)
def branch_activity_import(request: StaffRequest, pk: int) -> HttpResponse:
    importer = association_sheets.import_association_activities
    subject = _("Import activities of %(name)s")
    columns = column_names(association_sheets.ASSOCIATION_ACTIVITY_COLUMNS)
    return _branch_import(request, pk, "association-activities", importer, subject, columns)


# --- associations --------------------------------------------------------------------------


def _branch(request: StaffRequest, pk: int) -> AssociationBranch:
    return scoped_object_or_404(
        AssociationBranch.objects.select_related("region"), request.user, pk=pk
    )


@require_GET
@staff_required(RECORD_SERVICES)
def branch_list(request: StaffRequest) -> HttpResponse:
    from django.db.models import Count

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
def branch_create(request: StaffRequest) -> HttpResponse:
    form = BranchForm(request.POST or None, user=request.user)
    return form_page(
        request,
        form,
        lambda: association_services.create_branch(acting_user=request.user, **form.values()),
        saved=_("Branch saved."),
        heading=_("New association branch"),
        back=reverse("services:branches"),
        done_url=lambda branch: reverse("services:branch", args=[branch.pk]),
    )


@staff_required(RECORD_SERVICES)
def branch_edit(request: StaffRequest, pk: int) -> HttpResponse:
    branch = _branch(request, pk)
    form = BranchForm(request.POST or None, initial=_branch_initial(branch), user=request.user)
    return form_page(
        request,
        form,
        lambda: association_services.update_branch(
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
def branch_detail(request: StaffRequest, pk: int) -> HttpResponse:
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
def member_export(request: StaffRequest, pk: int) -> HttpResponse:
    branch = _branch(request, pk)
    buffer = io.BytesIO()
    association_sheets.write_members(branch, buffer, acting_user=request.user)
    return xlsx_response(buffer.getvalue(), f"association-{branch.pk}-members.xlsx")


@require_GET
@staff_required(RECORD_SERVICES)
def branch_export(request: StaffRequest) -> HttpResponse:
    branches = AssociationBranch.objects.in_scope(request.user).order_by("region_id", "name")
    return export_list(request, association_sheets.BRANCH_SHEET, branches, "association-branches")


@require_GET
@staff_required(RECORD_SERVICES)
def branch_activity_export(request: StaffRequest, pk: int) -> HttpResponse:
    branch = _branch(request, pk)
    activities = branch.activities.order_by("date", "pk")
    name = f"association-{branch.pk}-activities"
    return export_list(
        request,
        association_sheets.ASSOCIATION_ACTIVITY_SHEET,
        activities,
        name,
        obj=branch,
        region=branch.region_id,
    )


@staff_required(RECORD_SERVICES)
def member_add(request: StaffRequest, pk: int) -> HttpResponse:
    branch = _branch(request, pk)
    form = MemberForm(
        request.POST or None, user=request.user, initial={"joined_on": timezone.localdate()}
    )
    form.fields["id_number"].widget.attrs.update(lookup_attrs())
    return form_page(
        request,
        form,
        lambda: association_services.create_membership(
            acting_user=request.user,
            branch=branch,
            person=form.person,
            joined_on=form.cleaned_data["joined_on"],
            role=form.cleaned_data["role"],
        ),
        saved=_("Member added."),
        heading=_("Add member"),
        back=reverse("services:branch", args=[branch.pk]),
        subject=branch.name,
        lookup=True,
    )


@staff_required(RECORD_SERVICES)
def member_edit(request: StaffRequest, pk: int) -> HttpResponse:
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
    return form_page(
        request,
        form,
        lambda: association_services.update_membership(
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
def member_leave(request: StaffRequest, pk: int) -> HttpResponse:
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
            lambda: association_services.update_membership(
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
def branch_activity_create(request: StaffRequest, pk: int) -> HttpResponse:
    branch = _branch(request, pk)
    form = AssociationActivityForm(request.POST or None, initial={"date": timezone.localdate()})
    return form_page(
        request,
        form,
        lambda: association_services.create_association_activity(
            acting_user=request.user, branch=branch, **form.values()
        ),
        saved=_("Activity saved."),
        heading=_("New association activity"),
        back=reverse("services:branch", args=[branch.pk]),
        subject=branch.name,
    )


@staff_required(RECORD_SERVICES)
def branch_activity_edit(request: StaffRequest, pk: int) -> HttpResponse:
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
    return form_page(
        request,
        form,
        lambda: association_services.update_association_activity(
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
