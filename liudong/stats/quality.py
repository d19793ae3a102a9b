"""Data-quality rules (issue 6, part 7): records that break a data-entry rule, listed per
grid so the staff who keep the files can correct them.

A rule is data (``models.QualityRule``): a code, names, a severity and one *check* of the
vocabulary below with its parameters, like an indicator's filters (``definitions.FILTERS``).
A check names the one model it looks at, the path from that model to the person, and a
query that finds the violating records; ``parse`` is the only way a rule's parameters get
in, so a rule a county adds is refused when it is saved, never when the list is due.

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
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.certificates.models import Certificate, Verification
from liudong.people.idnumbers import mask
from liudong.people.models import Child, Person, ResidenceEpisode, age_on
from liudong.people.template import MARRIED_CODES
from liudong.regions.codes import ancestors, subtree_q
from liudong.regions.models import Grid, Region

from .models import QualityRule

LIMIT = 1000  # violations listed per rule: a worklist, not an export (the count is exact)


# --- parameters -----------------------------------------------------------------------------


def _whole_years(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(
                _("write a whole number of years from %(low)s to %(high)s")
                % {"low": low, "high": high}
            )
        return value

    return check


@dataclasses.dataclass(frozen=True)
class Parameter:
    default: Any
    check: Callable[[Any], Any]  # the checked value, or ValueError saying the rule


# --- age at a date, in SQL ------------------------------------------------------------------


def _with_age(rows: QuerySet, name: str, born: str, on: str) -> QuerySet:
    """Alias what ``_younger_than(name, ...)`` compares: whole years between the dates in
    the fields ``born`` and ``on`` exactly as ``people.models.age_on`` counts them (the
    birthday not yet reached that year takes one off), on SQLite and PostgreSQL alike."""
    return rows.alias(
        **{
            f"{name}_years": ExtractYear(on) - ExtractYear(born),
            f"{name}_on_day": ExtractMonth(on) * 100 + ExtractDay(on),
            f"{name}_born_day": ExtractMonth(born) * 100 + ExtractDay(born),
        }
    )


def _younger_than(name: str, years: int) -> Q:
    return Q(**{f"{name}_years__lt": years}) | Q(
        **{f"{name}_years": years, f"{name}_on_day__lt": F(f"{name}_born_day")}
    )


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value else _("now")


# --- the checks -----------------------------------------------------------------------------


def _married_without_spouse(params: dict, today: datetime.date) -> QuerySet:
    return Person.objects.filter(
        marital_status__in=MARRIED_CODES, spouse_id_number="", spouse__isnull=True
    )


def _explain_married_without_spouse(person: Person, params: dict) -> str:
    return _("Marital status “%(status)s” (married) but no spouse ID number.") % {
        "status": person.get_marital_status_display()
    }


def _child_before_mother_age(params: dict, today: datetime.date) -> QuerySet:
    children = _with_age(
        Child.objects.filter(parent__sex="2"), "mother", "parent__birth_date", "birth_date"
    )
    return children.filter(_younger_than("mother", params["min_age"]))


def _explain_child_before_mother_age(child: Child, params: dict) -> str:
    mother = child.parent
    if child.birth_date < mother.birth_date:
        return _("Child born %(child)s, before the mother's own birth date %(mother)s.") % {
            "child": _day(child.birth_date),
            "mother": _day(mother.birth_date),
        }
    return _(
        "Child born %(child)s, when the mother (born %(mother)s) was %(age)s, "
        "younger than %(min_age)s."
    ) % {
        "child": _day(child.birth_date),
        "mother": _day(mother.birth_date),
        "age": age_on(mother.birth_date, child.birth_date),
        "min_age": params["min_age"],
    }


def _arrival_before_birth(params: dict, today: datetime.date) -> QuerySet:
    return ResidenceEpisode.objects.filter(arrival_date__lt=F("person__birth_date")).select_related(
        "region"
    )


def _explain_arrival_before_birth(stay: ResidenceEpisode, params: dict) -> str:
    return _("Stay in %(place)s: arrival %(arrival)s is before the birth date %(born)s.") % {
        "place": stay.region.name,
        "arrival": _day(stay.arrival_date),
        "born": _day(stay.person.birth_date),
    }


def _verification_before_arrival(params: dict, today: datetime.date) -> QuerySet:
    """The stay's own verified_on, or a verification recorded for the stay, earlier than
    the arrival it belongs to."""
    first_check = (
        Verification.objects.filter(episode_id=OuterRef("pk"))
        .order_by("verified_on")
        .values("verified_on")[:1]
    )
    return (
        ResidenceEpisode.objects.annotate(first_check=Subquery(first_check))
        .filter(Q(verified_on__lt=F("arrival_date")) | Q(first_check__lt=F("arrival_date")))
        .select_related("region")
    )


def _explain_verification_before_arrival(stay: ResidenceEpisode, params: dict) -> str:
    checked = (stay.verified_on, getattr(stay, "first_check", None))
    dates = [d for d in checked if d and d < stay.arrival_date]
    return _("Stay in %(place)s arriving %(arrival)s was verified on %(verified)s.") % {
        "place": stay.region.name,
        "arrival": _day(stay.arrival_date),
        "verified": _day(min(dates)),
    }


def _certificate_holder_not_adult_woman(params: dict, today: datetime.date) -> QuerySet:
    """A certificate still in force (not revoked, not expired) that certifies a man, or
    was issued to a girl younger than ``min_age`` on the day of issue. A holder who has
    since passed 49 is no error: the certificate ends the day before her 50th birthday."""
    certificates = _with_age(
        Certificate.objects.filter(revoked_at__isnull=True, valid_until__gte=today),
        "holder",
        "person__birth_date",
        "issued_on",
    )
    return certificates.filter(
        Q(person__sex="1") | Q(sex="1") | _younger_than("holder", params["min_age"])
    )


def _explain_certificate_holder_not_adult_woman(certificate: Certificate, params: dict) -> str:
    person = certificate.person
    if "1" in (person.sex, certificate.sex):
        return _("Certificate %(number)s (issued %(issued)s) certifies a man.") % {
            "number": certificate.number,
            "issued": _day(certificate.issued_on),
        }
    return _(
        "Certificate %(number)s was issued %(issued)s, when the holder (born %(born)s) "
        "was %(age)s, younger than %(min_age)s."
    ) % {
        "number": certificate.number,
        "issued": _day(certificate.issued_on),
        "born": _day(person.birth_date),
        "age": age_on(person.birth_date, certificate.issued_on),
        "min_age": params["min_age"],
    }


def _departure_before_arrival(params: dict, today: datetime.date) -> QuerySet:
    return ResidenceEpisode.objects.filter(departure_date__lt=F("arrival_date")).select_related(
        "region"
    )


def _explain_departure_before_arrival(stay: ResidenceEpisode, params: dict) -> str:
    return _("Stay in %(place)s: departure %(departure)s is before arrival %(arrival)s.") % {
        "place": stay.region.name,
        "departure": _day(stay.departure_date),
        "arrival": _day(stay.arrival_date),
    }


def _id_check_digit_wrong(params: dict, today: datetime.date) -> QuerySet:
    return Person.objects.filter(id_check_failed=True)


def _explain_id_check_digit_wrong(person: Person, params: dict) -> str:
    return _(
        "The last character of the ID number does not match its check: compare it with the ID card."
    )


def _not_empty(prefix: str = "") -> Q:
    """A stay covering at least one day (DESIGN: it covers D from arrival to the day
    before departure); an empty or inverted one is another rule's finding."""
    return Q(**{f"{prefix}departure_date__isnull": True}) | Q(
        **{f"{prefix}departure_date__gt": F(f"{prefix}arrival_date")}
    )


def _overlapping_stays(params: dict, today: datetime.date) -> QuerySet:
    """The later of two stays of one person that cover a common day (the earlier one by
    arrival, then by record number), so that each overlap is listed once."""
    earlier = (
        ResidenceEpisode.objects.filter(person_id=OuterRef("person_id"))
        .filter(_not_empty())
        .filter(
            Q(arrival_date__lt=OuterRef("arrival_date"))
            | Q(arrival_date=OuterRef("arrival_date"), pk__lt=OuterRef("pk"))
        )
        .filter(Q(departure_date__isnull=True) | Q(departure_date__gt=OuterRef("arrival_date")))
        .order_by("-arrival_date", "-pk")
    )
    return (
        ResidenceEpisode.objects.filter(_not_empty())
        .annotate(
            other_arrival=Subquery(earlier.values("arrival_date")[:1]),
            other_departure=Subquery(earlier.values("departure_date")[:1]),
        )
        .filter(other_arrival__isnull=False)
        .select_related("region")
    )


def _explain_overlapping_stays(stay: ResidenceEpisode, params: dict) -> str:
    return _(
        "Stay in %(place)s from %(arrival)s to %(departure)s overlaps the stay from "
        "%(other_arrival)s to %(other_departure)s."
    ) % {
        "place": stay.region.name,
        "arrival": _day(stay.arrival_date),
        "departure": _day(stay.departure_date),
        "other_arrival": _day(getattr(stay, "other_arrival", None)),
        "other_departure": _day(getattr(stay, "other_departure", None)),
    }


@dataclasses.dataclass(frozen=True)
class Check:
    description: Any  # lazy text: what the check finds
    model: type[Model]
    person: str  # the path from the model to the person ("" for Person)
    find: Callable[[dict, datetime.date], QuerySet]  # violating records, not yet scoped
    explain: Callable[[Any, dict], str]
    fix: str  # the person's page where it is corrected: "detail" or "edit"
    parameters: dict[str, Parameter] = dataclasses.field(default_factory=dict)


CHECKS: dict[str, Check] = {
    "married_without_spouse": Check(
        gettext_lazy("married (marital status 20-23) with no spouse ID number"),
        Person,
        "",
        _married_without_spouse,
        _explain_married_without_spouse,
        "edit",
    ),
    "child_before_mother_age": Check(
        gettext_lazy("a child born before the mother reached min_age"),
        Child,
        "parent",
        _child_before_mother_age,
        _explain_child_before_mother_age,
        "detail",
        {"min_age": Parameter(14, _whole_years(10, 20))},
    ),
    "arrival_before_birth": Check(
        gettext_lazy("a stay that begins before the person's birth date"),
        ResidenceEpisode,
        "person",
        _arrival_before_birth,
        _explain_arrival_before_birth,
        "detail",
    ),
    "verification_before_arrival": Check(
        gettext_lazy("a stay verified before its arrival date"),
        ResidenceEpisode,
        "person",
        _verification_before_arrival,
        _explain_verification_before_arrival,
        "detail",
    ),
    "certificate_holder_not_adult_woman": Check(
        gettext_lazy(
            "a certificate in force that certifies a man, or was issued to a girl younger "
            "than min_age"
        ),
        Certificate,
        "person",
        _certificate_holder_not_adult_woman,
        _explain_certificate_holder_not_adult_woman,
        "detail",
        {"min_age": Parameter(18, _whole_years(14, 49))},
    ),
    "departure_before_arrival": Check(
        gettext_lazy("a stay that ends before it begins"),
        ResidenceEpisode,
        "person",
        _departure_before_arrival,
        _explain_departure_before_arrival,
        "detail",
    ),
    "id_check_digit_wrong": Check(
        gettext_lazy("an ID number whose check character is wrong"),
        Person,
        "",
        _id_check_digit_wrong,
        _explain_id_check_digit_wrong,
        "detail",
    ),
    "overlapping_stays": Check(
        gettext_lazy("two stays of one person covering the same day"),
        ResidenceEpisode,
        "person",
        _overlapping_stays,
        _explain_overlapping_stays,
        "detail",
    ),
}


def parse(check_name: Any, parameters: Any) -> dict[str, Any]:
    """A rule's parameters, checked and with their defaults; ValidationError naming the
    check or the parameter that is wrong."""
    check = CHECKS.get(check_name) if isinstance(check_name, str) else None
    if check is None:
        raise ValidationError(
            {
                "check_name": ValidationError(
                    _("Unknown check “%(name)s”: use one of %(names)s.")
                    % {"name": check_name, "names": ", ".join(CHECKS)},
                    code="unknown_check",
                )
            }
        )
    if parameters in (None, ""):
        parameters = {}
    if not isinstance(parameters, dict):
        raise ValidationError(
            {"parameters": _('Parameters are an object, for example {"min_age": 14}.')}
        )
    unexpected = sorted(set(parameters) - set(check.parameters))
    if unexpected:
        takes = ", ".join(check.parameters) or _("none")
        raise ValidationError(
            {
                "parameters": ValidationError(
                    _(
                        "Unknown parameter “%(name)s” for the check “%(check)s” "
                        "(it takes: %(takes)s)."
                    )
                    % {"name": unexpected[0], "check": check_name, "takes": takes},
                    code="unknown_parameter",
                )
            }
        )
    checked = {}
    for name, parameter in check.parameters.items():
        try:
            checked[name] = parameter.check(parameters.get(name, parameter.default))
        except ValueError as exc:
            raise ValidationError(
                {
                    "parameters": ValidationError(
                        _("Parameter “%(name)s”: %(rule)s.") % {"name": name, "rule": exc},
                        code="bad_value",
                    )
                }
            ) from exc
    return checked


# --- the standard rules, as data ------------------------------------------------------------

# (code, 中文名, English name, check, parameters, severity)
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


def install_rules(apps, schema_editor=None) -> None:
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

    def __init__(self, region: Region, acting_user):
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


def scoped_persons(region: Region, acting_user) -> QuerySet:
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


def _region(region: str | Region, acting_user) -> Region:
    from .services import check_region  # services imports the models this module's do

    return region if isinstance(region, Region) else check_region(acting_user, region)


def violations(
    rule: QualityRule,
    *,
    region: str | Region,
    acting_user,
    today: datetime.date | None = None,
    limit: int = LIMIT,
) -> RuleResult:
    """One rule's violations among the files in ``region`` the user may see.

    PermissionDenied (naming both codes) when the region lies outside the user's own."""
    where = _region(region, acting_user)
    return _find(
        rule,
        scoped_persons(where, acting_user),
        GridFinder(where, acting_user),
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
    acting_user,
    rules: Iterable[QualityRule] | None = None,
    today: datetime.date | None = None,
    limit: int = LIMIT,
) -> QualityReport:
    """Every rule's violations in the region: one query per rule (two when a rule has
    more than ``limit``), one for the grids."""
    where = _region(region, acting_user)
    persons = scoped_persons(where, acting_user)
    grids = GridFinder(where, acting_user)
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
