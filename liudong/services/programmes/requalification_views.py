"""The re-qualification pages (年审), mounted at /programmes/requalification/: the worklist
of re-qualifications due (a township's pending ones; a county's rounds with their progress
and the button to open one), a round's progress per township with its close button after
the deadline, one re-qualification with the forms to confirm, to end the benefit and to
record a new child, and the form ending a benefit (a death, recorded by the township with
its date). Thin: every rule is ``requalification``'s. Phone-friendly: one column under
600 px."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liudong.accounts.roles import APPROVE_BENEFITS, BENEFITS, can
from liudong.base import scoped_object_or_404
from liudong.people.models import Person
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import requalification as rq
from . import services
from .models import Benefit, Requalification, RequalificationRound
from .requalification_forms import ConfirmForm, EndForm, NewChildForm, RoundForm

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest

SHOWN = 500  # a worklist, not an export


@staff_required(BENEFITS)
def worklist(request: SignedInRequest) -> HttpResponse:
    items = rq.worklist(request.user)
    rounds = list(RequalificationRound.objects.in_scope(request.user).select_related("region")[:50])
    totals = rq.round_totals(request.user) if rounds else {}
    none = {"total": 0, "pending": 0, "suspended": 0}
    return render(
        request,
        "programmes/requalification_list.html",
        {
            "items": list(items[:SHOWN]),
            "total": items.count(),
            "rounds": [(item, totals.get(item.pk, none)) for item in rounds],
            "may_open": can(request.user, APPROVE_BENEFITS),
            "today": timezone.localdate(),
        },
    )


@staff_required(APPROVE_BENEFITS)
def round_open(request: SignedInRequest) -> HttpResponse:
    form = RoundForm(request.POST or None, under=request.user.region_id or "")
    if request.method == "POST" and form.is_valid():
        opened = apply_service(
            form,
            lambda: rq.open_round(
                acting_user=request.user,
                county=form.cleaned_data["county"],
                year=form.cleaned_data["year"],
                deadline=form.cleaned_data["deadline"],
            ),
        )
        if opened is not None:
            messages.success(
                request,
                _("Re-qualification round %(year)s opened: confirm by %(day)s.")
                % {"year": opened.year, "day": opened.deadline.isoformat()},
            )
            return redirect("requalification:round", pk=opened.pk)
    return render(request, "programmes/requalification_round_open.html", {"form": form})


@staff_required(BENEFITS)
def round_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    found = scoped_object_or_404(
        RequalificationRound.objects.select_related("region", "opened_by"), request.user, pk=pk
    )
    today = timezone.localdate()
    rows = rq.progress(found, request.user)
    pending = sum(row.pending for row in rows)
    return render(
        request,
        "programmes/requalification_round.html",
        {
            "round": found,
            "rows": rows,
            "pending": pending,
            "totals": {
                "pending": pending,
                "confirmed": sum(row.confirmed for row in rows),
                "suspended": sum(row.suspended for row in rows),
                "ended": sum(row.ended for row in rows),
                "total": sum(row.total for row in rows),
            },
            "may_close": can(request.user, APPROVE_BENEFITS)
            and today > found.deadline
            and (pending or found.closed_on is None),
            "today": today,
        },
    )


@require_POST
@staff_required(APPROVE_BENEFITS)
def round_close(request: SignedInRequest, pk: int) -> HttpResponse:
    found = scoped_object_or_404(RequalificationRound, request.user, pk=pk)
    try:
        suspended = rq.close_round(found, acting_user=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            _("Round closed: %(n)s benefits not confirmed by the deadline are suspended.")
            % {"n": suspended},
        )
    return redirect("requalification:round", pk=found.pk)


def _residence(request: SignedInRequest, id_number: str) -> Person | None:
    return (
        Person.objects.in_scope(request.user)
        .active()
        .filter(id_number=id_number)
        .select_related("residence_region")
        .first()
    )


@staff_required(BENEFITS)
def detail(request: SignedInRequest, pk: int) -> HttpResponse:
    item = scoped_object_or_404(
        Requalification.objects.select_related(
            "round",
            "decided_by",
            "benefit__programme",
            "benefit__family__household_region",
        ),
        request.user,
        pk=pk,
    )
    benefit = item.benefit
    today = timezone.localdate()
    undecided = item.outcome in rq.UNDECIDED and benefit.status != Benefit.Status.ENDED
    post = request.POST if request.method == "POST" else None
    action = post.get("action") if post is not None else None
    confirm_form = ConfirmForm(
        post if action == "confirm" else None,
        initial={"on": today, "version": item.version},
        prefix="confirm",
    )
    end_form = EndForm(
        post if action == "end" else None,
        initial={"on": today, "version": benefit.version},
        prefix="end",
    )
    child_form = NewChildForm(post if action == "child" else None, prefix="child")
    if post is not None and undecided:
        done = _act(request, action, item, confirm_form, end_form, child_form)
        if done is not None:
            return done
    if request.method == "GET":
        rq.view_requalification(acting_user=request.user, requalification=item, via="web")
    person = _residence(request, benefit.id_number)
    return render(
        request,
        "programmes/requalification_detail.html",
        {
            "item": item,
            "benefit": benefit,
            "person": person,
            "lives_elsewhere": rq.lives_elsewhere(
                benefit, person.residence_region_id if person else None
            ),
            "failure": rq.still_eligible_failure(benefit, today) if undecided else None,
            "undecided": undecided,
            "confirm_form": confirm_form,
            "end_form": end_form,
            "child_form": child_form,
            "today": today,
        },
    )


def _act(
    request: SignedInRequest,
    action: str | None,
    item: Requalification,
    confirm_form: ConfirmForm,
    end_form: EndForm,
    child_form: NewChildForm,
) -> HttpResponse | None:
    """The form posted, through its service; the page again (None) when it was refused."""
    benefit = item.benefit
    if action == "confirm" and confirm_form.is_valid():
        data = confirm_form.cleaned_data
        if apply_service(
            confirm_form,
            lambda: rq.confirm(
                acting_user=request.user,
                requalification=item,
                on=data["on"],
                expected_version=data["version"],
            ),
        ):
            messages.success(request, _("Confirmed: %(name)s.") % {"name": benefit.name})
            return redirect("requalification:list")
    if action == "end" and end_form.is_valid() and _end(request, benefit, end_form):
        return redirect("requalification:list")
    if action == "child" and child_form.is_valid():
        data = child_form.cleaned_data
        done = apply_service(
            child_form,
            lambda: services.record_new_child(
                acting_user=request.user,
                requalification=item,
                sex=data["sex"],
                birth_date=data["birth_date"],
                adopted=data["adopted"],
            ),
        )
        if done is not None:
            _child, ended = done
            messages.success(
                request,
                _("Child recorded; benefits ended: %(n)s.") % {"n": len(ended)},
            )
            return redirect("requalification:detail", pk=item.pk)
    return None


def _end(request: SignedInRequest, benefit: Benefit, form: EndForm) -> bool:
    data = form.cleaned_data
    done: object
    if data["cause"] == rq.EndCause.DEATH:
        done = apply_service(
            form,
            lambda: rq.record_death(
                acting_user=request.user, benefit=benefit, died_on=data["on"], note=data["note"]
            ),
        )
    else:
        done = apply_service(
            form,
            lambda: rq.end_benefit(
                acting_user=request.user,
                benefit=benefit,
                reason=rq.end_reason(data["cause"], data["on"], data["note"]),
                on=data["on"],
                expected_version=data["version"],
            ),
        )
    if done is None:
        return False
    messages.success(
        request,
        _("The benefit ends from the next payment: %(name)s.") % {"name": benefit.name},
    )
    return True


@staff_required(BENEFITS)
def benefit_end(request: SignedInRequest, pk: int) -> HttpResponse:
    """End a benefit (a death recorded with its date, a household moved out, ...), from its
    page: the form alone."""
    benefit = scoped_object_or_404(
        Benefit.objects.select_related("programme", "family__household_region"),
        request.user,
        pk=pk,
    )
    form = EndForm(
        request.POST or None,
        initial={"on": timezone.localdate(), "version": benefit.version},
    )
    ended = benefit.status == Benefit.Status.ENDED
    if request.method == "POST" and not ended and form.is_valid() and _end(request, benefit, form):
        return redirect("requalification:list")
    return render(
        request,
        "programmes/requalification_end.html",
        {"benefit": benefit, "form": form, "ended": ended},
    )
