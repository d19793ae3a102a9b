"""Business rules for help requests (rights protection): creating and updating them, the
handler's worklist and the counts per status. Each change is one transaction with its
audit entry. Must not touch campaigns, associations or service records.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.models import User
from liudong.accounts.roles import RECORD_SERVICES, can
from liudong.actors import Actor, Caller, is_operator
from liudong.audit.models import Action
from liudong.people.models import Person
from liudong.regions.codes import subtree_q
from liudong.regions.models import Region
from liudong.services.common import (
    authorize_recording,
    check_choice,
    check_past,
    check_person_in_scope,
    record_change,
    save_new_or_versioned,
    set_fields,
    snapshot,
)
from liudong.services.models import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    HELP_DEADLINE_DAYS,
    OUTCOME_STATUSES,
    HelpCategory,
    HelpRequest,
    HelpStatus,
)

HELP_FIELDS = (
    "category",
    "description",
    "received_on",
    "handler",
    "status",
    "deadline",
    "outcome",
    "resolved_on",
)


# --- help requests -------------------------------------------------------------------------


def _help_image(help_request: HelpRequest) -> dict:
    return snapshot(help_request, (*HELP_FIELDS, "person", "region"))


def _check_help(help_request: HelpRequest) -> None:
    """The rules of a help request, whichever way it was changed."""
    check_choice(help_request.category, HelpCategory, "category")
    check_choice(help_request.status, HelpStatus, "status")
    if help_request.received_on is None:
        raise ValidationError({"received_on": _("received_on is required.")})
    check_past(help_request.received_on, "received_on")
    if help_request.received_on < help_request.person.birth_date:
        raise ValidationError(
            {"received_on": _("received_on: the date is before the person's birth date.")}
        )
    if help_request.deadline < help_request.received_on:
        raise ValidationError(
            {
                "deadline": _(
                    "deadline: %(day)s is before the request was received (%(received)s)."
                )
                % {"day": help_request.deadline, "received": help_request.received_on}
            }
        )
    if help_request.status in OUTCOME_STATUSES and not (help_request.outcome or "").strip():
        raise ValidationError(
            {
                "outcome": _("outcome: say what was done when a request is %(status)s.")
                % {"status": HelpStatus(help_request.status).label}
            }
        )
    if help_request.status in FINISHED_STATUSES:
        if help_request.resolved_on is None:
            help_request.resolved_on = timezone.localdate()
        check_past(help_request.resolved_on, "resolved_on")
        if help_request.resolved_on < help_request.received_on:
            raise ValidationError(
                {"resolved_on": _("resolved_on: the date is before the request was received.")}
            )
    else:
        help_request.resolved_on = None  # reopened: no longer resolved
    handler = help_request.handler
    if handler is not None and (
        not handler.is_active
        or not can(handler, RECORD_SERVICES)
        or not help_request.region_id.startswith(handler.region_id or "-")
    ):
        raise ValidationError(
            {
                "handler": _(
                    "handler: %(user)s is not an active staff member serving region %(code)s."
                )
                % {"user": handler.username, "code": help_request.region_id}
            }
        )


@transaction.atomic
def create_help_request(
    *,
    acting_user: Actor,
    person: Person,
    category: str = "",
    received_on: datetime.date | None = None,
    description: str = "",
    handler: User | None = None,
    status: str = HelpStatus.OPEN,
    deadline: datetime.date | None = None,
    outcome: str = "",
    resolved_on: datetime.date | None = None,
    region: Region | None = None,
) -> HelpRequest:
    """Her request, received by the office of ``region``: by default where she lives when
    that is in the caller's region, else the caller's own region. Received today unless
    said otherwise; the deadline is 15 days after receipt unless set."""
    # Refused before anything else: a request without a category cannot be routed.
    check_choice(category, HelpCategory, "category")
    received_on = received_on or timezone.localdate()
    check_person_in_scope(acting_user, person)
    if region is None:
        residence = person.residence_region_id
        if residence and residence.startswith(acting_user.region_id or ""):
            region_code = residence
        else:
            region_code = (
                (acting_user.region_id or "")
                if not is_operator(acting_user)
                else person.household_region_id
            )
    else:
        region_code = region.code
    authorize_recording(acting_user, region_code)
    help_request = HelpRequest(
        person=person,
        region_id=region_code,
        category=category,
        description=description,
        received_on=received_on,
        handler=handler,
        status=status,
        deadline=deadline or received_on + datetime.timedelta(days=HELP_DEADLINE_DAYS),
        outcome=outcome,
        resolved_on=resolved_on,
    )
    _check_help(help_request)
    help_request.save()
    record_change(
        Action.CREATE,
        acting_user=acting_user,
        obj=help_request,
        region=region_code,
        after=_help_image(help_request),
    )
    return help_request


@transaction.atomic
def update_help_request(
    *,
    acting_user: Actor,
    help_request: HelpRequest,
    expected_version: int | None = None,
    **changes: Any,
) -> HelpRequest:
    """Take it on, move it along, resolve or refer it (with the outcome), or reopen it."""
    authorize_recording(acting_user, help_request.region_id)
    before = _help_image(help_request)
    set_fields(help_request, HELP_FIELDS, changes)
    _check_help(help_request)
    save_new_or_versioned(help_request, expected_version)
    record_change(
        Action.UPDATE,
        acting_user=acting_user,
        obj=help_request,
        region=help_request.region_id,
        before=before,
        after=_help_image(help_request),
    )
    return help_request


def help_worklist(user: Caller, today: datetime.date | None = None) -> QuerySet[HelpRequest]:
    """Requests still open or in progress in the caller's region: overdue first, then by
    deadline and date received."""
    today = today or timezone.localdate()
    return (
        HelpRequest.objects.in_scope(user)
        .active()
        .select_related("person", "region", "handler")
        .annotate(
            late=Case(
                When(deadline__lt=today, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("late", "deadline", "received_on", "pk")
    )


def help_counts(
    user: Caller,
    *,
    region: str | None = None,
    received_from: datetime.date | None = None,
    received_to: datetime.date | None = None,
    today: datetime.date | None = None,
) -> dict:
    """Requests received in a region (subtree, within the caller's) and period, by category
    and by status, with how many are overdue today. Every category and status is listed,
    zeros included."""
    today = today or timezone.localdate()
    requests = HelpRequest.objects.in_scope(user)
    if region:
        requests = requests.filter(subtree_q(region, "region_id"))
    if received_from:
        requests = requests.filter(received_on__gte=received_from)
    if received_to:
        requests = requests.filter(received_on__lte=received_to)
    by_category = dict.fromkeys(HelpCategory.values, 0)
    by_category.update(
        requests.order_by().values("category").annotate(n=Count("pk")).values_list("category", "n")
    )
    by_status = dict.fromkeys(HelpStatus.values, 0)
    by_status.update(
        requests.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {
        "total": sum(by_category.values()),
        "overdue": requests.filter(status__in=ACTIVE_STATUSES, deadline__lt=today).count(),
        "by_category": by_category,
        "by_status": by_status,
    }
