"""The yearly re-qualification (年审) of the programmes' benefits, and the end of a benefit
(issue 17 item 3). A service module: one function per change, atomic, audited in the same
transaction, called by the pages, the API, the worker and the exchange alike.

- ``open_round``: the county opens a round for a year with a deadline; every benefit of
  the county that is paid or suspended gets a pending ``Requalification``. For one who
  lives in another county the round publishes ``events.LivingConfirmationAsked``: the
  exchange asks her residence (assistance question ``living``) and records the request
  here (``record_living_request``); its answer comes back through
  ``record_living_answer``. She is never asked to come home (2009 Regulations, art. 13).
- ``confirm``: the township of household registration confirms her alive and still
  eligible (``eligibility.judge``, the one answer); one who no longer qualifies is refused
  with the rule's message, and the township may end the benefit with it.
- ``close_round``: after the deadline, what is still pending is suspended with the reason
  (suspended, never ended or deleted); a later confirmation resumes it. Idempotent.
- ``end_benefit`` / ``record_death`` / ``family_changed`` / the ``HouseholdMoved``
  listener: a benefit ends from the next payment (paid to the last day of the month of the
  event), with the reason, and is kept.

A benefit applied for and received: nothing here is a duty of hers or a sanction, and no
count of this module is an assessment target. This module lies below the exchange
(pyproject's import-linter contracts): it must not import it; the exchange imports it.
"""

from __future__ import annotations

import calendar
import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong import events
from liudong.accounts.roles import APPROVE_BENEFITS, BENEFITS
from liudong.actors import OPERATOR, Actor, Caller, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.people.idnumbers import parse as parse_id_number
from liudong.people.models import Person
from liudong.regions.models import Region
from liudong.services.common import snapshot

from .eligibility import facts_of, judge
from .models import Benefit, Family, FamilyChild, Requalification, RequalificationRound

Outcome = Requalification.Outcome
Status = Benefit.Status

ROUND_FIELDS = ("region", "year", "deadline", "opened_by", "closed_on")
REQUALIFICATION_FIELDS = (
    "round",
    "benefit",
    "outcome",
    "outcome_reason",
    "decided_on",
    "decided_by",
    "assistance_request_id",
)
BENEFIT_FIELDS = ("status", "status_reason", "status_changed_on", "ends_on")
# Benefits a round re-qualifies and an event may end: paid, or suspended by a round.
CURRENT = (Status.ACTIVE, Status.SUSPENDED)
# Re-qualifications still to be decided (a suspended one is resumed by a confirmation).
UNDECIDED = (Outcome.PENDING, Outcome.SUSPENDED)
REASON_LENGTH = 500
# The days an assistance request leaves the place asked (assistance: urgent 15, normal 30).
NORMAL_DAYS = 30

REFUSED_ROUND = gettext_lazy("Only the county opens and closes a re-qualification round.")
OUTSIDE = gettext_lazy("This benefit lies outside your region %(region)s.")


class EndCause(models.TextChoices):
    """Why a benefit ends (issue 17: death, a new child, a household moved out, no longer
    eligible): the first words of its reason."""

    DEATH = "death", gettext_lazy("death of the beneficiary")
    NEW_CHILD = "new_child", gettext_lazy("a new child")
    HOUSEHOLD_MOVED = (
        "household_moved",
        gettext_lazy("household registration moved out of the county"),
    )
    NOT_ELIGIBLE = "not_eligible", gettext_lazy("no longer eligible")


def end_reason(cause: str, on: datetime.date, note: str = "") -> str:
    """The reason kept on an ended benefit: the cause, its date and what the office adds."""
    label = dict(EndCause.choices).get(cause)
    if label is None:
        raise ValidationError(
            {"cause": _("Choose one of: %(choices)s.") % {"choices": _choices_text()}}
        )
    text = f"{label} ({on.isoformat()})"
    note = (note or "").strip()
    return f"{text}: {note}" if note else text


def _choices_text() -> str:
    return ", ".join(f"{value} ({label})" for value, label in EndCause.choices)


def last_day_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _county(code: str) -> str:
    return code[:6]


# --- audit ---------------------------------------------------------------------------------


def _region_of(benefit: Benefit) -> str:
    return benefit.family.household_region_id


def _record(
    action: str,
    obj: models.Model,
    *,
    region: str,
    before: dict | None,
    after: dict,
    acting_user: Actor | None,
    detail: dict | None = None,
    actor_username: str = "",
) -> None:
    # acting_user None: what an event or a peer's answer did (actor_username says which).
    audit.record(
        action,
        acting_user=acting_user,
        obj=obj,
        region=region,
        before=before,
        after=after,
        detail=detail,
        actor_username=actor_username,
    )


# --- eligibility ----------------------------------------------------------------------------


def still_eligible_failure(benefit: Benefit, on: datetime.date) -> str | None:
    """Why she no longer qualifies for her benefit's programme on ``on`` (the first rule
    she fails), or None: ``eligibility.judge`` on the family as it is on file."""
    verdict = judge(facts_of(benefit.family, benefit.id_number), on, [benefit.programme])
    return verdict.not_.get(benefit.programme.code)


def _check_not_future(day: datetime.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("%(day)s is in the future.") % {"day": day.isoformat()}})


# --- rounds ---------------------------------------------------------------------------------


def residences(id_numbers: Iterable[str]) -> dict[str, str]:
    """Where each of them lives as her file on this node says (ID number -> residence
    region); one with no file, or no known residence, is left out."""
    return dict(
        Person.objects.filter(
            id_number__in=set(id_numbers),
            merged_into__isnull=True,
            residence_region__isnull=False,
        ).values_list("id_number", "residence_region_id")
    )


def lives_elsewhere(benefit: Benefit, residence: str | None) -> bool:
    """She lives in another county than her family's household registration: her residence
    confirms her, not the township here."""
    return bool(residence) and _county(str(residence)) != _county(_region_of(benefit))


@transaction.atomic
def open_round(
    *,
    acting_user: Actor,
    county: Region,
    year: int,
    deadline: datetime.date,
    today: datetime.date | None = None,
) -> RequalificationRound:
    """Open the county's round of ``year``: a pending re-qualification for every benefit
    of the county paid or suspended now, and the residence asked of each beneficiary who
    lives in another county. Once per county and year."""
    authorize(acting_user, APPROVE_BENEFITS, county.code, refused=REFUSED_ROUND)
    today = today or timezone.localdate()
    if len(county.code) != 6:
        raise ValidationError(
            {"region": _("A re-qualification round is opened for a county (6 digits).")}
        )
    if not 2000 <= year <= today.year + 1:
        raise ValidationError(
            {"year": _("The year must be 2000 to %(last)s.") % {"last": today.year + 1}}
        )
    if deadline <= today:
        raise ValidationError(
            {"deadline": _("The deadline must be after today (%(today)s).") % {"today": today}}
        )
    existing = RequalificationRound.objects.filter(region=county, year=year).first()
    if existing is not None:
        raise _duplicate(existing)
    try:
        with transaction.atomic():
            opened = RequalificationRound.objects.create(
                region=county,
                year=year,
                deadline=deadline,
                opened_by=account_of(acting_user),
            )
    except IntegrityError:  # opened at the same moment by someone else
        raise _duplicate(RequalificationRound.objects.get(region=county, year=year)) from None
    benefits = list(
        Benefit.objects.in_region(county.code)
        .filter(status__in=CURRENT)
        .select_related("family")
        .order_by("pk")
    )
    Requalification.objects.bulk_create(
        [Requalification(round=opened, benefit=benefit) for benefit in benefits]
    )
    created = dict(Requalification.objects.filter(round=opened).values_list("benefit_id", "pk"))
    lives = residences(benefit.id_number for benefit in benefits)
    # Asked so the answer is due by the deadline where 30 days leave time for it.
    urgency = "normal" if today + datetime.timedelta(days=NORMAL_DAYS) <= deadline else "urgent"
    asked = [
        events.LivingConfirmationAsked(
            requalification=created[benefit.pk],
            id_number=benefit.id_number,
            household_region=_region_of(benefit),
            residence_region=lives[benefit.id_number],
            urgency=urgency,
            asked_on=today,
            asked_by=getattr(account_of(acting_user), "pk", None),
        )
        for benefit in benefits
        if lives_elsewhere(benefit, lives.get(benefit.id_number))
    ]
    _record(
        Action.CREATE,
        opened,
        region=county.code,
        before=None,
        after=snapshot(opened, ROUND_FIELDS),
        acting_user=acting_user,
        detail={"requalifications": len(benefits), "residence_asked": len(asked)},
    )
    events.publish_all(asked)
    return opened


def _duplicate(existing: RequalificationRound) -> ValidationError:
    message = _(
        "The county %(county)s already has a re-qualification round for %(year)s "
        "(deadline %(deadline)s)."
    ) % {
        "county": existing.region_id,
        "year": existing.year,
        "deadline": existing.deadline.isoformat(),
    }
    return ValidationError({"year": ValidationError(message, code="duplicate")})


def record_living_request(*, requalification_id: int, request_id: uuid.UUID) -> None:
    """The exchange asked her residence (its assistance request ``request_id``): kept on
    the re-qualification, so the answer finds it and the worklist shows she was asked.
    (The request itself is audited by the exchange when it is asked.)"""
    Requalification.objects.filter(pk=requalification_id).update(
        assistance_request_id=request_id, version=F("version") + 1, updated=timezone.now()
    )


def suspension_reason(deadline: datetime.date) -> str:
    return _("not confirmed by the re-qualification deadline %(day)s") % {
        "day": deadline.isoformat()
    }


@transaction.atomic
def close_round(
    round: RequalificationRound,
    today: datetime.date | None = None,
    *,
    acting_user: Actor = OPERATOR,
) -> int:
    """After the deadline: every re-qualification still pending is suspended, and its
    benefit with it (status suspended, with the reason; not ended, not deleted). Returns
    how many were suspended; running it again changes nothing. The worker runs it as the
    operator; a county closes its own round from its page."""
    authorize(acting_user, APPROVE_BENEFITS, round.region_id, refused=REFUSED_ROUND)
    today = today or timezone.localdate()
    if today <= round.deadline:
        raise ValidationError(
            _(
                "The round closes after its deadline %(deadline)s: confirmations are still "
                "being made."
            )
            % {"deadline": round.deadline.isoformat()},
            code="before_deadline",
        )
    reason = suspension_reason(round.deadline)
    pending = list(
        Requalification.objects.select_for_update()
        .filter(round=round, outcome=Outcome.PENDING)
        .select_related("benefit__family")
        .order_by("pk")
    )
    for item in pending:
        before = snapshot(item, REQUALIFICATION_FIELDS)
        item.outcome, item.outcome_reason = Outcome.SUSPENDED, reason
        item.decided_on, item.decided_by = today, None
        item.save_versioned()
        benefit = item.benefit
        _record(
            Action.UPDATE,
            item,
            region=_region_of(benefit),
            before=before,
            after=snapshot(item, REQUALIFICATION_FIELDS),
            acting_user=acting_user,
            detail={"action": "requalification_suspended"},
        )
        if benefit.status == Status.ACTIVE:
            _set_status(
                benefit,
                Status.SUSPENDED,
                reason=reason,
                on=today,
                acting_user=acting_user,
                detail={"action": "benefit_suspended", "round": round.pk},
            )
    if round.closed_on is None:
        before = snapshot(round, ROUND_FIELDS)
        round.closed_on = today
        round.save_versioned()
        _record(
            Action.UPDATE,
            round,
            region=round.region_id,
            before=before,
            after=snapshot(round, ROUND_FIELDS),
            acting_user=acting_user,
            detail={"action": "round_closed", "suspended": len(pending)},
        )
    return len(pending)


def close_due_rounds(today: datetime.date | None = None) -> int:
    """The worker's periodic job: every round past its deadline and not yet closed is
    closed (as the operator). Returns how many benefits were suspended."""
    today = today or timezone.localdate()
    due = RequalificationRound.objects.filter(deadline__lt=today, closed_on__isnull=True)
    return sum(close_round(item, today) for item in due.order_by("pk"))


# --- confirming -----------------------------------------------------------------------------


def _check_undecided(item: Requalification) -> None:
    if item.outcome not in UNDECIDED:
        raise ValidationError(
            _("This re-qualification was already decided on %(day)s: %(outcome)s.")
            % {"day": item.decided_on, "outcome": item.get_outcome_display()},
            code="decided",
        )
    if item.benefit.status == Status.ENDED:
        raise ValidationError(
            _("The benefit ended on %(day)s: %(reason)s")
            % {"day": item.benefit.status_changed_on, "reason": item.benefit.status_reason},
            code="ended",
        )


@transaction.atomic
def confirm(
    *,
    acting_user: Actor,
    requalification: Requalification,
    on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Requalification:
    """The township confirms her alive and still eligible on ``on`` (today by default).
    Refused, with the rule's message, when the family no longer qualifies on that day: the
    township may then end the benefit with that reason. A suspended benefit resumes."""
    benefit = requalification.benefit
    authorize(acting_user, BENEFITS, _region_of(benefit), outside=OUTSIDE)
    on = on or timezone.localdate()
    _check_not_future(on, "on")
    _check_undecided(requalification)
    failure = still_eligible_failure(benefit, on)
    if failure is not None:
        raise ValidationError(
            _(
                "She no longer qualifies for %(programme)s on %(day)s: %(reason)s. "
                "End the benefit with this reason instead."
            )
            % {"programme": benefit.programme, "day": on.isoformat(), "reason": failure},
            code="not_eligible",
        )
    return _confirm(
        requalification,
        on=on,
        reason="",
        acting_user=acting_user,
        expected_version=expected_version,
    )


def _confirm(
    item: Requalification,
    *,
    on: datetime.date,
    reason: str,
    acting_user: Actor | None,
    actor_username: str = "",
    expected_version: int | None = None,
) -> Requalification:
    benefit = item.benefit
    before = snapshot(item, REQUALIFICATION_FIELDS)
    item.outcome, item.outcome_reason = Outcome.CONFIRMED, reason[:REASON_LENGTH]
    item.decided_on, item.decided_by = on, account_of(acting_user)
    item.save_versioned(expected_version=expected_version)
    _record(
        Action.UPDATE,
        item,
        region=_region_of(benefit),
        before=before,
        after=snapshot(item, REQUALIFICATION_FIELDS),
        acting_user=acting_user,
        actor_username=actor_username,
        detail={"action": "requalification_confirmed"},
    )
    if benefit.status == Status.SUSPENDED:
        # Resumed: the suspension's reason stays in the audit entry's "before".
        _set_status(
            benefit,
            Status.ACTIVE,
            reason="",
            on=on,
            acting_user=acting_user,
            actor_username=actor_username,
            detail={"action": "benefit_resumed", "requalification": item.pk},
        )
    return item


@dataclass(frozen=True)
class LivingAnswer:
    """What her residence answered to the question ``living`` (the exchange's answer)."""

    request_id: uuid.UUID
    finding: str  # confirmed / differs / not_known (exchange.AssistanceFinding)
    answer: str
    answered_on: datetime.date
    place: str  # the region code that answered
    place_name: str = ""


@transaction.atomic
def record_living_answer(answer: LivingAnswer) -> Requalification | None:
    """Her residence answered: ``confirmed`` confirms her (decided by no account, the
    reason naming the place and the day) when the family still qualifies on that day;
    ``differs`` or ``not_known`` (or a family that no longer qualifies) leaves it pending
    with the answer shown to the township, which decides. None: the request was not a
    re-qualification's. An answer to one already decided changes nothing."""
    item = (
        Requalification.objects.select_for_update()
        .filter(assistance_request_id=answer.request_id)
        .select_related("benefit__family", "benefit__programme")
        .first()
    )
    if item is None or item.outcome not in UNDECIDED or item.benefit.status == Status.ENDED:
        return item
    place = f"{answer.place_name} {answer.place}".strip()
    said = _("%(place)s answered on %(day)s") % {
        "place": place,
        "day": answer.answered_on.isoformat(),
    }
    who = f"node {answer.place}"
    if answer.finding == "confirmed":
        failure = still_eligible_failure(item.benefit, answer.answered_on)
        if failure is None:
            reason = _("confirmed alive and living there: %(said)s") % {"said": said}
            return _confirm(
                item, on=answer.answered_on, reason=reason, acting_user=None, actor_username=who
            )
        note = _(
            "%(said)s that she is alive and living there, but she no longer qualifies: %(reason)s"
        ) % {
            "said": said,
            "reason": failure,
        }
    else:
        finding = {
            "differs": _("differs from the file"),
            "not_known": _("not known there"),
        }.get(answer.finding, answer.finding)
        note = f"{said}: {finding}. {answer.answer}"
    before = snapshot(item, REQUALIFICATION_FIELDS)
    item.outcome_reason = note[:REASON_LENGTH]
    item.save_versioned()
    _record(
        Action.UPDATE,
        item,
        region=_region_of(item.benefit),
        before=before,
        after=snapshot(item, REQUALIFICATION_FIELDS),
        acting_user=None,
        actor_username=who,
        detail={"action": "requalification_answer", "finding": answer.finding},
    )
    return item


# --- ending a benefit ----------------------------------------------------------------------


def _set_status(
    benefit: Benefit,
    status: str,
    *,
    reason: str,
    on: datetime.date,
    acting_user: Actor | None,
    actor_username: str = "",
    detail: dict | None = None,
    expected_version: int | None = None,
) -> Benefit:
    before = snapshot(benefit, BENEFIT_FIELDS)
    benefit.status, benefit.status_reason, benefit.status_changed_on = status, reason, on
    if status == Status.ENDED:
        # From the next payment: paid to the end of the month of the event.
        benefit.ends_on = last_day_of_month(on)
    benefit.save_versioned(expected_version=expected_version)
    _record(
        Action.UPDATE,
        benefit,
        region=_region_of(benefit),
        before=before,
        after=snapshot(benefit, BENEFIT_FIELDS),
        acting_user=acting_user,
        actor_username=actor_username,
        detail=detail,
    )
    return benefit


def _end(
    benefit: Benefit,
    *,
    reason: str,
    on: datetime.date,
    acting_user: Actor | None,
    actor_username: str = "",
    expected_version: int | None = None,
) -> Benefit:
    text = (reason or "").strip()
    if not text or len(text) > REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Give the reason in 1 to %(n)s characters.") % {"n": REASON_LENGTH}}
        )
    _check_not_future(on, "on")
    if benefit.status == Status.ENDED:
        raise ValidationError(
            _("This benefit already ended on %(day)s: %(reason)s")
            % {"day": benefit.status_changed_on, "reason": benefit.status_reason},
            code="ended",
        )
    _set_status(
        benefit,
        Status.ENDED,
        reason=text,
        on=on,
        acting_user=acting_user,
        actor_username=actor_username,
        detail={"action": "benefit_ended"},
        expected_version=expected_version,
    )
    # Its re-qualifications still open are decided by the end, with the same reason.
    for item in Requalification.objects.filter(benefit=benefit, outcome__in=UNDECIDED):
        before = snapshot(item, REQUALIFICATION_FIELDS)
        item.outcome, item.outcome_reason = Outcome.ENDED, text
        item.decided_on, item.decided_by = on, account_of(acting_user)
        item.save_versioned()
        _record(
            Action.UPDATE,
            item,
            region=_region_of(benefit),
            before=before,
            after=snapshot(item, REQUALIFICATION_FIELDS),
            acting_user=acting_user,
            actor_username=actor_username,
            detail={"action": "requalification_ended"},
        )
    return benefit


@transaction.atomic
def end_benefit(
    *,
    acting_user: Actor,
    benefit: Benefit,
    reason: str,
    on: datetime.date,
    expected_version: int | None = None,
) -> Benefit:
    """End the benefit from the next payment: paid to the last day of the month of ``on``
    (the event: a death, a new child, a household moved out, no longer eligible), status
    ended with ``reason``. Kept, never deleted; ending it twice is refused."""
    authorize(acting_user, BENEFITS, _region_of(benefit), outside=OUTSIDE)
    return _end(
        benefit, reason=reason, on=on, acting_user=acting_user, expected_version=expected_version
    )


@transaction.atomic
def record_death(
    *, acting_user: Actor, benefit: Benefit, died_on: datetime.date, note: str = ""
) -> list[Benefit]:
    """The township records that the beneficiary died on ``died_on``: each of her benefits
    in the township's reach that is paid or suspended ends from the next payment."""
    authorize(acting_user, BENEFITS, _region_of(benefit), outside=OUTSIDE)
    _check_not_future(died_on, "died_on")
    born = parse_id_number(benefit.id_number).birth_date
    if born is not None and died_on < born:
        raise ValidationError(
            {"died_on": _("The date of death is before her birth date %(day)s.") % {"day": born}}
        )
    reason = end_reason(EndCause.DEATH, died_on, note)
    hers = (
        Benefit.objects.in_scope(acting_user)
        .filter(id_number=benefit.id_number, status__in=CURRENT)
        .select_related("family")
        .order_by("pk")
    )
    return [_end(item, reason=reason, on=died_on, acting_user=acting_user) for item in hers]


@transaction.atomic
def family_changed(
    *, acting_user: Actor, family: Family, on: datetime.date, cause: str
) -> list[Benefit]:
    """After a change of the family (a new child, a child who died), each of its benefits
    paid or suspended is judged again on ``on``: one the family no longer qualifies for
    ends from the next payment, the reason being ``cause`` and the rule it fails. The
    family's own edits call this once the change is saved. Returns the benefits ended."""
    authorize(acting_user, BENEFITS, family.household_region_id, outside=OUTSIDE)
    ended = []
    for benefit in (
        family.benefits.filter(status__in=CURRENT)
        .select_related("programme", "family")
        .order_by("pk")
    ):
        # Judged as the family is now, on the day of the change, or on the day the
        # benefit began for a change of before (a child recorded late): an age reached
        # since then must not count against her.
        failure = still_eligible_failure(benefit, max(on, benefit.starts_on))
        if failure is not None:
            reason = f"{cause}: {failure}"
            ended.append(_end(benefit, reason=reason, on=on, acting_user=acting_user))
    return ended


def child_added(*, acting_user: Actor, child: FamilyChild) -> list[Benefit]:
    """A child added to the family (born or adopted): the special assistance ends (she is
    no longer without a living child), the reward only if the family no longer
    qualifies (two girls still do)."""
    return family_changed(
        acting_user=acting_user,
        family=child.family,
        on=child.birth_date,
        cause=end_reason(EndCause.NEW_CHILD, child.birth_date),
    )


def on_household_moved(published: Sequence[events.HouseholdMoved]) -> None:
    """``events.HouseholdMoved`` (subscribed in the app's ``ready()``): her household
    registration moved out of the county of her family's: each of her benefits paid or
    suspended ends from the next payment, with the reason. Within the county, nothing."""
    for event in published:
        for benefit in (
            Benefit.objects.filter(id_number=event.id_number, status__in=CURRENT)
            .select_related("family")
            .order_by("pk")
        ):
            if _county(event.to_region) == _county(_region_of(benefit)):
                continue
            reason = end_reason(
                EndCause.HOUSEHOLD_MOVED,
                event.moved_on,
                _("to %(region)s") % {"region": event.to_region},
            )
            _end(
                benefit,
                reason=reason,
                on=event.moved_on,
                acting_user=None,
                actor_username="event household_moved",
            )


# --- lists -----------------------------------------------------------------------------------


def worklist(user: Caller) -> QuerySet[Requalification]:
    """The re-qualifications still to decide in the user's region (pending, or suspended
    at a deadline), the earliest deadline first."""
    return (
        Requalification.objects.in_scope(user)
        .filter(outcome__in=UNDECIDED, benefit__status__in=CURRENT)
        .select_related("round", "benefit__family__household_region", "benefit__programme")
        .order_by("round__deadline", "outcome", "benefit__family__household_region", "pk")
    )


@dataclass(frozen=True)
class TownshipProgress:
    township: str
    name: str
    pending: int
    confirmed: int
    suspended: int
    ended: int

    @property
    def total(self) -> int:
        return self.pending + self.confirmed + self.suspended + self.ended


def progress(round: RequalificationRound, user: Caller) -> list[TownshipProgress]:
    """A round's outcomes counted per township of household registration (within the
    user's region): how far the work is, never a target."""
    counts = (
        Requalification.objects.in_scope(user)
        .filter(round=round)
        .values(township=F("benefit__family__household_region_id"))
        .annotate(
            pending=Count("pk", filter=Q(outcome=Outcome.PENDING)),
            confirmed=Count("pk", filter=Q(outcome=Outcome.CONFIRMED)),
            suspended=Count("pk", filter=Q(outcome=Outcome.SUSPENDED)),
            ended=Count("pk", filter=Q(outcome=Outcome.ENDED)),
        )
        .order_by()
    )
    totals: dict[str, list[int]] = {}
    for row in counts:
        # Families are kept by village: their township is the code's first 9 digits.
        acc = totals.setdefault(str(row["township"])[:9], [0, 0, 0, 0])
        found = (row["pending"], row["confirmed"], row["suspended"], row["ended"])
        totals[str(row["township"])[:9]] = [a + b for a, b in zip(acc, found, strict=True)]
    names = dict(Region.objects.filter(code__in=totals).values_list("code", "name"))
    return [
        TownshipProgress(code, names.get(code, ""), *values)
        for code, values in sorted(totals.items())
    ]


def round_totals(user: Caller) -> dict[int, dict[str, int]]:
    """Each round's outcomes counted (within the user's region), for the list of rounds:
    one query for them all."""
    rows = (
        Requalification.objects.in_scope(user)
        .values("round_id")
        .annotate(
            total=Count("pk"),
            pending=Count("pk", filter=Q(outcome=Outcome.PENDING)),
            suspended=Count("pk", filter=Q(outcome=Outcome.SUSPENDED)),
        )
        .order_by()
    )
    return {row["round_id"]: {k: row[k] for k in ("total", "pending", "suspended")} for row in rows}


def view_requalification(*, acting_user: Actor, requalification: Requalification, via: str) -> None:
    """Opening one re-qualification shows her benefit and family: every such view is logged."""
    audit.record_view(
        acting_user=acting_user,
        obj=requalification,
        region=_region_of(requalification.benefit),
        via=via,
    )
