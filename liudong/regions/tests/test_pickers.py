"""Region pickers (issue 16 item 3): the widget on the forms, the search behind it, old
codes taken as their successors or nearest known parents with a warning, the divisions
created since the shipped list, and the import warning for a number naming no province."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from liudong.people.forms import ArrivalForm, MoveForm
from liudong.people.idnumbers import make, parse
from liudong.people.models import Person
from liudong.people.template import CHINESE_HEADERS
from liudong.regions.models import Region
from liudong.regions.services import resolve_region_noting
from liudong.regions.successors import successor_of

pytestmark = pytest.mark.django_db

SEARCH = "/regions/search/"


def results(client, **params):
    response = client.get(SEARCH, params)
    assert response.status_code == 200
    return response.json()["results"]


# --- the widget -------------------------------------------------------------------------


def test_region_fields_render_the_picker_with_their_levels_and_scope(township_a):
    form = ArrivalForm(user=township_a)
    household = str(form["household_region"])
    residence = str(form["residence_region"])
    assert "data-region-picker" in household and 'data-lengths="6,9,12"' in household
    assert 'data-under=""' in household  # registered anywhere in the country
    assert 'data-under="330106002"' in residence  # lives in the user's own township
    # Without JS it is the code input it always was: the value submitted is the code.
    assert 'name="residence_region"' in residence and 'type="text"' in residence


def test_the_move_form_searches_only_the_users_region(township_a):
    person = Person(version=1)
    form = MoveForm(person=person, user=township_a)
    assert 'data-under="330106002"' in str(form["region"])


def test_the_arrival_page_loads_the_picker_script(township_a, client_for):
    page = client_for(township_a).get("/people/arrive/").content.decode()
    assert "regions/picker.js" in page
    assert page.count("data-region-picker") == 2


# --- the search -------------------------------------------------------------------------


def test_search_by_name_gives_code_name_and_full_path(township_a, client_for):
    found = results(client_for(township_a), q="北山街道")
    assert found[0]["code"] == "330106002"
    assert found[0]["name"] == "北山街道"
    assert found[0]["path"] == "浙江省 › 杭州市 › 西湖区 › 北山街道"
    assert set(found[0]) == {"code", "name", "path", "level", "note"}  # reference data only


def test_search_by_code_prefix_and_limit(township_a, client_for):
    found = results(client_for(township_a), q="3301")
    assert found and all(r["code"].startswith("3301") for r in found)
    assert len(found) == 20


def test_search_honours_levels_and_scope(township_a, client_for):
    client = client_for(township_a)
    counties = results(client, q="西湖", lengths="6")
    assert counties and all(len(r["code"]) == 6 for r in counties)
    assert "330106" in {r["code"] for r in counties}
    villages = results(client, q="社区", under="330106002", lengths="12")
    assert {r["code"] for r in villages} == {"330106002001", "330106002002"}


def test_search_names_no_person(township_a, client_for):
    form = ArrivalForm(
        {
            "id_number": make("411522", datetime.date(1995, 6, 1), 12, "2"),
            "name": "北山芳",
            "marital_status": "20",
            "household_region": "411522",
            "residence_region": "330106002001",
            "arrival_date": "2026-03-01",
        },
        user=township_a,
    )
    assert form.is_valid(), form.errors
    form.save()
    answer = client_for(township_a).get(SEARCH, {"q": "北山"}).json()
    body = json.dumps(answer, ensure_ascii=False)
    assert "北山街道" in body and "北山芳" not in body


def test_search_needs_a_signed_in_user(client):
    response = client.get(SEARCH, {"q": "西湖"})
    assert response.status_code == 302


def test_an_old_code_is_answered_with_its_successor_and_the_warning(township_a, client_for):
    found = results(client_for(township_a), q="512501")
    assert [r["code"] for r in found] == ["511502"]
    assert "512501" in found[0]["note"]


# --- old codes and new divisions --------------------------------------------------------


def test_the_2024_counties_of_hotan_are_loaded():
    names = dict(Region.objects.filter(parent_id="6532").values_list("code", "name"))
    assert names["653228"] == "和康县"
    assert names["653229"] == "和安县"
    assert Region.objects.get(code="653229").full_name() == "新疆维吾尔自治区和田地区和安县"


def test_an_abolished_county_resolves_to_its_successor_with_a_warning():
    region = resolve_region_noting("512501")
    assert region.code == "511502"  # 翠屏区, the county-level city of 宜宾 renamed in 1996
    assert "512501" in region.resolution_warning and "511502" in region.resolution_warning


def test_a_chain_of_changes_is_followed_to_its_end():
    assert successor_of("512527").code == "511504"  # 宜宾县 → 511521 → 叙州区 (2018)


def test_an_unknown_code_falls_back_to_its_nearest_known_parent_with_a_warning():
    region = resolve_region_noting("330106999")
    assert region.code == "330106"
    assert "330106999" in region.resolution_warning


def test_a_known_code_carries_no_warning_and_no_province_is_refused():
    assert resolve_region_noting("330106002").resolution_warning == ""
    with pytest.raises(ValidationError, match="Unknown region code"):
        resolve_region_noting("990101")


def test_the_arrival_form_accepts_an_old_county_and_warns(township_a):
    form = ArrivalForm(
        {
            "id_number": make("512501", datetime.date(1980, 4, 2), 21, "2"),
            "name": "宋丽",
            "marital_status": "20",
            "household_region": "512501",
            "residence_region": "330106002001",
            "arrival_date": "2026-03-01",
        },
        user=township_a,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["household_region"].code == "511502"
    assert any("512501" in w for w in form.warnings)
    episode = form.save()
    assert episode.person.household_region_id == "511502"


# --- the person import ------------------------------------------------------------------


def _import(tmp_path, rows):
    path = tmp_path / "persons.csv"
    keys = list(rows[0])
    lines = [",".join(CHINESE_HEADERS[: len(keys)])]
    lines += [",".join(str(row[k]) for k in keys) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    out = __import__("io").StringIO()
    call_command("import_persons", str(path), "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def _row(**overrides):
    from liudong.people.template import FIELDS

    row = dict.fromkeys(FIELDS, "")
    row.update(
        name="宋丽",
        sex="女",
        id_number=make("512501", datetime.date(1980, 4, 2), 21, "2"),
        marital_status="20",
        household_region="512501",
        residence_region="330106002001",
        arrival_date="2026-03-01",
    )
    row.update(overrides)
    return row


def test_import_takes_an_old_household_code_as_its_successor_with_a_warning(tmp_path, villages):
    summary = _import(tmp_path, [_row()])
    assert summary["imported"] == 1 and not summary["rejected"]
    assert {k: summary["warnings"][0][k] for k in ("row", "field")} == {
        "row": 2,
        "field": "household_region",
    }
    assert Person.objects.get().household_region_id == "511502"


def test_import_warns_when_the_id_number_names_no_province(tmp_path, villages):
    odd = make("990101", datetime.date(1990, 1, 2), 31, "1")
    summary = _import(
        tmp_path,
        [_row(household_region="330106"), _row(id_number=odd, sex="男", household_region="411522")],
    )
    assert summary["imported"] == 2 and not summary["rejected"]
    flagged = [w for w in summary["warnings"] if w["field"] == "id_number"]
    assert [w["row"] for w in flagged] == [3]
    assert "province" in flagged[0]["message"]


def test_a_foreign_permanent_residence_number_names_its_issuing_province():
    # 2023 card: 9, the issuing province (11 Beijing), a country code (156), birth date, ...
    assert parse(make("911156", datetime.date(1990, 1, 2), 31, "1")).province_known
    assert not parse(make("999156", datetime.date(1990, 1, 2), 31, "1")).province_known
