"""Person file pages: the list with its live search, one file (every opening is logged),
and the forms for arrival, departure, move within the jurisdiction, return home and edits.

Every read starts from ``Person.objects.in_scope(request.user)``; every change goes through
``people.services`` (via the forms).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from liudong.accounts.roles import CHANGE_PEOPLE, can
from liudong.actors import region_of
from liudong.base import StaleWrite, scoped_object_or_404
from liudong.controlchars import post_guarded
from liudong.exchange.models import ReportedService
from liudong.regions.forms import region_filter
from liudong.regions.models import full_names
from liudong.services.records.services import services_of_person
from liudong.web.decorators import staff_required
from liudong.web.forms import add_service_errors, apply_service

from . import duplicates, idnumbers, services
from .filters import FLOW_CHOICES, PersonFilter, with_open_arrival
from .forms import (
    ArrivalForm,
    ChildForm,
    DepartureForm,
    MoveForm,
    OutflowForm,
    PersonEditForm,
    ReturnForm,
    VersionedForm,
    person_initial,
    region_warnings,
    stale_differences,
)
from .models import Person, PersonQuerySet, PossibleDuplicate
from .paging import CappedPaginator, is_search
from .template import MARITAL_CHOICES, SEX_CHOICES

if TYPE_CHECKING:
    from liudong.accounts.views import SignedInRequest


PAGE_SIZE = 50


def _scoped(request: SignedInRequest) -> PersonQuerySet:
    return Person.objects.in_scope(request.user)


def _listing(request: SignedInRequest) -> PersonFilter:
    persons = with_open_arrival(
        # The page's regions in one query for its codes (see people.api.views).
        _scoped(request).active().prefetch_related("household_region", "residence_region")
    )
    return PersonFilter(request.GET or None, queryset=persons, request=request)


@vary_on_headers("HX-Request")
@staff_required()
def person_list(request: SignedInRequest) -> HttpResponse:
    """Files in the user's region. The search box and the filters ask again as the user
    types or chooses (htmx): those requests get only the results; a history restore gets
    the whole page."""
    filtered = _listing(request)
    # A search counts its matches only up to a cap (people.paging): a common surname
    # across a province matches too many files to count on every keystroke.
    paginate = CappedPaginator if is_search(request.GET.get("q")) else Paginator
    page = paginate(filtered.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "query": query.urlencode(),
        "q": request.GET.get("q", ""),
        "flow": request.GET.get("flow", ""),
        "sex": request.GET.get("sex", ""),
        "marital_status": request.GET.get("marital_status", ""),
        "flow_choices": FLOW_CHOICES,
        "within_box": region_filter(
            "within",
            request.GET.get("within", ""),
            under=request.user.region_id or "",
            label=_("Region"),
            attrs={
                "hx-get": reverse("people:list"),
                "hx-trigger": "change",
                "hx-include": "closest form",
            },
        ),
        "sex_choices": SEX_CHOICES,
        "marital_choices": MARITAL_CHOICES,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "people/_results.html", context)
    return render(request, "people/list.html", context)


def _file(request: SignedInRequest, pk: int) -> Person:
    return get_object_or_404(
        _scoped(request).select_related("household_region", "residence_region", "merged_into"),
        pk=pk,
    )


@require_GET
@staff_required()
def person_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """The whole file, with the full ID number: each opening is an audit entry."""
    person = _file(request, pk)
    services.view_person(acting_user=request.user, person=person, via="web")
    episodes = list(
        person.episodes.select_related("region", "destination_region").order_by(
            "-arrival_date", "-id"
        )
    )
    current = next((e for e in episodes if e.departure_date is None), None)
    # She left, to a known place: say whether the office there sees her file.
    went_to = None
    if current is None and episodes and episodes[0].destination_region is not None:
        went_to = destination_note(
            services.destination_office(person, episodes[0].destination_region)
        )
    region = region_of(request.user)
    residence = person.residence_region
    household_name, residence_name = full_names(person.household_region, residence)
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "household_name": household_name,
            "residence_name": residence_name,
            "outflow": person.is_floating and person.household_region_id.startswith(region),
            "inflow": person.is_floating and bool(residence and residence.code.startswith(region)),
            "episodes": episodes,
            "current": current,
            "went_to": went_to,
            "children": person.children.order_by("birth_date", "id"),
            "certificates": person.held_certificates.order_by("issued_on", "id"),
            "at_home": person.residence_region_id == person.household_region_id,
            "her_services": services_of_person(request.user, person),
            # Told by her residence's node (type and date only): she is served there.
            "reported_services": ReportedService.objects.in_scope(request.user).filter(
                person=person
            ),
        },
    )


@staff_required()
def arrive(request: SignedInRequest) -> HttpResponse:
    """Register an arrival: a new file, or a new stay on a file already in scope."""
    user = request.user
    initial = {"residence_region": user.region_id, "arrival_date": None}
    known = None
    if request.method == "GET" and request.GET.get("id_number"):
        try:
            identity = idnumbers.parse(request.GET["id_number"])
            known = services.find_for_arrival(user, identity.value)
        except (idnumbers.IdNumberError, ValidationError):
            known = None
        if known is not None:
            # The form shows the file's own fields: a read like opening it.
            services.view_person(acting_user=user, person=known, via="web")
            initial.update(person_initial(known))
        else:
            initial["id_number"] = request.GET["id_number"]
    form = ArrivalForm(request.POST or None, initial=initial, user=user)
    # As the number is typed, ask what it says (birth date, sex, on file or not).
    form.fields["id_number"].widget.attrs.update(
        {
            "hx-get": reverse("people:id_check"),
            "hx-trigger": "input changed delay:400ms, change",
            "hx-target": "#id-derived",
            "hx-swap": "outerHTML",
            "hx-include": "[name='sex'], [name='birth_date']",
            "hx-sync": "this:replace",
        }
    )
    episode = None
    if request.method == "POST" and form.is_valid():
        episode = apply_service(form, form.save)
    if episode is not None:
        person = episode.person
        messages.success(
            request,
            _("Arrival of %(name)s registered.") % {"name": person.name},
        )
        for warning in form.warnings:
            messages.warning(request, warning)
        return redirect("people:detail", pk=person.pk)
    return render(request, "people/arrive.html", {"form": form, "known": known})


@staff_required()
def open_outflow(request: SignedInRequest) -> HttpResponse:
    """The registration township opens the file of someone registered here who lives
    elsewhere (where she lives may be anywhere, or not known)."""
    user = request.user
    form = OutflowForm(
        request.POST or None,
        initial={"household_region": user.region_id, "arrival_date": None},
        user=user,
    )
    person = None
    if request.method == "POST" and form.is_valid():
        person = apply_service(form, form.save)
    if person is not None:
        messages.success(request, _("Outflow file of %(name)s opened.") % {"name": person.name})
        for warning in form.warnings:
            messages.warning(request, warning)
        if person.residence_region_id is None:
            messages.info(
                request,
                _(
                    "Where she lives is not known: the file is kept, and the outflow figures "
                    "count her once a place is recorded."
                ),
            )
        return redirect("people:detail", pk=person.pk)
    return render(request, "people/outflow.html", {"form": form})


@require_GET
@staff_required()
def id_check(request: SignedInRequest) -> HttpResponse:
    """What the ID number typed so far says (htmx): birth date and sex filled in from it,
    a wrong check digit, and whether the person is on file (in scope: name and a link to
    fill the form from the file; elsewhere: only that it cannot be registered here)."""
    raw = request.GET.get("id_number", "")
    typed = idnumbers.normalise(raw)
    data = {
        "sex": request.GET.get("sex", ""),
        "birth_date": request.GET.get("birth_date", ""),
    }
    context: dict = {"typed": typed}
    if typed:
        try:
            identity = idnumbers.parse(typed)
        except idnumbers.IdNumberError as exc:
            if len(typed) >= 15:
                context["error"] = str(exc)
        else:
            data = {"sex": identity.sex, "birth_date": identity.birth_date.isoformat()}
            context["identity"] = identity
            try:
                context["known"] = services.find_for_arrival(request.user, identity.value)
            except ValidationError as exc:
                context["error"] = " ".join(exc.messages)
    form = ArrivalForm(initial=data, user=request.user)
    context["form"] = form
    return render(request, "people/_identity.html", context)


def _change_page(
    request: SignedInRequest,
    pk: int,
    form_class: type[VersionedForm],
    template: str,
    heading: str,
    change: Callable[..., object],
    **form_kwargs: Any,
) -> HttpResponse:
    """The shared shape of the departure, move and return pages: a small form for one
    file, checked against the version the user saw, then one service call."""
    person = _file(request, pk)
    form = form_class(request.POST or None, person=person, **form_kwargs)
    done = None
    if request.method == "POST" and form.is_valid() and form.check_version():
        done = apply_service(form, lambda: change(person, form.cleaned_data))
    if done is not None:
        messages.success(request, _("Saved."))
        for warning in region_warnings(form):
            messages.warning(request, warning)
        return _after_change(request, person)
    current = person.episodes.filter(departure_date__isnull=True).select_related("region").first()
    return render(
        request,
        template,
        {"form": form, "person": person, "current": current, "heading": heading},
    )


def _after_change(request: SignedInRequest, person: Person) -> HttpResponse:
    """Back to the file, or to the list when the change took it out of the user's region."""
    if _scoped(request).filter(pk=person.pk).exists():
        return redirect("people:detail", pk=person.pk)
    messages.info(
        request, _("%(name)s's file now lies outside your region.") % {"name": person.name}
    )
    return redirect("people:list")


def destination_note(found: services.DestinationOffice) -> str:
    """Whether the office at her destination sees her file on this system, in words."""
    place = found.destination.name
    if found.office is None:
        return _("No office on this system serves %(place)s; nothing is sent there.") % {
            "place": place
        }
    if found.sees_file:
        return _(
            "The office of %(office)s sees her file on this system: she is registered in "
            "its region."
        ) % {"office": found.office.name}
    if found.over_both is not None:
        return _(
            "The office of %(office)s does not see her file until her arrival there is "
            "registered; %(over)s, which holds both places, can register it."
        ) % {"office": found.office.name, "over": found.over_both.name}
    return _(
        "The office of %(office)s does not see her file, and no office on this system "
        "holds both places: her arrival there can be registered only once the file is "
        "handed over."
    ) % {"office": found.office.name}


@staff_required()
def depart(request: SignedInRequest, pk: int) -> HttpResponse:
    def change(person: Person, data: dict[str, Any]) -> object:
        stay = services.register_departure(
            acting_user=request.user,
            person=person,
            departure_date=data["departure_date"],
            destination_region=data["destination_region"],
            destination_place=data["destination_place"],
            expected_version=data["version"],
        )
        if stay.destination_region is not None:
            found = services.destination_office(person, stay.destination_region)
            messages.info(request, destination_note(found))
        return stay

    return _change_page(
        request, pk, DepartureForm, "people/depart.html", _("Register departure"), change
    )


@staff_required()
def move(request: SignedInRequest, pk: int) -> HttpResponse:
    return _change_page(
        request,
        pk,
        MoveForm,
        "people/move.html",
        _("Move within jurisdiction"),
        lambda person, data: services.move_within(
            acting_user=request.user,
            person=person,
            region=data["region"],
            moved_on=data["moved_on"],
            address=data["address"],
            expected_version=data["version"],
        ),
        user=request.user,
    )


@staff_required()
def return_home(request: SignedInRequest, pk: int) -> HttpResponse:
    return _change_page(
        request,
        pk,
        ReturnForm,
        "people/return.html",
        _("Return home"),
        lambda person, data: services.return_home(
            acting_user=request.user,
            person=person,
            returned_on=data["returned_on"],
            expected_version=data["version"],
        ),
    )


@staff_required()
def add_child(request: SignedInRequest, pk: int) -> HttpResponse:
    """Record a child (a birth) on a file: vital statistics, the same service the API calls."""
    person = get_object_or_404(
        _scoped(request).active().select_related("household_region", "residence_region"), pk=pk
    )
    form = ChildForm(request.POST or None, parent=person)
    child = None
    if request.method == "POST" and form.is_valid():
        child = apply_service(form, lambda: form.save(acting_user=request.user))
    if child is not None:
        messages.success(
            request,
            _("Child born on %(day)s recorded on %(name)s's file.")
            % {"day": child.birth_date.isoformat(), "name": person.name},
        )
        return redirect(reverse("people:detail", args=[person.pk]) + "#children")
    current = person.episodes.filter(departure_date__isnull=True).select_related("region").first()
    return render(
        request,
        "people/child.html",
        {"form": form, "person": person, "current": current, "heading": _("Add a child")},
    )


@staff_required()
def edit(request: SignedInRequest, pk: int) -> HttpResponse:
    """Change a file's own fields. A save based on an old version is refused and says
    which fields the file now holds differently, and what they hold."""
    person = _file(request, pk)
    if request.method == "GET":
        services.view_person(acting_user=request.user, person=person, via="web")
    form = PersonEditForm(request.POST or None, initial=person_initial(person), person=person)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes and form.check_version():
            messages.info(request, _("Nothing changed."))
            return redirect("people:detail", pk=person.pk)
        if changes and _save_edit(request, form, person, changes):
            messages.success(request, _("Saved."))
            for warning in region_warnings(form):
                messages.warning(request, warning)
            return _after_change(request, person)
    return render(request, "people/edit.html", {"form": form, "person": person})


def _save_edit(
    request: SignedInRequest, form: PersonEditForm, person: Person, changes: dict[str, Any]
) -> bool:
    try:
        with transaction.atomic():
            services.update_person(
                acting_user=request.user,
                person=person,
                expected_version=form.cleaned_data["version"],
                **changes,
            )
    except StaleWrite as exc:
        current = exc.current
        form.person = current
        differences = stale_differences(form, current)
        listing = "; ".join(f"{label}: {value}" for label, value in differences)
        form.add_error(
            None,
            _(
                "Someone else saved this file while you were editing it (now version "
                "%(theirs)s, you started from version %(yours)s)."
            )
            % {"theirs": current.version, "yours": form.cleaned_data["version"]}
            + " "
            + (
                _("The file now holds: %(fields)s.") % {"fields": listing}
                if differences
                else _("The fields you edited hold what you submitted.")
            )
            + " "
            + _("Check the form and save again to keep your values."),
        )
        # Saving again means: I have seen the current file and still want my values.
        data = cast(QueryDict, form.data).copy()
        data["version"] = current.version
        form.data = data
        return False
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return False
    return True


# The possible-duplicate queue. Pairs are scoped by the first file's regions; deciding
# needs CHANGE_PEOPLE and goes through ``people.duplicates`` (which checks both files).


def _pairs(request: SignedInRequest) -> QuerySet[PossibleDuplicate]:
    return PossibleDuplicate.objects.in_scope(request.user).select_related(
        "first", "second", "kept", "decided_by"
    )


@require_GET
@staff_required()
def duplicate_list(request: SignedInRequest) -> HttpResponse:
    """Pairs in the user's region, those still to decide first."""
    status = request.GET.get("status", "")
    pairs = _pairs(request)
    if status in PossibleDuplicate.Status.values:
        pairs = pairs.filter(status=status)
    else:
        status = ""
    pairs = pairs.annotate(
        undecided=Case(
            When(status=PossibleDuplicate.Status.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("undecided", "-created", "-pk")
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "people/duplicates.html",
        {
            "page": page,
            "status": status,
            "status_choices": PossibleDuplicate.Status.choices,
            "query": f"status={status}" if status else "",
            "may_change": can(request.user, CHANGE_PEOPLE),
        },
    )


@require_POST
@staff_required(CHANGE_PEOPLE)
def duplicate_scan(request: SignedInRequest) -> HttpResponse:
    """Look for pairs among all active files now; say how many new ones the user sees."""
    scoped = PossibleDuplicate.objects.in_scope(request.user)
    before = scoped.count()
    duplicates.find_duplicates()
    queued = scoped.count() - before
    messages.success(
        request,
        ngettext(
            "Scan finished: %(n)s new possible duplicate pair queued.",
            "Scan finished: %(n)s new possible duplicate pairs queued.",
            queued,
        )
        % {"n": queued},
    )
    return redirect("people:duplicates")


@require_GET
@staff_required()
def duplicate_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    """The two files side by side, with the buttons to decide."""
    pair = get_object_or_404(
        _pairs(request).select_related(
            "first__household_region",
            "first__residence_region",
            "second__household_region",
            "second__residence_region",
        ),
        pk=pk,
    )
    may_change = can(request.user, CHANGE_PEOPLE)
    first, second = pair.first, pair.second
    files = [
        {
            "person": person,
            "stays": person.episodes.count(),
            "children": person.children.count(),
            "kept": pair.kept_id == person.pk,
            # Deciding needs the digits that differ: the whole numbers, for the user
            # who may merge, each showing logged as a view of that file.
            "digits": duplicates.compared_digits(person.id_number, other.id_number)
            if may_change
            else None,
        }
        for person, other in ((first, second), (second, first))
    ]
    if may_change:
        for person in (first, second):
            services.view_person(acting_user=request.user, person=person, via="duplicate")
    return render(
        request,
        "people/duplicate.html",
        {"pair": pair, "files": files, "may_change": may_change},
    )


def _decide(
    request: SignedInRequest,
    pk: int,
    decision: Callable[[PossibleDuplicate], object],
    done_message: str,
) -> HttpResponse:
    """Run one decision on a pair in scope; refusals become error messages."""
    pair = scoped_object_or_404(PossibleDuplicate, request.user, pk=pk)
    try:
        decision(pair)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not change these files."))
    else:
        messages.success(request, done_message)
    return redirect("people:duplicate", pk=pair.pk)


@require_POST
@staff_required(CHANGE_PEOPLE)
@post_guarded
def duplicate_merge(request: SignedInRequest, pk: int) -> HttpResponse:
    def merge(pair: PossibleDuplicate) -> None:
        kept: dict[int | None, Person] = {pair.first_id: pair.first, pair.second_id: pair.second}
        keep = kept.get(
            int(request.POST["keep"]) if request.POST.get("keep", "").isdigit() else None
        )
        if keep is None:
            raise ValidationError(_("The file to keep must be one of the pair."))
        duplicates.merge(acting_user=request.user, duplicate=pair, keep=keep)

    return _decide(request, pk, merge, _("The files were merged."))


@require_POST
@staff_required(CHANGE_PEOPLE)
def duplicate_undo(request: SignedInRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        lambda pair: duplicates.undo_merge(acting_user=request.user, duplicate=pair),
        _("The merge was undone."),
    )


@require_POST
@staff_required(CHANGE_PEOPLE)
def duplicate_dismiss(request: SignedInRequest, pk: int) -> HttpResponse:
    return _decide(
        request,
        pk,
        lambda pair: duplicates.dismiss(acting_user=request.user, duplicate=pair),
        _("Marked as not the same person."),
    )
