"""What is due in one grid (issue 5 item 6): the page a grid worker opens on a phone.

Each section asks the app that owns the records, limited to what the worker may see
(``in_scope``) and to the people and places of the grid's areas. Nothing here is a target
or a quota: every line is somebody to visit, to help or to remind, in the order it is due.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext_lazy as _

from liudong.accounts.roles import ASSISTANCE, can
from liudong.certificates import notices
from liudong.exchange.models import AssistanceRequest
from liudong.people.models import ResidenceEpisode
from liudong.places import services as places
from liudong.regions.models import Grid
from liudong.services.help_requests import services as help_services
from liudong.services.records import services as record_services

if TYPE_CHECKING:
    from liudong.actors import Caller

VERIFY_WITHIN_DAYS = 30  # the residence verifies the certificate within 30 days of arrival
AGREEMENT_NOTICE_DAYS = 30
SHOWN = 50  # per section: a worker's day, not an export


@dataclass
class Section:
    key: str
    title: str
    items: list
    total: int
    overdue: int = 0
    extra: dict = field(default_factory=dict)


def my_grids(user: Caller) -> QuerySet[Grid]:
    """The grids the user works in (responsible or collector), else those in their scope."""
    # in_scope() holds the grids the user works in (GridQuerySet): narrowing it loses none.
    own = Grid.objects.in_scope(user).filter(Q(responsible=user) | Q(collectors=user)).distinct()
    return own if own.exists() else Grid.objects.in_scope(user)


def unverified_arrivals(
    user: Caller, grid: Grid, today: datetime.date
) -> QuerySet[ResidenceEpisode]:
    """Women of 18-49 who arrived in the grid from elsewhere and whose certificate (or
    exchanged record) is not verified yet: longest waiting first."""
    born_after = _years_before(today, 50)
    born_by = _years_before(today, 18)
    return (
        ResidenceEpisode.objects.in_scope(user)
        .filter(
            grid.area_q("region_id"),
            departure_date__isnull=True,
            verified_on__isnull=True,
            person__is_floating=True,
            person__merged_into__isnull=True,
            person__sex="2",
            person__birth_date__gt=born_after,
            person__birth_date__lte=born_by,
        )
        .select_related("person", "region")
        .order_by("arrival_date", "pk")
    )


def grid_worklist(user: Caller, grid: Grid, today: datetime.date | None = None) -> list[Section]:
    today = today or timezone.localdate()
    arrivals = unverified_arrivals(user, grid, today)
    late_day = today - datetime.timedelta(days=VERIFY_WITHIN_DAYS)
    overdue = notices.overdue_notices(user, today=today).filter(grid.area_q("episode__region_id"))
    follow_ups = record_services.followups_due(user, today=today, grid=grid)
    help_requests = help_services.help_worklist(user, today=today).filter(
        grid.area_q("person__residence_region_id")
    )
    agreements = places.expiring_agreements(user, AGREEMENT_NOTICE_DAYS, today).filter(
        grid.area_q("employer__region_id")
        | grid.area_q("rental_house__region_id")
        | grid.area_q("site__region_id")
    )
    hazards = places.open_rectifications(user, today).filter(grid.area_q("rental_house__region_id"))
    sections = [
        _section(
            "arrivals",
            _("Arrivals whose certificate is not verified yet"),
            arrivals,
            Q(arrival_date__lt=late_day),
        ),
        _section("notices", _("Notices past their deadline"), overdue, True),
        _section("follow_ups", _("Follow-ups due"), follow_ups, Q(due_on__lt=today)),
        _section(
            "help_requests",
            _("Help requests to handle"),
            help_requests,
            Q(deadline__lt=today),
        ),
        _section(
            "agreements",
            _("Agreements ending within %(days)s days") % {"days": AGREEMENT_NOTICE_DAYS},
            agreements,
            False,
        ),
        _section(
            "hazards",
            _("Rental-house hazards not yet rectified"),
            hazards,
            Q(deadline__lt=today),
        ),
    ]
    if can(user, ASSISTANCE):  # only those who answer them see the other place's questions
        assistance = (
            AssistanceRequest.objects.in_scope(user)
            .incoming()
            .unanswered()
            .filter(grid.area_q("region_id"))
            .select_related("person")
            .order_by("deadline", "pk")
        )
        sections.append(
            _section(
                "assistance",
                _("Assistance requests to answer"),
                assistance,
                Q(deadline__lt=today),
            )
        )
    return sections


def _section(key: str, title: str | StrPromise, queryset: QuerySet, overdue: Q | bool) -> Section:
    """The first SHOWN rows, how many there are and how many of them are ``overdue`` (a
    condition on the rows; True: all of them, False: none): the rows in one query, both
    counts in a second, none when the rows shown are all there is and none is late."""
    items = list(queryset[:SHOWN])
    if len(items) < SHOWN and isinstance(overdue, bool):
        return Section(key, str(title), items, len(items), len(items) if overdue else 0)
    if isinstance(overdue, Q):
        counted = queryset.order_by().aggregate(
            total=Count("pk"), overdue=Count("pk", filter=overdue)
        )
        total, late = counted["total"], counted["overdue"]
    else:
        total = queryset.count()
        late = total if overdue else 0
    return Section(key=key, title=str(title), items=items, total=total, overdue=late)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
