"""The possible-duplicate queue: finding pairs of files that may be one person, and the
staff's decision on each (merge, undo a merge, or dismiss), every decision audited.

Two signs make a pair: the same name and birth date under different ID numbers, or two
ID numbers one adjacent transposition apart (a typing slip). A merge keeps one file and
moves the other's stays, children and certificates to it; the other file stays in the
database, marked as merged, so that the merge can be undone exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.actors import account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.progress import reported

from .idnumbers import one_transposition_away
from .models import Child, HeldCertificate, Person, PossibleDuplicate, ResidenceEpisode
from .services import FILE_OUTSIDE, refresh_derived

if TYPE_CHECKING:
    from liudong.actors import Actor


LOOKUP_BATCH = 500


def _pair(a: int, b: int, reason: str) -> PossibleDuplicate:
    first, second = sorted((a, b))
    return PossibleDuplicate(first_id=first, second_id=second, reason=reason)


def find_duplicates(
    people: Iterable[Person] | None = None,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Queue the pairs among ``people`` (default: every active file); returns how many
    new pairs were queued. Pairs already queued or decided are left as they are.
    ``progress`` is called with the files compared so far and how many there are."""
    candidates = Person.objects.active()
    pairs: list[PossibleDuplicate] = []
    if people is None:
        same = (
            candidates.values("name", "birth_date")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("name", "birth_date")
        )
        groups: dict[tuple, list[int]] = {}
        for key in same.iterator():
            groups[key] = []
        if groups:
            for pk, name, birth in candidates.filter(
                name__in={name for name, _birth in groups}
            ).values_list("pk", "name", "birth_date"):
                if (name, birth) in groups:
                    groups[(name, birth)].append(pk)
        for members in groups.values():
            pairs += [
                _pair(a, b, PossibleDuplicate.Reason.NAME_AND_BIRTH)
                for i, a in enumerate(members)
                for b in members[i + 1 :]
            ]
        scan = candidates.values_list("pk", "id_number").iterator(chunk_size=LOOKUP_BATCH)
    else:
        chosen = list(people)
        for person in chosen:
            for other in candidates.filter(name=person.name, birth_date=person.birth_date).exclude(
                pk=person.pk
            ):
                pairs.append(_pair(person.pk, other.pk, PossibleDuplicate.Reason.NAME_AND_BIRTH))
        scan = iter([(p.pk, p.id_number) for p in chosen])
    if progress is not None:
        scan = reported(
            scan, candidates.count() if people is None else len(chosen), progress, LOOKUP_BATCH
        )
    pairs += _transposed_pairs(scan, candidates)
    before = PossibleDuplicate.objects.count()
    PossibleDuplicate.objects.bulk_create(pairs, batch_size=1000, ignore_conflicts=True)
    return PossibleDuplicate.objects.count() - before


def _transposed_pairs(
    scan: Iterator[tuple[int, str]], candidates: QuerySet[Person]
) -> list[PossibleDuplicate]:
    pairs = []
    batch: list[tuple[int, str]] = []

    def flush() -> None:
        wanted: dict[str, list[int]] = {}
        for pk, id_number in batch:
            for variant in one_transposition_away(id_number):
                wanted.setdefault(variant, []).append(pk)
        for other_pk, other_number in candidates.filter(id_number__in=list(wanted)).values_list(
            "pk", "id_number"
        ):
            for pk in wanted[other_number]:
                if pk != other_pk:
                    pairs.append(_pair(pk, other_pk, PossibleDuplicate.Reason.TRANSPOSED_ID))

    for item in scan:
        batch.append(item)
        if len(batch) >= LOOKUP_BATCH:
            flush()
            batch = []
    if batch:
        flush()
    return pairs


def compared_digits(number: str, other: str) -> list[tuple[str, bool]]:
    """``number`` a character at a time, each with whether ``other`` differs there (a
    position ``other`` lacks differs): what the pair page highlights."""
    return [
        (character, index >= len(other) or other[index] != character)
        for index, character in enumerate(number)
    ]


def _other_file(duplicate: PossibleDuplicate, keep: Person, *, acting_user: Actor) -> Person:
    """The pair's other file; both must be files the user may change."""
    other = Person.objects.get(
        pk=duplicate.second_id if keep.pk == duplicate.first_id else duplicate.first_id
    )
    for person in (keep, other):
        authorize(
            acting_user,
            CHANGE_PEOPLE,
            person.household_region_id,
            person.residence_region_id,
            outside=FILE_OUTSIDE,
        )
    return other


def _record(keep: Person, detail: dict, *, acting_user: Actor) -> None:
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=keep,
        region=keep.residence_region_id or keep.household_region_id,
        detail=detail,
    )


def _decided(duplicate: PossibleDuplicate, status: str, *, acting_user: Actor) -> None:
    duplicate.status = status
    duplicate.decided_by = account_of(acting_user)
    duplicate.decided_at = timezone.now()


def _one_open_stay(keep: Person, other_open: int | None) -> int | None:
    """Leave the merged file one open stay, the one begun last (where she lives now), and
    close the other the day that one began: never before it began itself, so a stay never
    ends before it begins (a merge once left 2026-11-21 to 2026-11-20). On the same day
    the kept file's stay stays open. ``keep`` takes the residence of the stay left open;
    returns the pk of the stay closed, for an undo to reopen."""
    kept_open = keep.episodes.filter(departure_date__isnull=True).first()
    other = ResidenceEpisode.objects.filter(pk=other_open).first() if other_open else None
    if other is None:
        return None
    if kept_open is not None and kept_open.arrival_date >= other.arrival_date:
        ResidenceEpisode.objects.filter(pk=other.pk).update(departure_date=kept_open.arrival_date)
        return other.pk
    if kept_open is not None:
        ResidenceEpisode.objects.filter(pk=kept_open.pk).update(departure_date=other.arrival_date)
    keep.residence_region_id, keep.residence_address = other.region_id, other.address
    return kept_open.pk if kept_open is not None else None


@transaction.atomic
def merge(*, acting_user: Actor, duplicate: PossibleDuplicate, keep: Person) -> Person:
    """Keep ``keep``; move the other file's stays, children and certificates to it."""
    if duplicate.status != PossibleDuplicate.Status.OPEN:
        raise ValidationError(_("This pair has already been decided."))
    if keep.pk not in (duplicate.first_id, duplicate.second_id):
        raise ValidationError(_("The file to keep must be one of the pair."))
    other = _other_file(duplicate, keep, acting_user=acting_user)
    moved: dict[str, Any] = {
        "episodes": list(other.episodes.values_list("pk", flat=True)),
        "children": list(other.children.values_list("pk", flat=True)),
        "certificates": list(other.held_certificates.values_list("pk", flat=True)),
        "other_open_episode": other.episodes.filter(departure_date__isnull=True)
        .values_list("pk", flat=True)
        .first(),
        "kept_residence": [keep.residence_region_id, keep.residence_address],
    }
    closed = _one_open_stay(keep, moved["other_open_episode"])
    if closed is not None:
        moved["closed_episode"] = closed
    ResidenceEpisode.objects.filter(pk__in=moved["episodes"]).update(person=keep)
    Child.objects.filter(pk__in=moved["children"]).update(parent=keep)
    HeldCertificate.objects.filter(pk__in=moved["certificates"]).update(person=keep)
    other.merged_into = keep
    other.save_versioned()
    refresh_derived(keep)
    keep.save_versioned()
    duplicate.kept = keep
    duplicate.merge_record = moved
    _decided(duplicate, PossibleDuplicate.Status.MERGED, acting_user=acting_user)
    duplicate.save()
    _record(
        keep,
        acting_user=acting_user,
        detail={"action": "merge", "merged": other.pk, "duplicate": duplicate.pk, "moved": moved},
    )
    return keep


@transaction.atomic
def undo_merge(*, acting_user: Actor, duplicate: PossibleDuplicate) -> None:
    """Give the merged file back everything the merge moved, as it was."""
    if duplicate.status != PossibleDuplicate.Status.MERGED or not duplicate.merge_record:
        raise ValidationError(_("Only a merged pair can be unmerged."))
    assert duplicate.kept_id is not None  # a merged pair always names the kept file
    keep = Person.objects.get(pk=duplicate.kept_id)
    other = _other_file(duplicate, keep, acting_user=acting_user)
    moved = duplicate.merge_record
    ResidenceEpisode.objects.filter(pk__in=moved["episodes"]).update(person=other)
    Child.objects.filter(pk__in=moved["children"]).update(parent=other)
    HeldCertificate.objects.filter(pk__in=moved["certificates"]).update(person=other)
    # The stay the merge closed is reopened (a record written before the merge chose the
    # later stay names none: it was always the other file's open one).
    reopen = moved.get("closed_episode", moved["other_open_episode"])
    if reopen:
        ResidenceEpisode.objects.filter(pk=reopen).update(departure_date=None)
    keep.residence_region_id, keep.residence_address = moved["kept_residence"]
    refresh_derived(keep)
    keep.save_versioned()
    other.merged_into = None
    other.save_versioned()
    duplicate.kept = None
    duplicate.merge_record = None
    _decided(duplicate, PossibleDuplicate.Status.OPEN, acting_user=acting_user)
    duplicate.save()
    _record(
        keep,
        acting_user=acting_user,
        detail={
            "action": "unmerge",
            "restored": other.pk,
            "duplicate": duplicate.pk,
            "moved": moved,
        },
    )


@transaction.atomic
def dismiss(*, acting_user: Actor, duplicate: PossibleDuplicate) -> None:
    if duplicate.status != PossibleDuplicate.Status.OPEN:
        raise ValidationError(_("This pair has already been decided."))
    first = duplicate.first
    authorize(
        acting_user,
        CHANGE_PEOPLE,
        first.household_region_id,
        first.residence_region_id,
        outside=FILE_OUTSIDE,
    )
    _decided(duplicate, PossibleDuplicate.Status.DISMISSED, acting_user=acting_user)
    duplicate.save()
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=duplicate,
        region=first.residence_region_id or first.household_region_id,
        detail={"action": "dismiss"},
    )
