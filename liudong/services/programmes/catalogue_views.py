"""The programme catalogue pages: every programme with its rules in words and its amounts;
the province's bureau edits rules, adds a programme and sets amounts (catalogue.py decides
who)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.accounts.roles import BENEFITS
from liudong.actors import reach
from liudong.regions.models import Region
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import catalogue
from .catalogue_forms import AmountForm, ProgrammeForm, RulesForm
from .models import Programme, ProgrammeAmount

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest

SET_BY_PROVINCE = gettext_lazy("Programmes and their amounts are set by the province's bureau.")


@staff_required(BENEFITS)
def programme_list(request: SignedInRequest) -> HttpResponse:
    programmes = list(Programme.objects.prefetch_related("amounts").order_by("code"))
    # Amounts are per province: shown by name (浙江省), not by its code alone.
    codes = {amount.province for p in programmes for amount in p.amounts.all()}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return render(
        request,
        "programmes/catalogue.html",
        {
            "programmes": [
                (
                    p,
                    catalogue.describe(p),
                    [(a, names.get(a.province, a.province)) for a in p.amounts.all()],
                )
                for p in programmes
            ],
            "may_set": catalogue.may_set(request.user),
            "province": reach(request.user) or "",
            "tab": "catalogue",
        },
    )


@staff_required(BENEFITS)
def programme_rules(request: SignedInRequest, code: str) -> HttpResponse:
    programme = get_object_or_404(Programme, code=code)
    if not catalogue.may_set(request.user):
        raise PermissionDenied(SET_BY_PROVINCE)
    form = RulesForm(request.POST or None, initial={"rules": programme.rules})
    if request.method == "POST" and form.is_valid():
        rules = form.cleaned_data["rules"]
        if apply_service(
            form,
            lambda: catalogue.save_rules(
                acting_user=request.user, programme=programme, rules=rules
            ),
        ):
            messages.success(request, _("Rules saved: every check from now on uses them."))
            return redirect("programmes:catalogue")
    return render(
        request,
        "programmes/catalogue_rules.html",
        {"programme": programme, "form": form, "tab": "catalogue"},
    )


@staff_required(BENEFITS)
def programme_new(request: SignedInRequest) -> HttpResponse:
    if not catalogue.may_set(request.user):
        raise PermissionDenied(SET_BY_PROVINCE)
    form = ProgrammeForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and apply_service(
            form, lambda: catalogue.add_programme(acting_user=request.user, **form.cleaned_data)
        )
        is not None
    ):
        messages.success(request, _("Programme added."))
        return redirect("programmes:catalogue")
    return render(request, "programmes/catalogue_new.html", {"form": form, "tab": "catalogue"})


@staff_required(BENEFITS)
def amount_new(request: SignedInRequest, code: str) -> HttpResponse:
    programme = get_object_or_404(Programme, code=code)
    province = reach(request.user) or ""
    if not catalogue.may_set(request.user, province):
        raise PermissionDenied(SET_BY_PROVINCE)
    form = AmountForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and apply_service(
            form,
            lambda: catalogue.set_amount(
                acting_user=request.user,
                programme=programme,
                province=province,
                **form.cleaned_data,
            ),
        )
        is not None
    ):
        messages.success(request, _("Amount saved."))
        return redirect("programmes:catalogue")
    return render(
        request,
        "programmes/catalogue_amount.html",
        {
            "programme": programme,
            "form": form,
            "province": province,
            "schedules": ProgrammeAmount.Schedule,
            "tab": "catalogue",
        },
    )
