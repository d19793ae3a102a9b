"""Data-quality rules (issue 6, part 7): records that break a data-entry rule, listed per
grid so the staff who keep the files can correct them.

A rule is data (``models.QualityRule``): a code, names, a severity and one *check* of the
vocabulary in ``stats.checks`` with its parameters, like an indicator's filters
(``definitions.FILTERS``). A check names the one model it looks at, the path from that
model to the person, and a query that finds the violating records; ``parse`` is the only
way a rule's parameters get in, so a rule a county adds is refused when it is saved, never
when the list is due.

These are data-entry checks, nothing more: a violation says that two facts on a file
cannot both be true (a stay that ends before it begins) and links to the page where it is
corrected. No rule judges a person, and none counts births or anything people chose.

Reading is scoped like every list of personal data: only files of ``Person.objects
.in_scope(user)`` in the region asked for, one query per rule, at most ``LIMIT`` records
each. Lists show masked ID numbers only, so listing writes no audit entry; following a
link opens the file, which is logged there.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.people.idnumbers import mask
from liudong.people.models import Person
from liudong.regions.codes import ancestors, subtree_q
from liudong.regions.models import Grid, Region

from .checks import CHECKS, parse
from .models import QualityRule
from .scope import check_region

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

    from liudong.actors import Actor


LIMIT = 1000  # violations listed per rule: a worklist, not an export (the count is exact)


STANDARD_RULES = [
    (
        "married_without_spouse",
        "已婚但无配偶身份号码",
        "married with no spouse ID number",
        "married_without_spouse",
        {},
        "warning",
    ),
    (
        "child_before_mother_14",
        "子女出生时母亲未满14周岁",
        "child born before the mother turned 14",
        "child_before_mother_age",
        {"min_age": 14},
        "error",
    ),
    (
        "arrival_before_birth",
        "流入日期早于出生日期",
        "arrival before birth",
        "arrival_before_birth",
        {},
        "error",
    ),
    (
        "verification_before_arrival",
        "查验日期早于流入日期",
        "verification before arrival",
        "verification_before_arrival",
        {},
        "error",
    ),
    (
        "certificate_holder_not_adult_woman",
        "婚育证明持证人不是成年女性",
        "certificate holder not an adult woman",
        "certificate_holder_not_adult_woman",
        {"min_age": 18},
        "error",
    ),
    (
        "departure_before_arrival",
        "离开日期早于流入日期",
        "departure before arrival",
        "departure_before_arrival",
        {},
        "error",
    ),
    (
        "id_check_digit_wrong",
        "身份号码校验码错误",
        "ID number check character wrong",
        "id_check_digit_wrong",
        {},
        "warning",
    ),
    (
        "overlapping_stays",
        "居住记录时间重叠",
        "overlapping stays",
        "overlapping_stays",
        {},
        "error",
    ),
]


def install_rules(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor | None = None) -> None:
    """Create or update the standard rules (a county's own, and whether a county switched
    a standard one off, are left alone)."""
    Rule = apps.get_model("stats", "QualityRule")
    for position, (code, name_zh, name_en, check, parameters, severity) in enumerate(
        STANDARD_RULES
    ):
        Rule.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "check_name": check,
                "parameters": parameters,
                "severity": severity,
                "standard": True,
                "position": (position + 1) * 10,
            },
        )


# --- finding violations ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GridRef:
    pk: int
    name: str


@dataclasses.dataclass(frozen=True)
class Violation:
    rule: QualityRule
    person_pk: int
    masked_id: str
    name: str
    detail: str
    grid: GridRef | None
    url: str


@dataclasses.dataclass
class RuleResult:
    rule: QualityRule
    total: int  # every violating record in the region (``violations`` holds at most LIMIT)
    violations: list[Violation]


@dataclasses.dataclass
class GridGroup:
    grid: GridRef | None  # None: the files lie in no grid of the region
    violations: list[Violation]


@dataclasses.dataclass
class QualityReport:
    region: Region
    results: list[RuleResult]

    @property
    def violations(self) -> list[Violation]:
        return [v for result in self.results for v in result.violations]

    def by_grid(self, rule: str | None = None) -> list[GridGroup]:
        """Violations grouped by grid (grids by name, files in no grid last), optionally
        of one rule only."""
        groups: dict[GridRef | None, list[Violation]] = {}
        for violation in self.violations:
            if rule is None or violation.rule.code == rule:
                groups.setdefault(violation.grid, []).append(violation)
        ordered = sorted(groups, key=lambda g: (g is None, g.name if g else "", g.pk if g else 0))
        return [GridGroup(g, groups[g]) for g in ordered]


class GridFinder:
    """The grid a file falls in: the grid whose areas hold her residence region, else
    her household region; among the grids in the region that the user may see."""

    def __init__(self, region: Region, *, acting_user: Actor) -> None:
        grids = Grid.objects.in_scope(acting_user)
        rows = (
            Grid.areas.through.objects.filter(grid__in=grids.values("pk"))
            .filter(subtree_q(region.code, "region_id") | Q(region_id__in=ancestors(region.code)))
            .values_list("region_id", "grid_id", "grid__name")
        )
        self.by_area: dict[str, GridRef] = {}
        for area, pk, name in sorted(rows, key=lambda row: (row[2], row[1])):
            self.by_area.setdefault(area, GridRef(pk, name))

    def _containing(self, code: str | None) -> GridRef | None:
        if not code:
            return None
        for length in range(len(code), 1, -1):  # the most specific area first
            grid = self.by_area.get(code[:length])
            if grid is not None:
                return grid
        return None

    def of(self, person: Person) -> GridRef | None:
        return self._containing(person.residence_region_id) or self._containing(
            person.household_region_id
        )


def scoped_persons(region: Region, *, acting_user: Actor) -> QuerySet:
    """Files (not merged away) in the region, within the user's scope."""
    persons = Person.objects.in_scope(acting_user)
    return persons.active().in_region(region.code)


def _find(
    rule: QualityRule,
    persons: QuerySet,
    grids: GridFinder,
    today: datetime.date,
    limit: int,
) -> RuleResult:
    check = CHECKS[rule.check_name]
    params = parse(rule.check_name, rule.parameters)
    rows = check.find(params, today)
    if check.person:
        rows = rows.filter(**{f"{check.person}__in": persons.values("pk")}).select_related(
            check.person
        )
        order = [f"{check.person}__name", f"{check.person}__pk", "pk"]
    else:
        rows = rows.filter(pk__in=persons.values("pk"))
        order = ["name", "pk"]
    found = list(rows.order_by(*order)[: limit + 1])
    total = len(found) if len(found) <= limit else rows.count()
    violations = []
    for record in found[:limit]:
        person = getattr(record, check.person) if check.person else record
        violations.append(
            Violation(
                rule=rule,
                person_pk=person.pk,
                masked_id=mask(person.id_number),
                name=person.name,
                detail=check.explain(record, params),
                grid=grids.of(person),
                url=reverse(f"people:{check.fix}", args=[person.pk]),
            )
        )
    return RuleResult(rule, total, violations)


def _region(region: str | Region, *, acting_user: Actor) -> Region:
    return region if isinstance(region, Region) else check_region(region, acting_user=acting_user)


def violations(
    rule: QualityRule,
    *,
    region: str | Region,
    acting_user: Actor,
    today: datetime.date | None = None,
    limit: int = LIMIT,
) -> RuleResult:
    """One rule's violations among the files in ``region`` the user may see.

    PermissionDenied (naming both codes) when the region lies outside the user's own."""
    where = _region(region, acting_user=acting_user)
    return _find(
        rule,
        scoped_persons(where, acting_user=acting_user),
        GridFinder(where, acting_user=acting_user),
        today or timezone.localdate(),
        limit,
    )


def selected_rules(code: str | None = None) -> list[QualityRule]:
    """The active rules, or the one named (even if switched off)."""
    if code:
        # A code is lower-case letters, digits and underscores: anything else (a NUL byte
        # PostgreSQL cannot even compare) names no rule.
        known = re.fullmatch(r"[a-z][a-z0-9_]{0,39}", code) is not None
        rule = QualityRule.objects.filter(code=code).first() if known else None
        if rule is None:
            raise ValidationError(
                {"rule": _("Unknown rule “%(code)s”.") % {"code": code}}, code="unknown_rule"
            )
        return [rule]
    return list(QualityRule.objects.filter(active=True))


def check_quality(
    *,
    region: str | Region,
    acting_user: Actor,
    rules: Iterable[QualityRule] | None = None,
    today: datetime.date | None = None,
    limit: int = LIMIT,
) -> QualityReport:
    """Every rule's violations in the region: one query per rule (two when a rule has
    more than ``limit``), one for the grids."""
    where = _region(region, acting_user=acting_user)
    persons = scoped_persons(where, acting_user=acting_user)
    grids = GridFinder(where, acting_user=acting_user)
    day = today or timezone.localdate()
    chosen = selected_rules() if rules is None else list(rules)
    return QualityReport(where, [_find(r, persons, grids, day, limit) for r in chosen])


def as_json(report: QualityReport) -> dict:
    """The findings as the command's and the API's json (masked ID numbers only)."""
    return {
        "region": report.region.code,
        "rules": [
            {
                "code": r.rule.code,
                "name": r.rule.name,
                "severity": r.rule.severity,
                "violations": r.total,
            }
            for r in report.results
        ],
        "grids": [
            {"grid": g.grid.name if g.grid else None, "violations": len(g.violations)}
            for g in report.by_grid()
        ],
        "violations": [
            {
                "rule": v.rule.code,
                "person": v.masked_id,
                "name": v.name,
                "grid": v.grid.name if v.grid else None,
                "detail": v.detail,
                "url": v.url,
            }
            for group in report.by_grid()
            for v in group.violations
        ],
    }
