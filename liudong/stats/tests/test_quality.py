"""Data-quality rules (issue 6, part 7): each standard rule finds exactly the records that
break it in a registry built by hand, and nothing else; rules are checked when saved;
the list is scoped to the caller's region, per grid, with links that open.

Township A (330106002) holds the registry below; the report date is ``REFERENCE``.
"""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from liudong.stats.tests.conftest import REFERENCE, child, resident
from liudong.stats.tests.conftest import certificate as make_certificate

D = datetime.date
STANDARD_CODES = {
    "married_without_spouse",
    "child_before_mother_14",
    "arrival_before_birth",
    "verification_before_arrival",
    "certificate_holder_not_adult_woman",
    "departure_before_arrival",
    "id_check_digit_wrong",
    "overlapping_stays",
}


@pytest.fixture
def rules(db):
    """The standard rules as the migration installs them (a transactional test before
    this one may have emptied the table)."""
    from django.apps import apps

    from liudong.stats.models import QualityRule
    from liudong.stats.quality import install_rules

    install_rules(apps)
    return {r.code: r for r in QualityRule.objects.all()}


def person(name: str, *, spouse: bool = True, **kwargs):
    """A resident (conftest) with a name to recognise; married ones have a spouse on file
    unless ``spouse=False``."""
    p = resident(**kwargs)
    p.name = name
    if p.is_married and spouse:
        p.spouse_id_number = "110105199003070016"
    p.save()
    return p


def certificate(p, **kwargs):
    """A certificate (conftest) numbered as the certificate pages expect."""
    made = make_certificate(p, **kwargs)
    made.number = f"411326001-{made.issued_on.year}-{made.pk:06d}"
    made.save()
    return made


def stay(p, arrived: D, left: D | None = None, *, verified: D | None = None, place=None):
    from liudong.people.models import ResidenceEpisode

    return ResidenceEpisode.objects.create(
        person=p,
        region_id=place or "330106002001",
        arrival_date=arrived,
        departure_date=left,
        verified_on=verified,
    )


@pytest.fixture
def registry(villages, rules):
    """One or two files breaking each rule, each beside a file on the right side of the
    boundary; "清白" breaks none."""
    from liudong.certificates.models import Verification

    clean = person("清白", born=D(1995, 4, 1))
    certificate(clean, issued=D(2020, 1, 1))
    child(clean, D(2021, 5, 1))

    person("无配偶", spouse=False)
    person("未婚", married=False)

    young = person("少母", born=D(2000, 6, 15))
    child(young, D(2014, 6, 14))  # the day before she turned 14
    on_time = person("满十四", born=D(2000, 6, 15))
    child(on_time, D(2014, 6, 15))  # her 14th birthday: fine
    father = person("少父", sex="1", born=D(2000, 6, 15))
    child(father, D(2012, 1, 1))  # the rule is about mothers

    born = D(1996, 5, 1)
    person("早到", born=born, arrived=D(1996, 4, 30))
    person("生日到", born=born, arrived=born)

    person("先查验", arrived=D(2026, 3, 1), verified=D(2026, 2, 28))
    person("当日查验", arrived=D(2026, 3, 1), verified=D(2026, 3, 1))
    record = person("查验记录早", arrived=D(2026, 3, 1))
    episode = record.episodes.get()
    Verification.objects.create(
        person=record,
        episode=episode,
        region_id="330106002001",
        verified_at=timezone.now(),
        verified_on=D(2026, 2, 20),
        method="number",
        days_after_arrival=0,
    )

    certificate(person("男持证", sex="1"))
    certificate(
        person("男已撤销", sex="1"),
        revoked=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    girl_born = D(2006, 8, 10)
    certificate(person("未满十八", born=girl_born), issued=D(2024, 8, 9))
    certificate(person("刚满十八", born=girl_born), issued=D(2024, 8, 10))
    # Past 49 her certificate has ended: no finding.
    certificate(person("已过期", age=52), issued=D(2010, 1, 1), until=D(2024, 1, 1))

    inverted = person("倒序")
    stay(inverted, D(2025, 5, 1), D(2025, 4, 30))
    stay(person("当日离开"), D(2025, 5, 1), D(2025, 5, 1))  # empty, not inverted

    wrong = person("校验错")
    wrong.id_check_failed = True
    wrong.save()

    overlap = person("重叠")
    stay(overlap, D(2025, 1, 1), D(2025, 6, 1))
    stay(overlap, D(2025, 5, 1), D(2025, 9, 1))
    chain = person("相接")
    stay(chain, D(2025, 1, 1), D(2025, 6, 1))
    stay(chain, D(2025, 6, 1), D(2026, 3, 1))  # ends the day the open stay begins
    return rules


def names(result) -> list[str]:
    return sorted(v.name for v in result.violations)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("married_without_spouse", ["无配偶"]),
        ("child_before_mother_14", ["少母"]),
        ("arrival_before_birth", ["早到"]),
        ("verification_before_arrival", ["先查验", "查验记录早"]),
        ("certificate_holder_not_adult_woman", ["未满十八", "男持证"]),
        ("departure_before_arrival", ["倒序"]),
        ("id_check_digit_wrong", ["校验错"]),
        ("overlapping_stays", ["重叠"]),
    ],
)
def test_each_standard_rule_finds_exactly_its_violations(registry, county_admin, code, expected):
    from liudong.stats.quality import violations

    result = violations(registry[code], region="330106", acting_user=county_admin, today=REFERENCE)
    assert names(result) == sorted(expected)
    assert result.total == len(expected)


def test_the_standard_rules_ship_as_valid_data(rules):
    assert set(rules) == STANDARD_CODES
    for rule in rules.values():
        rule.full_clean()
        assert rule.standard and rule.active
    assert rules["child_before_mother_14"].parameters == {"min_age": 14}


def test_details_name_the_dates(registry, county_admin):
    from liudong.stats.quality import check_quality

    report = check_quality(region="330106", acting_user=county_admin, today=REFERENCE)
    detail = {(v.rule.code, v.name): v.detail for v in report.violations}
    assert "2014-06-14" in detail[("child_before_mother_14", "少母")]
    assert "2000-06-15" in detail[("child_before_mother_14", "少母")]
    assert "1996-04-30" in detail[("arrival_before_birth", "早到")]
    assert "2026-02-20" in detail[("verification_before_arrival", "查验记录早")]
    assert "2024-08-09" in detail[("certificate_holder_not_adult_woman", "未满十八")]
    overlap = detail[("overlapping_stays", "重叠")]
    assert "2025-05-01" in overlap and "2025-01-01" in overlap and "2025-06-01" in overlap


def test_the_mother_age_is_a_parameter(registry, county_admin):
    from liudong.stats.models import QualityRule
    from liudong.stats.quality import violations

    rule = QualityRule(
        code="child_before_mother_15",
        name_zh="子女出生时母亲未满15周岁",
        name_en="child born before the mother turned 15",
        check_name="child_before_mother_age",
        parameters={"min_age": 15},
    )
    rule.full_clean()
    rule.save()
    result = violations(rule, region="330106", acting_user=county_admin)
    assert names(result) == ["少母", "满十四"]


@pytest.mark.parametrize(
    ("check_name", "parameters", "field", "named"),
    [
        ("no_such_check", {}, "check_name", "no_such_check"),
        ("child_before_mother_age", {"min_age": "14"}, "parameters", "min_age"),
        ("child_before_mother_age", {"min_age": 3}, "parameters", "min_age"),
        ("child_before_mother_age", {"max_age": 14}, "parameters", "max_age"),
        ("arrival_before_birth", {"min_age": 14}, "parameters", "min_age"),
        ("arrival_before_birth", [14], "parameters", None),
    ],
)
def test_an_unknown_check_or_a_bad_parameter_is_refused(
    rules, check_name, parameters, field, named
):
    from liudong.stats.models import QualityRule

    rule = QualityRule(
        code="county_rule",
        name_zh="县自定规则",
        name_en="a county's rule",
        check_name=check_name,
        parameters=parameters,
    )
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    messages = caught.value.message_dict[field]
    if named:
        assert any(named in m for m in messages), messages


def test_a_region_outside_the_callers_is_refused(registry, township_a):
    from liudong.stats.quality import check_quality, violations

    with pytest.raises(PermissionDenied) as caught:
        check_quality(region="330106004", acting_user=township_a)
    assert "330106004" in str(caught.value) and "330106002" in str(caught.value)
    with pytest.raises(PermissionDenied):
        violations(registry["married_without_spouse"], region="330106", acting_user=township_a)


def test_a_township_sees_only_files_in_its_scope(registry, township_a, township_b, county_admin):
    from liudong.stats.quality import violations

    person("西溪无配偶", spouse=False, lives_in="330106004001")
    rule = registry["married_without_spouse"]
    assert names(violations(rule, region="330106002", acting_user=township_a)) == ["无配偶"]
    assert names(violations(rule, region="330106004", acting_user=township_b)) == ["西溪无配偶"]
    both = violations(rule, region="330106", acting_user=county_admin)
    assert names(both) == ["无配偶", "西溪无配偶"]


def test_each_violation_falls_in_the_grid_of_her_residence_else_her_registration(
    rules, grid_a, township_a
):
    from liudong.stats.quality import check_quality

    person("网格内", spouse=False, lives_in="330106002001001")  # a group of a grid village
    person("街道级", spouse=False, lives_in="330106002")  # coded at the township: no grid
    person("外出", spouse=False, household="330106002002", lives_in="411326")  # outflow
    report = check_quality(
        region="330106002", acting_user=township_a, rules=[rules["married_without_spouse"]]
    )
    grids = {v.name: v.grid.name if v.grid else None for v in report.violations}
    assert grids == {"网格内": "北山一网格", "街道级": None, "外出": "北山一网格"}
    groups = report.by_grid()
    assert [g.grid.name if g.grid else None for g in groups] == ["北山一网格", None]
    assert sorted(v.name for v in groups[0].violations) == ["外出", "网格内"]


def test_masked_ids_and_links_to_the_page_where_it_is_fixed(registry, county_admin):
    from liudong.people.models import Person
    from liudong.stats.quality import check_quality

    report = check_quality(region="330106", acting_user=county_admin, today=REFERENCE)
    by_rule = {(v.rule.code, v.name): v for v in report.violations}
    married = by_rule[("married_without_spouse", "无配偶")]
    full = Person.objects.get(name="无配偶").id_number
    assert married.masked_id == full[:6] + "********" + full[-4:]
    assert married.url == f"/people/{married.person_pk}/edit/"
    overlap = by_rule[("overlapping_stays", "重叠")]
    assert overlap.url == f"/people/{overlap.person_pk}/"


def test_one_query_per_rule_however_many_violations(
    registry, county_admin, django_assert_max_num_queries
):
    from liudong.stats.quality import check_quality

    # the rules, the region, the grids, then one per rule
    bound = 3 + len(STANDARD_CODES)
    with django_assert_max_num_queries(bound):
        check_quality(region="330106", acting_user=county_admin, today=REFERENCE)
    for n in range(10):
        person(f"又无配偶{n}", spouse=False)
    with django_assert_max_num_queries(bound):
        report = check_quality(region="330106", acting_user=county_admin, today=REFERENCE)
    assert len(report.violations) > 10


def test_the_list_is_bounded_and_the_count_exact(registry, county_admin):
    from liudong.stats.quality import violations

    person("再无配偶", spouse=False)
    result = violations(
        registry["married_without_spouse"], region="330106", acting_user=county_admin, limit=1
    )
    assert result.total == 2 and len(result.violations) == 1


def test_a_rule_switched_off_is_not_run(registry, county_admin):
    from liudong.stats.quality import check_quality

    registry["id_check_digit_wrong"].active = False
    registry["id_check_digit_wrong"].save()
    report = check_quality(region="330106", acting_user=county_admin)
    assert "id_check_digit_wrong" not in {r.rule.code for r in report.results}
    assert len(report.results) == len(STANDARD_CODES) - 1


def test_an_unknown_rule_is_refused(rules):
    from liudong.stats.quality import selected_rules

    with pytest.raises(ValidationError) as caught:
        selected_rules("no_such_rule")
    assert "no_such_rule" in str(caught.value)


# --- the command ----------------------------------------------------------------------------


def _command(*args) -> str:
    out = io.StringIO()
    call_command("check_quality", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_designed_json(registry, township_a):
    report = json.loads(
        _command("--region", "330106002", "--format", "json", "--user", "township_a")
    )
    assert report["region"] == "330106002"
    assert report["grids"] == [{"grid": None, "violations": len(report["violations"])}]
    counts = {r["code"]: r["violations"] for r in report["rules"]}
    assert set(counts) == STANDARD_CODES
    assert counts["married_without_spouse"] == 1
    first = report["violations"][0]
    assert set(first) == {"rule", "person", "name", "grid", "detail", "url"}
    assert "********" in first["person"]
    assert {v["name"] for v in report["violations"]} >= {"无配偶", "重叠", "校验错"}


def test_the_command_runs_one_rule_and_prints_a_table(registry):
    text = _command("--region", "330106", "--rule", "married_without_spouse")
    assert "无配偶" in text and "重叠" not in text


def test_the_command_refuses_a_region_outside_the_account(registry, township_a, capsys):
    with pytest.raises(SystemExit) as caught:
        call_command("check_quality", "--region", "330106004", "--user", "township_a")
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert "330106004" in err and "330106002" in err


def test_the_command_refuses_an_unknown_rule(registry, capsys):
    with pytest.raises(SystemExit) as caught:
        call_command("check_quality", "--region", "330106", "--rule", "nope")
    assert caught.value.code == 1
    assert "nope" in capsys.readouterr().err


# --- the page -------------------------------------------------------------------------------


def test_the_page_lists_violations_per_grid_with_links_that_open(
    registry, grid_a, township_a, client_for
):
    from liudong.people.models import Person

    client = client_for(township_a)
    response = client.get("/stats/quality/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "北山一网格" in page and "无配偶" in page
    full = Person.objects.get(name="无配偶").id_number
    assert full not in page and full[:6] + "********" + full[-4:] in page
    links = [v.url for v in response.context["groups"][0].violations]
    assert links and all(client.get(url).status_code == 200 for url in links)


def test_the_page_filters_by_rule(registry, township_a, client_for):
    response = client_for(township_a).get("/stats/quality/?rule=overlapping_stays")
    names_shown = [v.name for g in response.context["groups"] for v in g.violations]
    assert names_shown == ["重叠"]
    assert len(response.context["results"]) == len(STANDARD_CODES)  # every count in view


def test_the_page_refuses_a_region_outside_the_users(registry, township_a, client_for):
    response = client_for(township_a).get("/stats/quality/?region=330106004")
    assert response.status_code == 403
    assert "330106004" in response.content.decode()


def test_the_page_names_an_unknown_region(rules, township_a, client_for):
    response = client_for(township_a).get("/stats/quality/?region=330106002999")
    assert response.status_code == 400
    assert "330106002999" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("village_a1", 200),
        ("township_a", 200),
        ("county_admin", 200),
        ("inspector", 403),
        ("provider_a", 403),
    ],
)
def test_who_may_open_the_page(rules, request, client_for, who, status):
    user = request.getfixturevalue(who)
    assert client_for(user).get("/stats/quality/").status_code == status


def test_anonymous_is_sent_to_sign_in(rules, client):
    response = client.get("/stats/quality/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_api_lists_the_findings_as_the_command_does(registry, township_a, inspector, api_for):
    answer = api_for(township_a).get("/api/quality/?rule=married_without_spouse")
    assert answer.status_code == 200
    body = answer.json()
    assert body["region"] == "330106002"
    assert [r["code"] for r in body["rules"]] == ["married_without_spouse"]
    assert all(v["rule"] == "married_without_spouse" for v in body["violations"])
    assert all("*" in v["person"] for v in body["violations"])  # masked
    assert api_for(township_a).get("/api/quality/?region=330106004").status_code == 403
    assert api_for(inspector).get("/api/quality/").status_code == 403  # corrects no file


def test_a_rule_code_with_bytes_no_code_has_is_an_unknown_rule(registry, township_a, api_for):
    answer = api_for(township_a).get("/api/quality/?rule=a%00b")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "rule"
