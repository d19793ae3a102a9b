"""Families and benefits made with the ORM for the re-qualification tests, as
tests/scoped_models.py's programme_benefit does (the applications' service is another
module's): a reward family and a special_death family that qualify in 2026."""

from __future__ import annotations

import datetime
import itertools

from liudong.people.idnumbers import make
from liudong.services.programmes.models import (
    Application,
    Benefit,
    Family,
    FamilyChild,
    Programme,
)

D = datetime.date
_sequence = itertools.count(11, 2)
BORN_1962 = D(1962, 5, 1)
FIRST_OF_2025 = D(2025, 1, 1)


def id_number(born: datetime.date, sex: str, region: str = "330106") -> str:
    return make(region, born, next(_sequence) % 999, sex)


def family(
    *,
    kind: str = "reward",
    village: str = "330106002001",
    applicant_born: datetime.date = BORN_1962,
    applicant_sex: str = "2",
) -> Family:
    """A family that qualifies for ``kind`` on any day of 2026: reward (rural, she is 60 or
    more, one living child born 1990, births certified) or special_death (rural too, her
    only child died in 2020)."""
    made = Family.objects.create(
        applicant_name="王秀英",
        applicant_id_number=id_number(applicant_born, applicant_sex),
        spouse_name="李建国",
        spouse_id_number=id_number(D(1960, 3, 2), "1" if applicant_sex == "2" else "2"),
        household_type="agricultural",
        household_region_id=village,
        births_certified_on=D(2025, 12, 1),
    )
    if kind == "reward":
        FamilyChild.objects.create(family=made, sex="1", birth_date=D(1990, 1, 1))
    else:
        FamilyChild.objects.create(
            family=made, sex="1", birth_date=D(1990, 1, 1), state="dead", death_date=D(2020, 5, 1)
        )
    return made


def benefit(
    of: Family | None = None,
    *,
    programme: str = "reward",
    status: str = "active",
    starts_on: datetime.date = FIRST_OF_2025,
) -> Benefit:
    of = of or family(kind="reward" if programme == "reward" else "special")
    application = Application.objects.create(
        family=of,
        programme=Programme.objects.get(code=programme),
        id_number=of.applicant_id_number,
        name=of.applicant_name,
        applied_on=starts_on - datetime.timedelta(days=60),
        status="approved",
    )
    return Benefit.objects.create(
        application=application,
        family=of,
        programme=application.programme,
        id_number=application.id_number,
        name=application.name,
        starts_on=starts_on,
        status=status,
    )
