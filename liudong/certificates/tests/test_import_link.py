"""Issue 4 item 6: the person template's certificate columns create an external
certificate record; a certificate this node issued to the same woman is known already
(issue 16 item 6: her export names it, and importing it back changes nothing)."""

from __future__ import annotations

import csv

import pytest

from liudong.actors import OPERATOR
from liudong.certificates import issuing
from liudong.people.importing import import_persons
from liudong.people.models import HeldCertificate
from liudong.people.template import CHINESE_HEADERS

from .conftest import TODAY, make_person

pytestmark = pytest.mark.django_db


def _row(person, number, issuer="", issued=""):
    return {
        "name": person.name,
        "sex": "女",
        "id_number": person.id_number,
        "marital_status": "20",
        "household_region": person.household_region_id,
        "residence_region": "330105001001",
        "arrival_date": "2026-05-01",
        "certificate_no": number,
        "certificate_issuer": issuer,
        "certificate_issued": issued,
    }


def _import(tmp_path, rows):
    from liudong.people.template import FIELDS

    path = tmp_path / "register.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHINESE_HEADERS)
        for row in rows:
            writer.writerow([row.get(field, "") for field in FIELDS])
    return import_persons(path, acting_user=OPERATOR, today=TODAY)


def test_a_number_issued_here_to_her_is_known_and_one_from_elsewhere_is_external(
    tmp_path, villages, township_a
):
    her = make_person()
    other = make_person(name="李静")
    issued = issuing.issue(her, acting_user=township_a, today=TODAY)

    summary = _import(
        tmp_path,
        [
            _row(her, issued.number),
            _row(other, "411522101-2025-00017", "411522101", "2025-12-01"),
        ],
    )

    assert summary.rejected == [] and summary.warnings == []
    assert (summary.updated, summary.unchanged) == (1, 1)  # her row states nothing new
    assert not HeldCertificate.objects.filter(person=her).exists()
    external = HeldCertificate.objects.get(person=other)
    assert external.certificate_id is None
    assert (external.issuer, str(external.issued_on)) == ("411522101", "2025-12-01")


def test_a_number_issued_here_to_someone_else_is_kept_unlinked_with_a_warning(
    tmp_path, villages, township_a
):
    her = make_person()
    other = make_person(name="李静")
    issued = issuing.issue(her, acting_user=township_a, today=TODAY)

    summary = _import(tmp_path, [_row(other, issued.number)])

    assert summary.rejected == []
    assert [w["field"] for w in summary.warnings] == ["certificate_no"]
    assert issued.number in summary.warnings[0]["message"]
    held = HeldCertificate.objects.get(person=other)
    assert held.number == issued.number and held.certificate_id is None
