"""Spot checks (issue 6, part 6): a reproducible sample of N files per village, results
recorded per field for sampled files only, the accuracy rate, its place in the monthly
report (``data_accuracy_rate``) and in an assessment, the printed sheets (audited), the
pages and the API.

Township A (330106002) has two villages: 北山社区 (330106002001) and 曙光社区
(330106002002); township B (330106004) has 西溪社区. The period is 2026-10.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from liudong.audit.models import AuditEntry
from liudong.stats import spotchecks
from liudong.stats.engine import Period
from liudong.stats.models import Indicator, SpotCheckEntry

from .conftest import resident

D = datetime.date
VILLAGE_A1 = "330106002001"
VILLAGE_A2 = "330106002002"
VILLAGE_B1 = "330106004001"
VISIT = D(2026, 11, 5)
TODAY = D(2026, 11, 22)
ALL_CORRECT = dict.fromkeys(spotchecks.DEFAULT_FIELDS, "correct")


@pytest.fixture(autouse=True)
def standard_indicators(db):
    """As migration 0008 installs them (a transactional test may have emptied the table)."""
    from django.apps import apps

    from liudong.stats import standard

    standard.install(apps)


@pytest.fixture
def registry(villages):
    """25 floating residents in 北山社区, 3 in 曙光社区, 4 in 西溪社区; one who left
    北山社区 before October's end and one who is not floating (from the same county)."""
    made = {VILLAGE_A1: [], VILLAGE_A2: [], VILLAGE_B1: []}
    for village, count in ((VILLAGE_A1, 25), (VILLAGE_A2, 3), (VILLAGE_B1, 4)):
        for _n in range(count):
            made[village].append(resident(lives_in=village))
    resident(lives_in=VILLAGE_A1, left=D(2026, 9, 30))
    resident(lives_in=VILLAGE_A1, household="330106")
    return made


def drawn(check) -> list[tuple[str, int, int]]:
    return list(
        SpotCheckEntry.objects.filter(spot_check=check)
        .order_by("village_id", "position")
        .values_list("village_id", "position", "person_id")
    )


def test_the_same_seed_draws_the_same_sample(registry, county_admin):
    first = spotchecks.draw("330106002", "2026-10", seed=4711, acting_user=county_admin)
    again = spotchecks.draw("330106002", "2026-10", seed=4711, acting_user=county_admin)
    other = spotchecks.draw("330106002", "2026-10", seed=4712, acting_user=county_admin)
    assert drawn(first) == drawn(again)
    assert drawn(first) != drawn(other)
    assert first.seed == 4711


def test_n_files_per_village_and_all_of_a_smaller_village(registry, county_admin):
    check = spotchecks.draw(
        "330106002", "2026-10", per_village=20, seed=1, acting_user=county_admin
    )
    rows = drawn(check)
    by_village = {v: [p for village, _pos, p in rows if village == v] for v in {r[0] for r in rows}}
    assert len(by_village[VILLAGE_A1]) == 20
    assert set(by_village[VILLAGE_A2]) == {p.pk for p in registry[VILLAGE_A2]}  # all 3
    assert VILLAGE_B1 not in by_village  # another township
    sampled = set(by_village[VILLAGE_A1])
    assert sampled <= {p.pk for p in registry[VILLAGE_A1]}  # not the one who left, not a local
    assert [pos for v, pos, _p in rows if v == VILLAGE_A2] == [1, 2, 3]


def test_a_file_added_in_one_village_leaves_the_other_villages_sample(registry, county_admin):
    before = spotchecks.draw("330106", "2026-10", per_village=2, seed=9, acting_user=county_admin)
    resident(lives_in=VILLAGE_A1)
    after = spotchecks.draw("330106", "2026-10", per_village=2, seed=9, acting_user=county_admin)
    untouched = [r for r in drawn(before) if r[0] != VILLAGE_A1]
    assert untouched == [r for r in drawn(after) if r[0] != VILLAGE_A1]


def test_a_sample_holds_only_files_the_user_may_see(registry, township_a, inspector):
    from conftest import make_user

    township_inspector = make_user("inspector_a", "inspector", "330106002")
    check = spotchecks.draw(
        "330106002", "2026-10", per_village=50, seed=3, acting_user=township_inspector
    )
    assert {r[0] for r in drawn(check)} == {VILLAGE_A1, VILLAGE_A2}
    with pytest.raises(PermissionDenied, match="330106004"):
        spotchecks.draw("330106004", "2026-10", acting_user=township_inspector)
    with pytest.raises(PermissionDenied):
        spotchecks.draw(
            "330106002", "2026-10", acting_user=township_a
        )  # a township keeps files, no checks
    assert spotchecks.checks_in_scope(township_inspector).count() == 1
    assert spotchecks.checks_in_scope(township_a).count() == 0


def test_a_draw_is_checked_and_audited(registry, inspector):
    with pytest.raises(ValidationError, match="hair_colour"):
        spotchecks.draw(
            "330106002", "2026-10", fields=["name", "hair_colour"], acting_user=inspector
        )
    with pytest.raises(ValidationError, match="from 1 to 200"):
        spotchecks.draw("330106002", "2026-10", per_village=0, acting_user=inspector)
    with pytest.raises(ValidationError, match="nothing to draw"):
        spotchecks.draw("330106002", "2020-01", acting_user=inspector)
    check = spotchecks.draw("330106002", "2026-10", per_village=5, acting_user=inspector)
    assert 0 <= check.seed < spotchecks.SEED_DRAWN_BELOW  # the system picked it
    assert check.fields_checked == list(spotchecks.DEFAULT_FIELDS)
    entry = AuditEntry.objects.get(object_type="stats.spotcheck", object_id=str(check.pk))
    assert entry.detail["seed"] == check.seed
    assert entry.detail["drawn"] == 8  # 5 of 北山社区, all 3 of 曙光社区


@pytest.fixture
def check(registry, inspector):
    return spotchecks.draw("330106002", "2026-10", per_village=2, seed=7, acting_user=inspector)


def sampled(check, village=VILLAGE_A1):
    return [e.person for e in check.entries.filter(village_id=village).order_by("position")]


def test_a_result_for_a_person_not_in_the_sample_is_refused(check, inspector, registry):
    outside = next(p for p in registry[VILLAGE_A1] if p not in sampled(check))
    with pytest.raises(ValidationError) as caught:
        spotchecks.record(check, outside, ALL_CORRECT, VISIT, today=TODAY, acting_user=inspector)
    assert "is not in the sample" in str(caught.value)
    assert outside.name in str(caught.value)
    assert outside.id_number[-4:] in str(caught.value)
    assert outside.id_number not in str(caught.value)  # named with a masked number


def test_an_unknown_field_or_result_is_refused(check, inspector):
    person = sampled(check)[0]
    with pytest.raises(ValidationError, match="“ethnicity” is not a field of this spot check"):
        spotchecks.record(
            check, person, {"ethnicity": "correct"}, VISIT, today=TODAY, acting_user=inspector
        )
    with pytest.raises(ValidationError, match="write correct, incorrect, unverified"):
        spotchecks.record(check, person, {"name": "yes"}, VISIT, today=TODAY, acting_user=inspector)
    with pytest.raises(ValidationError, match="future"):
        spotchecks.record(
            check, person, ALL_CORRECT, D(2026, 12, 1), today=TODAY, acting_user=inspector
        )
    with pytest.raises(ValidationError, match="before the period"):
        spotchecks.record(
            check, person, ALL_CORRECT, D(2026, 9, 30), today=TODAY, acting_user=inspector
        )


def test_a_closed_check_takes_no_more_results(check, inspector):
    spotchecks.close(check, acting_user=inspector)
    with pytest.raises(ValidationError, match="closed"):
        spotchecks.record(
            check, sampled(check)[0], ALL_CORRECT, VISIT, today=TODAY, acting_user=inspector
        )


def test_accuracy_counts_checked_fields_only(check, inspector):
    first, second = sampled(check)
    spotchecks.record(
        check, first, ALL_CORRECT, VISIT, today=TODAY, acting_user=inspector
    )  # 8 correct
    results = {"name": True, "sex": "correct", "phone": "incorrect", "employer": False}
    spotchecks.record(check, second, results, VISIT, "电话已换", today=TODAY, acting_user=inspector)
    found = spotchecks.accuracy(check)
    # 8 + 2 correct, 2 incorrect; the other 4 fields of the second file were not verified.
    assert (found.checked, found.correct, found.incorrect, found.unverified) == (12, 10, 2, 4)
    assert found.rate == 83.33
    assert (found.visited, found.sampled) == (2, 4)


def test_recording_again_replaces_the_results_and_is_audited(check, inspector):
    person = sampled(check)[0]
    spotchecks.record(
        check, person, {"name": "incorrect"}, VISIT, today=TODAY, acting_user=inspector
    )
    entry = spotchecks.record(
        check, person, {"name": "correct"}, VISIT, today=TODAY, acting_user=inspector
    )
    assert spotchecks.accuracy(check).correct == 1
    assert spotchecks.accuracy(check).checked == 1
    log = AuditEntry.objects.filter(object_type="stats.spotcheckentry", object_id=str(entry.pk))
    assert list(log.order_by("seq").values_list("action", flat=True)) == ["create", "update"]
    assert log.get(action="update").before["results"]["name"] == "incorrect"


def test_the_report_rate_equals_a_hand_count(check, inspector, county_admin, report):
    """北山社区: 8 + 3 fields correct, 1 incorrect; 曙光社区: 2 correct, 2 incorrect; a
    visit on 30 September (the previous statistical year) is not counted."""
    a1, a1_second = sampled(check, VILLAGE_A1)
    a2 = sampled(check, VILLAGE_A2)[0]
    spotchecks.record(check, a1, ALL_CORRECT, VISIT, today=TODAY, acting_user=inspector)
    spotchecks.record(
        check,
        a1_second,
        {"name": True, "sex": True, "birth_date": True, "phone": False},
        VISIT,
        today=TODAY,
        acting_user=inspector,
    )
    spotchecks.record(
        check,
        a2,
        {"name": True, "sex": True, "phone": False, "employer": False},
        D(2026, 10, 20),
        today=TODAY,
        acting_user=inspector,
    )
    figures = report("330106", Period(2026, 11))
    assert figures["indicators"]["data_accuracy_rate"] == round(13 * 100 / 16, 2)  # 81.25
    township = report("330106002", Period(2026, 11))
    rows = {row["region"]: row["indicators"]["data_accuracy_rate"] for row in township["rows"]}
    assert rows[VILLAGE_A1] == round(11 * 100 / 12, 2)
    assert rows[VILLAGE_A2] == 50.0
    # October's report counts the visits to 31 October only: 曙光社区's.
    assert report("330106002", Period(2026, 10))["indicators"]["data_accuracy_rate"] == 50.0
    # No visit in the statistical year: no rate (not 0).
    assert report("330106002", Period(2026, 9))["indicators"]["data_accuracy_rate"] is None
    assert report("330106004", Period(2026, 11))["indicators"]["data_accuracy_rate"] is None


def test_the_rate_is_a_standard_indicator_and_can_be_assessed(check, inspector, county_admin):
    from liudong.stats import services

    indicator = Indicator.objects.get(code="data_accuracy_rate")
    assert indicator.standard and indicator.unit == "percent" and indicator.direction == "higher"
    indicator.full_clean()
    spotchecks.record(
        check, sampled(check)[0], ALL_CORRECT, VISIT, today=TODAY, acting_user=inspector
    )
    second = sampled(check)[1]
    spotchecks.record(
        check, second, {"name": True, "phone": False}, VISIT, today=TODAY, acting_user=inspector
    )  # 北山街道: 9 of 10 correct
    scheme = services.create_scheme(
        acting_user=county_admin,
        name="数据质量考核",
        year=2027,
        items=[{"indicator": "data_accuracy_rate", "weight": 10}],
    )
    table = services.assess(scheme, acting_user=county_admin, today=D(2026, 12, 10))
    assert table["period"] == "2026-11"
    by_unit = {row["region"]: row for row in table["rows"]}
    item = by_unit["330106002"]["items"][0]
    assert item["value"] == 90.0
    assert item["score"] == 9.0  # no target: measured against 100%
    assert by_unit["330106004"]["items"][0]["value"] is None


def test_the_spot_fields_vocabulary_is_checked():
    from liudong.stats import definitions

    parsed = definitions.parse({"count": "spot_fields", "where": {"correct": True}})
    assert parsed.filters == {"correct": True}
    with pytest.raises(ValidationError, match="does not apply"):
        definitions.parse({"count": "spot_fields", "where": {"sex": "2"}})
    with pytest.raises(ValidationError, match="does not apply"):
        definitions.parse({"count": "inflow", "where": {"correct": True}})
    with pytest.raises(ValidationError, match="no mean"):
        definitions.parse({"count": "spot_fields", "at": "mean"})


def test_field_sheets_mask_and_are_audited(check, inspector, registry):
    from liudong.people.models import Person

    person = sampled(check)[0]
    Person.objects.filter(pk=person.pk).update(phone="13812345678")
    sheets = spotchecks.field_sheets(check, acting_user=inspector)
    assert len(sheets) == 4  # two of each village
    lines = {s.entry.person_id: dict((f, v) for f, _label, v in s.lines) for s in sheets}
    assert lines[person.pk]["phone"] == "138****5678"
    assert lines[person.pk]["name"] == "测试"
    assert lines[person.pk]["residence_address"].startswith("浙江省")
    assert spotchecks.mask_id_number(person.id_number) == "*" * 14 + person.id_number[-4:]
    entry = AuditEntry.objects.get(action="export", object_id=str(check.pk))
    assert entry.detail == {"action": "print", "format": "html", "via": "web", "files": 4}


# --- pages ----------------------------------------------------------------------------------


def test_the_pages_draw_record_and_print(check, inspector, client_for, registry):
    client = client_for(inspector)
    page = client.get("/stats/spot-checks/")
    assert page.status_code == 200
    assert str(check.seed) in page.content.decode()
    response = client.post(
        "/stats/spot-checks/",
        {"region": "330106002", "period": "2026-10", "per_village": "1", "seed": "42"},
    )
    assert response.status_code == 302
    made = spotchecks.checks_in_scope(inspector).get(seed=42)
    assert response["Location"] == f"/stats/spot-checks/{made.pk}/"
    assert made.entries.count() == 2

    person = sampled(check)[0]
    entry = check.entries.get(person=person)
    detail = client.get(f"/stats/spot-checks/{check.pk}/")
    body = detail.content.decode()
    assert person.id_number not in body and person.id_number[-4:] in body
    posted = {"entry": entry.pk, "visited_on": "2026-11-05", "note": ""}
    posted |= {f"result_{entry.pk}_{f}": "correct" for f in spotchecks.DEFAULT_FIELDS}
    posted[f"result_{entry.pk}_phone"] = "incorrect"
    response = client.post(f"/stats/spot-checks/{check.pk}/", posted)
    assert response.status_code == 302
    assert spotchecks.accuracy(check).rate == 87.5
    again = client.get(f"/stats/spot-checks/{check.pk}/").content.decode()
    assert "87.50" in again

    sheets = client.get(f"/stats/spot-checks/{check.pk}/sheets/")
    assert sheets.status_code == 200
    assert sheets.content.decode().count('data-testid="sheet"') == 4
    assert AuditEntry.objects.filter(action="export", object_id=str(check.pk)).count() == 1


def test_pages_refuse_roles_without_spot_checks(check, township_a, client_for):
    client = client_for(township_a)
    assert client.get("/stats/spot-checks/").status_code == 403
    assert client.get(f"/stats/spot-checks/{check.pk}/sheets/").status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_check_of_another_region_is_not_found(check, client_for):
    from conftest import make_user

    other = make_user("inspector_b", "inspector", "330106004")
    client = client_for(other)
    assert client.get(f"/stats/spot-checks/{check.pk}/").status_code == 404
    assert client.get(f"/stats/spot-checks/{check.pk}/sheets/").status_code == 404


# --- the API --------------------------------------------------------------------------------


def test_the_api_draws_lists_and_records(registry, inspector, api_for):
    api = api_for(inspector)
    response = api.post(
        "/api/spot-checks/",
        {"region": "330106002", "period": "2026-10", "per_village": 2, "seed": 7},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["seed"] == 7 and len(body["entries"]) == 4
    assert all(
        len(e["id_number"]) == 18 and e["id_number"].startswith("*") for e in body["entries"]
    )
    listed = api.get("/api/spot-checks/").json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]

    person = body["entries"][0]["person"]
    results = {"name": "correct", "sex": "correct", "phone": "incorrect"}
    url = f"/api/spot-checks/{body['id']}/results/"
    recorded = api.post(
        url, {"person": person, "results": results, "visited_on": "2026-11-05"}, format="json"
    )
    assert recorded.status_code == 200, recorded.json()
    assert recorded.json()["results"]["phone"] == "incorrect"
    detail = api.get(f"/api/spot-checks/{body['id']}/").json()
    assert detail["accuracy"]["rate"] == 66.67

    outside = next(
        p for p in registry[VILLAGE_A1] if p.pk not in {e["person"] for e in body["entries"]}
    )
    refused = api.post(
        url, {"person": outside.pk, "results": results, "visited_on": "2026-11-05"}, format="json"
    )
    assert refused.status_code == 400
    assert "不在本次抽查的样本中" in str(refused.json())
    unknown = api.post(
        url,
        {"person": person, "results": {"ethnicity": "correct"}, "visited_on": "2026-11-05"},
        format="json",
    )
    assert unknown.status_code == 400
    assert "ethnicity" in str(unknown.json())


def test_the_api_refuses_other_roles_and_regions(check, township_a, api_for):
    from conftest import make_user

    assert api_for(township_a).get("/api/spot-checks/").status_code == 403
    other = make_user("inspector_b", "inspector", "330106004")
    assert api_for(other).get(f"/api/spot-checks/{check.pk}/").status_code == 404
    assert api_for().get("/api/spot-checks/").status_code in (401, 403)


def test_lists_keep_their_number_of_queries(registry, inspector, client_for, api_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(get, url):
        with CaptureQueriesContext(connection) as captured:
            assert get(url).status_code == 200
        return len(captured)

    client, api = client_for(inspector), api_for(inspector)
    spotchecks.draw("330106002", "2026-10", per_village=2, seed=1, acting_user=inspector)
    before = (count(client.get, "/stats/spot-checks/"), count(api.get, "/api/spot-checks/"))
    for seed in (2, 3, 4):
        spotchecks.draw("330106", "2026-10", per_village=3, seed=seed, acting_user=inspector)
    after = (count(client.get, "/stats/spot-checks/"), count(api.get, "/api/spot-checks/"))
    assert after == before
