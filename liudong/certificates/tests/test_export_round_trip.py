"""Issue 16 item 6: ``export persons`` names the certificates this system issued, and an
export imports back changing nothing (xlsx and csv)."""

from __future__ import annotations

import datetime

import pytest
from openpyxl import load_workbook

from liudong.actors import OPERATOR
from liudong.certificates import issuing
from liudong.people.exporting import export_persons
from liudong.people.idnumbers import make
from liudong.people.importing import import_persons
from liudong.people.models import HeldCertificate, Person, ResidenceEpisode
from liudong.people.template import CHINESE_HEADERS

from .conftest import TODAY, make_person

pytestmark = pytest.mark.django_db

NUMBER_COLUMN = CHINESE_HEADERS.index("婚育证明编号") + 1


def _registry(township_a):
    """Two women holding certificates issued here, one holding one issued elsewhere."""
    first = make_person(
        name="周敏",
        phone="13800138000",
        spouse_id_number=make("411522", datetime.date(1990, 4, 1), 11, "1"),
        children_count=1,
    )
    second = make_person(name="李静")
    third = make_person(name="陈红")
    certificates = {
        first.pk: issuing.issue(first, acting_user=township_a, today=TODAY).number,
        second.pk: issuing.issue(second, acting_user=township_a, today=TODAY).number,
    }
    HeldCertificate.objects.create(
        person=third,
        number="411522101-2025-00017",
        issuer="411522101",
        issued_on=datetime.date(2025, 12, 1),
    )
    certificates[third.pk] = "411522101-2025-00017"
    return certificates


def _snapshot():
    return (
        sorted(Person.objects.values_list("pk", "version", "updated")),
        sorted(ResidenceEpisode.objects.values_list("pk", "version", "updated")),
        sorted(HeldCertificate.objects.values_list("pk", "person_id", "number", "certificate")),
    )


def test_the_export_names_certificates_issued_here(tmp_path, villages, township_a):
    certificates = _registry(township_a)
    out = tmp_path / "persons.xlsx"

    assert export_persons("3301", out, file_format="xlsx", acting_user=OPERATOR) == 3

    sheet = load_workbook(out).worksheets[0]
    names = {row[0].value: row[NUMBER_COLUMN - 1].value for row in sheet.iter_rows(min_row=2)}
    people = dict(Person.objects.values_list("name", "pk"))
    assert names == {name: certificates[pk] for name, pk in people.items()}


def test_a_revoked_certificate_issued_here_is_not_named(tmp_path, villages, township_a):
    her = make_person()
    certificate = issuing.issue(her, acting_user=township_a, today=TODAY)
    certificate.revoked_at = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    certificate.save(update_fields=["revoked_at"])
    out = tmp_path / "persons.xlsx"

    export_persons("3301", out, file_format="xlsx", acting_user=OPERATOR)

    assert load_workbook(out).worksheets[0].cell(2, NUMBER_COLUMN).value is None


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_an_export_imports_back_changing_nothing(tmp_path, villages, township_a, file_format):
    _registry(township_a)
    out = tmp_path / f"persons.{file_format}"
    export_persons("3301", out, file_format=file_format, acting_user=OPERATOR)
    before = _snapshot()

    summary = import_persons(out, acting_user=OPERATOR, today=TODAY)

    assert (summary.imported, summary.updated, summary.unchanged) == (0, 0, 3)
    assert summary.rejected == [] and summary.warnings == []
    assert _snapshot() == before
