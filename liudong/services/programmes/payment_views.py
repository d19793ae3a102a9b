"""The payment pages (issue 17, item 4), under /programmes/payments/: the county's lists per
year and the form to make one; a list with its totals per township and per programme, the
benefits left out, the export buttons and the bank's return upload with its error report;
a township's lines; the failures worklist and one line with the form to resolve it. Thin:
every rule is ``payments``'. Bank cards and ID numbers are masked on every page (the
exported file is the only place they are whole) and never in a URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import APPROVE_BENEFITS, BENEFITS, can
from liudong.base import scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.regions.models import Region
from liudong.tabular import ImportSummary, TableError
from liudong.web import uploads
from liudong.web.decorators import staff_required
from liudong.web.forms import apply_service

from . import payments, paymentsheet
from .models import PaymentLine, PaymentList, ProgrammeAmount
from .payment_forms import LinesFilterForm, MakeListForm, ResolveForm, ReturnForm

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest

SHOWN = 500  # lines on a page; the file holds them all


@staff_required(BENEFITS)
def payment_lists(request: SignedInRequest) -> HttpResponse:
    """The county's lists, latest year first, and the form to make (or make again) one;
    a township finds its lines and the failures from here."""
    may_make = can(request.user, APPROVE_BENEFITS)
    form = MakeListForm(request.POST or None)
    if request.method == "POST":
        if not may_make:
            raise PermissionDenied(_("Your role may not make, export or return payment lists."))
        if form.is_valid():
            made = apply_service(
                form,
                lambda: payments.make_list(
                    acting_user=request.user,
                    county=Region.objects.get(code=request.user.region_id),
                    year=form.cleaned_data["year"],
                ),
            )
            if made is not None:
                count = made.lines.count()
                messages.success(
                    request,
                    ngettext(
                        "The payment list of %(year)s is made: %(n)s line.",
                        "The payment list of %(year)s is made: %(n)s lines.",
                        count,
                    )
                    % {"year": made.year, "n": count},
                )
                return redirect("programmes:payment_list", pk=made.pk)
    lists = (
        PaymentList.objects.in_scope(request.user)
        .select_related("region", "made_by", "exported_by")
        .order_by("-year", "region_id")
    )
    return render(
        request,
        "programmes/payment_lists.html",
        {
            "lists": lists[:100],
            "form": form,
            "may_make": may_make,
            "open_failures": payments.failures(request.user, open_only=True).count(),
        },
    )


def _amounts(payment_list: PaymentList) -> list[ProgrammeAmount]:
    return list(
        ProgrammeAmount.objects.filter(
            year=payment_list.year, province=payments.province_of(payment_list.region)
        )
        .select_related("programme")
        .order_by("programme__code")
    )


@staff_required(BENEFITS)
def payment_list(request: SignedInRequest, pk: int) -> HttpResponse:
    """One list: totals, amounts, lines (masked), left out; export; the bank's return."""
    found = scoped_object_or_404(
        PaymentList.objects.select_related("region", "made_by", "exported_by"), request.user, pk=pk
    )
    return_form = ReturnForm(request.POST or None, request.FILES or None)
    summary: ImportSummary | None = None
    if request.method == "POST" and return_form.is_valid():
        summary = _take_return(request, found, return_form)
        if summary is not None and not summary.rejected:
            messages.success(
                request,
                _("Return read: %(updated)s lines marked, %(unchanged)s already so.")
                % {"updated": summary.updated, "unchanged": summary.unchanged},
            )
            return redirect("programmes:payment_list", pk=found.pk)
    lines = payments.ordered_lines(found)
    return render(
        request,
        "programmes/payment_list.html",
        {
            "item": found,
            "totals": payments.totals(found.lines.all()),
            "amounts": _amounts(found),
            "lines": lines[:SHOWN],
            "line_count": lines.count(),
            "left_out": payments.left_out(request.user, found),
            "return_form": return_form,
            "summary": summary,
            "may_pay": can(request.user, APPROVE_BENEFITS),
            "formats": paymentsheet.FORMATS,
        },
    )


def _take_return(
    request: SignedInRequest, found: PaymentList, form: ReturnForm
) -> ImportSummary | None:
    try:
        token = uploads.save_upload(form.cleaned_data["file"])
    except ValidationError as exc:
        form.add_error("file", exc.messages)
        return None
    try:
        return apply_service(
            form,
            lambda: payments.import_return(
                acting_user=request.user,
                payment_list=found,
                path=uploads.upload_path(token),
                returned_on=form.cleaned_data.get("returned_on"),
            ),
        )
    except TableError as exc:
        form.add_error("file", str(exc))
        return None
    finally:
        uploads.discard(token)


@require_POST
@staff_required(APPROVE_BENEFITS)
@post_guarded
def payment_export(request: SignedInRequest, pk: int) -> HttpResponse:
    """The finance bureau's file (xlsx or csv); the list is frozen from now on."""
    found = scoped_object_or_404(PaymentList.objects.select_related("region"), request.user, pk=pk)
    try:
        exported = payments.export_list(
            acting_user=request.user,
            payment_list=found,
            file_format=request.POST.get("format", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("programmes:payment_list", pk=found.pk)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.name}"'
    return response


@require_GET
@staff_required(BENEFITS)
def payment_totals_csv(request: SignedInRequest, pk: int) -> HttpResponse:
    """The totals per township as csv (no personal data: the list is not exported by it)."""
    found = scoped_object_or_404(PaymentList, request.user, pk=pk)
    content = paymentsheet.write_totals_csv(payments.totals(found.lines.all()))
    response = HttpResponse(content, content_type=paymentsheet.CSV)
    name = f"payment-totals-{found.region_id}-{found.year}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@staff_required(BENEFITS)
def payment_lines(request: SignedInRequest) -> HttpResponse:
    """The lines the caller's region sees (a township: its own), by year and result."""
    form = LinesFilterForm(request.GET or None)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    lines = PaymentLine.objects.in_scope(request.user).select_related(
        "payment_list", "township", "programme"
    )
    if data.get("year"):
        lines = lines.filter(payment_list__year=data["year"])
    if data.get("result"):
        lines = lines.filter(result=data["result"])
    lines = lines.order_by("-payment_list__year", *payments.LINE_ORDER)
    return render(
        request,
        "programmes/payment_lines.html",
        {
            "form": form,
            "lines": lines[:SHOWN],
            "line_count": lines.count(),
            "totals": payments.totals(lines),
        },
    )


@require_GET
@staff_required(BENEFITS)
def payment_failures(request: SignedInRequest) -> HttpResponse:
    """Failed payments: those still to deal with first."""
    lines = payments.failures(request.user)
    return render(
        request,
        "programmes/payment_failures.html",
        {"lines": lines[:SHOWN], "line_count": lines.count()},
    )


@staff_required(BENEFITS)
def payment_line(request: SignedInRequest, pk: int) -> HttpResponse:
    """One line, and for a failed one not yet resolved the form saying what was done."""
    line = scoped_object_or_404(
        PaymentLine.objects.select_related(
            "payment_list", "township", "programme", "benefit__family"
        ),
        request.user,
        pk=pk,
    )
    may_resolve = line.result == PaymentLine.Result.FAILED and line.resolved_on is None
    form = ResolveForm(request.POST or None, initial={"benefit_version": line.benefit.version})
    if request.method == "POST":
        if not may_resolve:
            raise Http404
        if form.is_valid():
            done = apply_service(
                form,
                lambda: payments.resolve_failure(
                    acting_user=request.user, line=line, **form.values()
                ),
            )
            if done is not None:
                messages.success(request, _("The failed payment is resolved."))
                return redirect("programmes:payment_failures")
    return render(
        request,
        "programmes/payment_line.html",
        {"line": line, "form": form, "may_resolve": may_resolve},
    )
