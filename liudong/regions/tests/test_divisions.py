import csv
from importlib import resources

import pytest

from liudong.regions.models import DivisionsLoad, Region
from liudong.regions.services import (
    is_floating,
    load_divisions,
    resolve_region,
    same_city_districts,
)

pytestmark = pytest.mark.django_db


def shipped_rows() -> int:
    folder = resources.files("liudong.regions") / "data" / "divisions"
    total = 0
    for name in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv", "additions.csv"):
        with (folder / name).open(encoding="utf-8") as handle:
            total += sum(1 for _ in csv.DictReader(handle))
    return total


def test_every_shipped_division_is_loaded_with_its_parent():
    assert Region.objects.filter(source="national").count() == shipped_rows() == 44705
    orphans = Region.objects.filter(level__gt=1, parent__isnull=True).count()
    assert orphans == 0
    assert Region.objects.get(code="330106002").parent_id == "330106"


def test_loading_twice_changes_nothing():
    before = Region.objects.count()
    again = load_divisions()
    assert again.skipped and again.created == 0
    forced = load_divisions(force=True)
    assert (forced.created, forced.updated) == (0, 0)
    assert forced.unchanged == before
    assert Region.objects.count() == before
    assert DivisionsLoad.objects.count() == 1


def test_a_changed_name_in_the_database_is_repaired_by_the_next_load():
    Region.objects.filter(code="330106").update(name="错误名称")
    report = load_divisions(force=True)
    assert report.updated == 1
    assert Region.objects.get(code="330106").name == "西湖区"


@pytest.mark.parametrize(
    "code, district",
    [
        ("330106", True),  # 西湖区, Hangzhou
        ("330122", False),  # 桐庐县
        ("330182", False),  # 建德市, a county-level city
        ("110105", True),  # 朝阳区, Beijing (municipality)
        ("500151", True),  # 铜梁区, Chongqing
        ("500229", False),  # 城口县, Chongqing's counties
        ("520203", False),  # 六枝特区: a county in all but name
        ("232761", False),  # 加格达奇区 lies in a prefecture (地区), not a city
        ("429021", False),  # 神农架林区, directly under the province
        ("610103", True),  # 碑林区 ends in 林区 and is a district all the same
    ],
)
def test_districts_are_flagged_from_the_shipped_names(code, district):
    assert Region.objects.get(code=code).is_district is district


@pytest.mark.parametrize(
    "household, residence, floating",
    [
        ("330106002001", "330106004001", False),  # same county
        ("330106", "330102", False),  # two districts of Hangzhou
        ("330106002", "330122001", True),  # district -> county of the same city
        ("330122", "330127", True),  # two counties of one city
        ("330106", "330205", True),  # districts of two different cities
        ("110105", "110108", False),  # two districts of Beijing
        ("500101", "500151", False),  # two districts of Chongqing
        ("500101", "500229", True),  # Chongqing district -> Chongqing county
        ("429004", "429005", True),  # 仙桃 -> 潜江: province-administered cities
        ("330182", "330106", True),  # county-level city -> district of the same city
        ("340102", "330106", True),  # another province
    ],
)
def test_floating_follows_design_section_5(household, residence, floating):
    assert is_floating(household, residence) is floating
    assert is_floating(residence, household) is floating


def test_same_city_districts_needs_both_ends_to_be_districts():
    assert same_city_districts("330106", "330102")
    assert not same_city_districts("330106", "330122")
    # The same district is trivially "the same place"; is_floating checks counties first.
    assert same_city_districts("330106", "330106")


@pytest.mark.parametrize(
    "raw, code",
    [
        ("330106", "330106"),
        ("330106000000", "330106"),  # 12-digit padded county
        ("330106002000", "330106002"),  # 12-digit padded township
        ("441900", "441900"),  # 东莞市 is itself a county-level code ending in 00
        ("330100", "3301"),
    ],
)
def test_resolve_region_understands_padded_codes(raw, code):
    assert resolve_region(raw).code == code


def test_resolve_region_names_the_rule_for_unknown_and_malformed():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Unknown region code"):
        resolve_region("339999")
    with pytest.raises(ValidationError) as exc:
        resolve_region("33-01")
    assert exc.value.code == "malformed"
