"""Business rules for service records and their follow-ups: recording a service (with the
RECORD_SERVICES rules on who sees a result), scheduling and closing follow-ups, the counts
the statistics take from the records, their export, and what of a person's services,
follow-ups and help requests her file page shows. Each change is one transaction with its
audit entry. Must not touch campaigns or associations.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong import events
from liudong.accounts.roles import CHANGE_PEOPLE, RECORD_SERVICES, Role, can
from liudong.actors import Actor, Caller, account_of, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import allowed, authorize
from liudong.people.models import Person
from liudong.places.models import Site
from liudong.regions.codes import subtree_q
from liudong.regions.models import Grid, Region
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
    ContraceptiveMethod,
    FollowUp,
    HelpRequest,
    Membership,
    ServiceRecord,
    ServiceType,
)
from liudong.services.servicesheet import write_service_sheet

# --- service records -----------------------------------------------------------------------

SERVICE_FIELDS = (
    "service_type",
    "date",
    "provider",
    "provider_name",
    "region",
    "free_of_charge",
    "consent_recorded",
    "contraceptive_method",
    "contraceptive_method_other",
    "campaign",
    "result",
)
# Worked out from her file, never typed in: the spouse's number on a pre-pregnancy check.
DERIVED_SERVICE_FIELDS = ("spouse_id_number",)
FOLLOW_UP_FIELDS = ("due_on", "done_on", "notes")


def may_see_result(user: Caller, record: ServiceRecord) -> bool:
    """The result is sensitive health data (PIPL): only a service station and the
    township specialist of her residence or registration see it. The operator sees it;
    a village, county or inspector account does not (a rule beyond capability and region:
    it depends on the role)."""
    if is_operator(user):
        return True
    if not allowed(user, RECORD_SERVICES):
        return False
    role, region = getattr(user, "role", ""), getattr(user, "region_id", "") or ""
    if role == Role.PROVIDER:
        return True
    if role != Role.TOWNSHIP:
        return False
    person = record.person
    return any(
        (code or "").startswith(region)
        for code in (person.residence_region_id, person.household_region_id)
    )


def _service_image(record: ServiceRecord) -> dict:
    """The audit image of a record. The result itself stays out of the log (anyone who
    reads the region's audit log would read it): only whether one is kept."""
    fields = [name for name in SERVICE_FIELDS if name != "result"]
    return snapshot(
        record,
        (*fields, *DERIVED_SERVICE_FIELDS, "person"),
        has_result=bool((record.result or "").strip()),
    )


def _check_service(record: ServiceRecord, *, acting_user: Actor) -> None:
    """The rules of a service record, whichever way it was made or changed."""
    check_choice(record.service_type, ServiceType, "service_type")
    # Service, not coercion (DESIGN.md §2.1): only what she asked for or accepted is kept.
    if not record.consent_recorded:
        raise ValidationError(
            {
                "consent_recorded": _(
                    "consent_recorded: a service is recorded only when she asked for or "
                    "accepted it; tick that her consent was recorded."
                )
            }
        )
    if record.date is None:
        raise ValidationError({"date": _("date is required.")})
    check_past(record.date, "date")
    person = record.person
    if record.date < person.birth_date:
        raise ValidationError(
            {
                "date": _("date: %(day)s is before the person's birth date %(born)s.")
                % {"day": record.date, "born": person.birth_date}
            }
        )
    if record.service_type == ServiceType.PRE_PREGNANCY:
        spouse = person.spouse
        spouse_number = spouse.id_number if spouse is not None else person.spouse_id_number
        if not spouse_number:
            raise ValidationError(
                {
                    "service_type": _(
                        "service_type: a pre-pregnancy health check is for a couple; her "
                        "file has no spouse (record the spouse on her file first)."
                    )
                }
            )
        record.spouse_id_number = spouse_number
    else:
        record.spouse_id_number = ""
    if record.service_type == ServiceType.CONTRACEPTIVE:
        # Her choice is never defaulted: no method, no record.
        if not record.contraceptive_method:
            raise ValidationError(
                {
                    "contraceptive_method": _(
                        "contraceptive_method: a contraceptive supply records the method she chose."
                    )
                }
            )
        check_choice(record.contraceptive_method, ContraceptiveMethod, "contraceptive_method")
        if (
            record.contraceptive_method == ContraceptiveMethod.OTHER
            and not (record.contraceptive_method_other or "").strip()
        ):
            raise ValidationError(
                {
                    "contraceptive_method_other": _(
                        "contraceptive_method_other: name the other method she chose."
                    )
                }
            )
        if record.contraceptive_method != ContraceptiveMethod.OTHER:
            record.contraceptive_method_other = ""
    elif record.contraceptive_method or record.contraceptive_method_other:
        # Minimum necessary data: a method is kept only with a supply.
        raise ValidationError(
            {
                "contraceptive_method": _(
                    "contraceptive_method: a method is recorded only with a contraceptive supply."
                )
            }
        )
    provider = record.provider
    if provider is not None:
        if provider.kind != Site.Kind.SERVICE_STATION:
            raise ValidationError(
                {
                    "provider": _("provider: %(name)s is not a service station.")
                    % {"name": provider.name}
                }
            )
        if (record.provider_name or "").strip():
            raise ValidationError(
                {
                    "provider_name": _(
                        "provider_name: name a provider only when it is not a registered station."
                    )
                }
            )
    campaign = record.campaign
    if campaign is not None and not campaign.starts_on <= record.date <= campaign.ends_on:
        raise ValidationError(
            {
                "date": _("date: %(day)s lies outside the campaign's period %(start)s to %(end)s.")
                % {"day": record.date, "start": campaign.starts_on, "end": campaign.ends_on}
            }
        )
    if (record.result or "").strip() and not may_see_result(acting_user, record):
        raise PermissionDenied(
            _(
                "result: only a service station or her township specialist keeps the result "
                "of a service."
            )
        )


def _default_service_region(person: Person, *, acting_user: Actor) -> str:
    """Where she lives when that is in the caller's region, else the caller's region."""
    residence = person.residence_region_id
    if residence and residence.startswith(acting_user.region_id or ""):
        return residence
    if not is_operator(acting_user):
        return acting_user.region_id or ""
    if not residence:
        raise ValidationError({"region": _("region is required: she has no residence on file.")})
    return residence


@transaction.atomic
def create_service_record(
    *, acting_user: Actor, person: Person, region: Region | None = None, **values: Any
) -> ServiceRecord:
    """Record a service she asked for or accepted. Given where she lives (in the
    caller's region) unless ``region`` says where; her file must be in the caller's
    scope."""
    check_person_in_scope(acting_user, person)
    region_code = (
        region.code
        if region is not None
        else _default_service_region(person, acting_user=acting_user)
    )
    authorize_recording(acting_user, region_code)
    record = ServiceRecord(
        person=person, region_id=region_code, recorded_by=account_of(acting_user)
    )
    set_fields(record, [name for name in SERVICE_FIELDS if name != "region"], values)
    _check_service(record, acting_user=acting_user)
    record.save()
    record_change(
        Action.CREATE,
        acting_user=acting_user,
        obj=record,
        region=region_code,
        after=_service_image(record),
    )
    events.publish(
        events.ServiceGiven(
            id_number=record.person.id_number,
            household_region=record.person.household_region_id,
            region=record.region_id,
            service_type=record.service_type,
            date=record.date,
        )
    )
    return record


@transaction.atomic
def update_service_record(
    *,
    acting_user: Actor,
    record: ServiceRecord,
    expected_version: int | None = None,
    **changes: Any,
) -> ServiceRecord:
    """Correct a record (the person stays); every rule is checked again."""
    authorize_recording(acting_user, record.region_id)
    if "result" in changes and not may_see_result(acting_user, record):
        raise PermissionDenied(
            _(
                "result: only a service station or her township specialist keeps the result "
                "of a service."
            )
        )
    before = _service_image(record)
    set_fields(record, SERVICE_FIELDS, changes)
    authorize_recording(acting_user, record.region_id)
    _check_service(record, acting_user=acting_user)
    save_new_or_versioned(record, expected_version)
    record_change(
        Action.UPDATE,
        acting_user=acting_user,
        obj=record,
        region=record.region_id,
        before=before,
        after=_service_image(record),
    )
    return record


def read_service_record(user: Actor, record: ServiceRecord) -> bool:
    """Whether ``user`` sees the record's result; a result shown is logged as a view
    (a read of sensitive health data, PIPL)."""
    visible = may_see_result(user, record)
    if visible and (record.result or "").strip():
        audit.record_view(
            acting_user=user, obj=record, region=record.region_id, via="service record result"
        )
    return visible


def service_records_for(user: Caller) -> QuerySet[ServiceRecord]:
    """The records the caller sees (the operator sees all)."""
    records = ServiceRecord.objects.in_scope(user)
    return records.select_related("person", "region", "provider", "campaign", "recorded_by")


# --- follow-ups ----------------------------------------------------------------------------


def _check_service_in_scope(record: ServiceRecord, *, acting_user: Actor) -> None:
    authorize(acting_user, RECORD_SERVICES)
    if not ServiceRecord.objects.in_scope(acting_user).filter(pk=record.pk).exists():
        raise PermissionDenied(
            _("service: this service record lies outside your region %(region)s.")
            % {"region": acting_user.region_id}
        )


def _check_follow_up(follow_up: FollowUp) -> None:
    service = follow_up.service
    if follow_up.due_on is None:
        raise ValidationError({"due_on": _("due_on is required.")})
    if follow_up.due_on <= service.date:
        raise ValidationError(
            {
                "due_on": _("due_on: %(day)s is not after the service it follows (%(service)s).")
                % {"day": follow_up.due_on, "service": service.date}
            }
        )
    if follow_up.done_on is not None:
        check_past(follow_up.done_on, "done_on")
        if follow_up.done_on < service.date:
            raise ValidationError(
                {
                    "done_on": _("done_on: %(day)s is before the service (%(service)s).")
                    % {"day": follow_up.done_on, "service": service.date}
                }
            )


@transaction.atomic
def schedule_follow_up(
    *,
    acting_user: Actor,
    service: ServiceRecord,
    due_on: datetime.date | None = None,
    notes: str = "",
    done_on: datetime.date | None = None,
) -> FollowUp:
    """A follow-up of a service the caller sees, due after the service date."""
    _check_service_in_scope(service, acting_user=acting_user)
    if due_on is None:
        raise ValidationError({"due_on": _("due_on is required.")})
    follow_up = FollowUp(service=service, due_on=due_on, notes=notes, done_on=done_on)
    if done_on is not None:
        follow_up.done_by = account_of(acting_user)
    _check_follow_up(follow_up)
    follow_up.save()
    record_change(
        Action.CREATE,
        acting_user=acting_user,
        obj=follow_up,
        region=service.region_id,
        after=snapshot(follow_up, (*FOLLOW_UP_FIELDS, "service", "done_by")),
    )
    return follow_up


@transaction.atomic
def update_follow_up(
    *, acting_user: Actor, follow_up: FollowUp, expected_version: int | None = None, **changes: Any
) -> FollowUp:
    """Mark it done (``done_on``; the caller is recorded as who did it), move its due
    date, or add notes."""
    _check_service_in_scope(follow_up.service, acting_user=acting_user)
    before = snapshot(follow_up, (*FOLLOW_UP_FIELDS, "service", "done_by"))
    was_done = follow_up.done_on
    set_fields(follow_up, FOLLOW_UP_FIELDS, changes)
    if follow_up.done_on is None:
        follow_up.done_by = None
    elif follow_up.done_on != was_done:
        follow_up.done_by = account_of(acting_user)
    _check_follow_up(follow_up)
    save_new_or_versioned(follow_up, expected_version)
    record_change(
        Action.UPDATE,
        acting_user=acting_user,
        obj=follow_up,
        region=follow_up.service.region_id,
        before=before,
        after=snapshot(follow_up, (*FOLLOW_UP_FIELDS, "service", "done_by")),
    )
    return follow_up


# A follow-up shows on the worklist from a week before it is due.
FOLLOW_UP_NOTICE_DAYS = 7


def in_grid(follow_ups: QuerySet[FollowUp], grid: Grid) -> QuerySet[FollowUp]:
    """Follow-ups of people living in the grid (her residence in one of its areas)."""
    return follow_ups.filter(grid.area_q("service__person__residence_region_id"))


def due_follow_ups(follow_ups: QuerySet[FollowUp], today: datetime.date) -> QuerySet[FollowUp]:
    """Not done and due within the notice period or overdue: overdue first, then by due
    date."""
    horizon = today + datetime.timedelta(days=FOLLOW_UP_NOTICE_DAYS)
    return (
        follow_ups.filter(done_on__isnull=True, due_on__lte=horizon)
        .annotate(
            late=Case(
                When(due_on__lt=today, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("late", "due_on", "pk")
    )


def followups_due(
    user: Caller, today: datetime.date | None = None, grid: Grid | None = None
) -> QuerySet[FollowUp]:
    """The follow-up worklist: due (within a week) and overdue follow-ups of the
    services the caller sees, overdue first; with ``grid``, only of people living in
    it."""
    today = today or timezone.localdate()
    follow_ups: QuerySet[FollowUp] = FollowUp.objects.in_scope(user)
    if grid is not None:
        follow_ups = in_grid(follow_ups, grid)
    return due_follow_ups(follow_ups.select_related("service", "service__person", "done_by"), today)


# --- counts for the statistics -------------------------------------------------------------


def _services_in(
    region_code: str, start: datetime.date, end: datetime.date
) -> QuerySet[ServiceRecord]:
    """Recorded services given in the region's subtree between ``start`` and ``end``
    (both included). Every stored record carries her consent (the rules refuse one
    without)."""
    return ServiceRecord.objects.filter(
        subtree_q(region_code, "region_id"), date__gte=start, date__lte=end, consent_recorded=True
    )


def persons_with_free_service(region_code: str, start: datetime.date, end: datetime.date) -> int:
    """Distinct persons who received at least one free service in the period, counted
    where the service was given."""
    return (
        _services_in(region_code, start, end)
        .filter(free_of_charge=True)
        .values("person_id")
        .distinct()
        .count()
    )


def persons_with_service_type(
    region_code: str, start: datetime.date, end: datetime.date, service_type: str
) -> int:
    """Distinct persons who accepted a service of this type in the period (e.g. the
    reproductive-health check), counted where the service was given."""
    if service_type not in ServiceType.values:
        raise ValueError(f"unknown service type {service_type!r}")
    return (
        _services_in(region_code, start, end)
        .filter(service_type=service_type)
        .values("person_id")
        .distinct()
        .count()
    )


# --- export --------------------------------------------------------------------------------


def export_services_xlsx(
    target: str | Path | IO[Any],
    *,
    acting_user: Actor,
    region_code: str,
    start: datetime.date,
    end: datetime.date,
) -> int:
    """One row per service given in the region's subtree in the period (masked ID
    number; never the result). The export is logged. Returns the number of rows.
    The sheet itself is ``spreadsheets.write_service_sheet``, shared with the web page."""
    # An account without a region reaches nothing (not everything).
    own = acting_user.region_id
    if own is None or not (region_code.startswith(own) or own.startswith(region_code)):
        raise PermissionDenied(
            _("region: %(code)s lies outside your region %(region)s.")
            % {"code": region_code, "region": acting_user.region_id}
        )
    if end < start:
        raise ValidationError(
            {
                "to": _("to: the end %(end)s is before the start %(start)s.")
                % {"end": end, "start": start}
            }
        )
    records = (
        service_records_for(acting_user)
        .filter(subtree_q(region_code, "region_id"), date__gte=start, date__lte=end)
        .order_by("date", "pk")
    )
    rows = write_service_sheet(records, target)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type="services.servicerecord",
        region=region_code,
        detail={
            "format": "xlsx",
            "what": "service records",
            "from": start.isoformat(),
            "to": end.isoformat(),
            "rows": rows,
        },
    )
    return rows


# --- her services on her file --------------------------------------------------------------

# The file page shows her latest entries; the tabs of the services pages list them all.
PERSON_SECTION_LIMIT = 20


@dataclasses.dataclass
class ServiceEntry:
    record: ServiceRecord
    # Empty unless the caller may see it (``may_see_result``): the template never reads
    # ``record.result`` itself.
    result: str


@dataclasses.dataclass
class DueEntry:
    follow_up: FollowUp
    overdue: bool


@dataclasses.dataclass
class HelpEntry:
    help_request: HelpRequest
    overdue: bool


@dataclasses.dataclass
class PersonServices:
    """What the services app holds about one person, as far as the caller may see it."""

    records: list[ServiceEntry]
    more_records: bool
    follow_ups: list[DueEntry]
    # None: the caller's role does not see her personal affairs (PersonalAffairsQuerySet).
    help_requests: list[HelpEntry] | None
    memberships: list[Membership] | None
    # The caller records services (and may open the services pages the entries link to).
    may_record: bool
    today: datetime.date


def services_of_person(
    user: Caller,
    person: Person,
    *,
    today: datetime.date | None = None,
    limit: int = PERSON_SECTION_LIMIT,
) -> PersonServices:
    """Her service records (newest first), the open follow-ups of those records (due
    first), and, for the roles that keep person files, her help requests and association
    memberships: each read from the caller's scope, a fixed number of queries however
    many there are. A result shown is a read of sensitive health data: logged, one entry
    per record, in one append."""
    today = today or timezone.localdate()
    records = list(
        service_records_for(user).filter(person=person).order_by("-date", "-pk")[: limit + 1]
    )
    entries = [
        ServiceEntry(record, record.result if may_see_result(user, record) else "")
        for record in records[:limit]
    ]
    follow_ups = FollowUp.objects.in_scope(user)
    due = [
        DueEntry(follow_up, follow_up.due_on < today)
        for follow_up in follow_ups.open()
        .filter(service__person=person)
        .select_related("service")
        .order_by("due_on", "pk")[:limit]
    ]
    help_entries = memberships = None
    if can(user, CHANGE_PEOPLE):
        asked = HelpRequest.objects.in_scope(user)
        help_entries = [
            HelpEntry(help_request, help_request.is_overdue(today))
            for help_request in asked.filter(person=person).order_by("-received_on", "-pk")[:limit]
        ]
        member_of = Membership.objects.in_scope(user)
        memberships = list(
            member_of.filter(person=person)
            .select_related("branch")
            .order_by("-joined_on", "-pk")[:limit]
        )
    shown = [entry.record for entry in entries if entry.result.strip()]
    if shown:
        audit.append(
            [
                audit.entry(
                    Action.VIEW,
                    acting_user=user,
                    obj=record,
                    region=record.region_id,
                    detail={"via": "person file: service record result"},
                )
                for record in shown
            ]
        )
    return PersonServices(
        records=entries,
        more_records=len(records) > limit,
        follow_ups=due,
        help_requests=help_entries,
        memberships=memberships,
        may_record=can(user, RECORD_SERVICES),
        today=today,
    )
