"""`liudong export persons`: the registry back out in the import template, so that an
export imports back unchanged.

The 婚育证明编号 column names the certificate she holds: the latest one in her register
(issued elsewhere, or here and linked), or the latest valid one this system issued her,
whichever was issued last. A certificate issued here is the register's knowledge too: left
out, two-way matching would count her without one."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db.models import Prefetch, QuerySet

from liudong.actors import Actor
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.progress import reported
from liudong.safesheet import CSV_ENCODING, CsvWriter

from .models import HeldCertificate, Person, ResidenceEpisode
from .template import (
    CHINESE_HEADERS,
    ETHNICITY_CHOICES,
    MARITAL_CHOICES,
    REASON_CHOICES,
)

ETHNICITY_NAME = dict(ETHNICITY_CHOICES)
MARITAL_NAME = dict(MARITAL_CHOICES)
REASON_NAME = dict(REASON_CHOICES)
SEX_NAME = {"1": "男", "2": "女"}
# Column widths of the xlsx export, in the template's column order.
WIDTHS = (10, 6, 21, 12, 8, 10, 16, 28, 16, 28, 12, 10, 14, 24, 21, 8, 22, 12, 12, 12)


def persons_for_export(prefix: str, *, acting_user: Actor) -> QuerySet[Person]:
    """Files registered or living under ``prefix``, bounded by the user's own scope."""
    from liudong.certificates.models import Certificate  # the app that issues them

    people = Person.objects.in_scope(acting_user).active()
    return (
        people.in_region(prefix)
        .order_by("id")
        .prefetch_related(
            Prefetch(
                "episodes",
                queryset=ResidenceEpisode.objects.filter(departure_date__isnull=True),
                to_attr="open_episodes",
            ),
            Prefetch(
                "held_certificates", queryset=HeldCertificate.objects.order_by("-issued_on", "-id")
            ),
            Prefetch(
                "certificates",
                queryset=Certificate.objects.filter(revoked_at__isnull=True).order_by(
                    "-issued_on", "-id"
                ),
                to_attr="issued_here",
            ),
        )
    )


class _Held:
    """The certificate a row names: number, issuing region, issue date."""

    __slots__ = ("issued_on", "issuer", "number")

    def __init__(self, number: str, issuer: str, issued_on: datetime.date | None) -> None:
        self.number, self.issuer, self.issued_on = number, issuer, issued_on


def latest_certificate(person: Any) -> _Held | None:
    """The certificate she holds as the export names it (see the module docstring)."""
    held = [
        _Held(each.number, each.issuer, each.issued_on) for each in person.held_certificates.all()
    ]
    held += [
        _Held(each.number, each.issuing_region_id, each.issued_on) for each in person.issued_here
    ]
    if not held:
        return None
    return max(held, key=lambda each: each.issued_on or datetime.date.min)


def template_rows(people: QuerySet[Any]) -> Iterator[list]:
    for person in people.iterator(chunk_size=2000):
        episode = person.open_episodes[0] if person.open_episodes else None
        certificate = latest_certificate(person)

        def day(value: datetime.date | None) -> datetime.date | str:
            return value or ""  # a date cell in xlsx, ISO text in csv

        yield [
            person.name,
            SEX_NAME.get(person.sex, ""),
            person.id_number,
            day(person.birth_date),
            ETHNICITY_NAME.get(person.ethnicity, ""),
            MARITAL_NAME.get(person.marital_status, ""),
            person.household_region_id,
            person.household_address,
            person.residence_region_id or "",
            person.residence_address,
            day(episode.arrival_date) if episode else "",
            REASON_NAME.get(episode.reason, "") if episode else "",
            person.phone,
            episode.employer if episode else "",
            person.spouse_id_number,
            "" if person.children_count is None else person.children_count,
            certificate.number if certificate else "",
            certificate.issuer if certificate else "",
            day(certificate.issued_on) if certificate else "",
            day(episode.verified_on) if episode else "",
        ]


def export_persons(
    prefix: str,
    out: Path,
    *,
    file_format: str,
    acting_user: Actor,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Write the files under ``prefix`` to ``out`` (csv or xlsx, streamed); audited.
    ``progress`` is called with the rows written so far and how many there are."""
    people = persons_for_export(prefix, acting_user=acting_user)
    rows = template_rows(people)
    if progress is not None:
        rows = reported(rows, people.count(), progress)
    count = 0
    if file_format == "xlsx":
        from liudong.safesheet import Workbook, lay_out

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("流动人口")
        lay_out(sheet, CHINESE_HEADERS, widths=WIDTHS)
        sheet.append(list(CHINESE_HEADERS))
        for row in rows:
            sheet.append(row)
            count += 1
        workbook.save(out)
    else:
        with Path(out).open("w", encoding=CSV_ENCODING, newline="") as handle:
            writer = CsvWriter(handle)
            writer.writerow(CHINESE_HEADERS)
            for row in rows:
                writer.writerow(row)
                count += 1
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type="people.person",
        object_repr=f"persons under {prefix} ({count} rows)",
        region=prefix,
        detail={"rows": count, "format": file_format},
    )
    return count
