"""The assistance pages (协查), mounted at /assistance/: the worklist of an office (to
answer / asked, overdue in red and counted), one request with its answer form, and the form
to ask, reached from a person's file. Thin: every rule is ``exchange.assistance``'s."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import ASSISTANCE
from liudong.base import scoped_object_or_404
from liudong.people.models import Person
from liudong.regions.models import Region
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from ..messaging import services as messaging
from ..models import AssistanceRequest
from . import services
from .forms import AnswerForm, AskForm

Direction = AssistanceRequest.Direction
if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


SHOWN = 500  # a worklist, not an export


@staff_required(ASSISTANCE)
def worklist(request: SignedInRequest) -> HttpResponse:
    tab = request.GET.get("tab")
    tab = tab if tab in Direction.values else Direction.INCOMING
    requests = services.worklist(request.user, direction=tab)
    shown = list(requests[:SHOWN])
    # The other places' names in one query (a handful of codes), not one per row.
    names = dict(
        Region.objects.filter(code__in={r.other_region for r in shown}).values_list("code", "name")
    )
    for item in shown:
        item.other_name = names.get(item.other_region, "")
    return render(
        request,
        "exchange/assistance_list.html",
        {
            "tab": tab,
            "requests": shown,
            "total": requests.count(),
            "overdue": services.overdue_counts(request.user),
            "today": timezone.localdate(),
        },
    )


@staff_required(ASSISTANCE)
def detail(request: SignedInRequest, pk: int) -> HttpResponse:
    found = scoped_object_or_404(
        AssistanceRequest.objects.select_related("region", "person", "asked_by", "answered_by"),
        request.user,
        pk=pk,
    )
    may_answer = found.direction == Direction.INCOMING and found.answered_on is None
    form = AnswerForm(request.POST or None, initial={"version": found.version})
    if request.method == "POST" and may_answer and form.is_valid():
        done = apply_service(
            form,
            lambda: services.answer(
                acting_user=request.user,
                request=found,
                finding=form.cleaned_data["finding"],
                answer=form.cleaned_data["answer"],
                expected_version=form.cleaned_data["version"],
            ),
        )
        if done is not None:
            messages.success(request, _("Answer sent to %(place)s.") % {"place": _place(found)})
            return redirect(f"{reverse('assistance:list')}?tab={Direction.INCOMING}")
    if request.method == "GET":
        services.view_request(acting_user=request.user, request=found, via="web")
    return render(
        request,
        "exchange/assistance_detail.html",
        {
            "item": found,
            "form": form,
            "may_answer": may_answer,
            "other_name": _place(found),
            "overdue": found.is_overdue(timezone.localdate()),
        },
    )


@staff_required(ASSISTANCE)
def ask(request: SignedInRequest, person_pk: int) -> HttpResponse:
    person = scoped_object_or_404(Person, request.user, pk=person_pk)
    form = AskForm(request.POST or None)
    other, refusal = None, ""
    try:
        _here, other = services.places(person, messaging.identity().region_id)
    except ValidationError as exc:  # shown before asking; asking is refused the same way
        refusal = " ".join(exc.messages)
    if request.method == "POST" and form.is_valid():
        asked = apply_service(
            form,
            lambda: services.ask(
                acting_user=request.user,
                person=person,
                question=form.cleaned_data["question"],
                urgency=form.cleaned_data["urgency"],
            ),
        )
        if asked is not None:
            messages.success(
                request,
                _("Assistance request sent to %(place)s; answer due by %(day)s.")
                % {"place": _place(asked), "day": asked.deadline.isoformat()},
            )
            return redirect(f"{reverse('assistance:list')}?tab={Direction.OUTGOING}")
    return render(
        request,
        "exchange/assistance_ask.html",
        {
            "person": person,
            "form": form,
            "other": other,
            "other_name": _region_name(other) if other else "",
            "refusal": refusal,
        },
    )


def _region_name(code: str) -> str:
    region = Region.objects.filter(code=code).first()
    return region.full_name() if region else code


def _place(item: AssistanceRequest) -> str:
    return _region_name(item.other_region)
