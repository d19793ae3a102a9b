"""The check command and the web give the same answers (issue 17, "Done when"): the same
families, written once as a family list for `liudong programme check` and once recorded on
the web, qualify for the same programmes and fail the same ones."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from liudong.people.idnumbers import make
from liudong.regions.models import Region
from liudong.services.programmes import services
from liudong.services.programmes.tests.test_check_command import (
    reward_row,
    run,
    special_row,
    write_csv,
)
from liudong.services.programmes.tests.test_web import _check_rows

pytestmark = pytest.mark.django_db

HOUSEHOLD_TYPES = {"农业": "agricultural", "非农业": "non_agricultural"}
SEXES = {"男": "1", "女": "2"}
STATES = {"健在": "living", "死亡": "dead", "伤残": "disabled"}

ROWS = [
    reward_row(),
    reward_row(
        births_certified="否",
        id_number=make("330106", datetime.date(1966, 5, 1), 41, "1"),
        spouse_id_number="",
    ),
    special_row(),
    special_row(
        id_number=make("330106", datetime.date(1977, 8, 8), 42, "2"),
        child_1_state="伤残",
        child_1_death_date="",
        child_1_disability_grade="3",
    ),
    special_row(
        id_number=make("330106", datetime.date(1977, 8, 8), 43, "2"),
        spouse_id_number="",
        child_1_state="伤残",
        child_1_death_date="",
        child_1_disability_grade="4",
    ),
]


def _date(text: object) -> datetime.date | None:
    return datetime.date.fromisoformat(str(text)) if text else None


def record_on_the_web(actor, row: dict) -> int:
    """The row's family recorded through the services the pages use; its pk."""
    family = services.create_family(
        acting_user=actor,
        applicant_name=str(row["name"]),
        applicant_id_number=str(row["id_number"]),
        spouse_name="配偶" if row.get("spouse_id_number") else "",
        spouse_id_number=str(row.get("spouse_id_number") or ""),
        household_type=HOUSEHOLD_TYPES[str(row["household_type"])],
        household_region=Region.objects.get(code=str(row["household_region"])),
    )
    grade = row.get("child_1_disability_grade")
    services.add_child(
        acting_user=actor,
        family=family,
        sex=SEXES[str(row["child_1_sex"])],
        birth_date=_date(row["child_1_birth_date"]),
        state=STATES[str(row["child_1_state"])],
        death_date=_date(row.get("child_1_death_date")),
        disability_grade=int(grade) if grade else None,
    )
    if row["births_certified"] == "是":
        family.refresh_from_db()
        services.certify_births(
            acting_user=actor, family=family, certified_on=datetime.date(2026, 1, 5)
        )
    return family.pk


def test_the_check_command_and_the_web_give_the_same_answers(tmp_path, county_admin, client_for):
    today = timezone.localdate().isoformat()
    status, answer, _err = run(
        write_csv(tmp_path / "families.csv", ROWS), "--on", today, "--format", "json"
    )
    assert status == 0 and answer["rejected"] == []
    by_command = [(sorted(row["programmes"]), sorted(row["not"])) for row in answer["rows"]]

    client = client_for(county_admin)
    by_web = []
    for row in ROWS:
        pk = record_on_the_web(county_admin, row)
        shown = _check_rows(client.get(reverse("programmes:apply", args=[pk])).content.decode())
        by_web.append(
            (
                sorted(code for code, said in shown.items() if said == "yes"),
                sorted(code for code, said in shown.items() if said != "yes"),
            )
        )

    assert by_web == by_command
    # The families were chosen to answer differently: the comparison is not of one answer.
    assert len({tuple(qualifies) for qualifies, _not in by_command}) >= 4
