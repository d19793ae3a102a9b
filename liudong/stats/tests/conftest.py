"""Known registries for the statistics tests: each person is built with exact dates (no
service in between), so every expected figure can be counted by hand.

The report region is county 330106 (西湖区, a district of 杭州); township A is 330106002.
Floating residents come from 淅川县 (411326, Henan) unless a test says otherwise.
"""

from __future__ import annotations

import datetime
import itertools

import pytest

REFERENCE = datetime.date(2026, 10, 31)  # the last day of the period 2026-10
PERIOD = "2026-10"
FROM_HENAN = "411326"
VILLAGE_A = "330106002001"

_sequence = itertools.count(2, 2)


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def resident(
    *,
    age: int | None = 30,
    born: datetime.date | None = None,
    sex: str = "2",
    married: bool = True,
    household: str = FROM_HENAN,
    lives_in: str = VILLAGE_A,
    arrived: datetime.date = datetime.date(2026, 3, 1),
    left: datetime.date | None = None,
    verified: datetime.date | None = None,
    registered: datetime.datetime | None = None,
):
    """A person and one stay, written directly (the counts read only these rows);
    ``registered``: when the stay was entered (its ``created``; now by default)."""
    from liudong.people.idnumbers import make
    from liudong.people.models import Person, ResidenceEpisode
    from liudong.people.services import floating

    born = born or years_before(REFERENCE, age or 30) - datetime.timedelta(days=40)
    person = Person.objects.create(
        id_number=make(household[:6], born, next(_sequence) % 999, sex),
        name="测试",
        name_initials="cs",
        sex=sex,
        birth_date=born,
        marital_status="20" if married else "10",
        household_region_id=household,
        residence_region_id=None if left else lives_in,
        is_floating=False if left else floating(household, lives_in),
    )
    stay = ResidenceEpisode.objects.create(
        person=person,
        region_id=lives_in,
        arrival_date=arrived,
        departure_date=left,
        verified_on=verified,
    )
    if registered is not None:  # auto_now_add: set afterwards
        ResidenceEpisode.objects.filter(pk=stay.pk).update(created=registered)
    return person


def certificate(
    person,
    *,
    issued=datetime.date(2025, 1, 1),
    until=datetime.date(2028, 1, 1),
    revoked: datetime.datetime | None = None,
):
    from liudong.certificates.models import Certificate

    return Certificate.objects.create(
        number=f"T-{person.pk}-{issued.isoformat()}",
        person=person,
        issuing_region_id=person.household_region_id,
        issued_on=issued,
        valid_until=until,
        name=person.name,
        sex=person.sex,
        birth_date=person.birth_date,
        id_number=person.id_number,
        marital_status=person.marital_status,
        key_id="test",
        payload="{}",
        revoked_at=revoked,
    )


def service(
    person, day: datetime.date, service_type="reproductive_health", *, free=True, consent=True
):
    from liudong.services.models import ServiceRecord

    return ServiceRecord.objects.create(
        person=person,
        service_type=service_type,
        date=day,
        region_id=VILLAGE_A,
        free_of_charge=free,
        consent_recorded=consent,
    )


def child(parent, born: datetime.date, sex: str = "1"):
    from liudong.people.models import Child

    return Child.objects.create(parent=parent, sex=sex, birth_date=born)


@pytest.fixture
def report(villages):
    """``report(code)`` builds the monthly report of 2026-10 for ``code``."""
    from liudong.stats.engine import Period
    from liudong.stats.services import monthly_report

    def build(code: str = "330106", period: Period | None = None) -> dict:
        from liudong.actors import OPERATOR

        return monthly_report(code, period or Period(2026, 10), acting_user=OPERATOR)

    return build
