"""`liudong export persons`: the registry back out in the import template, so that an
export imports back unchanged."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db.models import Prefetch, QuerySet

from liudong.actors import Actor
from liudong.audit import services as audit
from liudong.audit.models import Action
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


def persons_for_export(prefix: str, *, acting_user: Actor) -> QuerySet[Person]:
    """Files registered or living under ``prefix``, bounded by the user's own scope."""
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
        )
    )


def template_rows(people: QuerySet[Any]) -> Iterator[list]:
    for person in people.iterator(chunk_size=2000):
        episode = person.open_episodes[0] if person.open_episodes else None
        certificates = list(person.held_certificates.all())
        certificate = certificates[0] if certificates else None

        def day(value: datetime.date | None) -> str:
            return value.isoformat() if value else ""

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


def export_persons(prefix: str, out: Path, *, file_format: str, acting_user: Actor) -> int:
    """Write the files under ``prefix`` to ``out`` (csv or xlsx, streamed); audited."""
    people = persons_for_export(prefix, acting_user=acting_user)
    count = 0
    if file_format == "xlsx":
        from liudong.safesheet import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("流动人口")
        sheet.append(list(CHINESE_HEADERS))
        for row in template_rows(people):
            sheet.append(row)
            count += 1
        workbook.save(out)
    else:
        with Path(out).open("w", encoding=CSV_ENCODING, newline="") as handle:
            writer = CsvWriter(handle)
            writer.writerow(CHINESE_HEADERS)
            for row in template_rows(people):
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
