"""The benefit statistics of issue 17 item 5: beneficiaries of each programme and the
year's amounts, counted by hand in two townships, through the report (the suite reads
the statistics store and holds it against the live engine: LIUDONG_STATS_STORE=check),
and never assessable.

Township A (330106002): families in 北山社区 (330106002001) and one coded at the township;
township B (330106004): 西溪社区 (330106004001). The period is 2026-10 (reference date
31 October); amounts are of 2026 in province 33 (and one of 2025, not read).
"""

from __future__ import annotations

import datetime
import itertools
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from liudong.people.idnumbers import make
from liudong.regions.models import Region
from liudong.services.programmes.models import (
    Application,
    Benefit,
    Family,
    Programme,
    ProgrammeAmount,
)
from liudong.stats import definitions
from liudong.stats.engine import Period, evaluate_counts
from liudong.stats.models import Indicator

D = datetime.date
OCTOBER = Period(2026, 10)
VILLAGE_A1 = "330106002001"
VILLAGE_B1 = "330106004001"
TOWNSHIP_A = "330106002"
TOWNSHIP_B = "330106004"
CODES = ("beneficiaries_reward", "beneficiaries_special", "benefit_amount_yuan")
JANUARY_1 = D(2026, 1, 1)
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def standard_indicators(db):
    """As migration 0014 installs them (a transactional test may have emptied the table)."""
    from django.apps import apps

    from liudong.stats import standard

    standard.install(apps)


def benefit(
    region: str,
    programme: str = "reward",
    *,
    starts: datetime.date = JANUARY_1,
    status: str = Benefit.Status.ACTIVE,
    changed: datetime.date | None = None,
) -> Benefit:
    n = next(_serial)
    id_number = make("330106", D(1960, 1, 1) + datetime.timedelta(days=n), 2 * n % 998, "1")
    family = Family.objects.create(
        applicant_name=f"家庭{n}",
        applicant_id_number=id_number,
        household_type="agricultural",
        household_region=Region.objects.get(code=region),
    )
    application = Application.objects.create(
        family=family,
        programme=Programme.objects.get(code=programme),
        id_number=id_number,
        name=family.applicant_name,
        applied_on=starts - datetime.timedelta(days=60),
        status=Application.Status.APPROVED,
    )
    return Benefit.objects.create(
        application=application,
        family=family,
        programme=application.programme,
        id_number=id_number,
        name=family.applicant_name,
        starts_on=starts,
        status=status,
        status_changed_on=changed,
    )


def amount(programme: str, yuan: str, year: int = 2026, province: str = "33") -> None:
    ProgrammeAmount.objects.create(
        programme=Programme.objects.get(code=programme),
        year=year,
        province=province,
        yuan_per_year=Decimal(yuan),
    )


@pytest.fixture
def benefits(villages):
    amount("reward", "960")
    amount("special_death", "5400")
    amount("special_disability", "4200")
    amount("reward", "720", year=2025)  # another year: never read for 2026
    amount("reward", "1200", province="41")  # another province
    # Township A: two reward, one special_death (coded at the township itself), one
    # special_disability that begins in November (not yet counted).
    benefit(VILLAGE_A1)
    benefit(VILLAGE_A1)
    benefit(TOWNSHIP_A, "special_death")
    benefit(VILLAGE_A1, "special_disability", starts=D(2026, 11, 1))
    # A suspension and an end count up to the day before their status date.
    benefit(VILLAGE_A1, status=Benefit.Status.SUSPENDED, changed=D(2026, 10, 31))
    benefit(VILLAGE_A1, status=Benefit.Status.ENDED, changed=D(2026, 11, 1))
    # Township B: one reward, one special_disability, one ended in September.
    benefit(VILLAGE_B1)
    benefit(VILLAGE_B1, "special_disability")
    benefit(VILLAGE_B1, "special_death", status=Benefit.Status.ENDED, changed=D(2026, 9, 15))


def figures(report, code="330106", period=OCTOBER):
    built = report(code, period)
    rows = {row["region"]: row["indicators"] for row in built["rows"]}
    return {c: built["indicators"][c] for c in CODES}, {
        region: {c: values[c] for c in CODES} for region, values in rows.items()
    }


def test_beneficiaries_and_amounts_by_township_by_hand(benefits, report):
    total, rows = figures(report)
    # A: reward 2 + the one ended on 1 November (active on 31 October) = 3; special 1.
    # B: reward 1; special 1 (the death benefit ended in September is not counted).
    assert rows[TOWNSHIP_A] == {
        "beneficiaries_reward": 3,
        "beneficiaries_special": 1,
        "benefit_amount_yuan": 3 * 960 + 5400,
    }
    assert rows[TOWNSHIP_B] == {
        "beneficiaries_reward": 1,
        "beneficiaries_special": 1,
        "benefit_amount_yuan": 960 + 4200,
    }
    assert total == {
        "beneficiaries_reward": 4,
        "beneficiaries_special": 2,
        "benefit_amount_yuan": 4 * 960 + 5400 + 4200,
    }


def test_a_township_report_counts_its_villages_and_its_own_row(benefits, report):
    total, rows = figures(report, TOWNSHIP_A)
    assert total["beneficiaries_reward"] == 3
    assert rows[VILLAGE_A1]["beneficiaries_reward"] == 3
    assert rows[TOWNSHIP_A]["beneficiaries_special"] == 1  # the family coded at the township


def test_the_status_date_and_the_start_decide_the_month(benefits, report):
    november, _rows = figures(report, period=Period(2026, 11))
    # The benefit ended on 1 November is gone; the disability benefit begun then counts.
    assert november["beneficiaries_reward"] == 3
    assert november["beneficiaries_special"] == 3
    september, _rows = figures(report, period=Period(2026, 9))
    # The one suspended on 31 October counts in September, and the death benefit ended
    # on 15 September does not (A's death benefit and B's disability benefit do).
    assert september["beneficiaries_reward"] == 5
    assert september["beneficiaries_special"] == 2


def test_an_amount_of_another_year_or_none_at_all(benefits, report):
    # 2025 has only the reward's amount: the special benefits active then add nothing.
    benefit(VILLAGE_B1, "special_death", starts=D(2025, 1, 1))
    december_2025, _rows = figures(report, period=Period(2025, 12))
    assert december_2025["beneficiaries_special"] == 1
    assert december_2025["benefit_amount_yuan"] == 0  # no reward benefit had begun in 2025
    ProgrammeAmount.objects.filter(programme__code="special_death", year=2026).delete()
    october, _rows = figures(report)
    assert october["benefit_amount_yuan"] == 4 * 960 + 4200


def test_a_change_of_status_or_amount_reaches_the_stored_figures(benefits, report):
    """Through the store (its triggers mark what changed), as the live engine counts."""
    assert figures(report)[0]["beneficiaries_reward"] == 4
    suspended = Benefit.objects.filter(programme__code="reward", status="active").first()
    Benefit.objects.filter(pk=suspended.pk).update(
        status=Benefit.Status.SUSPENDED, status_changed_on=D(2026, 10, 1)
    )
    assert figures(report)[0]["beneficiaries_reward"] == 3
    ProgrammeAmount.objects.filter(programme__code="reward", year=2026).update(
        yuan_per_year=Decimal("1000.50")
    )
    # 3 × 1000.50 + 5400 + 4200 = 12601.50: shown in whole yuan, halves up.
    assert figures(report)[0]["benefit_amount_yuan"] == 12602
    Family.objects.filter(pk=suspended.family_id).update(household_region_id=VILLAGE_B1)
    _total, rows = figures(report)
    assert rows[TOWNSHIP_B]["beneficiaries_reward"] == 1  # suspended: moved, still not counted


def test_the_engine_sums_yuan_and_filters_programmes(benefits):
    counts = [
        definitions.parse({"count": "benefits"}),
        definitions.parse({"count": "benefits", "where": {"programme": ["special_disability"]}}),
        definitions.parse({"count": "benefits", "sum": "amount_yuan"}),
        definitions.parse(
            {"count": "benefits", "sum": "amount_yuan", "where": {"programme": ["reward"]}}
        ),
    ]
    everyone, disability, yuan, reward_yuan = counts
    values = evaluate_counts(counts, region="330106", period=OCTOBER, child_length=9)
    assert dict(values[everyone]) == {TOWNSHIP_A: 4, TOWNSHIP_B: 2}
    assert dict(values[disability]) == {TOWNSHIP_A: 0, TOWNSHIP_B: 1}
    assert dict(values[yuan]) == {TOWNSHIP_A: 3 * 960 + 5400, TOWNSHIP_B: 960 + 4200}
    assert dict(values[reward_yuan]) == {TOWNSHIP_A: 3 * 960, TOWNSHIP_B: 960}


@pytest.mark.parametrize("code", CODES)
def test_they_are_statistics_never_assessable(code):
    indicator = Indicator.objects.get(code=code)
    assert indicator.standard and indicator.unit == "count" and indicator.direction == "neutral"
    assert not indicator.assessable
    assert "benefits" in indicator.statistic_reason()
    indicator.assessable = True
    with pytest.raises(ValidationError):
        indicator.full_clean()


def test_the_vocabulary_is_checked():
    with pytest.raises(ValidationError, match="does not apply"):
        definitions.parse({"count": "benefits", "where": {"sex": "2"}})
    with pytest.raises(ValidationError, match="does not apply"):
        definitions.parse({"count": "inflow", "where": {"programme": ["reward"]}})
    with pytest.raises(ValidationError, match="programme codes"):
        definitions.parse({"count": "benefits", "where": {"programme": "reward"}})
    with pytest.raises(ValidationError, match="cannot be added up"):
        definitions.parse({"count": "inflow", "sum": "amount_yuan"})
    with pytest.raises(ValidationError, match="cannot be added up"):
        definitions.parse({"count": "benefits", "sum": "people"})
    with pytest.raises(ValidationError, match="no mean"):
        definitions.parse({"count": "benefits", "at": "mean"})
    parsed = definitions.parse(
        {"count": "benefits", "sum": "amount_yuan", "where": {"programme": ["b", "a", "a"]}}
    )
    assert parsed.total == "amount_yuan" and parsed.filters == {"programme": ("a", "b")}


def test_a_sum_and_a_count_are_two_stored_counts():
    from liudong.stats.store.counting import count_key, count_of

    count = definitions.parse({"count": "benefits"})
    total = definitions.parse({"count": "benefits", "sum": "amount_yuan"})
    assert count_key(count) != count_key(total)
    assert count_of(count_key(total)) == total


def test_the_dashboard_shows_them_as_statistics_for_the_unit(benefits, client_for, township_b):
    page = client_for(township_b).get("/stats/dashboard/?region=330106004&period=2026-10")
    assert page.status_code == 200
    html = page.content.decode()
    section = html.split('data-testid="benefit-statistics"', 1)[1].split("</section>", 1)[0]
    shown = dict(
        re.findall(r'data-testid="benefit-([a-z_]+)">.*?<td class="num">([^<]*)</td>', section)
    )
    assert shown == {
        "beneficiaries_reward": "1",
        "beneficiaries_special": "1",
        "benefit_amount_yuan": str(960 + 4200),
    }
    # Never offered for the trend and ranking of rates (nor a target: not assessable).
    picker = html.split('data-testid="indicator"', 1)[1].split("</select>", 1)[0]
    assert not any(f'value="{code}"' in picker for code in CODES)
