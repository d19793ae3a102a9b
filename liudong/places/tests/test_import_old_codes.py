"""Old and unknown region codes in the places spreadsheets (issue 16 item 3): taken as
the successor or the nearest known parent with a warning naming row and field, as the
person import does; a code naming no province is still refused (test_import_export_records)."""

from __future__ import annotations

import pytest

from conftest import make_user
from liudong.places.models import Site

from .test_import_export import run
from .test_import_export_records import write_csv

pytestmark = pytest.mark.django_db

HEADER = ["场所类型", "场所名称", "区划代码"]


def test_an_unknown_village_code_is_saved_at_its_township_with_a_warning(tmp_path, township_a):
    file = write_csv(tmp_path / "s.csv", HEADER, [["市场", "甲", "330106002999"]])
    summary = run("import_sites", file, "--user", "township_a")
    assert summary["rejected"] == [] and summary["imported"] == 1
    assert Site.objects.get(name="甲").region_id == "330106002"
    [warning] = summary["warnings"]
    assert (warning["row"], warning["field"]) == (2, "region")
    assert "330106002999" in warning["message"] and "330106002" in warning["message"]


def test_an_old_county_code_is_saved_as_its_successor_with_a_warning(tmp_path, villages):
    make_user("cuiping", "county", "511502")  # 翠屏区, which replaced 县级宜宾市 512501
    file = write_csv(
        tmp_path / "s.csv", HEADER, [["市场", "甲", "512501"], ["市场", "乙", "511502"]]
    )
    summary = run("import_sites", file, "--user", "cuiping")
    assert summary["rejected"] == [] and summary["imported"] == 2
    assert set(Site.objects.values_list("region_id", flat=True)) == {"511502"}
    assert [(w["row"], w["field"]) for w in summary["warnings"]] == [(2, "region")]
    assert "511502" in summary["warnings"][0]["message"]
