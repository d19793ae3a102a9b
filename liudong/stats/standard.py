"""The standard indicators of DESIGN.md §5, as data.

A migration installs them (``install``); the report engine reads them from the database
like any indicator a county adds. Changing a standard definition is a new migration that
calls ``install`` again, so every node's figures change on the same release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

ADULT_WCBA = {"sex": "2", "age": [18, 49]}
MARRIED_WCBA = {**ADULT_WCBA, "married": True}


def _count(population: str, **where: object) -> dict:
    return {"count": population, "where": where} if where else {"count": population}


def _rate(
    numerator: str | dict[str, Any], denominator: str | dict[str, Any], scale: int = 100
) -> dict:
    return {"ratio": [numerator, denominator], "scale": scale}


# (code, 中文名, English name, unit, direction, definition)
STANDARD = [
    ("outflow_total", "流出人口总数", "outflow, total", "count", "neutral", _count("outflow")),
    (
        "outflow_adult_wcba",
        "流出育龄妇女数(18-49岁)",
        "outflow women aged 18-49",
        "count",
        "neutral",
        _count("outflow", **ADULT_WCBA),
    ),
    (
        "outflow_married_wcba",
        "流出已婚育龄妇女数",
        "outflow married women aged 18-49",
        "count",
        "neutral",
        _count("outflow", **MARRIED_WCBA),
    ),
    (
        "outflow_certificate_holders",
        "流出育龄妇女持证数",
        "outflow women aged 18-49 holding a valid certificate",
        "count",
        "higher",
        _count("outflow", **ADULT_WCBA, valid_certificate=True),
    ),
    (
        "outflow_certificate_rate",
        "流出育龄妇女持证率",
        "outflow certificate rate",
        "percent",
        "higher",
        _rate("outflow_certificate_holders", "outflow_adult_wcba"),
    ),
    ("inflow_total", "流入人口总数", "inflow, total", "count", "neutral", _count("inflow")),
    (
        "inflow_adult_wcba",
        "流入育龄妇女数(18-49岁)",
        "inflow women aged 18-49",
        "count",
        "neutral",
        _count("inflow", **ADULT_WCBA),
    ),
    (
        "inflow_married_wcba",
        "流入已婚育龄妇女数",
        "inflow married women aged 18-49",
        "count",
        "neutral",
        _count("inflow", **MARRIED_WCBA),
    ),
    (
        "inflow_certificate_holders",
        "流入育龄妇女持证数",
        "inflow women aged 18-49 holding a valid certificate",
        "count",
        "higher",
        _count("inflow", **ADULT_WCBA, valid_certificate=True),
    ),
    (
        "inflow_verified",
        "流入育龄妇女验证数",
        "inflow women aged 18-49 verified here",
        "count",
        "higher",
        _count("inflow", **ADULT_WCBA, verified=True),
    ),
    (
        "inflow_verification_rate",
        "流入育龄妇女验证率",
        "inflow verification rate",
        "percent",
        "higher",
        _rate("inflow_verified", "inflow_adult_wcba"),
    ),
    (
        "inflow_verified_within_30d_rate",
        "流入育龄妇女30日内验证率",
        "inflow verified within 30 days of arrival",
        "percent",
        "higher",
        _rate(_count("inflow", **ADULT_WCBA, verified_within_days=30), "inflow_adult_wcba"),
    ),
    (
        "inflow_health_check_rate",
        "流入已婚育龄妇女生殖健康检查率",
        "inflow reproductive-health check rate",
        "percent",
        "higher",
        _rate(
            _count("inflow", **MARRIED_WCBA, service_in_year="reproductive_health"),
            "inflow_married_wcba",
        ),
    ),
    (
        "free_service_rate",
        "流入已婚育龄妇女免费服务覆盖率",
        "inflow free service coverage",
        "percent",
        "higher",
        _rate(_count("inflow", **MARRIED_WCBA, free_service_in_year=True), "inflow_married_wcba"),
    ),
    (
        "births",
        "流动人口出生数",
        "births to floating residents",
        "count",
        "neutral",
        _count("births"),
    ),
    (
        "birth_rate_permille",
        "流动人口出生率",
        "birth rate",
        "permille",
        "neutral",
        _rate("births", {"count": "inflow", "at": "mean"}, 1000),
    ),
    (
        "sex_ratio_at_birth",
        "出生人口性别比",
        "sex ratio at birth (boys per 100 girls)",
        "per_hundred",
        "neutral",
        _rate(_count("births", sex="1"), _count("births", sex="2")),
    ),
    (
        "data_accuracy_rate",
        "数据准确率",
        "data accuracy (spot checks)",
        "percent",
        "higher",
        _rate(_count("spot_fields", correct=True), _count("spot_fields")),
    ),
    (
        "assistance_answered_on_time_rate",
        "协查按时办结率",
        "assistance requests answered on time",
        "percent",
        "higher",
        _rate(_count("assistance", answered_on_time=True), _count("assistance")),
    ),
    # Of every stay begun in the month (all floating people, not only women 18-49: a stay
    # is registered whoever she or he is), those entered within 30 days of their arrival,
    # the same 30 days verification is given. Counted again when a stay begun in the
    # month is entered later: a late registration lowers the month it began in.
    (
        "registration_timely_rate",
        "流入人口登记及时率",
        "inflow stays registered within 30 days",
        "percent",
        "higher",
        _rate(
            _count("inflow", arrived_in_period=True, registered_within_days=30),
            _count("inflow", arrived_in_period=True),
        ),
    ),
    (
        "notices_answered_on_time_rate",
        "通知按时办结率",
        "notices to obtain a certificate fulfilled on time",
        "percent",
        "higher",
        _rate(_count("notices", answered_on_time=True), _count("notices")),
    ),
    # Issue 19: residents' requests to correct their files, answered (accepted or refused)
    # within the deadline (15 working days): the office's own work, assessable.
    (
        "corrections_answered_on_time_rate",
        "更正申请按时答复率",
        "correction requests answered on time",
        "percent",
        "higher",
        _rate(_count("corrections", answered_on_time=True), _count("corrections")),
    ),
    # Issue 17: benefits applied for and received, counted where the family's household is
    # registered. Statistics of what people receive, never a target: statistic_reason
    # makes them not assessable (no quota of beneficiaries, no points for paying more).
    (
        "beneficiaries_reward",
        "农村部分计划生育家庭奖励扶助人数",
        "beneficiaries of the reward programme",
        "count",
        "neutral",
        _count("benefits", programme=["reward"]),
    ),
    (
        "beneficiaries_special",
        "计划生育家庭特别扶助人数",
        "beneficiaries of special assistance",
        "count",
        "neutral",
        _count("benefits", programme=["special_death", "special_disability"]),
    ),
    (
        "benefit_amount_yuan",
        "奖励扶助和特别扶助年度金额(元)",
        "the year's amounts of the active benefits (yuan)",
        "count",
        "neutral",
        {"count": "benefits", "sum": "amount_yuan"},
    ),
]


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor | None = None) -> None:
    """Create or update the standard indicators (a county's own are left alone)."""
    Indicator = apps.get_model("stats", "Indicator")
    for position, (code, name_zh, name_en, unit, direction, definition) in enumerate(STANDARD):
        Indicator.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "unit": unit,
                "direction": direction,
                "definition": definition,
                "standard": True,
                "position": (position + 1) * 10,
            },
        )
    if any(field.name == "assessable" for field in Indicator._meta.get_fields()):
        mark_assessable(apps, schema_editor, only_standard=True)


def mark_assessable(
    apps: StateApps,
    schema_editor: BaseDatabaseSchemaEditor | None = None,
    *,
    only_standard: bool = False,
) -> None:
    """Set ``assessable`` on every indicator by what it counts (``statistic_reason``):
    the shipped ones and a county's own alike. Birth rate, sex ratio, the
    reproductive-health check rate and the population counts become statistics; targets and
    schemes already using them stay, shown as not assessable and not scored.
    ``only_standard``: leave a county's own as it chose them (a later ``install``)."""
    from .definitions import parse, statistic_reason

    Indicator = apps.get_model("stats", "Indicator")
    definitions = {code: raw for code, raw in Indicator.objects.values_list("code", "definition")}

    def resolve(code: str):  # type: ignore[no-untyped-def]
        return parse(definitions[code]) if code in definitions else None

    marked = Indicator.objects.filter(standard=True) if only_standard else Indicator.objects.all()
    for code in marked.values_list("code", flat=True):
        try:
            assessable = statistic_reason(parse(definitions[code]), resolve) is None
        except ValidationError:  # a definition no longer valid: judged by no one
            assessable = False
        Indicator.objects.filter(code=code).update(assessable=assessable)
