"""liudong import/export employers and rental-houses: rules per row, idempotence, and an
export that imports back unchanged (csv and xlsx)."""

from __future__ import annotations

import contextlib
import json
from io import StringIO

import pytest
from django.core.management import call_command

from liudong.audit.models import AuditEntry
from liudong.places.models import Employer, RentalHouse

from .conftest import CODE, VILLAGE_A1

pytestmark = pytest.mark.django_db


def run(*args) -> dict:
    out = StringIO()
    with contextlib.suppress(SystemExit):  # a rejected row exits 1 after the summary
        call_command(*args, "--format", "json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_employers_twice_changes_nothing(tmp_path, township_a):
    file = write(
        tmp_path / "e.csv",
        "统一社会信用代码,单位名称,地址,区划代码,联系人,联系电话\n"
        f"{CODE.lower()},北山服装厂,北山路1号,{VILLAGE_A1},王经理,138 0000 0001\n"
        f",小吃店,曙光路2号,{VILLAGE_A1},,\n"
        f"91350100M000100Y44,坏代码厂,,{VILLAGE_A1},,\n"
        f",西溪厂,,330106004001,,\n",
    )
    first = run("import_employers", file, "--user", "township_a")
    assert first["imported"] == 2
    assert [(r["row"], r["field"]) for r in first["rejected"]] == [
        (4, "credit_code"),
        (5, "region"),
    ]
    again = run("import_employers", file, "--user", "township_a")
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert Employer.objects.get(credit_code=CODE).phone == "13800000001"


def test_atomic_import_saves_nothing_when_a_row_is_bad(tmp_path, township_a):
    file = write(
        tmp_path / "e.csv",
        f"credit_code,name,region\n{CODE},A,{VILLAGE_A1}\n91350100M000100Y4,B,{VILLAGE_A1}\n",
    )
    summary = run("import_employers", file, "--atomic", "--user", "township_a")
    assert summary["rejected"][0]["message"].startswith("A unified social credit code has 18")
    assert not Employer.objects.exists()


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_employer_export_imports_back_unchanged(tmp_path, township_a, employer, suffix):
    out = tmp_path / f"employers.{suffix}"
    call_command(
        "export_employers", "--region", "330106002", "--out", str(out), "--user", "township_a"
    )
    assert AuditEntry.objects.filter(action="export", object_type="places.employer").exists()
    summary = run("import_employers", str(out), "--user", "township_a")
    assert (summary["imported"], summary["updated"], summary["unchanged"]) == (0, 0, 1)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_rental_house_round_trip(tmp_path, township_a, house, suffix):
    out = tmp_path / f"houses.{suffix}"
    call_command(
        "export_rental_houses", "--region", "330106002", "--out", str(out), "--user", "township_a"
    )
    summary = run("import_rental_houses", str(out), "--user", "township_a")
    assert (summary["imported"], summary["updated"], summary["unchanged"]) == (0, 0, 1)


def test_import_rental_houses_updates_by_region_and_address(tmp_path, township_a, house):
    file = write(
        tmp_path / "h.csv",
        "address,region,landlord_name,landlord_phone,rooms\n"
        f"曙光路8号,{VILLAGE_A1},李房东,13800000002,8\n"
        f"曙光路9号,{VILLAGE_A1},张房东,,两间\n",
    )
    summary = run("import_rental_houses", file, "--user", "township_a")
    assert summary["updated"] == 1 and summary["rejected"][0]["field"] == "rooms"
    assert RentalHouse.objects.get(pk=house.pk).rooms == 8
    assert AuditEntry.objects.filter(object_type="places.rentalhouse", action="update").exists()


def test_export_outside_the_users_region_is_refused(tmp_path, township_b):
    with pytest.raises(SystemExit):
        call_command(
            "export_employers",
            "--region",
            "330106002",
            "--user",
            "township_b",
            stderr=StringIO(),
        )


def test_free_text_keeps_its_chinese_punctuation(tmp_path, township_a):
    """Names and addresses come back as written (full-width brackets and commas are not
    folded to ASCII), so an export of them imports back unchanged; codes and phones typed
    in full width are still read."""
    wide_region = VILLAGE_A1.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    file = write(
        tmp_path / "e.csv",
        "单位名称,地址,区划代码,联系电话\n"
        f"北山服装厂（分厂）,北山路1号，东门,{wide_region},１３８００００００01\n",
    )
    assert run("import_employers", file, "--user", "township_a")["imported"] == 1
    employer = Employer.objects.get()
    assert (employer.name, employer.address) == ("北山服装厂（分厂）", "北山路1号，东门")
    assert (employer.region_id, employer.phone) == (VILLAGE_A1, "13800000001")
    out = tmp_path / "employers.csv"
    call_command(
        "export_employers", "--region", "330106002", "--out", str(out), "--user", "township_a"
    )
    summary = run("import_employers", str(out), "--user", "township_a")
    assert (summary["imported"], summary["updated"], summary["unchanged"]) == (0, 0, 1)
