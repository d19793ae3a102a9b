"""Notices to obtain a certificate within three months (限期办理通知书, 2009 Regulations,
art. 8): giving one at the residence, the worklists of open and overdue notices, and a notice
fetched to print (logged). A verification fulfils a notice (``verification`` does that);
this module must not verify or issue.
"""

from __future__ import annotations

import calendar
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from liudong.accounts.roles import VERIFY_CERTIFICATES
from liudong.actors import Actor, Caller, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.people.models import Person

from .issuing import MAX_AGE, MIN_AGE, local_today
from .models import (
    Notice,
)
from .verification import NOT_RESIDENT, open_episode

NOTICE_MONTHS = 3


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def issue_notice(
    person: Person, *, acting_user: Actor, today: datetime.date | None = None
) -> Notice:
    """A notice to obtain her certificate within three months (2009 Regulations, art. 8).
    Asking again during the same stay gives the notice already open."""
    today = local_today(today)
    episode = open_episode(person)
    authorize(acting_user, VERIFY_CERTIFICATES, episode.region_id, outside=NOT_RESIDENT)
    if not person.is_adult_wcba(today):
        raise ValidationError(
            _("A notice is given only to a woman aged %(min)d to %(max)d.")
            % {"min": MIN_AGE, "max": MAX_AGE},
            code="age",
        )
    if episode.verified_on is not None:
        raise ValidationError(
            _("Her certificate was already verified on %(day)s: no notice is needed.")
            % {"day": episode.verified_on},
            code="verified",
        )
    existing = Notice.objects.open().filter(episode=episode).first()
    if existing is not None:
        return existing
    notice = Notice.objects.create(
        person=person,
        episode=episode,
        region_id=episode.region_id,
        issued_on=today,
        deadline=add_months(today, NOTICE_MONTHS),
        issued_by=account_of(acting_user),
    )
    audit.record(
        Action.CREATE,
        acting_user=acting_user,
        obj=notice,
        region=episode.region_id,
        after=audit.snapshot(
            notice, ["person_id", "episode_id", "region_id", "issued_on", "deadline"]
        ),
        detail={"action": "notice"},
    )
    return notice


def overdue_notices(user: Caller, *, today: datetime.date | None = None) -> QuerySet[Notice]:
    """The worklist: open notices past their deadline for people still living here."""
    notices = Notice.objects.in_scope(user)
    return notices.overdue(local_today(today)).select_related("person", "episode")


def open_notices(user: Actor) -> QuerySet[Notice]:
    """The notice worklist: open notices of people still living here, in the user's
    scope. Ordered by deadline, so the overdue ones come first."""
    return (
        Notice.objects.in_scope(user)
        .open()
        .filter(episode__departure_date__isnull=True)
        .select_related("person", "episode", "episode__region")
        .order_by("deadline", "id")
    )


def notice_for_print(pk: int, *, acting_user: Actor) -> Notice | None:
    """A notice in the user's scope, to print for her: every print is logged."""
    notice = (
        Notice.objects.in_scope(acting_user)
        .select_related("person", "person__household_region", "episode__region", "region")
        .filter(pk=pk)
        .first()
    )
    if notice is None:
        return None
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=notice,
        region=notice.region_id,
        detail={"action": "print", "format": "html"},
    )
    return notice
