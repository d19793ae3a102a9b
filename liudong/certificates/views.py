"""Staff pages of certificates: issue from her file, the certificate (contents, QR, PDF,
revoke), verification at the residence (scan, paste or type; record against her stay),
and notices to obtain a certificate (give, print, worklist).

Thin: every read starts from the user's scope and every change, print and check goes
through the services (``issuing``, ``verification``, ``notices``, ``printing``), which
log it. A certificate or notice outside the user's region is "not found".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import ISSUE_CERTIFICATES, VERIFY_CERTIFICATES
from liudong.authorization import allowed
from liudong.base import scoped_object_or_404
from liudong.people.models import Person
from liudong.regions.codes import Level
from liudong.regions.models import Region
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import issuing, notices, printing, verification
from . import payload as payloads
from .forms import IssueForm, RecordForm, RevokeForm, VerifyForm
from .models import Certificate, Method, Status, Verification
from .printing import CONTRACEPTION_ZH, qr_svg

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


PAGE_SIZE = 50


def _person(request: SignedInRequest, pk: int) -> Person:
    return scoped_object_or_404(
        Person.objects.select_related("household_region"), request.user, pk=pk
    )


def _messages_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


# --- issue ------------------------------------------------------------------------------


@staff_required(ISSUE_CERTIFICATES)
def issue(request: SignedInRequest, person_pk: int) -> HttpResponse:
    """Issue her certificate (the township of her registration only: others get 403)."""
    person = _person(request, person_pk)
    issuing.check_may_issue(request.user, person)
    form = IssueForm(request.POST or None)
    certificate = None
    if request.method == "POST" and form.is_valid():
        certificate = apply_service(
            form,
            lambda: issuing.issue(
                person,
                acting_user=request.user,
                contraception=form.cleaned_data["contraception"] or None,
            ),
        )
    if certificate is not None:
        messages.success(
            request,
            _("Certificate %(number)s issued to %(name)s.")
            % {"number": certificate.number, "name": person.name},
        )
        return redirect("certificates:detail", number=certificate.number)
    refusal = ""
    if request.method == "GET":
        # Say at once what would refuse the issue (a man, her age, one she already holds).
        refusal = issuing.issue_refusal(person)
    return render(
        request,
        "certificates/issue.html",
        {
            "form": form,
            "refusal": refusal,
            "person": person,
            "current": verification.open_stay(person),
            "heading": _("Issue marriage-and-childbearing certificate"),
        },
    )


# --- one certificate --------------------------------------------------------------------


def _certificate(request: SignedInRequest, number: str) -> Certificate:
    try:
        return issuing.view_certificate(number, acting_user=request.user)
    except ValidationError as exc:
        raise Http404(number) from exc


def _detail_context(
    request: SignedInRequest, certificate: Certificate, revoke_form: RevokeForm | None = None
) -> dict:
    today = timezone.localdate()
    status = certificate.status_on(today)
    may_revoke = status != Status.REVOKED and allowed(
        request.user, ISSUE_CERTIFICATES, certificate.issuing_region_id
    )
    return {
        "certificate": certificate,
        "person": certificate.person,
        "status": status,
        "status_label": Status(status).label,
        "qr": qr_svg(payloads.link(certificate.payload), title=certificate.number),
        "contraception": CONTRACEPTION_ZH.get(certificate.contraception, ""),
        "issuing_name": certificate.issuing_region.full_name(),
        "may_revoke": may_revoke,
        "revoke_form": revoke_form or (RevokeForm() if may_revoke else None),
        "verifications": Verification.objects.in_scope(request.user)
        .filter(certificate=certificate)
        .select_related("region", "verified_by")[:20],
    }


@require_GET
@staff_required(VERIFY_CERTIFICATES)
def detail(request: SignedInRequest, number: str) -> HttpResponse:
    """Her certificate as issued: contents, status, the QR, PDF and revoking (issuer)."""
    certificate = _certificate(request, number)
    return render(request, "certificates/detail.html", _detail_context(request, certificate))


@require_GET
@staff_required(VERIFY_CERTIFICATES)
def pdf(request: SignedInRequest, number: str) -> HttpResponse:
    """The A4 certificate to print (the service logs the export)."""
    try:
        certificate = issuing.find_certificate(number, request.user)
    except ValidationError as exc:
        raise Http404(number) from exc
    data = printing.print_certificate(certificate, acting_user=request.user)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    return response


@require_POST
@staff_required(ISSUE_CERTIFICATES)
def revoke(request: SignedInRequest, number: str) -> HttpResponse:
    certificate = _certificate(request, number)
    form = RevokeForm(request.POST)
    done = None
    if form.is_valid():
        done = apply_service(
            form,
            lambda: issuing.revoke(number, form.cleaned_data["reason"], acting_user=request.user),
        )
    if done is not None:
        messages.success(request, _("Certificate %(number)s revoked.") % {"number": number})
        return redirect("certificates:detail", number=number)
    context = _detail_context(request, certificate, revoke_form=form)
    return render(request, "certificates/detail.html", context, status=400)


# --- verification -----------------------------------------------------------------------


def _verify_url(person: Person | None) -> str:
    url = reverse("certificates:verify")
    return f"{url}?person={person.pk}" if person is not None else url


@staff_required(VERIFY_CERTIFICATES)
def verify(request: SignedInRequest) -> HttpResponse:
    """The box to scan, paste or type into; the answer below it. ``?person=`` (from her
    file) keeps the page about her and offers the exchanged-record check."""
    person = None
    if request.GET.get("person", "").isdigit():
        person = _person(request, int(request.GET["person"]))
    form = VerifyForm(request.POST or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        outcome = verification.check_code(
            form.cleaned_data["code"], acting_user=request.user, person=person
        )
    stay = None
    if person is not None:
        # Her stay, and whether this user's region holds it (the exchanged-record check).
        stay = verification.check_stay(person, acting_user=request.user)
    return render(
        request,
        "certificates/verify.html",
        {
            "form": form,
            "outcome": outcome,
            "person": person,
            "stay": stay,
            "within_days": verification.VERIFY_WITHIN_DAYS,
            "action": _verify_url(person),
        },
    )


@require_POST
@staff_required(VERIFY_CERTIFICATES)
def record(request: SignedInRequest) -> HttpResponse:
    """Record the check against her current stay (the service checks everything again)."""
    form = RecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Nothing to record: check the certificate first."))
        return redirect("certificates:verify")
    data = form.cleaned_data
    person = _person(request, data["person"]) if data["person"] else None
    method, code = data["method"], data["code"]
    try:
        recorded = verification.verify_at_residence(
            acting_user=request.user,
            method=method,
            person=person,
            payload=code if method == Method.QR else None,
            number=code if method == Method.NUMBER else None,
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _messages_of(exc))
        return redirect(_verify_url(person))
    days = recorded.days_after_arrival
    if days <= verification.VERIFY_WITHIN_DAYS:
        text = _("Verification of %(name)s recorded: %(days)s days after her arrival, in time.")
    else:
        text = _(
            "Verification of %(name)s recorded: %(days)s days after her arrival, later than "
            "the 30 days."
        )
    messages.success(request, text % {"name": recorded.person.name, "days": days})
    return redirect(_verify_url(person))


# --- notices ----------------------------------------------------------------------------


@require_POST
@staff_required(VERIFY_CERTIFICATES)
def give_notice(request: SignedInRequest, person_pk: int) -> HttpResponse:
    """Give her the notice (or open the one she already has) and show it to print."""
    person = _person(request, person_pk)
    try:
        notice = notices.issue_notice(person, acting_user=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _messages_of(exc))
        return redirect("people:detail", pk=person.pk)
    return redirect("certificates:notice_print", pk=notice.pk)


@require_GET
@staff_required(VERIFY_CERTIFICATES)
def notice_list(request: SignedInRequest) -> HttpResponse:
    """Open notices in the user's region, the overdue ones first."""
    found = notices.open_notices(request.user)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "certificates/notices.html",
        {"page": page, "today": timezone.localdate()},
    )


@require_GET
@staff_required(VERIFY_CERTIFICATES)
def notice_print(request: SignedInRequest, pk: int) -> HttpResponse:
    """The notice as an A4 page to print and hand to her (the service logs the print)."""
    notice = notices.notice_for_print(pk, acting_user=request.user)
    if notice is None:
        raise Http404(pk)
    person = notice.person
    township = (
        Region.objects.filter(code=person.household_region_id[: Level.TOWNSHIP.length]).first()
        or person.household_region
    )
    return render(
        request,
        "certificates/notice_print.html",
        {
            "notice": notice,
            "person": person,
            "residence_name": notice.episode.region.full_name(),
            "office_name": notice.region.full_name(),
            "household_township": township.full_name(),
        },
    )
