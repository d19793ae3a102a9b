"""`liudong import persons`: the person template from csv/xlsx into the registry.

The file is streamed: rows are checked one by one (people.rows) and written in batches,
each batch one transaction, so memory stays flat and a crash loses at most the batch in
flight; importing the same file again finishes the job and changes nothing twice.
``--atomic`` puts the whole file in one transaction that is rolled back if any row is
refused. Each batch writes one audit entry naming every file it created or changed.
"""

from __future__ import annotations

import datetime
import os
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong import bulk, events, tabular
from liudong.accounts.roles import CHANGE_PEOPLE, can
from liudong.actors import Actor, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.regions.models import Region
from liudong.tabular import read_table_lists

from .columnar import BatchChecker
from .models import HeldCertificate, Person, ResidenceEpisode
from .rows import CleanRow, RowChecker
from .services import floating, name_initials, refresh_derived
from .template import CHINESE_HEADERS, COLUMNS, FIELDS, REQUIRED

T = TypeVar("T")

PERSON_COLUMNS = {column.field: (column.chinese,) for column in COLUMNS}
# Columns offices add that carry nothing to import (and the errors file's own column).
IGNORABLE = ("序号", "no", "编号", "备注", "remarks", "问题", "problems")
ERRORS_COLUMN = "问题 problems"
# The errors workbook's sheet: offices read the tab's name (its columns stay as they are).
ERRORS_SHEET = "未导入行"
BATCH_SIZE = 5000  # rows a transaction; 2000 spent a sixth of the time on per-batch costs
ANALYZE_AFTER = 10_000  # rows written by one import before planner statistics are refreshed

PERSON_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "marital_status",
    "phone",
    "household_region_id",
    "household_address",
    "residence_region_id",
    "residence_address",
    "spouse_id_number",
    "children_count",
    "id_check_failed",
)
EPISODE_FIELDS = ("address", "reason", "employer", "verified_on")


@dataclass
class ImportSummary(tabular.ImportSummary):
    saved: bool = True  # False after --dry-run, or --atomic with a rejected row


class ErrorsFile:
    """The rejected rows, as they were, with a last column naming each problem: the
    office corrects them in Excel and imports this very file again."""

    def __init__(self, path: Path) -> None:
        from liudong.safesheet import Workbook, lay_out

        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(ERRORS_SHEET)
        header = ["行号 row", *CHINESE_HEADERS, ERRORS_COLUMN]
        lay_out(self.sheet, header)
        self.sheet.append(header)

    def add(self, row_number: int, values: dict, problems: list[dict]) -> None:
        cells = [_cell(values.get(name)) for name in FIELDS]
        described = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        self.sheet.append([row_number, *cells, described])

    def close(self) -> None:
        self.workbook.save(self.path)


def _cell(value: object) -> object:
    if isinstance(value, str) and not value.isprintable():
        # A control character (the row's problem) cannot stand in XML: written as Excel
        # writes it, _xHHHH_, which the reader turns back into the character.
        return tabular.excel_escaped(value)
    if isinstance(value, datetime.datetime):
        return value.date()  # a date cell, as the office's file had it
    return value


class SeenNumbers:
    """The ID numbers met so far in one file, with the row each was first on: about 12
    bytes a number in sorted arrays (plus one dict of the latest chunk), where a dict of
    strings takes over 100 bytes. A million-row file keeps ~20 MB here, not ~110 MB."""

    CHUNK = 100_000  # small: sorting a chunk briefly holds ~15 MB of tuples
    FILTER_BITS = 1 << 25  # 4 MiB: a number not yet seen skips the sorted chunks at once
    PRIME = 33_554_393

    def __init__(self) -> None:
        self.recent: dict[int, int] = {}
        self.chunks: list[tuple[array, array]] = []
        self.filter = bytearray(self.FILTER_BITS // 8)

    @staticmethod
    def _key(id_number: str) -> int:
        # 17 digits and a check character (0-9 or X = 10): fits a signed 64-bit integer.
        last = id_number[17]
        return int(id_number[:17]) * 11 + (10 if last == "X" else int(last))

    def first_row(self, id_number: str, row: int) -> int:
        """The row the number was first on: ``row`` itself when it is new."""
        key = self._key(id_number)
        earlier = self.recent.get(key)
        if earlier is not None:
            return earlier
        first, second = key % self.PRIME, (key // self.PRIME) % self.PRIME
        bits = self.filter
        maybe = bits[first >> 3] & (1 << (first & 7)) and bits[second >> 3] & (1 << (second & 7))
        if maybe:
            for keys, rows in self.chunks:
                index = bisect_left(keys, key)
                if index < len(keys) and keys[index] == key:
                    return rows[index]
        bits[first >> 3] |= 1 << (first & 7)
        bits[second >> 3] |= 1 << (second & 7)
        self.recent[key] = row
        if len(self.recent) >= self.CHUNK:
            ordered = sorted(self.recent.items())
            self.chunks.append(
                (array("q", [k for k, _ in ordered]), array("I", [r for _, r in ordered]))
            )
            self.recent = {}
        return row


class KnownRegions:
    """Every region code in the database, held once per import (about 50,000 strings)."""

    def __init__(self) -> None:
        self.codes = set(Region.objects.values_list("code", flat=True))

    def __call__(self, code: str) -> bool:
        return code in self.codes


def import_persons(
    path: str | os.PathLike[str],
    *,
    acting_user: Actor,
    dry_run: bool = False,
    atomic: bool = False,
    errors_out: str | os.PathLike | None = None,
    sheet: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    today: datetime.date | None = None,
    max_rows: int | None = None,
) -> ImportSummary:
    """Import a person file; see the module docstring. Raises TableError when the file as
    a whole is unusable (no header, unknown or doubled columns, unreadable). ``progress``
    is called with the number of data rows read so far; ``max_rows`` stops after that
    many (a web preview checks the head of a large file)."""
    if not is_operator(acting_user) and not can(acting_user, CHANGE_PEOPLE):
        raise PermissionDenied(_("Your role may not change person files."))
    within = (acting_user.region_id or "") if not is_operator(acting_user) else ""
    rows = read_table_lists(
        path,
        PERSON_COLUMNS,
        REQUIRED,
        strict=True,
        ignorable=IGNORABLE,
        sheet=sheet,
        streamed=True,
    )
    summary = ImportSummary()
    known = KnownRegions()
    checker = RowChecker(known, today=today, within=within, place_unknown_regions=True)
    plain_rows = BatchChecker(known.codes, today=checker.today, within=within)
    writer = BatchWriter(summary, acting_user=acting_user, dry_run=dry_run, source=Path(path).name)
    errors = ErrorsFile(Path(errors_out)) if errors_out else None
    seen = SeenNumbers()
    text_only = Path(path).suffix.lower() in (".csv", ".txt")  # csv cells are all text
    done = 0
    outer = transaction.atomic() if atomic and not dry_run else _nothing()
    try:
        with outer:
            for chunk in _chunks(rows, batch_size, max_rows):
                batch: list[CleanRow] = []
                answers = plain_rows.check(chunk, text_only=text_only)
                for (row_number, cells), plain in zip(chunk, answers, strict=True):
                    clean, problems = _judge(checker, seen, row_number, cells, plain)
                    if clean is None:
                        summary.rejected.extend(problems)
                        if errors:
                            errors.add(row_number, dict(zip(FIELDS, cells, strict=True)), problems)
                    else:
                        summary.warnings.extend(clean.warnings)
                        batch.append(clean)
                if batch:
                    writer.write(batch)
                done += len(chunk)
                if progress:
                    progress(done)
            if atomic and summary.rejected and not dry_run:
                transaction.set_rollback(True)
                summary.saved = False
                summary.imported = summary.updated = 0
    finally:
        if errors:
            errors.close()
    if dry_run:
        summary.saved = False
    elif summary.saved and summary.imported + summary.updated >= ANALYZE_AFTER:
        _refresh_statistics()
    return summary


def _judge(
    checker: RowChecker, seen: SeenNumbers, row_number: int, cells: list, plain: CleanRow | None
) -> tuple[CleanRow | None, list[dict]]:
    """The row's clean values, or None and its problems. ``plain`` is the fast path's
    answer (None: it leaves the row to the rule book)."""
    if problems := tabular.row_problems(cells):
        return None, problems  # a control character: before anything reads the values
    if type(cells) is tabular.MergedRow:
        return None, _merged(row_number, cells)
    clean, problems = (
        (plain, [])
        if plain is not None
        else checker.check(row_number, dict(zip(FIELDS, cells, strict=True)))
    )
    if clean is not None:
        first = seen.first_row(clean.id_number, row_number)
        if first != row_number:
            return None, [_twice(row_number, clean.id_number, first)]
    return clean, problems


def _chunks(rows: Iterable[T], size: int, limit: int | None) -> Iterator[list[T]]:
    """Lists of up to ``size`` rows, ``limit`` rows in all (None: every row)."""
    chunk: list = []
    for count, row in enumerate(rows):
        if limit is not None and count >= limit:
            break
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _merged(row_number: int, cells: Any) -> list[dict]:
    """A row under a merged cell: Excel shows the value on the first row only, and which
    rows it was meant for is a guess no importer should make."""
    return [
        {
            "row": row_number,
            "field": FIELDS[position],
            "message": _(
                "This cell (%(column)s) is part of merged cells %(range)s: unmerge them and "
                "fill in each row."
            )
            % {"column": CHINESE_HEADERS[position], "range": ref},
        }
        for position, ref in sorted(cells.merged.items())
    ]


def _twice(row_number: int, id_number: str, first: int) -> dict:
    return {
        "row": row_number,
        "field": "id_number",
        "message": _(
            "The ID number %(value)s appears twice in the file (first on row %(first)d): "
            "one row per person."
        )
        % {"value": id_number, "first": first},
    }


def _refresh_statistics() -> None:
    """After a large import, tell the query planner how the tables look now: without it
    SQLite searched a million files through the wrong index (hundreds of ms, not 1 ms)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for model in (Person, ResidenceEpisode):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


class _nothing:
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        return False


def _common_prefix(codes: list[str]) -> str:
    if not codes:
        return ""
    low, high = min(codes), max(codes)
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    return low[:n]


class BatchWriter:
    """Writes checked rows: new files, changed files, arrivals; one audit entry a batch."""

    def __init__(
        self, summary: ImportSummary, *, acting_user: Actor, dry_run: bool, source: str
    ) -> None:
        self.summary = summary
        self.acting_user = acting_user
        self.dry_run = dry_run
        self.source = source

    def write(self, batch: list[CleanRow]) -> None:
        if self.dry_run:
            self._classify(batch)
            return
        with transaction.atomic():
            self._classify(batch)

    def _classify(self, batch: list[CleanRow]) -> None:
        known_numbers = _registered_numbers([r.id_number for r in batch])
        registered = Person.objects.filter(id_number__in=known_numbers)
        if not self.dry_run:
            # Lock the files this batch changes: an edit saved on the web between this
            # read and the batch's write would otherwise be overwritten unseen.
            registered = registered.select_for_update()
        existing = {p.id_number: p for p in registered} if known_numbers else {}
        open_episodes = {
            e.person_id: e
            for e in ResidenceEpisode.objects.filter(
                person_id__in=[p.pk for p in existing.values()], departure_date__isnull=True
            )
        }
        held = set(
            HeldCertificate.objects.filter(
                person_id__in=[p.pk for p in existing.values()]
            ).values_list("person_id", "number")
        ) | _issued_to(existing.values())
        now = timezone.now()
        new_rows: list[CleanRow] = []
        changed_people: list[Person] = []
        changed_episodes: list[ResidenceEpisode] = []
        new_episodes: list[tuple[int, CleanRow]] = []
        new_certificates: list[tuple[int, CleanRow]] = []
        updated_log: dict[str, dict] = {}

        for row in batch:
            person = existing.get(row.id_number)
            if person is None:
                new_rows.append(row)
                continue
            before, after = {}, {}
            for name, value in _person_values(row).items():
                if getattr(person, name) != value:
                    before[name], after[name] = getattr(person, name), value
                    setattr(person, name, value)
            episode = open_episodes.get(person.pk)
            episode_change = self._episode_change(person, episode, row, before, after)
            if episode_change == "refused":
                continue
            if episode is not None and episode_change in ("changed", "closed-and-arrival"):
                changed_episodes.append(episode)
            if episode_change in ("arrival", "closed-and-arrival"):
                new_episodes.append((person.pk, row))
            if row.certificate_no and (person.pk, row.certificate_no) not in held:
                new_certificates.append((person.pk, row))
                after["certificate_no"] = row.certificate_no
            if after:
                refresh_derived(person)
                person.version += 1
                person.updated = now
                changed_people.append(person)
                updated_log[str(person.pk)] = {"row": row.row, "before": before, "after": after}
            else:
                self.summary.unchanged += 1

        self.summary.imported += len(new_rows)
        self.summary.updated += len(changed_people)
        links = self._issued_here(batch)
        if self.dry_run:
            return
        ids = bulk.allocate_ids(Person, len(new_rows))
        stamp = bulk.db_now()
        created = list(zip(ids, new_rows, strict=True))
        bulk.insert(
            Person, PERSON_COLUMNS_DB, [_person_tuple(pk, row, stamp) for pk, row in created]
        )
        created_log = [[row.row, pk] for pk, row in created]
        new_episodes.extend(created)
        # A new file holds no certificate yet: plain inserts, no conflict to look for.
        bulk.insert(
            HeldCertificate,
            CERTIFICATE_COLUMNS_DB,
            [
                _certificate_tuple(pk, row, stamp, links.get(row.certificate_no))
                for pk, row in created
                if row.certificate_no
            ],
        )
        if changed_people:
            Person.objects.bulk_update(
                changed_people,
                [*PERSON_FIELDS, "name_initials", "is_floating", "version", "updated"],
                batch_size=500,
            )
        if changed_episodes:
            ResidenceEpisode.objects.bulk_update(
                changed_episodes,
                ["departure_date", "region", *EPISODE_FIELDS, "version"],
                batch_size=500,
            )
        bulk.insert(
            ResidenceEpisode,
            EPISODE_COLUMNS_DB,
            [_episode_tuple(pk, row, stamp) for pk, row in new_episodes],
        )
        # Her registration place learns of each arrival, in this batch's transaction.
        events.publish_all(
            [
                events.ArrivalRegistered(
                    id_number=row.id_number,
                    name=row.name,
                    sex=row.sex,
                    birth_date=row.birth_date,
                    household_region=row.household_region,
                    residence_region=row.residence_region,
                    arrival_date=row.arrival_date,
                    floating=floating(row.household_region, row.residence_region),
                    imported=True,
                )
                for _pk, row in new_episodes
            ]
        )
        HeldCertificate.objects.bulk_create(
            [
                HeldCertificate(
                    person_id=pk,
                    number=row.certificate_no,
                    issuer=row.certificate_issuer,
                    issued_on=row.certificate_issued,
                    certificate_id=links.get(row.certificate_no),
                )
                for pk, row in new_certificates
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        if created_log or updated_log:
            codes = [r.residence_region for r in batch] + [r.household_region for r in batch]
            audit.record(
                Action.IMPORT,
                acting_user=self.acting_user,
                object_type="people.person",
                object_repr=_("%(file)s rows %(first)d–%(last)d")
                % {"file": self.source, "first": batch[0].row, "last": batch[-1].row},
                region=(self.acting_user.region_id if self.acting_user else _common_prefix(codes)),
                detail={
                    "file": self.source,
                    "created": created_log,
                    "updated": updated_log,
                },
            )

    def _issued_here(self, batch: list[CleanRow]) -> dict[str, int]:
        """Certificate numbers of the batch that this node issued, to the woman on the row:
        number -> certificate id. A number issued here to someone else is kept as the row
        states it, unlinked, with a warning: one of the two registers is wrong."""
        from liudong.certificates.models import Certificate  # the app that defines them

        numbers = {row.certificate_no for row in batch if row.certificate_no}
        if not numbers:
            return {}
        issued = {
            number: (pk, id_number)
            for number, pk, id_number in Certificate.objects.filter(number__in=numbers).values_list(
                "number", "pk", "id_number"
            )
        }
        links = {}
        for row in batch:
            found = issued.get(row.certificate_no)
            if found is None:
                continue
            if found[1] == row.id_number:
                links[row.certificate_no] = found[0]
            else:
                self.summary.warnings.append(
                    {
                        "row": row.row,
                        "field": "certificate_no",
                        "message": _(
                            "Certificate %(number)s was issued here to someone else: kept as "
                            "the row states it, not linked; check both files."
                        )
                        % {"number": row.certificate_no},
                    }
                )
        return links

    def _episode_change(
        self,
        person: Person,
        episode: ResidenceEpisode | None,
        row: CleanRow,
        before: dict,
        after: dict,
    ) -> str:
        """What the row says about the person's current stay.

        Same arrival: the stay's details may be corrected. A later arrival: she moved, the
        old stay ends that day. An earlier one: the file is older than what we know.
        """
        if episode is None:
            after["arrival_date"] = row.arrival_date.isoformat()
            return "arrival"
        if row.arrival_date == episode.arrival_date:
            changed = False
            if episode.region_id != row.residence_region:
                before["episode_region"], after["episode_region"] = (
                    episode.region_id,
                    row.residence_region,
                )
                episode.region_id = row.residence_region
                changed = True
            for name, value in _episode_values(row).items():
                if getattr(episode, name) != value:
                    before[f"episode_{name}"] = _cell(getattr(episode, name))
                    after[f"episode_{name}"] = _cell(value)
                    setattr(episode, name, value)
                    changed = True
            if changed:
                episode.version += 1
                return "changed"
            return "same"
        if row.arrival_date > episode.arrival_date:
            before["arrival_date"] = episode.arrival_date.isoformat()
            after["arrival_date"] = row.arrival_date.isoformat()
            episode.departure_date = row.arrival_date
            episode.version += 1
            return "closed-and-arrival"
        self.summary.rejected.append(
            {
                "row": row.row,
                "field": "arrival_date",
                "message": _(
                    "The registry already holds a later arrival for this person (%(day)s): "
                    "this row is older than the file."
                )
                % {"day": episode.arrival_date.isoformat()},
            }
        )
        # Undo what the loop set from this row: the person stays as the registry has it.
        for name, value in before.items():
            if name in PERSON_FIELDS:
                setattr(person, name, value)
        before.clear()
        after.clear()
        return "refused"


def _issued_to(people: Iterable[Person]) -> set[tuple[int, str]]:
    """(person id, number) of each certificate this node issued to one of ``people``: a
    row naming it states what the registry knows already (an export of hers names it),
    so importing it changes nothing and adds no record of it."""
    from liudong.certificates.models import Certificate  # the app that defines them

    ids = [person.pk for person in people]
    if not ids:
        return set()
    return set(Certificate.objects.filter(person_id__in=ids).values_list("person_id", "number"))


def _person_values(row: CleanRow) -> dict:
    return {
        "name": row.name,
        "sex": row.sex,
        "birth_date": row.birth_date,
        "ethnicity": row.ethnicity,
        "marital_status": row.marital_status,
        "phone": row.phone,
        "household_region_id": row.household_region,
        "household_address": row.household_address,
        "residence_region_id": row.residence_region,
        "residence_address": row.residence_address,
        "spouse_id_number": row.spouse_id_number,
        "children_count": row.children,
        "id_check_failed": not row.id_check_ok,
    }


def _episode_values(row: CleanRow) -> dict:
    return {
        "address": row.residence_address,
        "reason": row.reason,
        "employer": row.employer,
        "verified_on": row.verified_on,
    }


# The columns the tuples below fill, in their order. A column added to a model and not
# given here fails the import (test_columns_cover_the_models), instead of writing NULL.
PERSON_COLUMNS_DB = (
    "id",
    "created",
    "updated",
    "version",
    "id_number",
    "id_check_failed",
    "name",
    "name_initials",
    "sex",
    "birth_date",
    "ethnicity",
    "marital_status",
    "phone",
    "education",
    "household_region_id",
    "household_address",
    "residence_region_id",
    "residence_address",
    "is_floating",
    "spouse_id_number",
    "spouse_id",
    "children_count",
    "merged_into_id",
)
EPISODE_COLUMNS_DB = (
    "created",
    "updated",
    "version",
    "person_id",
    "region_id",
    "address",
    "arrival_date",
    "reason",
    "employer",
    "employer_place_id",
    "rental_house_id",
    "housing",
    "departure_date",
    "verified_on",
    "destination_region_id",
    "destination_place",
)
CERTIFICATE_COLUMNS_DB = (
    "created",
    "updated",
    "version",
    "person_id",
    "number",
    "issuer",
    "issued_on",
    "revoked_on",
    "certificate_id",
)


def _person_tuple(pk: int, row: CleanRow, stamp: object) -> tuple:
    """A new file as a row of people_person, in PERSON_COLUMNS_DB order."""
    return (
        pk,
        stamp,
        stamp,
        1,
        row.id_number,
        not row.id_check_ok,
        row.name,
        name_initials(row.name),
        row.sex,
        row.birth_date,
        row.ethnicity,
        row.marital_status,
        row.phone,
        "",
        row.household_region,
        row.household_address,
        row.residence_region,
        row.residence_address,
        _floating(row.household_region, row.residence_region),
        row.spouse_id_number,
        None,
        row.children,
        None,
    )


@lru_cache(maxsize=100_000)
def _floating(household: str, residence: str) -> bool:
    # Files repeat a few thousand (household, residence) pairs: look each up once.
    return floating(household, residence)


def _episode_tuple(person_id: int, row: CleanRow, stamp: object) -> tuple:
    """A stay as a row of people_residenceepisode, in EPISODE_COLUMNS_DB order."""
    return (
        stamp,
        stamp,
        1,
        person_id,
        row.residence_region,
        row.residence_address,
        row.arrival_date,
        row.reason,
        row.employer,
        None,  # linked to a registered employer or rental house by staff, not by the file
        None,
        "",
        None,
        row.verified_on,
        None,  # an open stay has no destination yet
        "",
    )


def _certificate_tuple(
    person_id: int, row: CleanRow, stamp: object, certificate_id: int | None
) -> tuple:
    return (
        stamp,
        stamp,
        1,
        person_id,
        row.certificate_no,
        row.certificate_issuer,
        row.certificate_issued,
        None,  # revoked_on: only the issuing place's node reports that
        certificate_id,
    )


def _registered_numbers(numbers: list[str]) -> list[str]:
    """Which of these ID numbers the registry holds: one query on the unique index, and no
    file is read unless it is there (a first import of a large file reads none)."""
    table = connection.ops.quote_name(Person._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter: a plan for "= ANY" does not grow with the batch.
            cursor.execute(f"SELECT id_number FROM {table} WHERE id_number = ANY(%s)", [numbers])  # noqa: S608
        else:
            marks = ", ".join(["%s"] * len(numbers))
            cursor.execute(f"SELECT id_number FROM {table} WHERE id_number IN ({marks})", numbers)  # noqa: S608
        return [number for (number,) in cursor.fetchall()]
