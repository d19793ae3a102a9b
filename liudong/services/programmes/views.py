"""The programme pages, mounted at /programmes/: families (list, page, forms, children,
births certification), the application page with the eligibility check first, an
application's page with its steps (review, decision, appeal, withdrawal), the village
notices with their printable A4 list, and the county's worklist. Thin: every rule is
``programmes.services``'; eligibility is ``eligibility.judge`` and nothing else.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import APPROVE_BENEFITS, BENEFITS, can
from liudong.authorization import allowed
from liudong.base import scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.people import idnumbers
from liudong.regions.codes import subtree_q
from liudong.services.views import StaffRequest
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import printing, services
from .forms import (
    AppealForm,
    ApplyForm,
    CertifyForm,
    ChildForm,
    FamilyFilterForm,
    FamilyForm,
    NoticeForm,
    NoticeVillageForm,
    ReasonForm,
)
from .models import Application, Benefit, Family, FamilyChild, Programme, PublicNotice

SHOWN = 500  # a worklist, not an export
Status = Application.Status


def _page(request: StaffRequest, template: str, tab: str, **context: Any) -> HttpResponse:
    return render(
        request,
        f"programmes/{template}",
        {"tab": tab, "may_approve": can(request.user, APPROVE_BENEFITS), **context},
    )


# --- families ------------------------------------------------------------------------------


@require_GET
@staff_required(BENEFITS)
def family_list(request: StaffRequest) -> HttpResponse:
    form = FamilyFilterForm(request.GET or None, user=request.user)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    families: QuerySet[Family] = (
        Family.objects.in_scope(request.user)
        .select_related("household_region")
        .order_by("household_region", "applicant_name", "pk")
    )
    if region := data.get("region"):
        families = families.filter(subtree_q(region.code, "household_region_id"))
    if q := (data.get("q") or "").strip():
        number = idnumbers.normalise(q)
        families = families.filter(
            Q(applicant_name__contains=q)
            | Q(spouse_name__contains=q)
            | Q(applicant_id_number__startswith=number)
            | Q(spouse_id_number__startswith=number)
            | Q(applicant_id_number__endswith=number)
        )
    return _page(
        request,
        "family_list.html",
        "families",
        form=form,
        families=families[:SHOWN],
        total=families.count(),
    )


def _family(request: StaffRequest, pk: int) -> Family:
    return scoped_object_or_404(
        Family.objects.select_related("household_region", "births_certified_by", "person"),
        request.user,
        pk=pk,
    )


@require_GET
@staff_required(BENEFITS)
def family_detail(request: StaffRequest, pk: int) -> HttpResponse:
    family = _family(request, pk)
    services.view_family(acting_user=request.user, family=family, via="web")
    return _page(
        request,
        "family_detail.html",
        "families",
        family=family,
        children=list(family.children.all()),
        applications=list(
            family.applications.select_related("programme").order_by("-applied_on", "pk")
        ),
        benefits=list(family.benefits.select_related("programme").order_by("starts_on", "pk")),
        certify_form=CertifyForm(initial={"version": family.version}),
        today=timezone.localdate(),
    )


@staff_required(BENEFITS)
def family_create(request: StaffRequest) -> HttpResponse:
    form = FamilyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        created = apply_service(
            form,
            lambda: services.create_family(acting_user=request.user, **form.values()),
        )
        if created is not None:
            messages.success(request, _("Family recorded."))
            return redirect("programmes:family", pk=created.pk)
    return _page(
        request, "family_form.html", "families", form=form, back=reverse("programmes:families")
    )


@staff_required(BENEFITS)
def family_edit(request: StaffRequest, pk: int) -> HttpResponse:
    family = _family(request, pk)
    initial = {
        "applicant_name": family.applicant_name,
        "applicant_id_number": family.applicant_id_number,
        "spouse_name": family.spouse_name,
        "spouse_id_number": family.spouse_id_number,
        "household_type": family.household_type,
        "household_region": family.household_region_id,
        "household_address": family.household_address,
        "person_id_number": family.person.id_number if family.person else "",
        "version": family.version,
    }
    form = FamilyForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: services.update_family(
                acting_user=request.user,
                family=family,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
        if done is not None:
            messages.success(request, _("Family saved."))
            return redirect("programmes:family", pk=family.pk)
    return _page(
        request,
        "family_form.html",
        "families",
        form=form,
        family=family,
        back=reverse("programmes:family", args=[family.pk]),
    )


@require_POST
@staff_required(BENEFITS)
def family_certify(request: StaffRequest, pk: int) -> HttpResponse:
    family = _family(request, pk)
    form = CertifyForm(request.POST)
    if form.is_valid():
        done = apply_service(
            form,
            lambda: services.certify_births(
                acting_user=request.user,
                family=family,
                certified_on=form.cleaned_data["certified_on"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            ),
        )
        if done is not None:
            messages.success(request, _("Certification of the births recorded."))
            return redirect("programmes:family", pk=family.pk)
    messages.error(request, " ".join(_errors(form)))
    return redirect("programmes:family", pk=family.pk)


def _errors(form: Any) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


@staff_required(BENEFITS)
def child_add(request: StaffRequest, pk: int) -> HttpResponse:
    family = _family(request, pk)
    form = ChildForm(request.POST or None, initial={"version": family.version, "state": "living"})
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            lambda: services.add_child(
                acting_user=request.user,
                family=family,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
        if done is not None:
            messages.success(request, _("Child recorded."))
            return redirect("programmes:family", pk=family.pk)
    return _page(request, "child_form.html", "families", form=form, family=family)


@staff_required(BENEFITS)
def child_edit(request: StaffRequest, pk: int) -> HttpResponse:
    child = scoped_object_or_404(FamilyChild.objects.select_related("family"), request.user, pk=pk)
    family = child.family
    initial = {
        "name": child.name,
        "sex": child.sex,
        "birth_date": child.birth_date,
        "state": child.state,
        "death_date": child.death_date,
        "disability_grade": child.disability_grade,
        "adopted": child.adopted,
        "version": family.version,
    }
    form = ChildForm(request.POST or None, initial=initial)
    if request.method == "POST" and "remove" in request.POST:
        if form.is_valid():
            removed = apply_service(form, lambda: _remove(request, child, form))
            if removed:
                messages.success(request, _("Child removed."))
                return redirect("programmes:family", pk=family.pk)
    elif request.method == "POST" and form.is_valid():
        saved = apply_service(
            form,
            lambda: services.update_child(
                acting_user=request.user,
                child=child,
                expected_version=form.cleaned_data["version"],
                **form.values(),
            ),
        )
        if saved is not None:
            messages.success(request, _("Child saved."))
            return redirect("programmes:family", pk=family.pk)
    return _page(request, "child_form.html", "families", form=form, family=family, child=child)


def _remove(request: StaffRequest, child: FamilyChild, form: ChildForm) -> bool:
    services.remove_child(
        acting_user=request.user, child=child, expected_version=form.cleaned_data["version"]
    )
    return True


# --- applying: the check first -------------------------------------------------------------


def _parent_choices(family: Family) -> list[tuple[str, str]]:
    choices = [("applicant", f"{family.applicant_name} ({_('applicant')})")]
    if family.spouse_id_number:
        choices.append(("spouse", f"{family.spouse_name or '—'} ({_('spouse')})"))
    return choices


def _parent_id(family: Family, parent: str) -> str:
    return family.spouse_id_number if parent == "spouse" else family.applicant_id_number


@staff_required(BENEFITS)
def apply(request: StaffRequest, pk: int) -> HttpResponse:
    """The eligibility check of the family for the parent chosen, over every open
    programme (exactly ``eligibility.judge``'s answer), then the application form."""
    family = _family(request, pk)
    parents = _parent_choices(family)
    parent = (request.POST or request.GET).get("parent") or "applicant"
    parent = parent if parent in dict(parents) else "applicant"
    on = timezone.localdate()
    verdict = services.check(family, _parent_id(family, parent), on)
    programmes = {p.code: p for p in Programme.objects.filter(active=True)}
    first = programmes[verdict.programmes[0]].pk if verdict.programmes else None
    form = ApplyForm(
        request.POST or None, parents=parents, initial={"parent": parent, "programme": first}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = apply_service(
            form,
            lambda: services.apply(
                acting_user=request.user,
                family=family,
                programme=data["programme"],
                id_number=_parent_id(family, data["parent"]),
                applied_on=data["applied_on"],
                bank_card=data["bank_card"],
            ),
        )
        if created is not None:
            messages.success(request, _("Application recorded."))
            return redirect("programmes:application", pk=created.pk)
    rows: list[dict[str, Any]] = [
        {"programme": programmes[code], "qualifies": True, "reason": ""}
        for code in verdict.programmes
    ] + [
        {"programme": programmes[code], "qualifies": False, "reason": reason}
        for code, reason in verdict.not_.items()
    ]
    rows.sort(key=lambda row: row["programme"].code)
    return _page(
        request,
        "apply.html",
        "families",
        family=family,
        form=form,
        parent=parent,
        parents=parents,
        check_rows=rows,
        on=on,
    )


# --- applications --------------------------------------------------------------------------


@require_GET
@staff_required(BENEFITS)
def application_list(request: StaffRequest) -> HttpResponse:
    """The township's open applications (waiting for a notice, on a notice); ``?status=``
    lists one status."""
    status = request.GET.get("status", "")
    applications: QuerySet[Application]
    if status in Status.values:
        applications = (
            Application.objects.in_scope(request.user)
            .filter(status=status)
            .select_related("family", "family__household_region", "programme", "notice")
            .order_by("-applied_on", "pk")
        )
    else:
        status = ""
        applications = services.township_worklist(request.user)
    return _page(
        request,
        "application_list.html",
        "applications",
        applications=applications[:SHOWN],
        total=applications.count(),
        status=status,
        statuses=Status.choices,
        today=timezone.localdate(),
    )


@require_GET
@staff_required(APPROVE_BENEFITS)
def county_worklist(request: StaffRequest) -> HttpResponse:
    applications = services.county_worklist(request.user)
    return _page(
        request,
        "worklist.html",
        "worklist",
        applications=applications[:SHOWN],
        total=applications.count(),
    )


def _application(request: StaffRequest, pk: int) -> Application:
    return scoped_object_or_404(
        Application.objects.select_related(
            "family",
            "family__household_region",
            "programme",
            "notice",
            "reviewed_by",
            "decided_by",
            "appeal_decided_by",
        ),
        request.user,
        pk=pk,
    )


def _steps(request: StaffRequest, application: Application) -> dict[str, bool]:
    """Which forms the page offers (the services decide again)."""
    region = application.family.household_region_id
    keeps = allowed(request.user, BENEFITS, region)
    decides = allowed(request.user, APPROVE_BENEFITS, region)
    today = timezone.localdate()
    notice = application.notice
    status = application.status
    return {
        "review": keeps
        and status == Status.ON_NOTICE
        and notice is not None
        and notice.is_over(today),
        "decide": decides and status == Status.REVIEWED,
        "appeal": keeps and status == Status.REFUSED and application.appealed_on is None,
        "decide_appeal": decides and status == Status.APPEALED,
        "withdraw": keeps and status in services.UNDECIDED,
    }


def _application_page(
    request: StaffRequest, application: Application, **forms: Any
) -> HttpResponse:
    version = {"version": application.version}
    benefit = Benefit.objects.in_scope(request.user).filter(application=application).first()
    return _page(
        request,
        "application_detail.html",
        "applications",
        item=application,
        family=application.family,
        benefit=benefit,
        steps=_steps(request, application),
        review_form=forms.get("review") or ReasonForm(initial=version),
        decide_form=forms.get("decide") or ReasonForm(initial=version),
        appeal_form=forms.get("appeal") or AppealForm(initial=version),
        appeal_decision_form=forms.get("decide_appeal") or ReasonForm(initial=version),
        withdraw_form=forms.get("withdraw") or ReasonForm(initial=version),
        # What a step refused, shown above the steps (a refused step may be one this page
        # no longer offers, such as a township trying to approve).
        refusals=[str(e) for form in forms.values() for e in form.non_field_errors()],
        today=timezone.localdate(),
    )


@require_GET
@staff_required(BENEFITS)
def application_detail(request: StaffRequest, pk: int) -> HttpResponse:
    return _application_page(request, _application(request, pk))


@require_POST
@staff_required(BENEFITS)
@post_guarded
def application_step(request: StaffRequest, pk: int, step: str) -> HttpResponse:
    """One step of an application, named by the URL; a refusal shows on its form."""
    application = _application(request, pk)
    passed = request.POST.get("decision") == "yes"
    form: ReasonForm | AppealForm
    form = AppealForm(request.POST) if step == "appeal" else ReasonForm(request.POST)
    if not form.is_valid():
        return _application_page(request, application, **{step: form})
    data = form.cleaned_data
    common = {
        "acting_user": request.user,
        "application": application,
        "expected_version": data["version"],
    }
    calls = {
        "review": lambda: services.review(passed=passed, reason=data.get("reason", ""), **common),
        "decide": lambda: (
            services.approve(**common)
            if passed
            else services.refuse(reason=data.get("reason", ""), **common)
        ),
        "appeal": lambda: services.appeal(grounds=data.get("grounds", ""), **common),
        "decide_appeal": lambda: services.decide_appeal(
            granted=passed, reason=data.get("reason", ""), **common
        ),
        "withdraw": lambda: services.withdraw(**common),
    }
    if step not in calls:
        raise PermissionDenied
    done = apply_service(form, calls[step])
    if done is None:
        application.refresh_from_db()
        return _application_page(request, application, **{step: form})
    messages.success(
        request,
        _("Saved: the application is now %(status)s.")
        % {"status": Application.objects.in_scope(request.user).get(pk=pk).get_status_display()},
    )
    return redirect("programmes:application", pk=application.pk)


# --- notices -------------------------------------------------------------------------------


@require_GET
@staff_required(BENEFITS)
def notice_list(request: StaffRequest) -> HttpResponse:
    notices = PublicNotice.objects.in_scope(request.user).select_related("region", "posted_by")
    return _page(
        request,
        "notice_list.html",
        "notices",
        notices=notices[:SHOWN],
        total=notices.count(),
        today=timezone.localdate(),
    )


@staff_required(BENEFITS)
def notice_create(request: StaffRequest) -> HttpResponse:
    """Choose the village, then the days and its applications waiting for a notice."""
    chooser = NoticeVillageForm(
        request.POST if request.method == "POST" else (request.GET or None), user=request.user
    )
    village = chooser.cleaned_data["village"] if chooser.is_valid() else None
    form = None
    if village is not None:
        waiting = services.waiting_for_notice(request.user, village)
        form = NoticeForm(
            request.POST if request.method == "POST" else None,
            waiting=waiting,
            initial={"posted_on": timezone.localdate()},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            notice = apply_service(
                form,
                lambda: services.post_notice(
                    acting_user=request.user,
                    village=village,
                    posted_on=data["posted_on"],
                    ends_on=data["ends_on"],
                    applications=list(data["applications"]),
                ),
            )
            if notice is not None:
                messages.success(request, _("Notice posted."))
                return redirect("programmes:notice", pk=notice.pk)
    return _page(
        request, "notice_form.html", "notices", chooser=chooser, form=form, village=village
    )


def _notice(request: StaffRequest, pk: int) -> PublicNotice:
    return scoped_object_or_404(
        PublicNotice.objects.select_related("region", "posted_by"), request.user, pk=pk
    )


@require_GET
@staff_required(BENEFITS)
def notice_detail(request: StaffRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    return _page(
        request,
        "notice_detail.html",
        "notices",
        notice=notice,
        applications=list(printing.notice_applications(notice)),
        over=notice.is_over(timezone.localdate()),
    )


@require_GET
@staff_required(BENEFITS)
def notice_pdf(request: StaffRequest, pk: int) -> HttpResponse:
    notice = _notice(request, pk)
    data = printing.print_notice(notice, acting_user=request.user)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="notice-{notice.region_id}-{notice.pk}.pdf"'
    )
    return response


# --- beneficiaries -------------------------------------------------------------------------


@require_GET
@staff_required(BENEFITS)
def benefit_list(request: StaffRequest) -> HttpResponse:
    """The beneficiaries of the caller's region (``?programme=``, ``?status=``; default:
    paid or suspended), ID numbers and bank cards masked."""
    status = request.GET.get("status", "")
    code = request.GET.get("programme", "")
    benefits = Benefit.objects.in_scope(request.user).select_related(
        "programme", "family__household_region"
    )
    if status in Benefit.Status.values:
        benefits = benefits.filter(status=status)
    else:
        status = ""
        benefits = benefits.exclude(status=Benefit.Status.ENDED)
    if code:
        benefits = benefits.filter(programme__code=code)
    benefits = benefits.order_by("family__household_region_id", "name", "pk")
    return _page(
        request,
        "benefit_list.html",
        "benefits",
        benefits=benefits[:SHOWN],
        total=benefits.count(),
        status=status,
        statuses=Benefit.Status.choices,
        programme=code,
        programmes=Programme.objects.order_by("code"),
    )


@require_GET
@staff_required(BENEFITS)
def benefit_detail(request: StaffRequest, pk: int) -> HttpResponse:
    """One benefit: how it began, its re-qualifications and its payments (ID number and
    card masked; the full ones are the family's page and the payment file)."""
    benefit = scoped_object_or_404(
        Benefit.objects.select_related("programme", "application", "family__household_region"),
        request.user,
        pk=pk,
    )
    services.view_benefit(acting_user=request.user, benefit=benefit, via="web")
    return _page(
        request,
        "benefit_detail.html",
        "benefits",
        benefit=benefit,
        requalifications=benefit.requalifications.select_related("round").order_by("-round__year"),
        payments=benefit.payments.select_related("payment_list").order_by("-payment_list__year"),
    )
