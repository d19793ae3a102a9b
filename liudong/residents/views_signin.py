"""Her sign-in and sign-out, and the office's button that gives her a code."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.audit.middleware import client_address
from liudong.audit.models import Action
from liudong.people.idnumbers import mask
from liudong.people.models import Person
from liudong.web.decorators import staff_required

from . import codes, services, session, signin
from .audit import record_for
from .forms import SignInForm

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from liudong.accounts.views import SignedInRequest


def home_url() -> str:
    """Her home page (the VIEW part's), else /me/."""
    try:
        return reverse("residents:home")
    except Exception:
        return "/me/"


def _page(form: SignInForm) -> dict:
    return {"form": form, "lock_minutes": settings.LOGIN_LOCK_MINUTES}


@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            resident = signin.identify(
                data["id_number"], data["code"], data["birth_date"], client_address(request)
            )
        except signin.SignInRefused as exc:
            form.add_error(None, str(exc))
            if exc.locked_until:
                status = 429
                wait = (exc.locked_until - timezone.now()).total_seconds()
                response = render(request, "residents/sign_in.html", _page(form), status=status)
                response["Retry-After"] = str(max(1, math.ceil(wait)))
                return response
        else:
            session.begin(request, resident.person_id)
            return redirect(home_url())
    return render(request, "residents/sign_in.html", _page(form), status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    resident = session.current(request)
    if resident is not None:  # a staff session posting here is not hers to end
        record_for(resident, Action.LOGOUT, object_type="residents.session")
        session.end(request)
    return redirect("residents:sign_in")


@require_POST
@never_cache
@staff_required(CHANGE_PEOPLE)
def issue_code(request: SignedInRequest, pk: int) -> HttpResponse:
    """A new code for her, shown once on a slip to print (never in a URL, never stored)."""
    person = get_object_or_404(
        Person.objects.in_scope(request.user).select_related("residence_region"), pk=pk
    )
    code, access = services.issue_code(acting_user=request.user, person=person)
    # never_cache: no-store, so the slip is kept by no browser cache or proxy.
    return render(
        request,
        "residents/code_slip.html",
        {
            "person": person,
            "masked_id": mask(person.id_number),
            "code": codes.grouped(code),
            "access": access,
            "sign_in_url": request.build_absolute_uri(reverse("residents:sign_in")),
        },
    )
