"""The vocabulary eligibility rules are written in (issue 17: rules are data, like indicators).

A programme's ``rules`` is a JSON list; a family qualifies on a date when every rule holds,
and the first rule that does not is the answer given for it. Each rule is an object named by
``"rule"``:

- ``{"rule": "household_type", "in": ["agricultural", "resident_rural"]}``
- ``{"rule": "reaches_age", "who": W, "years": 60}``: born in or before the year of the date
  minus ``years`` (she reaches that age in the year);
- ``{"rule": "born_on_or_after", "who": W, "date": "1933-01-01"}``;
- ``{"rule": "children", "state": S, "sex": "2", "min": 1, "max": 2}``: the number of the
  couple's children (born or adopted by the date) in state S (``any``, ``alive`` = living or
  disabled, ``living``, ``dead``, ``disabled``), of one sex if ``sex`` is given ("1" boys,
  "2" girls), lies between ``min`` and ``max`` (either may be left out);
- ``{"rule": "youngest_child_born", "from": "1980-01-01", "to": "2015-12-31"}``;
- ``{"rule": "disability_grade", "max": 3}``: a disabled child's certificate grade is at
  most ``max`` (grade 1 is the most severe);
- ``{"rule": "births_certified"}``: the village and township certified the family's births
  were within the policy of their time (recorded, never computed);
- ``{"rule": "any_of", "options": [[RULE, ...], [RULE, ...]]}``: one of the lists holds.

``who`` is ``applicant`` (the parent applying), ``mother`` or ``parents`` (both). ``parse``
is the only way in: a rule naming anything else is refused with what it got wrong, when the
programme is saved, never when a family is checked.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import ChildState, HouseholdType

WHO = ("applicant", "mother", "parents")
CHILD_STATES = ("any", "alive", "living", "dead", "disabled")
SEXES = ("1", "2")


# --- the facts a rule reads -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ChildFacts:
    birth_date: datetime.date
    sex: str  # "1" boy, "2" girl
    state: str  # ChildState
    death_date: datetime.date | None = None
    disability_grade: int | None = None


@dataclasses.dataclass(frozen=True)
class FamilyFacts:
    """What eligibility depends on, taken from a family on file or a row of a family list.
    Birth dates and sexes come from the ID numbers."""

    applicant_birth_date: datetime.date
    applicant_sex: str
    spouse_birth_date: datetime.date | None
    spouse_sex: str | None
    household_type: str  # HouseholdType
    births_certified: bool
    children: tuple[ChildFacts, ...] = ()

    def parents(self) -> list[tuple[datetime.date, str]]:
        found = [(self.applicant_birth_date, self.applicant_sex)]
        if self.spouse_birth_date is not None and self.spouse_sex is not None:
            found.append((self.spouse_birth_date, self.spouse_sex))
        return found

    def mother_birth_date(self) -> datetime.date | None:
        for birth_date, sex in self.parents():
            if sex == "2":
                return birth_date
        return None

    def children_on(self, on: datetime.date) -> list[ChildFacts]:
        return [child for child in self.children if child.birth_date <= on]


def _state_on(child: ChildFacts, on: datetime.date) -> str:
    """Her state at ``on``: a child recorded dead after the date was alive then."""
    if child.state == ChildState.DEAD and child.death_date is not None and child.death_date > on:
        return ChildState.LIVING
    return child.state


# --- the rules --------------------------------------------------------------------------------


class Rule:
    """One condition: ``describe`` says what it requires, ``failure`` why a family fails it
    on a date (None when it holds)."""

    def describe(self) -> str:  # pragma: no cover - every rule overrides it
        raise NotImplementedError

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:  # pragma: no cover
        raise NotImplementedError


def _who_label(who: str) -> str:
    return {
        "applicant": _("the applicant"),
        "mother": _("the mother"),
        "parents": _("both parents"),
    }[who]


def _birth_dates(facts: FamilyFacts, who: str) -> list[datetime.date] | None:
    """The birth dates a ``who`` names; None when the family has no such person on record
    (a mother's age asked of a family with no woman named)."""
    if who == "applicant":
        return [facts.applicant_birth_date]
    if who == "mother":
        mother = facts.mother_birth_date()
        return None if mother is None else [mother]
    return [birth_date for birth_date, _sex in facts.parents()]


@dataclasses.dataclass(frozen=True)
class HouseholdTypeRule(Rule):
    types: tuple[str, ...]

    def describe(self) -> str:
        names = "、".join(str(HouseholdType(t).label) for t in self.types)
        return _("household type is one of: %(types)s") % {"types": names}

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:
        if facts.household_type in self.types:
            return None
        return _("household type %(actual)s; the programme requires %(types)s") % {
            "actual": HouseholdType(facts.household_type).label,
            "types": "、".join(str(HouseholdType(t).label) for t in self.types),
        }


@dataclasses.dataclass(frozen=True)
class ReachesAgeRule(Rule):
    who: str
    years: int

    def describe(self) -> str:
        return _("%(who)s reaches %(years)s in the year") % {
            "who": _who_label(self.who),
            "years": self.years,
        }

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:
        dates = _birth_dates(facts, self.who)
        if not dates:
            return _("%(who)s is not on record") % {"who": _who_label(self.who)}
        latest_year = on.year - self.years
        for birth_date in dates:
            if birth_date.year > latest_year:
                return _(
                    "%(who)s is %(age)s in %(year)s (born %(born)s); the programme requires "
                    "%(years)s in the year (born in %(latest)s or before)"
                ) % {
                    "who": _who_label(self.who),
                    "age": on.year - birth_date.year,
                    "year": on.year,
                    "born": birth_date.isoformat(),
                    "years": self.years,
                    "latest": latest_year,
                }
        return None


@dataclasses.dataclass(frozen=True)
class BornOnOrAfterRule(Rule):
    who: str
    date: datetime.date

    def describe(self) -> str:
        return _("%(who)s born on or after %(date)s") % {
            "who": _who_label(self.who),
            "date": self.date.isoformat(),
        }

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:
        dates = _birth_dates(facts, self.who)
        if not dates:
            return _("%(who)s is not on record") % {"who": _who_label(self.who)}
        for birth_date in dates:
            if birth_date < self.date:
                return _(
                    "%(who)s born %(born)s; the programme requires born on or after %(date)s"
                ) % {
                    "who": _who_label(self.who),
                    "born": birth_date.isoformat(),
                    "date": self.date.isoformat(),
                }
        return None


def _state_label(state: str, sex: str | None) -> str:
    kind = {
        "any": _("children"),
        "alive": _("living children"),
        "living": _("healthy living children"),
        "dead": _("children who died"),
        "disabled": _("disabled children"),
    }[state]
    if sex is not None and state == "any":
        return _("boys") if sex == "1" else _("girls")
    if sex == "1":
        return _("%(kind)s (boys)") % {"kind": kind}
    if sex == "2":
        return _("%(kind)s (girls)") % {"kind": kind}
    return kind


def _counts_as(child_state: str, wanted: str) -> bool:
    if wanted == "any":
        return True
    if wanted == "alive":
        return child_state in (ChildState.LIVING, ChildState.DISABLED)
    return child_state == wanted


@dataclasses.dataclass(frozen=True)
class ChildrenRule(Rule):
    state: str = "any"
    sex: str | None = None
    min: int | None = None
    max: int | None = None

    def describe(self) -> str:
        what = _state_label(self.state, self.sex)
        if self.min is not None and self.min == self.max:
            return _("exactly %(n)s %(what)s") % {"n": self.min, "what": what}
        if self.min is not None and self.max is not None:
            return _("%(min)s to %(max)s %(what)s") % {
                "min": self.min,
                "max": self.max,
                "what": what,
            }
        if self.max == 0:
            return _("no %(what)s") % {"what": what}
        if self.max is not None:
            return _("at most %(n)s %(what)s") % {"n": self.max, "what": what}
        return _("at least %(n)s %(what)s") % {"n": self.min or 0, "what": what}

    def count(self, facts: FamilyFacts, on: datetime.date) -> int:
        return sum(
            1
            for child in facts.children_on(on)
            if _counts_as(_state_on(child, on), self.state)
            and (self.sex is None or child.sex == self.sex)
        )

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:
        n = self.count(facts, on)
        if (self.min is None or n >= self.min) and (self.max is None or n <= self.max):
            return None
        return ngettext(
            "%(n)s %(what)s on record; the programme requires %(rule)s",
            "%(n)s %(what)s on record; the programme requires %(rule)s",
            n,
        ) % {"n": n, "what": _state_label(self.state, self.sex), "rule": self.describe()}


@dataclasses.dataclass(frozen=True)
class YoungestChildBornRule(Rule):
    earliest: datetime.date
    latest: datetime.date

    def describe(self) -> str:
        return _("youngest child born %(from)s to %(to)s") % {
            "from": self.earliest.isoformat(),
            "to": self.latest.isoformat(),
        }

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:
        children = facts.children_on(on)
        if not children:
            return _("no child on record; the programme requires %(rule)s") % {
                "rule": self.describe()
            }
        youngest = max(child.birth_date for child in children)
        if self.earliest <= youngest <= self.latest:
            return None
        return _("youngest child born %(born)s; the programme requires born %(from)s to %(to)s") % {
            "born": youngest.isoformat(),
            "from": self.earliest.isoformat(),
            "to": self.latest.isoformat(),
        }


@dataclasses.dataclass(frozen=True)
class DisabilityGradeRule(Rule):
    max: int

    def describe(self) -> str:
        return _("a disabled child of grade %(max)s or more severe (grade 1 to %(max)s)") % {
            "max": self.max
        }

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:
        grades = [
            child.disability_grade
            for child in facts.children_on(on)
            if _state_on(child, on) == ChildState.DISABLED
        ]
        if any(grade is not None and 1 <= grade <= self.max for grade in grades):
            return None
        known = [grade for grade in grades if grade is not None]
        if not known:
            return _("no disability grade on record; the programme requires grade 1 to %(max)s") % {
                "max": self.max
            }
        return _("disability grade %(grade)s; the programme requires grade 1 to %(max)s") % {
            "grade": min(known),
            "max": self.max,
        }


@dataclasses.dataclass(frozen=True)
class BirthsCertifiedRule(Rule):
    def describe(self) -> str:
        return _("the village and township certified the births were within the policy")

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:
        if facts.births_certified:
            return None
        return _(
            "no certification that the births were within the policy of their time is recorded"
        )


@dataclasses.dataclass(frozen=True)
class AnyOfRule(Rule):
    options: tuple[tuple[Rule, ...], ...]

    def _option_text(self, option: tuple[Rule, ...]) -> str:
        return _(" and ").join(rule.describe() for rule in option)

    def describe(self) -> str:
        return _("one of: %(options)s") % {
            "options": "; ".join(self._option_text(option) for option in self.options)
        }

    def failure(self, facts: FamilyFacts, on: datetime.date) -> str | None:
        for option in self.options:
            if first_failure(option, facts, on) is None:
                return None
        return _("the family meets none of: %(options)s") % {
            "options": "; ".join(self._option_text(option) for option in self.options)
        }


def first_failure(rules: Sequence[Rule], facts: FamilyFacts, on: datetime.date) -> str | None:
    """Why the family does not qualify on ``on`` (the first rule that fails), or None."""
    for rule in rules:
        message = rule.failure(facts, on)
        if message is not None:
            return message
    return None


# --- parsing: the only way in -----------------------------------------------------------------


def _error(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_rule")


def _date(value: object, key: str) -> datetime.date:
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise _error(_('"%(key)s" must be a date written YYYY-MM-DD') % {"key": key})


def _count(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
        raise _error(_('"%(key)s" must be a whole number from 0 to 20') % {"key": key})
    return value


def _choice(value: object, key: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise _error(
            _('"%(key)s" must be one of %(allowed)s') % {"key": key, "allowed": ", ".join(allowed)}
        )
    return str(value)


def _keys(raw: dict[str, Any], required: Sequence[str], optional: Sequence[str] = ()) -> None:
    missing = [key for key in required if key not in raw]
    if missing:
        raise _error(
            _('rule "%(rule)s" needs "%(key)s"') % {"rule": raw.get("rule"), "key": missing[0]}
        )
    unknown = sorted(set(raw) - {"rule", *required, *optional})
    if unknown:
        raise _error(
            _('rule "%(rule)s" has no setting "%(key)s"')
            % {"rule": raw.get("rule"), "key": unknown[0]}
        )


def _household_type(raw: dict[str, Any]) -> Rule:
    _keys(raw, ["in"])
    values = raw["in"]
    if not isinstance(values, list) or not values:
        raise _error(_('"in" must be a list of household types'))
    return HouseholdTypeRule(tuple(_choice(value, "in", HouseholdType.values) for value in values))


def _reaches_age(raw: dict[str, Any]) -> Rule:
    _keys(raw, ["who", "years"])
    years = raw["years"]
    if isinstance(years, bool) or not isinstance(years, int) or not 0 <= years <= 120:
        raise _error(_('"years" must be a whole number from 0 to 120'))
    return ReachesAgeRule(_choice(raw["who"], "who", WHO), years)


def _born_on_or_after(raw: dict[str, Any]) -> Rule:
    _keys(raw, ["who", "date"])
    return BornOnOrAfterRule(_choice(raw["who"], "who", WHO), _date(raw["date"], "date"))


def _children(raw: dict[str, Any]) -> Rule:
    _keys(raw, [], ["state", "sex", "min", "max"])
    if "min" not in raw and "max" not in raw:
        raise _error(_('rule "children" needs "min" or "max"'))
    low = _count(raw["min"], "min") if "min" in raw else None
    high = _count(raw["max"], "max") if "max" in raw else None
    if low is not None and high is not None and low > high:
        raise _error(_('"min" must not be greater than "max"'))
    return ChildrenRule(
        state=_choice(raw.get("state", "any"), "state", CHILD_STATES),
        sex=_choice(raw["sex"], "sex", SEXES) if "sex" in raw else None,
        min=low,
        max=high,
    )


def _youngest_child_born(raw: dict[str, Any]) -> Rule:
    _keys(raw, ["from", "to"])
    earliest, latest = _date(raw["from"], "from"), _date(raw["to"], "to")
    if earliest > latest:
        raise _error(_('"from" must not be after "to"'))
    return YoungestChildBornRule(earliest, latest)


def _disability_grade(raw: dict[str, Any]) -> Rule:
    _keys(raw, ["max"])
    grade = raw["max"]
    if isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 4:
        raise _error(_('"max" must be a disability grade from 1 to 4'))
    return DisabilityGradeRule(grade)


def _births_certified(raw: dict[str, Any]) -> Rule:
    _keys(raw, [])
    return BirthsCertifiedRule()


def _any_of(raw: dict[str, Any]) -> Rule:
    _keys(raw, ["options"])
    options = raw["options"]
    if not isinstance(options, list) or len(options) < 2:
        raise _error(_('"options" must be a list of at least two lists of rules'))
    return AnyOfRule(tuple(tuple(parse(option)) for option in options))


RULES: dict[str, Callable[[dict[str, Any]], Rule]] = {
    "household_type": _household_type,
    "reaches_age": _reaches_age,
    "born_on_or_after": _born_on_or_after,
    "children": _children,
    "youngest_child_born": _youngest_child_born,
    "disability_grade": _disability_grade,
    "births_certified": _births_certified,
    "any_of": _any_of,
}


def parse(raw: Any) -> list[Rule]:
    """The checked rules of a programme's JSON; ValidationError naming what is wrong."""
    if not isinstance(raw, list) or not raw:
        raise _error(_("the rules must be a list of at least one rule"))
    rules = []
    for item in raw:
        if not isinstance(item, dict) or "rule" not in item:
            raise _error(_('each rule is an object naming its "rule"'))
        make = RULES.get(item["rule"])
        if make is None:
            raise _error(
                _('unknown rule "%(rule)s"; the rules are %(known)s')
                % {"rule": item["rule"], "known": ", ".join(RULES)}
            )
        rules.append(make(item))
    return rules
