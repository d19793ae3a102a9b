"""Statistics pages, mounted at /stats/: the monthly report of any region in the user's
(the same numbers as `liudong report monthly`, frozen once approved), its xlsx, submission
and approval, the reports awaiting a decision, the indicator list, and the data-quality
findings.

Views only read parameters and call ``stats.services`` (or ``quality``); refusals become
messages.
"""

from __future__ import annotations

import datetime
import io
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liudong.accounts.roles import (
    APPROVE_REPORTS,
    CHANGE_PEOPLE,
    MANAGE_INDICATORS,
    SPOT_CHECK,
    SUBMIT_REPORTS,
    VIEW_REPORTS,
    can,
)
from liudong.actors import region_of
from liudong.base import StaleWrite, scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.regions.codes import ancestors
from liudong.regions.models import Region
from liudong.safesheet import write_table
from liudong.web.decorators import staff_required
from liudong.web.forms import add_service_errors

from . import quality as quality_rules
from . import services, spotchecks, store
from .forms import IndicatorForm, ReasonForm, SchemeForm, SpotCheckDrawForm, region_jump
from .models import AssessmentScheme, Indicator, MonthlyReport, ReportStatus, SpotCheck, Unit
from .spreadsheets import UNIT_SUFFIX, write_monthly_report

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest
    from liudong.stats.periods import Period


def _asked(request: SignedInRequest) -> tuple[str, Period]:
    """The region and period a report page is asked for (defaults: the user's region,
    last month); a bad period falls back to last month with a message."""
    code = request.GET.get("region", "").strip() or region_of(request.user)
    raw = request.GET.get("period", "").strip()
    period = services.last_full_month()
    if raw:
        try:
            period = services.parse_period(raw)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return code, period


def shown_value(indicator: Indicator, value: float | None) -> str:
    """A figure as the page prints it: rates with two decimals, a missing rate as —."""
    if value is None:
        return "—"
    return str(value) if indicator.unit == Unit.COUNT else f"{value:.2f}"


def _report_url(code: str, period: Period | str) -> str:
    return reverse("stats:report") + "?" + urlencode({"region": code, "period": str(period)})


def _xlsx(buffer: io.BytesIO, filename: str) -> HttpResponse:
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _next(period: Period) -> Period | None:
    """The following month, when it has begun."""
    following = period.shifted(1)
    return following if following.first <= services.last_full_month().shifted(1).first else None


@staff_required(VIEW_REPORTS)
def home(request: SignedInRequest) -> HttpResponse:
    return redirect("stats:report")


@staff_required(VIEW_REPORTS)
def report(request: SignedInRequest) -> HttpResponse:
    code, period = _asked(request)
    try:
        shown = services.report_to_show(code, period, acting_user=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect(_report_url(region_of(request.user), period))
    indicators = services.report_indicators()
    figures = shown.figures
    previous = (shown.previous or {}).get("indicators", {})
    lines = [
        {
            "indicator": i,
            "suffix": UNIT_SUFFIX.get(str(i.unit), ""),
            "value": shown_value(i, figures["indicators"].get(i.code)),
            "previous": shown_value(i, previous.get(i.code)),
        }
        for i in indicators
    ]
    user = request.user
    record = shown.record
    region_code = figures["region"]
    trail = [
        r
        for r in Region.objects.filter(code__in=ancestors(region_code)).order_by("code")
        if r.code.startswith(region_of(user))
    ]
    context = {
        "shown": shown,
        "figures": figures,
        "lines": lines,
        "indicators": indicators,
        "rows": [
            {**row, "values": [shown_value(i, row["indicators"].get(i.code)) for i in indicators]}
            for row in figures["rows"]
        ],
        "period": period,
        "previous_period": period.shifted(-1),
        "next_period": _next(period),
        "trail": trail,
        "record": record,
        "events": list(record.events.select_related("by")) if record else [],
        "may_submit": can(user, SUBMIT_REPORTS)
        and region_code == user.region_id
        and not shown.frozen,
        "may_decide": record is not None
        and can(user, APPROVE_REPORTS)
        and region_code != user.region_id
        and record.submitted_by_id != user.pk,
        "reason_form": ReasonForm(initial={"version": record.version}) if record else None,
        "statuses": ReportStatus,
        "figures_as_of": None if shown.frozen else store.as_of(),
        "tab": "report",
        "region_box": region_jump(region_code, under=request.user.region_id or ""),
    }
    return render(request, "stats/report.html", context)


@staff_required(VIEW_REPORTS)
def report_xlsx(request: SignedInRequest) -> HttpResponse:
    code, period = _asked(request)
    shown = services.report_to_show(code, period, acting_user=request.user)
    buffer = io.BytesIO()
    write_monthly_report(shown.figures, services.report_indicators(), buffer)
    return _xlsx(buffer, f"monthly-report-{shown.figures['region']}-{period}.xlsx")


@require_POST
@staff_required(SUBMIT_REPORTS)
@post_guarded
def submit(request: SignedInRequest) -> HttpResponse:
    try:
        period = services.parse_period(request.POST.get("period", ""))
        services.submit_report(acting_user=request.user, period=period)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect(_report_url(region_of(request.user), request.POST.get("period", "")))
    messages.success(request, _("Submitted. The office above you will approve or return it."))
    return redirect(_report_url(region_of(request.user), period))


DECISIONS: dict[str, tuple[Any, Any]] = {
    "approve": (services.approve_report, _("Approved: the figures are frozen.")),
    "return": (services.return_report, _("Returned with your reason.")),
    "reopen": (services.reopen_report, _("Reopened: the unit can submit it again.")),
}


@require_POST
@staff_required(APPROVE_REPORTS)
@post_guarded
def decide(request: SignedInRequest, pk: int, decision: str) -> HttpResponse:
    if decision not in DECISIONS:
        raise Http404
    record = scoped_object_or_404(MonthlyReport, request.user, pk=pk)
    change, done = DECISIONS[decision]
    form = ReasonForm(request.POST)
    version = int(request.POST.get("version") or record.version)
    arguments: dict[str, Any] = {"acting_user": request.user, "report": record, "version": version}
    if decision != "approve":
        arguments["reason"] = request.POST.get("reason", "")
    try:
        change(**arguments)
    except (ValidationError, PermissionDenied, StaleWrite) as exc:
        if isinstance(exc, ValidationError):
            add_service_errors(form, exc)
            text = " ".join(str(e) for errors in form.errors.values() for e in errors)
        else:
            text = str(exc)
        messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect(_report_url(record.region_id, record.period))


@staff_required(VIEW_REPORTS)
def report_list(request: SignedInRequest) -> HttpResponse:
    """Reports of the units below: those waiting for a decision first."""
    reports = (
        services.reports_in_scope(request.user)
        .exclude(region_id=region_of(request.user))
        .select_related("region", "submitted_by", "decided_by")
        .order_by("status", "-period", "region_id")
    )
    waiting = [r for r in reports if r.status == ReportStatus.SUBMITTED]
    others = [r for r in reports if r.status != ReportStatus.SUBMITTED][:200]
    context = {"waiting": waiting, "others": others, "statuses": ReportStatus, "tab": "reports"}
    return render(request, "stats/reports.html", context)


@staff_required(VIEW_REPORTS)
def indicator_list(request: SignedInRequest) -> HttpResponse:
    return render(
        request,
        "stats/indicators.html",
        {
            "indicators": Indicator.objects.order_by("position", "code"),
            "may_add": can(request.user, MANAGE_INDICATORS),
            "tab": "indicators",
        },
    )


@staff_required(MANAGE_INDICATORS)
def indicator_new(request: SignedInRequest) -> HttpResponse:
    form = IndicatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.add_indicator(
                acting_user=request.user,
                code=data["code"],
                name_zh=data["name_zh"],
                name_en=data["name_en"],
                unit=form.unit(),
                direction=data["direction"],
                definition=form.definition(),
                assessable=data["assessable"],
            )
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, ValidationError):
                add_service_errors(form, exc)
            else:
                form.add_error(None, str(exc))
        else:
            messages.success(request, _("Indicator added: it is in every report from now on."))
            return redirect("stats:indicators")
    return render(request, "stats/indicator_form.html", {"form": form, "tab": "indicators"})


# --- the dashboard and targets --------------------------------------------------------------


def _board(request: SignedInRequest) -> dict[str, Any]:
    code, period = _asked(request)
    return services.dashboard(
        code,
        period,
        acting_user=request.user,
        indicator_code=request.GET.get("indicator", ""),
    )


@staff_required(VIEW_REPORTS)
def dashboard(request: SignedInRequest) -> HttpResponse:
    try:
        board = _board(request)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("stats:dashboard")
    indicator = board["indicator"]
    target = board["target"]
    chart_data = {
        "indicator": indicator.name_zh,
        "higher": indicator.direction != "lower",
        "target": None if target is None else float(target),
        "trend": board["trend"],
        "ranking": board["ranking"],
        "labels": {"target": _("target")},
    }
    user = request.user
    trail = [
        r
        for r in Region.objects.filter(code__in=ancestors(board["region"])).order_by("code")
        if r.code.startswith(region_of(user))
    ]
    return render(
        request,
        "stats/dashboard.html",
        {
            "board": board,
            "chart_data": chart_data,
            "indicators": [i for i in board["indicators"] if i.unit != Unit.COUNT],
            "trail": trail,
            "figures_as_of": store.as_of(),
            "tab": "dashboard",
            "region_box": region_jump(board["region"], under=request.user.region_id or ""),
        },
    )


# Spreadsheets are in Chinese whatever the interface language (DESIGN.md §2 principle 5).
UNRANKED_ZH = {"too_few": "人数过少不排名", "no_data": "无数据", "statistic": "统计指标不考核"}


def _or_why(value: float | None, status: str) -> float | str | None:
    """A rank or a score, or in words why there is none (never a 0 read as a score)."""
    return value if value is not None else UNRANKED_ZH.get(status)


@staff_required(VIEW_REPORTS)
def dashboard_xlsx(request: SignedInRequest) -> HttpResponse:
    """A chart's numbers as xlsx: the trend (one row a month) or the ranking."""
    board = _board(request)
    name = board["indicator"].name_zh
    if request.GET.get("chart") == "ranking":
        header = ["名次", "区划代码", "单位名称", name]
        rows = [
            [_or_why(r["rank"], r["status"]), r["region"], r["name"], r["value"]]
            for r in board["ranking"]
        ]
        title = "排名"
    else:
        header = ["统计期", name, "状态"]
        rows = [
            [p["period"], p["value"], "已审核" if p["frozen"] else "实时"] for p in board["trend"]
        ]
        title = "趋势"
    buffer = io.BytesIO()
    write_table(buffer, header, rows, sheet_title=title)
    return _xlsx(
        buffer, f"{title}-{board['indicator'].code}-{board['region']}-{board['period']}.xlsx"
    )


@staff_required(VIEW_REPORTS)
@post_guarded
def targets(request: SignedInRequest) -> HttpResponse:
    """The year's targets for the user's region (or one below, ``?region=``): its own or
    inherited from above; a county sets them here."""
    code = request.GET.get("region", "").strip() or region_of(request.user)
    year = services.statistical_year_of(timezone.localdate())
    try:
        year = int(request.GET.get("year") or year)
        region = services.check_region(code, acting_user=request.user)
    except (ValueError, ValidationError, PermissionDenied):
        messages.error(request, _("Choose a region in yours and a year."))
        return redirect("stats:targets")
    may_set = can(request.user, MANAGE_INDICATORS)
    listed = services.report_indicators()
    indicators = [i for i in listed if i.unit != Unit.COUNT]
    if request.method == "POST" and may_set:
        saved, problems = 0, []
        for indicator in indicators:
            raw = request.POST.get(f"target_{indicator.code}", "").strip()
            if not raw:
                continue
            try:
                services.set_target(
                    acting_user=request.user,
                    indicator=indicator,
                    region_code=region.code,
                    year=year,
                    value=raw,
                )
                saved += 1
            except (ValidationError, PermissionDenied, ArithmeticError) as exc:
                text = " ".join(getattr(exc, "messages", [str(exc)]))
                problems.append(f"{indicator.name_zh}: {text}")
        for problem in problems:
            messages.error(request, problem)
        if saved:
            messages.success(request, _("Targets saved."))
        query = urlencode({"region": region.code, "year": str(year)})
        return redirect(reverse("stats:targets") + "?" + query)
    effective = services.targets_for(region.code, year)
    own = services.own_targets(region.code, year)
    lines = [
        {
            "indicator": i,
            "value": effective.get(i.code),
            "own": i.code in own,
            # A statistic takes no target; one set before it was marked so is shown, unused.
            "statistic": services.statistic_reason(i, listed),
        }
        for i in indicators
    ]
    return render(
        request,
        "stats/targets.html",
        {"region": region, "year": year, "lines": lines, "may_set": may_set, "tab": "targets"},
    )


# --- assessment ---------------------------------------------------------------------------


@staff_required(VIEW_REPORTS)
def assessments(request: SignedInRequest) -> HttpResponse:
    """The schemes the user's unit sets or is scored by; a county sets one up here."""
    may_set = can(request.user, MANAGE_INDICATORS)
    listed = services.report_indicators()
    rates = [i for i in listed if i.unit != Unit.COUNT]
    statistics = {
        i.code: reason
        for i in rates
        if (reason := services.statistic_reason(i, listed)) is not None
    }
    form = SchemeForm(request.POST or None, indicators=rates, statistics=statistics)
    if request.method == "POST" and may_set and form.is_valid():
        try:
            scheme = services.create_scheme(acting_user=request.user, **form.scheme_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Assessment scheme saved."))
            return redirect("stats:assessment", pk=scheme.pk)
    schemes = services.schemes_in_scope(request.user).select_related("region")
    return render(
        request,
        "stats/assessments.html",
        {"schemes": schemes, "form": form, "may_set": may_set, "tab": "assessments"},
    )


def _assessed(request: SignedInRequest, pk: int) -> tuple[AssessmentScheme, dict[str, Any]]:
    scheme = scoped_object_or_404(AssessmentScheme, request.user, pk=pk)
    return scheme, services.assess(scheme, acting_user=request.user)


@staff_required(VIEW_REPORTS)
def assessment(request: SignedInRequest, pk: int) -> HttpResponse:
    scheme, table = _assessed(request, pk)
    listed = services.report_indicators()
    by_code = {i.code: i for i in listed}
    columns = [
        {
            "code": item["indicator"],
            "name": by_code[item["indicator"]].name_zh,
            "weight": item["weight"],
            "statistic": services.statistic_reason(by_code[item["indicator"]], listed),
        }
        for item in scheme.items
        if item["indicator"] in by_code
    ]
    return render(
        request,
        "stats/assessment.html",
        {"scheme": scheme, "table": table, "columns": columns, "tab": "assessments"},
    )


@staff_required(VIEW_REPORTS)
def assessment_xlsx(request: SignedInRequest, pk: int) -> HttpResponse:
    scheme, table = _assessed(request, pk)
    names = dict(Indicator.objects.values_list("code", "name_zh"))
    header = ["名次", "区划代码", "单位名称"]
    for item in scheme.items:
        name = names.get(item["indicator"], item["indicator"])
        header += [f"{name}(值)", f"{name}(目标)", f"{name}(得分/{item['weight']})"]
    header += ["迟报(月)", "退回(次)", "扣分", "总分"]
    rows = []
    for row in table["rows"]:
        # Not ranked, not scored: said in words, never a 0 a reader would take as a score.
        cells = [_or_why(row["rank"], row["status"]), row["region"], row["name"]]
        for item in row["items"]:
            cells += [item["value"], item["target"], _or_why(item["score"], item["status"])]
        cells += [row["late"], row["returned"], row["deductions"]]
        cells.append(_or_why(row["score"], row["status"]))
        rows.append(cells)
    buffer = io.BytesIO()
    write_table(buffer, header, rows, sheet_title=f"{scheme.year}年度考核")
    return _xlsx(buffer, f"assessment-{scheme.region_id}-{scheme.year}.xlsx")


# --- data-quality findings ---------------------------------------------------------------
@require_GET
@staff_required(VIEW_REPORTS)
def quality(request: SignedInRequest) -> HttpResponse:
    """Data-quality violations in the user's region (or ``?region=`` below it), per grid,
    each with a link to the page where it is fixed; ``?rule=`` shows one rule's. The
    counts of every rule stay in view. Masked ID numbers only: no audit entry.

    For the offices that keep the files (village, township, county): an inspector reads
    figures but corrects no file, so the list of names is not theirs."""
    if not can(request.user, CHANGE_PEOPLE):
        raise PermissionDenied(_("Your role does not allow this page."))
    region = request.GET.get("region") or region_of(request.user)
    selected = request.GET.get("rule") or None
    try:
        report = quality_rules.check_quality(region=region, acting_user=request.user)
    except ValidationError as exc:
        return render(
            request,
            "stats/quality.html",
            {"errors": exc.messages, "region_code": region},
            status=400,
        )
    if selected and selected not in {r.rule.code for r in report.results}:
        selected = None
    groups = report.by_grid(selected)
    return render(
        request,
        "stats/quality.html",
        {
            "region": report.region,
            "region_code": report.region.code,
            "results": report.results,
            "selected": selected,
            "groups": groups,
        },
    )


# --- spot checks ----------------------------------------------------------------------------


def _spot_check(request: SignedInRequest, pk: int) -> SpotCheck:
    return scoped_object_or_404(
        SpotCheck.objects.select_related("region", "drawn_by"), request.user, pk=pk
    )


@staff_required(SPOT_CHECK)
def spot_checks(request: SignedInRequest) -> HttpResponse:
    """The spot checks of the user's region (newest first) and the form drawing a sample."""
    initial = {"region": region_of(request.user), "period": str(services.last_full_month())}
    form = SpotCheckDrawForm(
        request.POST or None, initial=initial, under=request.user.region_id or ""
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            check = spotchecks.draw(
                data["region"],
                data["period"],
                per_village=data["per_village"],
                seed=data["seed"],
                fields=data["fields_checked"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("region", str(exc))
        else:
            messages.success(
                request,
                _("Sample drawn with the seed %(seed)s: print the field sheets for the visits.")
                % {"seed": check.seed},
            )
            return redirect("stats:spot_check", pk=check.pk)
    return render(
        request,
        "stats/spot_checks.html",
        {"checks": spotchecks.listed(request.user), "form": form, "tab": "spot_checks"},
    )


def _record_results(request: SignedInRequest, check: SpotCheck) -> None:
    """One sampled file's results from the page's form: a radio per field."""
    entry = check.entries.filter(pk=request.POST.get("entry") or 0).first()
    if entry is None:
        raise Http404
    results = {
        field: request.POST.get(f"result_{entry.pk}_{field}", "") for field in check.fields_checked
    }
    raw_day = request.POST.get("visited_on", "")
    try:
        visited_on = datetime.date.fromisoformat(raw_day)
    except ValueError:
        messages.error(request, _("Give the day of the visit (YYYY-MM-DD)."))
        return
    try:
        person = spotchecks.sampled_person(check, entry.person_id, acting_user=request.user)
        spotchecks.record(
            check,
            person,
            results,
            visited_on,
            request.POST.get("note", ""),
            acting_user=request.user,
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        shown = f"{person.name} {spotchecks.mask_id_number(person.id_number)}"
        messages.success(request, _("Results saved for %(person)s.") % {"person": shown})


@staff_required(SPOT_CHECK)
@post_guarded
def spot_check(request: SignedInRequest, pk: int) -> HttpResponse:
    """The sample with a result form per file (phone-friendly) and the accuracy so far."""
    check = _spot_check(request, pk)
    if request.method == "POST":
        if request.POST.get("close"):
            spotchecks.close(check, acting_user=request.user)
            messages.success(request, _("Spot check closed."))
        else:
            _record_results(request, check)
        return redirect("stats:spot_check", pk=check.pk)
    entries = spotchecks.entries_of(check, acting_user=request.user)
    labels = {code: spotchecks.FIELDS[code].label for code in check.fields_checked}
    for entry in entries:
        entry.masked_id = spotchecks.mask_id_number(entry.person.id_number)  # type: ignore[attr-defined]
        entry.lines = [  # type: ignore[attr-defined]
            (code, labels[code], entry.found.get(code, ""))  # type: ignore[attr-defined]
            for code in check.fields_checked
        ]
    return render(
        request,
        "stats/spot_check.html",
        {
            "check": check,
            "entries": entries,
            "accuracy": spotchecks.accuracy(check),
            "labels": labels.values(),
            "today": timezone.localdate(),
            "tab": "spot_checks",
        },
    )


@require_GET
@staff_required(SPOT_CHECK)
def spot_check_sheets(request: SignedInRequest, pk: int) -> HttpResponse:
    """The field sheets to print, one per sampled file (the print is audited)."""
    check = _spot_check(request, pk)
    sheets = spotchecks.field_sheets(check, acting_user=request.user)
    return render(request, "stats/spot_check_sheets.html", {"check": check, "sheets": sheets})
