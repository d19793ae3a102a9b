"""Benefits and amounts for the payment tests, made with the ORM as tests/scoped_models.py's
``programme_benefit`` does (approval is the application services', not under test here)."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from liudong.people import idnumbers

_serial = itertools.count(1)

YEAR = 2026
VILLAGE_A = "330106002001"  # township A (北山街道), county 330106, province 33
VILLAGE_B = "330106004001"  # township B (西溪街道), the same county


def id_number(born: datetime.date | None = None, sex: str = "2") -> str:
    n = next(_serial)
    born = born or datetime.date(1960, 1, 1) + datetime.timedelta(days=n)
    return idnumbers.make("330106", born, n % 499 * 2 + 2, sex)


def card(n: int | None = None) -> str:
    n = next(_serial) if n is None else n
    return f"6217{n:015d}"  # 19 digits


def amount(code: str, yuan: str, schedule: str, *, year: int = YEAR, province: str = "33"):
    from liudong.services.programmes.models import Programme, ProgrammeAmount

    return ProgrammeAmount.objects.create(
        programme=Programme.objects.get(code=code),
        year=year,
        province=province,
        yuan_per_year=Decimal(yuan),
        schedule=schedule,
    )


def national_amounts(year: int = YEAR) -> None:
    amount("reward", "960", "yearly", year=year)
    amount("special_death", "7200", "monthly", year=year)
    amount("special_disability", "5760", "monthly", year=year)


def benefit(
    *,
    village: str = VILLAGE_A,
    programme: str = "reward",
    starts_on: datetime.date = datetime.date(2020, 1, 1),
    ends_on: datetime.date | None = None,
    status: str = "active",
    status_reason: str = "",
    bank_card: str | None = None,
    name: str = "",
    family=None,
    person_id: str = "",
):
    from liudong.services.programmes.models import (
        Application,
        Benefit,
        Family,
        FamilyChild,
        Programme,
    )

    if family is None:
        family = Family.objects.create(
            applicant_name=name or f"申请人{next(_serial)}",
            applicant_id_number=person_id or id_number(),
            household_type="agricultural",
            household_region_id=village,
        )
        FamilyChild.objects.create(family=family, sex="2", birth_date=datetime.date(1990, 1, 1))
    the_programme = Programme.objects.get(code=programme)
    application = Application.objects.create(
        family=family,
        programme=the_programme,
        id_number=family.applicant_id_number,
        name=family.applicant_name,
        applied_on=starts_on,
        status="approved",
    )
    return Benefit.objects.create(
        application=application,
        family=family,
        programme=the_programme,
        id_number=family.applicant_id_number,
        name=family.applicant_name,
        bank_card=card() if bank_card is None else bank_card,
        starts_on=starts_on,
        ends_on=ends_on,
        status=status,
        status_reason=status_reason,
    )
