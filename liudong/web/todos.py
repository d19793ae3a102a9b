"""The signed-in user's to-dos on the home page (issue 16 item 9): for each kind of work
their role can act on, how many are waiting, how many are late, and the list to open.

Every count asks the owning app's own worklist function (the same rows its page lists, in
the user's scope), so the home page and the list it links to cannot disagree. One query per
kind; kinds the role cannot act on are not asked at all.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from liudong.accounts.roles import (
    APPROVE_REPORTS,
    ASSISTANCE,
    CHANGE_PEOPLE,
    MANAGE_PLACES,
    RECORD_SERVICES,
    SUBMIT_REPORTS,
    VERIFY_CERTIFICATES,
    can,
)
from liudong.actors import region_of
from liudong.certificates import notices
from liudong.exchange.assistance import services as assistance
from liudong.exchange.models import AssistanceRequest
from liudong.people.models import CorrectionRequest
from liudong.places import services as places
from liudong.services.help_requests import services as help_services
from liudong.services.records import services as record_services
from liudong.stats import services as stats

from .worklist import AGREEMENT_NOTICE_DAYS

# A correction request lands at a township (residents.corrections.holding_region).
TOWNSHIP_CODE_LENGTH = 9

if TYPE_CHECKING:
    from liudong.actors import Actor


@dataclass(frozen=True)
class ToDo:
    key: str
    title: str
    count: int
    overdue: int
    url: str


def home_todos(user: Actor, today: datetime.date | None = None) -> list[ToDo]:
    """The user's to-dos, in the order of the list below; a kind with nothing waiting is
    kept (count 0) so the page can say so quietly."""
    today = today or timezone.localdate()
    late = Q(deadline__lt=today)
    found: list[ToDo] = []
    if can(user, VERIFY_CERTIFICATES):
        overdue = notices.overdue_notices(user, today=today).count()
        found.append(
            ToDo(
                "notices",
                _("Notices past their deadline"),
                overdue,
                overdue,
                reverse("certificates:notices"),
            )
        )
    if can(user, RECORD_SERVICES):
        found.append(
            _counted(
                "help_requests",
                _("Help requests to handle"),
                help_services.help_worklist(user, today=today),
                late,
                reverse("services:help_list"),
            )
        )
        found.append(
            _counted(
                "follow_ups",
                _("Follow-ups due"),
                record_services.followups_due(user, today=today),
                Q(due_on__lt=today),
                reverse("services:followups"),
            )
        )
    if can(user, ASSISTANCE):
        incoming = AssistanceRequest.Direction.INCOMING
        found.append(
            _counted(
                "assistance",
                _("Assistance requests to answer"),
                assistance.worklist(user, direction=incoming, today=today).unanswered(),
                late,
                reverse("assistance:list") + "?" + urlencode({"tab": incoming}),
            )
        )
    if can(user, CHANGE_PEOPLE) and len(region_of(user) or "") <= TOWNSHIP_CODE_LENGTH:
        # Her correction requests waiting in the office holding her file (issue 19): a
        # township's, and its county's above it; a village or a collector holds none.
        found.append(
            _counted(
                "corrections",
                _("Correction requests to answer"),
                CorrectionRequest.objects.in_scope(user).filter(
                    status=CorrectionRequest.Status.OPEN
                ),
                late,
                reverse("web:corrections"),
            )
        )
    if can(user, MANAGE_PLACES):
        found.append(
            _counted(
                "hazards",
                _("Rental-house hazards not yet rectified"),
                places.open_rectifications(user, today),
                late,
                reverse("places:hazards"),
            )
        )
        ending = places.expiring_agreements(user, AGREEMENT_NOTICE_DAYS, today).count()
        found.append(
            ToDo(
                "agreements",
                _("Agreements ending within %(days)s days") % {"days": AGREEMENT_NOTICE_DAYS},
                ending,
                0,
                reverse("places:expiring"),
            )
        )
    if can(user, SUBMIT_REPORTS):
        months = stats.months_to_submit(user, today)
        first = months[0] if months else stats.last_full_month(today)
        found.append(
            ToDo(
                "reports_to_submit",
                ngettext(
                    "Monthly report to submit (%(months)s)",
                    "Monthly reports to submit (%(months)s)",
                    len(months),
                )
                % {"months": ", ".join(str(m) for m in months)}
                if months
                else _("Monthly reports to submit"),
                len(months),
                0,
                reverse("stats:report")
                + "?"
                + urlencode({"region": region_of(user), "period": str(first)}),
            )
        )
    if can(user, APPROVE_REPORTS):
        found.append(
            ToDo(
                "reports_to_approve",
                _("Reports of the units below to approve"),
                stats.reports_to_approve(user).count(),
                0,
                reverse("stats:reports"),
            )
        )
    return found


def _counted(key: str, title: str, queryset: QuerySet, overdue: Q, url: str) -> ToDo:
    """How many rows the worklist holds and how many of them are late, in one query."""
    # "late" is taken: the worklists annotate their rows with it for their order.
    counted = queryset.order_by().aggregate(total=Count("pk"), overdue=Count("pk", filter=overdue))
    return ToDo(key, title, counted["total"], counted["overdue"], url)
