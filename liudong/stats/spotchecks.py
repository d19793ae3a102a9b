"""Spot checks (抽查, issue 6 part 6): a reproducible random sample of the files in a unit,
visited in the field; what the visits find feeds ``data_accuracy_rate`` (DESIGN.md §5:
spot-checked fields found correct / fields checked × 100) and, through the monthly report,
the assessment.

Who is drawn: the floating residents of the unit at the period's reference date (its last
day), exactly the stays ``inflow_total`` counts (``engine.stays_on``), among the files the
user may see (``Person.objects.in_scope``). Files registered in the unit but living
elsewhere (outflow) are not drawn: a field visit checks a file against the person where
she lives, and the office where she lives keeps her current facts.

How: the files are grouped by the village of their stay (a file coded at a township forms
its own group), each group ordered by ID number, and ``per_village`` of them are drawn
with ``random.Random("SEED:VILLAGE")``: the same seed over the same registry draws the same
sample, and a file added in one village leaves every other village's sample as it was.
The seed is stored and shown, so an inspector can draw the sample again and compare.

Who may: the ``inspector`` role and the county (``SPOT_CHECK``), for their region or a
unit below it. Every draw, result and print is written to the audit log in the same
transaction. The sheets show the ID number masked but for its last four characters and
the phone number masked in the middle; printing them is an export of personal data.

This module does not count anything for reports: ``engine`` reads ``SpotCheckResult``.
"""

from __future__ import annotations

import dataclasses
import datetime
import random
import secrets
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.accounts.roles import SPOT_CHECK
from liudong.actors import Actor, account_of, accountable, is_operator, region_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.certificates.models import Certificate
from liudong.people.models import HeldCertificate, Person, ResidenceEpisode
from liudong.regions.codes import Level

from .engine import Period, _districts, stays_on
from .models import FieldResult, SpotCheck, SpotCheckEntry, SpotCheckResult, SpotCheckStatus
from .scope import check_region
from .services import parse_period, rounded

if TYPE_CHECKING:
    from liudong.actors import Caller

DEFAULT_PER_VILLAGE = 20
MAX_PER_VILLAGE = 200
MAX_SEED = 2**31 - 1
SEED_DRAWN_BELOW = 1_000_000  # a seed the system picks has six digits at most: easy to copy


# --- the fields a visit checks --------------------------------------------------------------


def mask_id_number(value: str) -> str:
    """All but the last four characters hidden: the sheet asks the person to show her card."""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_phone(value: str) -> str:
    """The first three and the last four digits: enough to compare with her phone."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


@dataclasses.dataclass
class Filed:
    """One sampled file as the sheet shows it: the person and her stay in the unit."""

    person: Person
    stay: ResidenceEpisode | None
    certificates: list[str]


def _address(f: Filed) -> str:
    place = f.stay.region.full_name() if f.stay else ""
    address = (f.stay.address if f.stay else "") or f.person.residence_address
    return " ".join(part for part in (place, address) if part)


def _employer(f: Filed) -> str:
    if f.stay is None:
        return ""
    place = f.stay.employer_place
    return place.name if place is not None else f.stay.employer


@dataclasses.dataclass(frozen=True)
class Field:
    label: Any  # lazy text
    value: Callable[[Filed], str]  # as on file, masked where the sheet masks it


FIELDS: dict[str, Field] = {
    "id_number": Field(gettext_lazy("ID number"), lambda f: mask_id_number(f.person.id_number)),
    "name": Field(gettext_lazy("full name"), lambda f: f.person.name),
    "sex": Field(gettext_lazy("sex"), lambda f: f.person.get_sex_display()),
    "birth_date": Field(gettext_lazy("birth date"), lambda f: f.person.birth_date.isoformat()),
    "ethnicity": Field(gettext_lazy("ethnicity"), lambda f: f.person.get_ethnicity_display()),
    "marital_status": Field(
        gettext_lazy("marital status"), lambda f: f.person.get_marital_status_display()
    ),
    "household_address": Field(
        gettext_lazy("household address"),
        lambda f: " ".join(
            p for p in (f.person.household_region.full_name(), f.person.household_address) if p
        ),
    ),
    "residence_address": Field(gettext_lazy("residence address"), _address),
    "phone": Field(gettext_lazy("phone"), lambda f: mask_phone(f.person.phone)),
    "employer": Field(gettext_lazy("employer"), _employer),
    "arrival_date": Field(
        gettext_lazy("arrival date"), lambda f: f.stay.arrival_date.isoformat() if f.stay else ""
    ),
    "certificate": Field(
        gettext_lazy("marriage and childbearing certificate"), lambda f: ", ".join(f.certificates)
    ),
    "children": Field(
        gettext_lazy("children"),
        lambda f: "" if f.person.children_count is None else str(f.person.children_count),
    ),
}
DEFAULT_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "marital_status",
    "residence_address",
    "phone",
    "employer",
    "certificate",
)


def parse_fields(raw: Any) -> list[str]:
    """The fields a check covers, in the vocabulary's order; ValidationError naming the
    field that is not in it."""
    if raw in (None, "", []):
        return list(DEFAULT_FIELDS)
    if not isinstance(raw, list | tuple) or not all(isinstance(f, str) for f in raw):
        raise ValidationError({"fields_checked": _("List the names of the fields to check.")})
    for name in raw:
        if name not in FIELDS:
            raise ValidationError(
                {
                    "fields_checked": ValidationError(
                        _("Unknown field “%(name)s”: use some of %(names)s.")
                        % {"name": name, "names": ", ".join(FIELDS)},
                        code="unknown_field",
                    )
                }
            )
    return [name for name in FIELDS if name in raw]


# --- who may, and which checks they see -----------------------------------------------------


def checks_in_scope(user: Caller) -> QuerySet[SpotCheck]:
    """Spot checks of the user's region and the units below it (SPOT_CHECK roles only)."""
    return SpotCheck.objects.in_scope(user)


def _check_in_scope(check: SpotCheck, *, acting_user: Actor) -> None:
    authorize(acting_user, SPOT_CHECK)
    if not check.region_id.startswith(region_of(acting_user)):
        raise PermissionDenied(
            _("The spot check of %(code)s lies outside your region %(region)s.")
            % {"code": check.region_id, "region": acting_user.region_id}
        )


# --- drawing --------------------------------------------------------------------------------


def village_of(code: str) -> str:
    """The village a stay's region lies in (a group's village; a shorter code itself)."""
    return code[: Level.VILLAGE.length]


def _whole(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or not low <= number <= high:
        raise ValidationError(
            {
                name: _("Write a whole number from %(low)s to %(high)s.")
                % {"low": low, "high": high}
            },
            code="bad_value",
        )
    return number


def population(
    region_code: str, period: Period, *, acting_user: Actor
) -> dict[str, list[tuple[str, int]]]:
    """The files a sample is drawn from, per village: ``{village: [(ID number, pk)]}``
    ordered by ID number (the stable key the draw relies on)."""
    stays = stays_on(
        period.last,
        prefix=region_code,
        region_field="region_id",
        districts=_districts(region_code),
    )
    if not is_operator(acting_user):
        stays = stays.filter(person__in=Person.objects.in_scope(acting_user).values("pk"))
    rows = stays.order_by("person_id", "-arrival_date", "-pk").values_list(
        "person_id", "person__id_number", "region_id"
    )
    seen: set[int] = set()
    by_village: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for person_id, id_number, region_id in rows:
        if person_id in seen:  # two stays covering the day: the later arrival counts
            continue
        seen.add(person_id)
        by_village[village_of(region_id)].append((id_number, person_id))
    return {village: sorted(files) for village, files in sorted(by_village.items())}


def sample(
    files: dict[str, list[tuple[str, int]]], *, per_village: int, seed: int
) -> list[tuple[str, int, int]]:
    """``(village, position, person pk)`` of the drawn files: ``per_village`` from each
    village (all of a village holding fewer), one seeded generator per village."""
    drawn = []
    for village, ordered in files.items():
        generator = random.Random(f"{seed}:{village}")  # reproducible by design
        chosen = generator.sample(ordered, min(per_village, len(ordered)))
        for position, (_id_number, person_id) in enumerate(chosen, start=1):
            drawn.append((village, position, person_id))
    return drawn


def draw(
    region_code: str,
    period: Period | str,
    per_village: int = DEFAULT_PER_VILLAGE,
    seed: int | None = None,
    fields: list[str] | None = None,
    *,
    acting_user: Actor,
) -> SpotCheck:
    """Draw and store a sample of the unit's files for the period (audited)."""
    authorize(acting_user, SPOT_CHECK)
    region = check_region(region_code, acting_user=acting_user)
    if not isinstance(period, Period):
        period = parse_period(period)
    per_village = _whole(per_village, "per_village", 1, MAX_PER_VILLAGE)
    seed = secrets.randbelow(SEED_DRAWN_BELOW) if seed in (None, "") else seed
    seed = _whole(seed, "seed", 0, MAX_SEED)
    chosen_fields = parse_fields(fields)
    drawn = sample(
        population(region.code, period, acting_user=acting_user), per_village=per_village, seed=seed
    )
    if not drawn:
        raise ValidationError(
            _("No floating resident of %(region)s on %(day)s that you may see: nothing to draw.")
            % {"region": region.name, "day": period.last.isoformat()},
            code="empty",
        )
    with transaction.atomic():
        check = SpotCheck.objects.create(
            region=region,
            period=str(period),
            seed=seed,
            per_village=per_village,
            fields_checked=chosen_fields,
            drawn_by=accountable(acting_user),
            drawn_at=timezone.now(),
        )
        SpotCheckEntry.objects.bulk_create(
            SpotCheckEntry(spot_check=check, person_id=pk, village_id=village, position=position)
            for village, position, pk in drawn
        )
        audit.record(
            Action.CREATE,
            acting_user=acting_user,
            obj=check,
            region=region.code,
            detail={
                "spot_check": "drawn",
                "period": str(period),
                "seed": seed,
                "per_village": per_village,
                "fields": chosen_fields,
                "drawn": len(drawn),
            },
        )
    return check


# --- recording what the visit found ---------------------------------------------------------


def _result(field: str, value: Any) -> str:
    if value is True:
        return FieldResult.CORRECT
    if value is False:
        return FieldResult.INCORRECT
    if value is None or value == "":
        return FieldResult.UNVERIFIED
    if value not in FieldResult.values:
        raise ValidationError(
            {
                "results": _("Field “%(field)s”: write %(choices)s.")
                % {"field": field, "choices": ", ".join(FieldResult.values)}
            },
            code="bad_value",
        )
    return value


def record(
    check: SpotCheck,
    person: Person,
    results: dict[str, Any],
    visited_on: datetime.date,
    note: str = "",
    *,
    acting_user: Actor,
    today: datetime.date | None = None,
) -> SpotCheckEntry:
    """What a visit found for each field of one sampled file: ``correct``, ``incorrect``
    or ``unverified`` (or true, false, null); a field left out is not verified. Recording
    again replaces the earlier results (the audit entry keeps both)."""
    _check_in_scope(check, acting_user=acting_user)
    today = today or timezone.localdate()
    if not isinstance(results, dict):
        raise ValidationError({"results": _('Results are an object: {"name": "correct", ...}.')})
    for field in results:
        if field not in check.fields_checked:
            raise ValidationError(
                {
                    "results": ValidationError(
                        _("“%(field)s” is not a field of this spot check (it checks %(fields)s).")
                        % {"field": field, "fields": ", ".join(check.fields_checked)},
                        code="unknown_field",
                    )
                }
            )
    found = {field: _result(field, results.get(field)) for field in check.fields_checked}
    period = Period(int(check.period[:4]), int(check.period[5:]))
    if not isinstance(visited_on, datetime.date) or visited_on > today:
        raise ValidationError({"visited_on": _("The visit cannot be in the future.")})
    if visited_on < period.first:
        raise ValidationError(
            {
                "visited_on": _("The visit cannot be before the period %(period)s.")
                % {"period": check.period}
            }
        )
    with transaction.atomic():
        current = SpotCheck.objects.select_for_update().get(pk=check.pk)
        if current.status != SpotCheckStatus.OPEN:
            raise ValidationError(
                _("The spot check is closed: no more results can be recorded."), code="closed"
            )
        entry = (
            SpotCheckEntry.objects.select_for_update()
            .filter(spot_check=current, person_id=person.pk)
            .first()
        )
        if entry is None:
            raise ValidationError(
                {
                    "person": ValidationError(
                        _("%(person)s is not in the sample of this spot check.")
                        % {"person": person},
                        code="not_sampled",
                    )
                }
            )
        before = dict(entry.results.values_list("field", "result"))
        entry.results.all().delete()
        SpotCheckResult.objects.bulk_create(
            SpotCheckResult(entry=entry, field=field, result=result)
            for field, result in found.items()
        )
        entry.visited_on, entry.checked_by, entry.note = (
            visited_on,
            account_of(acting_user),
            note.strip(),
        )
        entry.version += 1
        entry.save()
        audit.record(
            Action.UPDATE if before else Action.CREATE,
            acting_user=acting_user,
            obj=entry,
            region=entry.village_id,
            before={"results": before} if before else None,
            after={"results": found, "visited_on": visited_on.isoformat()},
            detail={"spot_check": current.pk, "person": person.pk},
        )
    return entry


def close(check: SpotCheck, *, acting_user: Actor) -> SpotCheck:
    """No more results: the check's figures stand as recorded (audited)."""
    _check_in_scope(check, acting_user=acting_user)
    with transaction.atomic():
        current = SpotCheck.objects.select_for_update().get(pk=check.pk)
        if current.status == SpotCheckStatus.CLOSED:
            return current
        current.status = SpotCheckStatus.CLOSED
        current.version += 1
        current.save()
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=current,
            region=current.region_id,
            detail={"spot_check": "closed"},
        )
    return current


# --- reading --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Accuracy:
    checked: int  # fields found correct or incorrect
    correct: int
    unverified: int
    visited: int  # entries with a visit recorded
    sampled: int

    @property
    def incorrect(self) -> int:
        return self.checked - self.correct

    @property
    def rate(self) -> float | None:
        """Percent, two decimals (as the report rounds); None before any field is checked."""
        return rounded(self.correct * 100 / self.checked) if self.checked else None

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "correct": self.correct,
            "incorrect": self.incorrect,
            "unverified": self.unverified,
            "visited": self.visited,
            "sampled": self.sampled,
            "rate": self.rate,
        }


def accuracy(check: SpotCheck) -> Accuracy:
    """Fields checked, found correct, and the rate so far (two queries)."""
    counts: dict[str, int] = defaultdict(int)
    for result in SpotCheckResult.objects.filter(entry__spot_check=check).values_list(
        "result", flat=True
    ):
        counts[result] += 1
    entries = SpotCheckEntry.objects.filter(spot_check=check)
    visited = sum(1 for v in entries.values_list("visited_on", flat=True) if v is not None)
    return Accuracy(
        checked=counts[FieldResult.CORRECT] + counts[FieldResult.INCORRECT],
        correct=counts[FieldResult.CORRECT],
        unverified=counts[FieldResult.UNVERIFIED],
        visited=visited,
        sampled=entries.count(),
    )


def annotated(user: Actor | None) -> QuerySet[SpotCheck]:
    """The checks the user sees, each with the counts ``accuracy_of`` reads (one query)."""
    return with_counts(checks_in_scope(user))


def with_counts(checks: QuerySet[SpotCheck]) -> QuerySet[SpotCheck]:
    """``checks`` with the counts ``accuracy_of`` reads, newest first (one query)."""
    results = "entries__results__result"
    return (
        checks.select_related("region", "drawn_by")
        .annotate(
            n_sampled=Count("entries", distinct=True),
            n_visited=Count("entries", filter=Q(entries__visited_on__isnull=False), distinct=True),
            n_correct=Count("entries__results", filter=Q(**{results: FieldResult.CORRECT})),
            n_incorrect=Count("entries__results", filter=Q(**{results: FieldResult.INCORRECT})),
            n_unverified=Count("entries__results", filter=Q(**{results: FieldResult.UNVERIFIED})),
        )
        .order_by("-drawn_at", "-id")
    )


def accuracy_of(check: SpotCheck) -> Accuracy:
    """The accuracy of a check from ``annotated``'s counts (else counted: two queries)."""
    if not hasattr(check, "n_sampled"):
        return accuracy(check)
    counts: Any = check
    return Accuracy(
        checked=counts.n_correct + counts.n_incorrect,
        correct=counts.n_correct,
        unverified=counts.n_unverified,
        visited=counts.n_visited,
        sampled=counts.n_sampled,
    )


def listed(user: Actor, limit: int = 100) -> list[SpotCheck]:
    """The newest checks the user sees, each with ``accuracy``."""
    found = list(annotated(user)[:limit])
    for check in found:
        check.accuracy = accuracy_of(check)  # type: ignore[attr-defined]
    return found


def entries_of(check: SpotCheck, *, acting_user: Actor) -> list[SpotCheckEntry]:
    """The sampled files, by village and position, each with ``found`` (field → result)."""
    _check_in_scope(check, acting_user=acting_user)
    entries = list(
        SpotCheckEntry.objects.filter(spot_check=check)
        .select_related("person", "village", "checked_by")
        .prefetch_related("results")
        .order_by("village_id", "position")
    )
    for entry in entries:
        entry.found = {r.field: r.result for r in entry.results.all()}  # type: ignore[attr-defined]
    return entries


@dataclasses.dataclass
class Sheet:
    entry: SpotCheckEntry
    lines: list[tuple[str, Any, str]]  # (field, label, value as on file)


def field_sheets(check: SpotCheck, *, acting_user: Actor, via: str = "web") -> list[Sheet]:
    """One sheet per sampled file: the fields as on file, masked as the sheet masks them.
    An export of personal data: logged (one entry naming the check and how many files)."""
    entries = entries_of(check, acting_user=acting_user)
    period = Period(int(check.period[:4]), int(check.period[5:]))
    persons = [e.person_id for e in entries]
    stays: dict[int, ResidenceEpisode] = {}
    for stay in (
        ResidenceEpisode.objects.filter(person_id__in=persons)
        .select_related("region", "employer_place")
        .order_by("person_id", "-arrival_date", "-pk")
    ):
        stays.setdefault(stay.person_id, stay)
    held: dict[int, list[str]] = defaultdict(list)
    for person_id, number in (
        Certificate.objects.filter(
            person_id__in=persons, valid_until__gte=period.last, revoked_at__isnull=True
        )
        .order_by("issued_on")
        .values_list("person_id", "number")
    ):
        held[person_id].append(number)
    for person_id, number in HeldCertificate.objects.filter(
        person_id__in=persons, certificate__isnull=True
    ).values_list("person_id", "number"):
        held[person_id].append(number)
    sheets = []
    for entry in entries:
        filed = Filed(entry.person, stays.get(entry.person_id), held.get(entry.person_id, []))
        lines = [(f, FIELDS[f].label, FIELDS[f].value(filed)) for f in check.fields_checked]
        sheets.append(Sheet(entry, lines))
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=check,
        region=check.region_id,
        detail={"action": "print", "format": "html", "via": via, "files": len(sheets)},
    )
    return sheets


def sampled_person(check: SpotCheck, person_pk: Any, *, acting_user: Actor) -> Person:
    """The person a result is for, looked up in the user's scope (not only the sample:
    a file outside it is refused by ``record`` with its name)."""
    try:
        pk = int(person_pk)
    except (TypeError, ValueError):
        pk = None
    person = Person.objects.in_scope(acting_user).filter(pk=pk).first() if pk else None
    if person is None:
        raise ValidationError(
            {"person": _("No file #%(pk)s in your region.") % {"pk": person_pk}},
            code="not_found",
        )
    return person
