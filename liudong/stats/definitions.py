"""The vocabulary indicators are written in (DESIGN.md §4: indicators are data).

An indicator's ``definition`` is JSON in one of two shapes:

- a **count**: ``{"count": POPULATION, "where": {FILTER: VALUE, ...}}`` counts members of a
  population at the reference date (the last day of the period), e.g.
  ``{"count": "inflow", "where": {"sex": "2", "age": [18, 49], "married": true}}``;
  ``"at": "mean"`` counts the mean of the population at the day before the period and at
  its last day (the denominator of a birth rate).
- a **ratio**: ``{"ratio": [NUMERATOR, DENOMINATOR], "scale": 100}`` where each side is an
  indicator code (a count) or a count written in place; null when the denominator is 0.

The populations and the filters each accepts are the tables below; a definition naming
anything else is refused with the name it got wrong, so an indicator a county adds in the
web UI is checked before it is saved, never when a report is due. ``parse`` is the only
way in: it returns the checked, normalised definition the report engine evaluates.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from liudong.people.template import MARITAL_CHOICES
from liudong.servicetypes import ServiceType

# Person-stays at the reference date: floating persons registered in (outflow) or living in
# (inflow) the region; births: children born in the period to floating residents.
POPULATIONS = (
    "outflow",
    "inflow",
    "births",
    "spot_fields",
    "assistance",
    "notices",
    "benefits",
    "corrections",
)
# spot_fields: the fields spot checks found correct or incorrect on visits in the statistical
# year to the reference date (a field not verified is not counted), where the file was drawn.
# assistance: assistance requests this node was asked (incoming), placed at the region that
# answers them, that fell due in the statistical year to the reference date (deadline from
# 1 October to the reference date). The side asked is the one assessed; a request is counted
# once, in the year its deadline falls in, whether it was answered or not.
# notices: notices to obtain a certificate (限期办理通知书) given at the region, that fell due
# in the statistical year to the reference date, as assistance requests are counted;
# "answered" is fulfilled (her certificate or exchanged record verified). A notice left open
# because she moved away by its deadline is not counted: nothing was left to do here.
# benefits: reward and assistance benefits (issue 17) active at the reference date (begun by
# then, and not suspended or ended on or before it), placed at the family's household
# region. ``"sum": "amount_yuan"`` adds up, instead of counting them, what each is paid a
# year: the ProgrammeAmount of its programme for the reference date's year and the
# province of the household region (none set: 0).
# corrections: residents' requests to correct their files (issue 19) answered by the office
# holding the file, placed at that township, that fell due in the statistical year to the
# reference date, as assistance requests are counted; "answered" is accepted or refused.

# What a count may add up instead of counting rows: name -> the populations it applies to.
SUMS: dict[str, tuple[str, ...]] = {"amount_yuan": ("benefits",)}
PROGRAMME_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")

MARITAL_CODES = frozenset(code for code, _name in MARITAL_CHOICES)
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
SCALES = (1, 100, 1000)


def _sex(value: object) -> str:
    if value not in ("1", "2"):
        raise ValueError(_('write "1" (male) or "2" (female)'))
    return value


def _age(value: object) -> tuple[int, int]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not 0 <= value[0] <= value[1] <= 150
    ):
        raise ValueError(_("write [lowest, highest] whole years, for example [18, 49]"))
    return (value[0], value[1])


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(_("write true or false"))
    return value


def _marital(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not set(value) <= MARITAL_CODES:
        raise ValueError(
            _("write a list of GB/T 2261.2 codes from %(codes)s")
            % {"codes": ", ".join(sorted(MARITAL_CODES))}
        )
    return tuple(sorted(set(value)))


def _days(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 366:
        raise ValueError(_("write a whole number of days from 0 to 366"))
    return value


def _urgency(value: object) -> str:
    if value not in ("urgent", "normal"):
        raise ValueError(_('write "urgent" or "normal"'))
    return value


def _service_type(value: object) -> str:
    if value != "any" and value not in ServiceType.values:
        raise ValueError(
            _("write “any” or one of %(types)s") % {"types": ", ".join(ServiceType.values)}
        )
    return value


def _programmes(value: object) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and PROGRAMME_CODE.match(v) for v in value)
    ):
        raise ValueError(_('write a list of programme codes, for example ["reward"]'))
    return tuple(sorted(set(value)))


# filter name -> (the populations it applies to, its value checker)
PERSON_POPULATIONS = ("outflow", "inflow")
FILTERS: dict[str, tuple[tuple[str, ...], Any]] = {
    "sex": (("outflow", "inflow", "births"), _sex),  # births: the child's sex
    "age": (PERSON_POPULATIONS, _age),  # whole years at the reference date
    "married": (PERSON_POPULATIONS, _flag),  # marital status 20-23
    "marital_status": (PERSON_POPULATIONS, _marital),
    "valid_certificate": (PERSON_POPULATIONS, _flag),  # valid at the reference date
    "verified": (PERSON_POPULATIONS, _flag),  # her current stay verified by then
    "verified_within_days": (PERSON_POPULATIONS, _days),  # ... within N days of arrival
    # her stay entered in the system within N days of the day it began (its `created`)
    "registered_within_days": (PERSON_POPULATIONS, _days),
    "arrived_in_period": (PERSON_POPULATIONS, _flag),
    # accepted a service of this type in the statistical year (1 October to the reference date)
    "service_in_year": (PERSON_POPULATIONS, _service_type),
    "free_service_in_year": (PERSON_POPULATIONS, _flag),  # at least one free service
    "correct": (("spot_fields",), _flag),  # found correct (true) or incorrect (false)
    # answered (a notice: fulfilled) on or before its deadline (true), or late or not at all
    "answered_on_time": (("assistance", "notices", "corrections"), _flag),
    "urgency": (("assistance",), _urgency),
    # the benefit's programme is one of these codes (a benefit of a programme not listed,
    # or of a code no programme has, is not counted)
    "programme": (("benefits",), _programmes),
}


@dataclasses.dataclass(frozen=True)
class Count:
    population: str
    where: tuple[tuple[str, Any], ...] = ()
    mean: bool = False
    # What is added up instead of counting the rows (SUMS); None: the rows are counted.
    total: str | None = None

    @property
    def filters(self) -> dict[str, Any]:
        return dict(self.where)


@dataclasses.dataclass(frozen=True)
class Ratio:
    numerator: Count | str  # a count, or the code of a count indicator
    denominator: Count | str
    scale: int = 100


Definition = Count | Ratio


def _error(message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({"definition": ValidationError(message, code=code)})


def parse_count(raw: Any) -> Count:
    if not isinstance(raw, dict) or "count" not in raw:
        raise _error(_('A count is written {"count": POPULATION, "where": {...}}.'))
    unexpected = set(raw) - {"count", "where", "at", "sum"}
    if unexpected:
        raise _error(
            _("Unknown key %(keys)s in a count (allowed: count, where, at, sum).")
            % {"keys": ", ".join(sorted(unexpected))}
        )
    population = raw["count"]
    if population not in POPULATIONS:
        raise _error(
            _("Unknown population “%(name)s”: use one of %(names)s.")
            % {"name": population, "names": ", ".join(POPULATIONS)},
            code="unknown_population",
        )
    if raw.get("at", "end") not in ("end", "mean"):
        raise _error(_('"at" is "end" (the reference date) or "mean".'))
    if raw.get("at") == "mean" and population == "births":
        raise _error(_("Births are counted over the period: they have no mean."))
    if raw.get("at") == "mean" and population == "spot_fields":
        raise _error(_("Spot-checked fields are counted over the year: they have no mean."))
    if raw.get("at") == "mean" and population == "assistance":
        raise _error(_("Assistance requests are counted over the year: they have no mean."))
    if raw.get("at") == "mean" and population == "notices":
        raise _error(_("Notices are counted over the year: they have no mean."))
    if raw.get("at") == "mean" and population == "corrections":
        raise _error(_("Correction requests are counted over the year: they have no mean."))
    if raw.get("at") == "mean" and population == "benefits":
        raise _error(_("Benefits are counted at the reference date only: they have no mean."))
    total = raw.get("sum")
    if total is not None and population not in SUMS.get(total, ()):
        sums = [name for name, populations in SUMS.items() if population in populations]
        raise _error(
            _("“%(name)s” cannot be added up for %(population)s (it can: %(sums)s).")
            % {"name": total, "population": population, "sums": ", ".join(sums) or "—"},
            code="bad_sum",
        )
    where = raw.get("where") or {}
    if not isinstance(where, dict):
        raise _error(_('"where" is an object of filters, for example {"sex": "2"}.'))
    checked = []
    for name, value in sorted(where.items()):
        if name not in FILTERS:
            raise _error(
                _("Unknown filter “%(name)s”: use one of %(names)s.")
                % {"name": name, "names": ", ".join(FILTERS)},
                code="unknown_filter",
            )
        populations, check = FILTERS[name]
        if population not in populations:
            raise _error(
                _("The filter “%(name)s” does not apply to %(population)s.")
                % {"name": name, "population": population},
                code="filter_population",
            )
        try:
            checked.append((name, check(value)))
        except ValueError as exc:
            raise _error(
                _("Filter “%(name)s”: %(rule)s.") % {"name": name, "rule": exc}, code="bad_value"
            ) from exc
    return Count(population, tuple(checked), mean=raw.get("at") == "mean", total=total)


def _side(raw: Any) -> Count | str:
    if raw in ("", None):
        raise _error(_("A ratio needs both a numerator and a denominator."), code="required")
    if isinstance(raw, str):
        if not CODE_PATTERN.match(raw):
            raise _error(_("“%(code)s” is not an indicator code.") % {"code": raw})
        return raw
    return parse_count(raw)


def parse(raw: Any) -> Definition:
    """The checked definition, or ValidationError naming what is wrong."""
    if isinstance(raw, dict) and "ratio" in raw:
        unexpected = set(raw) - {"ratio", "scale"}
        if unexpected:
            raise _error(
                _("Unknown key %(keys)s in a ratio (allowed: ratio, scale).")
                % {"keys": ", ".join(sorted(unexpected))}
            )
        sides = raw["ratio"]
        if not isinstance(sides, list) or len(sides) != 2:
            raise _error(_('A ratio is written {"ratio": [NUMERATOR, DENOMINATOR]}.'))
        scale = raw.get("scale", 100)
        if scale not in SCALES:
            raise _error(_("The scale of a ratio is 1, 100 (percent) or 1000 (per mille)."))
        return Ratio(_side(sides[0]), _side(sides[1]), scale)
    return parse_count(raw)


def referenced_codes(definition: Definition) -> list[str]:
    if isinstance(definition, Ratio):
        return [s for s in (definition.numerator, definition.denominator) if isinstance(s, str)]
    return []


# --- what an indicator may be assessed on (DESIGN.md §2 principle 1) ----------------------

# Services a person chooses to accept about her own body and childbearing: their counts are
# statistics (and a trigger for services), never a quota, a target or an assessment weight.
REPRODUCTIVE_SERVICES = frozenset(
    {
        ServiceType.REPRODUCTIVE_HEALTH,
        ServiceType.PRE_PREGNANCY,
        ServiceType.PRENATAL,
        ServiceType.POSTNATAL,
        ServiceType.CONTRACEPTIVE,
        ServiceType.GYNAECOLOGICAL,
    }
)
# What the offices do themselves: stays registered, certificates held, verification,
# services offered, spot checks found correct, assistance and notices answered. A count
# without one of these counts people.
WORK_FILTERS = frozenset(
    {
        "valid_certificate",
        "verified",
        "verified_within_days",
        "registered_within_days",
        "service_in_year",
        "free_service_in_year",
    }
)
WORK_POPULATIONS = frozenset({"spot_fields", "assistance", "notices", "corrections"})


def statistic_reason(
    definition: Definition, resolve: Callable[[str], Definition | None]
) -> str | None:
    """Why an indicator with this definition is a statistic that no target or assessment
    scheme may use, or None when it measures the offices' own work.

    Decided by what the definition counts, on both sides of a ratio (``resolve`` gives the
    definition of an indicator code a ratio names): births (so birth rate and sex ratio),
    and contraception, pregnancy or reproductive-health services accepted are people's own
    choices; a count of people with no work of the office in it (how many women live here)
    is not the office's work either. A county's flag cannot override this."""
    sides = (
        [definition.numerator, definition.denominator]
        if isinstance(definition, Ratio)
        else [definition]
    )
    counts = [resolve(side) if isinstance(side, str) else side for side in sides]
    for count in counts:
        if not isinstance(count, Count):
            continue  # an unknown code: Indicator.clean names it
        if count.population == "births":
            return _("it counts births")
        if count.population == "benefits":
            return _("it counts benefits people applied for and receive")
        service = count.filters.get("service_in_year")
        if service in REPRODUCTIVE_SERVICES:
            return _("it counts a service people choose to accept (%(service)s)") % {
                "service": ServiceType(service).label
            }
    numerator = counts[0]
    if (
        isinstance(numerator, Count)
        and numerator.population not in WORK_POPULATIONS
        and not WORK_FILTERS & set(numerator.filters)
    ):
        return _("it counts people, not work the offices do")
    return None
