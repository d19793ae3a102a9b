"""Assessment judges the offices' work, never people's births (issue 16 item 8).

An indicator is assessable only when its definition counts the offices' own work
(``definitions.statistic_reason``): births, birth rate, sex ratio and counts of
contraception, pregnancies or reproductive-health checks accepted are statistics, as are
counts of people. A target or a scheme item on a statistic is refused with the reason;
those saved before are shown as not assessable and not scored. Rankings leave out units
whose rates are of fewer than ``LIUDONG_RANKING_MIN_DENOMINATOR`` and show units with
nothing to count as such, never scored 0 or full marks.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from liudong.stats import definitions, services
from liudong.stats.engine import Period
from liudong.stats.models import AssessmentScheme, Indicator, Target

from .conftest import resident

YEAR = 2027  # October 2026 is its first month
TODAY = datetime.date(2026, 11, 22)
OCTOBER = Period(2026, 10)
VERIFIED = datetime.date(2026, 4, 1)

CONTRACEPTIVE_SUPPLY = {
    "code": "contraceptive_supply_rate",
    "name_zh": "避孕药具发放率",
    "name_en": "contraceptive supply rate",
    "unit": "percent",
    "direction": "higher",
    "definition": {
        "ratio": [
            {
                "count": "inflow",
                "where": {
                    "sex": "2",
                    "age": [18, 49],
                    "married": True,
                    "service_in_year": "contraceptive",
                },
            },
            "inflow_married_wcba",
        ]
    },
}
RH_CHECKS = {
    "code": "rh_checks_accepted",
    "name_zh": "查环查孕人数",
    "name_en": "reproductive-health checks accepted",
    "unit": "count",
    "direction": "higher",
    "definition": {"count": "inflow", "where": {"service_in_year": "reproductive_health"}},
}


def _indicator(code: str) -> Indicator:
    return Indicator.objects.get(code=code)


# --- the rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "assessable"),
    [
        ("births", False),
        ("birth_rate_permille", False),
        ("sex_ratio_at_birth", False),
        ("inflow_health_check_rate", False),
        ("inflow_total", False),  # how many live here: people, not work
        ("inflow_adult_wcba", False),
        ("inflow_verification_rate", True),
        ("inflow_verified_within_30d_rate", True),
        ("registration_timely_rate", True),
        ("notices_answered_on_time_rate", True),
        ("outflow_certificate_rate", True),
        ("free_service_rate", True),
        ("data_accuracy_rate", True),
        ("assistance_answered_on_time_rate", True),
        ("corrections_answered_on_time_rate", True),  # issue 19: the office's answers
    ],
)
def test_the_shipped_indicators_are_marked_by_what_they_count(villages, code, assessable):
    indicator = _indicator(code)
    assert indicator.assessable is assessable
    assert (services.statistic_reason(indicator) is None) is assessable


@pytest.mark.parametrize(
    "definition",
    [
        {"count": "births", "where": {"sex": "2"}},
        {"count": "inflow", "where": {"service_in_year": "contraceptive"}},
        {"count": "inflow", "where": {"service_in_year": "prenatal", "verified": True}},
        {"count": "outflow", "where": {"service_in_year": "gynaecological"}},
        # a work count over births is still about births
        {"ratio": [{"count": "inflow", "where": {"verified": True}}, {"count": "births"}]},
        {"ratio": [{"count": "inflow", "where": {"sex": "1"}}, {"count": "inflow"}]},
    ],
)
def test_a_definition_counting_births_choices_or_people_is_a_statistic(definition):
    assert definitions.statistic_reason(definitions.parse(definition), lambda code: None)


@pytest.mark.parametrize(
    "definition",
    [
        {"count": "inflow", "where": {"sex": "2", "verified_within_days": 15}},
        {"count": "inflow", "where": {"service_in_year": "counselling"}},
        {"ratio": [{"count": "assistance", "where": {"urgency": "urgent"}}, "inflow_total"]},
    ],
)
def test_a_definition_counting_the_offices_work_is_assessable(definition):
    parsed = definitions.parse(definition)
    assert (
        definitions.statistic_reason(parsed, lambda code: definitions.parse({"count": "inflow"}))
        is None
    )


# --- targets ------------------------------------------------------------------------------


def test_a_target_on_the_birth_rate_is_refused_with_the_reason(county_admin):
    with pytest.raises(ValidationError) as caught:
        services.set_target(
            acting_user=county_admin,
            indicator=_indicator("birth_rate_permille"),
            region_code="330106",
            year=YEAR,
            value=8,
        )
    assert "births" in caught.value.message_dict["indicator"][0]
    assert not Target.objects.exists()


def test_a_target_on_the_sex_ratio_is_refused_through_the_api(county_admin, api_for):
    answer = api_for(county_admin).post(
        "/api/targets/",
        {"indicator": "sex_ratio_at_birth", "region": "330106", "year": YEAR, "value": "105"},
    )
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["field"] == "indicator" and error["code"] == "not_assessable"
    assert not Target.objects.exists()


def test_the_targets_page_refuses_a_statistic_and_shows_it_as_not_assessable(
    county_admin, client_for
):
    # One saved before the rule (straight into the table): shown, struck, unused.
    Target.objects.create(
        indicator=_indicator("inflow_health_check_rate"),
        region_id="330106",
        year=YEAR,
        value=Decimal("90"),
    )
    client = client_for(county_admin)
    client.post(
        f"/stats/targets/?year={YEAR}",
        {"target_birth_rate_permille": "8", "target_inflow_verification_rate": "85"},
    )
    saved = set(Target.objects.values_list("indicator__code", flat=True))
    assert saved == {"inflow_health_check_rate", "inflow_verification_rate"}
    page = client.get(f"/stats/targets/?year={YEAR}").content.decode()
    for code in ("birth_rate_permille", "sex_ratio_at_birth", "inflow_health_check_rate"):
        assert f'data-testid="statistic-{code}"' in page
        assert f'name="target_{code}"' not in page  # nothing to type a target into
    assert 'name="target_inflow_verification_rate"' in page
    assert "<s " in page and "90.00</s>" in page


def test_the_dashboard_measures_no_statistic_against_a_target(county_admin):
    Target.objects.create(
        indicator=_indicator("inflow_health_check_rate"),
        region_id="330106",
        year=YEAR,
        value=Decimal("90"),
    )
    resident()
    board = services.dashboard(
        "330106", OCTOBER, acting_user=county_admin, indicator_code="inflow_health_check_rate"
    )
    card = next(c for c in board["cards"] if c["indicator"].code == "inflow_health_check_rate")
    assert card["statistic"] and card["target"] is None and card["met"] is None
    assert board["target"] is None and board["statistic"]


# --- indicators a county adds ------------------------------------------------------------


def test_a_new_indicator_counting_checks_accepted_cannot_be_made_assessable(county_admin):
    with pytest.raises(ValidationError) as caught:
        services.add_indicator(acting_user=county_admin, assessable=True, **RH_CHECKS)
    assert "assessable" in caught.value.message_dict
    assert not Indicator.objects.filter(code="rh_checks_accepted").exists()
    # Left to the rule, it is added as a statistic.
    added = services.add_indicator(acting_user=county_admin, **RH_CHECKS)
    assert added.assessable is False and services.statistic_reason(added)


def test_the_api_refuses_an_assessable_contraception_indicator(county_admin, api_for):
    answer = api_for(county_admin).post(
        "/api/indicators/", {**CONTRACEPTIVE_SUPPLY, "assessable": True}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "assessable"
    made = api_for(county_admin).post("/api/indicators/", CONTRACEPTIVE_SUPPLY, format="json")
    assert made.status_code == 201 and made.json()["assessable"] is False


def test_the_indicator_form_refuses_an_assessable_checks_indicator(county_admin, client_for):
    response = client_for(county_admin).post(
        "/stats/indicators/new/",
        {
            "code": "rh_checks_accepted",
            "name_zh": "查环查孕人数",
            "name_en": "checks accepted",
            "kind": "count",
            "direction": "higher",
            "population": "inflow",
            "service_in_year": "reproductive_health",
            "assessable": "on",
        },
    )
    assert response.status_code == 200
    assert "assessable" in response.context["form"].errors
    assert not Indicator.objects.filter(code="rh_checks_accepted").exists()


def test_a_county_may_mark_its_own_work_indicator_a_statistic(county_admin):
    urgent = services.add_indicator(
        acting_user=county_admin,
        code="urgent_answered",
        name_zh="紧急协查按时办结数",
        name_en="urgent answered on time",
        unit="count",
        definition={"count": "assistance", "where": {"urgency": "urgent"}},
        assessable=False,
    )
    with pytest.raises(ValidationError, match="added as a statistic"):
        services.set_target(
            acting_user=county_admin,
            indicator=urgent,
            region_code="330106",
            year=YEAR,
            value=5,
        )


# --- schemes ------------------------------------------------------------------------------


def test_a_scheme_item_on_a_contraception_indicator_is_refused(county_admin):
    services.add_indicator(acting_user=county_admin, **CONTRACEPTIVE_SUPPLY)
    with pytest.raises(ValidationError) as caught:
        services.create_scheme(
            acting_user=county_admin,
            name="考核",
            year=YEAR,
            items=[
                {"indicator": "inflow_verification_rate", "weight": 80},
                {"indicator": "contraceptive_supply_rate", "weight": 20},
            ],
        )
    assert "contraceptive" in caught.value.message_dict["items"][0]
    assert not AssessmentScheme.objects.exists()


def test_the_scheme_form_names_the_statistic_field_and_saves_nothing(county_admin, client_for):
    client = client_for(county_admin)
    page = client.get("/stats/assessments/").content.decode()
    assert 'data-testid="statistic-inflow_health_check_rate"' in page
    assert 'data-testid="statistic-inflow_verification_rate"' not in page
    response = client.post(
        "/stats/assessments/",
        {
            "name": "年度考核",
            "year": YEAR,
            "due_day": 5,
            "late_deduction": "2",
            "return_deduction": "1",
            "weight_inflow_verification_rate": "80",
            "weight_inflow_health_check_rate": "20",
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"weight_inflow_health_check_rate"}
    assert not AssessmentScheme.objects.exists()


def test_an_item_saved_on_a_statistic_before_is_shown_and_not_scored(county_admin, settings):
    settings.RANKING_MIN_DENOMINATOR = 1
    resident(verified=VERIFIED)
    scheme = AssessmentScheme.objects.create(  # saved before the rule: straight to the table
        name="旧方案",
        region_id="330106",
        year=YEAR,
        items=[
            {"indicator": "inflow_verification_rate", "weight": 80},
            {"indicator": "inflow_health_check_rate", "weight": 20},
        ],
    )
    table = services.assess(scheme, acting_user=county_admin, today=TODAY)
    assert table["full_marks"] == 80
    beishan = next(r for r in table["rows"] if r["region"] == "330106002")
    statistic = beishan["items"][1]
    assert statistic["status"] == "statistic" and statistic["score"] is None
    assert beishan["score"] == 78.0 and beishan["rank"] == 1  # less 2: October not in


# --- rankings -----------------------------------------------------------------------------


def _two_townships() -> None:
    """北山街道: 2 women, both verified (100%); 西溪街道: 12 women, 9 verified (75%);
    the other townships: nobody."""
    resident(verified=VERIFIED)
    resident(verified=VERIFIED)
    for index in range(12):
        resident(lives_in="330106004001", verified=VERIFIED if index < 9 else None)


def test_a_unit_of_two_women_is_not_ranked_first_and_a_unit_without_data_says_so(
    county_admin, client_for
):
    _two_townships()
    scheme = services.create_scheme(
        acting_user=county_admin,
        name="考核",
        year=YEAR,
        items=[
            {"indicator": "inflow_verification_rate", "weight": 70},
            {"indicator": "assistance_answered_on_time_rate", "weight": 30},
        ],
    )
    table = services.assess(scheme, acting_user=county_admin, today=TODAY)
    rows = {r["region"]: r for r in table["rows"]}
    xixi, beishan, empty = rows["330106004"], rows["330106002"], rows["330106005"]
    assert table["rows"][0] is xixi and xixi["rank"] == 1
    # 75% of 100% on the verification item (52.5 of 70); no assistance request due: left
    # out, the verification item stands for the full marks (75 of 100), less 2 for October.
    assert xixi["items"][1]["status"] == "no_data" and xixi["items"][1]["score"] is None
    assert xixi["scored_weight"] == 70 and xixi["score"] == 73.0
    assert beishan["status"] == "too_few" and beishan["rank"] is None
    assert beishan["score"] is None and beishan["items"][0]["size"] == 2
    assert empty["status"] == "no_data" and empty["rank"] is None and empty["score"] is None
    page = client_for(county_admin).get(f"/stats/assessments/{scheme.pk}/").content.decode()
    assert 'data-testid="unranked-330106002"' in page
    assert 'data-testid="unranked-330106005"' in page
    assert 'data-testid="unranked-330106004"' not in page


def test_the_dashboard_ranking_leaves_out_units_with_too_few(county_admin, settings):
    _two_townships()
    board = services.dashboard(
        "330106", OCTOBER, acting_user=county_admin, indicator_code="inflow_verification_rate"
    )
    ranking = {r["region"]: r for r in board["ranking"]}
    assert board["ranking"][0]["region"] == "330106004" and ranking["330106004"]["rank"] == 1
    assert ranking["330106002"]["status"] == "too_few" and ranking["330106002"]["rank"] is None
    assert ranking["330106005"]["status"] == "no_data" and ranking["330106005"]["rank"] is None
    settings.RANKING_MIN_DENOMINATOR = 2  # the setting decides
    board = services.dashboard(
        "330106", OCTOBER, acting_user=county_admin, indicator_code="inflow_verification_rate"
    )
    assert [r["region"] for r in board["ranking"][:2]] == ["330106002", "330106004"]
    assert board["ranking"][0]["rank"] == 1
