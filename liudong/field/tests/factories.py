"""Shared helpers of the field API's tests: people on file, a queued action, a sync call."""

from __future__ import annotations

import datetime
import uuid
from itertools import count

from django.utils import timezone

from liudong.actors import OPERATOR

GRID_VILLAGE = "330106002001"  # grid_a's area, where collector_a1 (its group) works
GROUP = "330106002001001"  # collector_a1's region
OTHER_VILLAGE_IN_GRID = "330106002002"  # in grid_a, outside collector_a1's scope
TOWNSHIP_B_VILLAGE = "330106004001"  # grid_b: another township
HOUSEHOLD = "411326"  # the ID number's county: her household registration, elsewhere

_sequence = count(2, 2)


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


def new_id_number(sex: str = "2", born: datetime.date | None = None) -> str:
    from liudong.people.idnumbers import make

    return make(HOUSEHOLD, born or datetime.date(1995, 3, 4), next(_sequence) % 1000, sex)


def resident(
    region: str = GROUP,
    *,
    name: str = "张三",
    sex: str = "2",
    born: datetime.date | None = None,
    arrived: datetime.date | None = None,
):
    """A person living in ``region`` since ``arrived`` (through the arrival service)."""
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    born = born or datetime.date(1995, 3, 4)
    person = Person(
        id_number=new_id_number(sex, born),
        name=name,
        sex=sex,
        birth_date=born,
        marital_status="20",
        household_region_id=_household_code(),
    )
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code=region),
        arrival_date=arrived or days_ago(40),
        address="北山路1号",
        reason="work",
    )
    return person


def _household_code() -> str:
    """A township of her home county (her township issues her certificate)."""
    return HOUSEHOLD + "001"


def action(kind: str, data: dict, *, client_id: str | None = None, done_at=None) -> dict:
    return {
        "client_id": client_id or str(uuid.uuid4()),
        "kind": kind,
        "done_at": (done_at or timezone.localtime()).isoformat(),
        "data": data,
    }


def envelope(*actions: dict, device_time=None) -> dict:
    return {
        "device_time": (device_time or timezone.localtime()).isoformat(),
        "actions": list(actions),
    }


def arrival_data(**overrides) -> dict:
    data = {
        "person": None,
        "person_version": None,
        "id_number": new_id_number(),
        "name": "李四",
        "sex": "",
        "birth_date": None,
        "marital_status": "20",
        "household_region": _household_code(),
        "residence_region": GROUP,
        "residence_address": "北山路2号",
        "arrival_date": days_ago(3).isoformat(),
        "reason": "work",
        "employer": "",
    }
    data.update(overrides)
    return data
