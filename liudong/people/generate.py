"""Synthetic floating-population files in the person import template (DESIGN.md §5), for
``liudong generate``, the demo county, importer tests and benchmarks.

This module owns the fake people: who they plausibly are (names, ages, marital status,
children, certificates), where they come from and go to (real division codes read from the
shipped csv files), and the known faults mixed in so importers meet messy data. It writes csv
or xlsx as a stream. It must not touch the database or the import rules: rows are what an office
register would hold, as text, and the importer decides what to make of them.

Same seed, arguments and ``today`` give the same rows.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import operator
import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from . import idnumbers, template
from . import population_tables as tables

T = TypeVar("T")

# Each fault row carries exactly one of these in "_fault", the column it affects in
# "_fault_field", and here what DESIGN.md §5 says an importer does with it.
FAULTS: dict[str, str] = {
    "check_digit": "warning",  # a wrong last character is kept with a warning
    "legacy_15": "accepted",  # converted to 18 characters
    "lowercase_x": "accepted",  # normalised
    "fullwidth_id": "accepted",  # normalised
    "sex_mismatch": "rejected",
    "birth_date_mismatch": "rejected",
    "unknown_region": "warning",  # placed at its known county, with a warning
    "arrival_before_birth": "rejected",
    "long_name": "rejected",
    "duplicate_id": "rejected",  # one row per ID number in a file
    "missing_required": "rejected",
}
_FAULT_NAMES = tuple(FAULTS)
_FAULT_FIELDS = {
    "check_digit": "id_number",
    "legacy_15": "id_number",
    "lowercase_x": "id_number",
    "fullwidth_id": "id_number",
    "sex_mismatch": "sex",
    "birth_date_mismatch": "birth_date",
    "unknown_region": "household_region",
    "arrival_before_birth": "arrival_date",
    "long_name": "name",
    "duplicate_id": "id_number",
}
XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header


class _Weighted:
    """Draw from a weighted table with one bisect (random.choices rebuilds its totals)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Iterable[tuple[object, float]]) -> None:
        self.items: list = []
        self.cum: list[float] = []
        running = 0.0
        for item, weight in pairs:
            if weight > 0:
                running += weight
                self.items.append(item)
                self.cum.append(running)
        self.total = running
        # A draw that rounds up to the total lands on this copy of the last item.
        self.items.append(self.items[-1])
        self.cum.append(math.inf)

    def pick(self, u: float) -> Any:
        """The item for a uniform draw ``u`` in [0, 1)."""
        return self.items[bisect_right(self.cum, u * self.total)]


class _Seen:
    """A fixed-size bit set of integer keys: no false negatives, so a key it has not seen is
    certainly new. False positives only make the caller draw again. About 8 bytes a key,
    instead of some 100 for a set of strings, so a million rows stay small."""

    def __init__(self, expected: int) -> None:
        # 64 bits a key keeps false positives near 1 in 64; capped at 128 MB.
        self.bits = max(16, min(30, math.ceil(math.log2(max(expected, 1) * 64))))
        self.shift = 64 - self.bits
        self.array = bytearray(1 << (self.bits - 3))

    def add(self, key: int) -> bool:
        """Record ``key``; False when it (or a key sharing its bit) was recorded before."""
        # Fibonacci hashing spreads the structured keys (region, date, sequence) evenly.
        slot = ((key * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> self.shift
        byte, bit = slot >> 3, 1 << (slot & 7)
        if self.array[byte] & bit:
            return False
        self.array[byte] |= bit
        return True


@dataclass(frozen=True)
class _Divisions:
    names: dict[str, str]  # code -> name, for provinces, cities, counties and townships
    county_address: dict[str, str]  # county -> "河南省周口市淮阳区"
    city_short: dict[str, str]  # county -> "周口" (for company names)
    counties_by_province: dict[str, tuple[str, ...]]
    townships_by_county: dict[str, tuple[str, ...]]
    townships_by_province: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def _divisions() -> _Divisions:
    folder = resources.files("liudong.regions") / "data" / "divisions"

    def rows(name: str) -> list[dict[str, str]]:
        text = (folder / name).read_text(encoding="utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))

    names: dict[str, str] = {}
    for row in rows("provinces.csv") + rows("cities.csv"):
        names[row["code"]] = row["name"]
    county_address, city_short = {}, {}
    counties: dict[str, list[str]] = {}
    for row in rows("areas.csv"):
        code, province, city = row["code"], row["provinceCode"], row["cityCode"]
        names[code] = row["name"]
        city_name = names.get(city, "")
        # "市辖区" and "省直辖县级行政区划" are placeholders, not part of an address.
        if city_name.endswith(("市辖区", "直辖县级行政区划")) or city_name == "县":
            city_name = ""
        county_address[code] = names.get(province, "") + city_name + row["name"]
        short = city_name or names.get(province, "")
        city_short[code] = short.removesuffix("市").removesuffix("省")
        counties.setdefault(province, []).append(code)
    townships: dict[str, list[str]] = {}
    by_province: dict[str, list[str]] = {}
    for row in rows("streets.csv"):
        names[row["code"]] = row["name"]
        townships.setdefault(row["areaCode"], []).append(row["code"])
        by_province.setdefault(row["provinceCode"], []).append(row["code"])
    return _Divisions(
        names=names,
        county_address=county_address,
        city_short=city_short,
        counties_by_province={k: tuple(v) for k, v in counties.items()},
        # Every county in the shipped files has townships; keep only those that do anyway.
        townships_by_county={k: tuple(v) for k, v in townships.items() if v},
        townships_by_province={k: tuple(v) for k, v in by_province.items()},
    )


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none: the birthday is 1 March
        return day.replace(year=day.year + years, month=3, day=1)


def _age(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _format_date(day: datetime.date, style: str) -> str:
    if style == "iso":
        return day.isoformat()
    if style == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if style == "dot":
        return f"{day.year}.{day.month:02d}.{day.day:02d}"
    return f"{day.year}{day.month:02d}{day.day:02d}"


def _ever_married_share(age: int, sex: str) -> float:
    # Legal marriage age is 22 for men and 20 for women; first marriages cluster in the late
    # twenties, later for men.
    legal = 22 if sex == "1" else 20
    if age < legal:
        return 0.0
    shift = 2 if sex == "1" else 0
    for upto, share in ((23, 0.15), (25, 0.35), (28, 0.55), (30, 0.7), (35, 0.85), (40, 0.92)):
        if age < upto + shift:
            return share
    return 0.95


def _children_table(age: int) -> _Weighted:
    if age < 25:
        return _Weighted((("0", 50), ("1", 45), ("2", 5)))
    if age < 30:
        return _Weighted((("0", 30), ("1", 50), ("2", 20)))
    if age < 35:
        return _Weighted((("0", 12), ("1", 45), ("2", 38), ("3", 5)))
    if age < 50:
        return _Weighted((("0", 6), ("1", 40), ("2", 45), ("3", 9)))
    return _Weighted((("0", 3), ("1", 35), ("2", 45), ("3", 17)))


def _status_table(age: int) -> _Weighted:
    """Marital status of someone who has married, by age (GB/T 2261.2 names)."""
    widowed = 0.005 + max(0, age - 45) * 0.006
    divorced = 0.045 if 30 <= age < 56 else 0.02
    remarried = 0.02 if age < 30 else 0.06
    married = 1 - widowed - divorced - remarried
    return _Weighted(
        (
            ("初婚", married * 0.55),
            ("已婚", married * 0.45),
            ("再婚", remarried),
            ("离婚", divorced),
            ("丧偶", widowed),
        )
    )


class _Tables:
    """Everything drawn per row, prepared once per call."""

    def __init__(
        self,
        today: datetime.date,
        residence_codes: Sequence[str] | None,
        household_codes: Sequence[str] | None,
    ) -> None:
        self.div = _divisions()
        div = self.div
        self.surnames = _Weighted(tables.SURNAMES)
        self.reasons = _Weighted(tables.REASONS)
        self.ages = _Weighted(((lo, hi), w) for lo, hi, w in tables.AGE_BANDS)
        self.origin_counties = _Weighted(
            (county, weight / len(div.counties_by_province[province]))
            for province, weight in tables.ORIGIN_PROVINCES
            for county in div.counties_by_province[province]
        )
        self.destination_provinces = _Weighted(tables.DESTINATION_PROVINCES)
        self.residence_codes = tuple(residence_codes) if residence_codes else ()
        self.household_codes = tuple(household_codes) if household_codes else ()
        self.ethnicity: dict[str, tuple[float, _Weighted]] = {
            province: (share, _Weighted(groups))
            for province, (share, groups) in tables.MINORITIES_BY_PROVINCE.items()
        }
        share, groups = tables.MINORITIES_ELSEWHERE
        self.ethnicity_elsewhere = (share, _Weighted(groups))
        self.ever_married = {
            sex: [_ever_married_share(age, sex) for age in range(130)] for sex in ("1", "2")
        }
        self.statuses = [_status_table(age) for age in range(130)]
        self.children = [_children_table(age) for age in range(130)]
        self.today = today
        self.today_ord = today.toordinal()
        self.latest_birth_ord = _add_years(today, -16).toordinal()
        self.latest_adult_ord = _add_years(today, -20).toordinal()
        self.earliest_ord = idnumbers.EARLIEST_BIRTH_DATE.toordinal()


def generate_rows(
    n: int,
    *,
    seed: int = 1,
    residence_codes: Sequence[str] | None = None,
    household_codes: Sequence[str] | None = None,
    fault_share: float = 0.01,
    today: datetime.date | None = None,
) -> Iterator[dict[str, object]]:
    """Yield ``n`` synthetic people as template rows (keys: ``template.FIELDS``).

    Values are text as a register holds them ("" for an empty cell). Each row also has
    ``"_fault"`` (a name from :data:`FAULTS`, or None for a clean row) and ``"_fault_field"``
    (the template column the fault is in, or None); :func:`write_file` leaves both out.
    Residence comes from ``residence_codes`` when given, household registration from
    ``household_codes`` when given; otherwise both are real townships weighted by where
    migrants come from and go to. About ``fault_share`` of the rows carry one fault each.
    """
    if n < 0:
        raise ValueError("n must be 0 or more")
    if not 0 <= fault_share <= 1:
        raise ValueError("fault_share must lie between 0 and 1")
    return _Generator(
        n,
        seed=seed,
        residence_codes=residence_codes,
        household_codes=household_codes,
        fault_share=fault_share,
        today=today or datetime.date.today(),
    ).rows()


@dataclass
class _Person:
    """A row in the making: the facts, before they are written as a register would."""

    sex: str
    born: datetime.date
    id_region: str
    household: str
    id_number: str = ""


class _Generator:
    def __init__(
        self,
        n: int,
        *,
        seed: int,
        residence_codes: Sequence[str] | None,
        household_codes: Sequence[str] | None,
        fault_share: float,
        today: datetime.date,
    ) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.t = _Tables(today, residence_codes, household_codes)
        self.fault_share = fault_share
        self.ids = _Seen(n * 2)  # persons and their spouses
        self.certificates = _Seen(n // 3 + 1)
        # Recent clean rows that a "duplicate_id" fault may repeat; a short window keeps the
        # memory flat and the duplicate close to its original, as when a file is merged twice.
        self.recent: list[dict[str, object]] = []

    # -- drawing -----------------------------------------------------------------------------

    def _choice(self, items: Sequence[T]) -> T:
        return items[int(self.rng.random() * len(items))]  # cheaper than random.choice

    def _origin_county(self) -> str:
        return self.t.origin_counties.pick(self.rng.random())

    def _township_in(self, county: str) -> str:
        townships = self.t.div.townships_by_county.get(county)
        return self._choice(townships) if townships else county

    def _residence(self) -> str:
        if self.t.residence_codes:
            return self._choice(self.t.residence_codes)
        province = self.t.destination_provinces.pick(self.rng.random())
        return self._choice(self.t.div.townships_by_province[province])

    def _birth(self) -> datetime.date:
        lo, hi = self.t.ages.pick(self.rng.random())
        days = int((lo + self.rng.random() * (hi - lo)) * 365.2425)
        # Clamp so every person is 16 or over today, whatever the rounding of years to days.
        ordinal = min(self.t.today_ord - days, self.t.latest_birth_ord)
        return datetime.date.fromordinal(ordinal)

    def _id_number(
        self, region: str, born: datetime.date, sex: str, want_x: bool = False
    ) -> tuple[str, datetime.date]:
        """A valid number not given to anyone else in this call, and the birth date in it."""
        parity = 1 if sex == "1" else 0
        make, add = idnumbers.make, self.ids.add
        while True:
            # Probe the 500 sequences of this sex from a random one on: a crowded day (a demo
            # county born in the same years) still finds a free number in a few steps.
            start = int(self.rng.random() * 500)
            for step in range(500):
                value = make(region, born, (start + step) % 500 * 2 + parity, sex)
                if want_x and value[17] != "X":
                    continue
                if add(int(value[:17])):
                    return value, born
            born -= datetime.timedelta(days=1)  # every number of the day is taken: a day older

    def _name(self, sex: str) -> str:
        random_ = self.rng.random
        pool = tables.MALE_GIVEN if sex == "1" else tables.FEMALE_GIVEN
        surname = self.t.surnames.pick(random_())
        given = pool[int(random_() * len(pool))]
        if random_() < 0.7:
            given += pool[int(random_() * len(pool))]
        return surname + given

    def _ethnicity(self, province: str) -> str:
        random_ = self.rng.random
        u = random_()
        if u < 0.03:
            return ""
        share, groups = self.t.ethnicity.get(province, self.t.ethnicity_elsewhere)
        if random_() < share:
            return groups.pick(random_())
        return "汉族"

    def _household_address(self, code: str) -> str:
        div = self.t.div
        county_address = div.county_address.get(code[:6])
        if county_address is None:
            return ""
        random_ = self.rng.random
        village = self.t.surnames.pick(random_())[:1] + self._choice(tables.VILLAGE_ENDINGS) + "村"
        return f"{county_address}{div.names.get(code[:9], '')}{village}{1 + int(random_() * 12)}组"

    def _residence_address(self, code: str) -> str:
        random_ = self.rng.random
        place = self.t.div.names.get(code[:9], "")
        if random_() < 0.5:
            return f"{place}{self._choice(tables.STREETS)}{1 + int(random_() * 300)}号"
        estate = self._choice(tables.BRANDS) + self._choice(tables.ESTATES)
        building, unit = 1 + int(random_() * 30), 1 + int(random_() * 4)
        room = (1 + int(random_() * 30)) * 100 + 1 + int(random_() * 4)
        return f"{place}{estate}{building}栋{unit}单元{room}室"

    def _employer(self, residence: str) -> str:
        city = self.t.div.city_short.get(residence[:6], "")
        return (
            city
            + self._choice(tables.BRANDS)
            + self._choice(tables.INDUSTRIES)
            + self._choice(tables.COMPANY_FORMS)
        )

    def _phone(self) -> str:
        return self._choice(tables.MOBILE_PREFIXES) + f"{int(self.rng.random() * 100_000_000):08d}"

    def _arrival(self, born: datetime.date) -> datetime.date:
        # Most arrived in the last few years (exponential, mean three years), never before 16.
        random_ = self.rng.random
        earliest = _add_years(born, 16).toordinal()
        ordinal = self.t.today_ord - int(-math.log(1.0 - random_()) * 1100)
        if ordinal < earliest:
            ordinal = earliest + int(random_() * (self.t.today_ord - earliest + 1))
        return datetime.date.fromordinal(ordinal)

    def _spouse_id(self, person: _Person) -> str:
        random_ = self.rng.random
        # Husbands are on average two years older than their wives, up to eight.
        gap = int((random_() * random_() * 9 - 1) * 365.2425)
        ordinal = person.born.toordinal() + (gap if person.sex == "1" else -gap)
        ordinal = max(self.t.earliest_ord, min(ordinal, self.t.latest_adult_ord))
        region = person.id_region if random_() < 0.6 else self._origin_county()
        other_sex = "2" if person.sex == "1" else "1"
        return self._id_number(region, datetime.date.fromordinal(ordinal), other_sex)[0]

    def _certificate(
        self, person: _Person, arrival: datetime.date, style: str
    ) -> tuple[str, str, str, str]:
        """(number, issuer, issued, verified_on) for a woman of 18-49."""
        random_ = self.rng.random
        household = person.household
        if len(household) >= 9 and household[:9] in self.t.div.names and random_() < 0.8:
            issuer = household[:9]  # her registration township issues it
        else:
            county = household[:6]
            if county not in self.t.div.townships_by_county:
                county = person.id_region
            issuer = self._township_in(county)
        today_ord = self.t.today_ord
        verified = None
        if random_() < 0.8:
            # Verification is due within 30 days of arrival; most are, some run late.
            ordinal = min(arrival.toordinal() + int(60 * random_() * random_()), today_ord)
            verified = datetime.date.fromordinal(ordinal)
        # Issued since she turned 18, within the last ten years.
        lo = max(_add_years(person.born, 18).toordinal(), today_ord - 3650)
        hi = verified.toordinal() if verified else today_ord
        if lo > hi:  # she came of age after the verification date: not verified yet
            verified, hi = None, today_ord
        issued = datetime.date.fromordinal(lo + int(random_() * (hi - lo + 1)))
        # Townships number their certificates from 1 each year; most issue a few hundred.
        for attempt in range(1, 34):
            sequence = 1 + int(random_() * random_() * 3000 * attempt)
            if self.certificates.add(int(issuer) * 10**9 + issued.year * 10**5 + sequence):
                break
        else:
            raise RuntimeError(f"no free certificate number for {issuer} in {issued.year}")
        number = f"{issuer}-{issued.year}-{sequence:05d}"
        return (
            number,
            issuer,
            _format_date(issued, style),
            _format_date(verified, style) if verified else "",
        )

    # -- rows --------------------------------------------------------------------------------

    def rows(self) -> Iterator[dict[str, object]]:
        random_ = self.rng.random
        for _index in range(self.n):
            fault = None
            if self.fault_share and random_() < self.fault_share:
                fault = _FAULT_NAMES[int(random_() * len(_FAULT_NAMES))]
                if fault == "duplicate_id" and not self.recent:
                    fault = "check_digit"  # nothing earlier to repeat yet
            row = self._duplicate() if fault == "duplicate_id" else self._row(fault)
            if fault is None:
                if len(self.recent) < 256:
                    self.recent.append(row)
                else:
                    self.recent[int(random_() * 256)] = row
            yield row

    def _duplicate(self) -> dict[str, object]:
        # The same person entered twice (say, by two collectors): a new residence and
        # arrival, the same identity.
        earlier = self._choice(self.recent)
        row = self._row(None, same_as=earlier)
        row["_fault"], row["_fault_field"] = "duplicate_id", "id_number"
        return row

    def _row(
        self, fault: str | None, same_as: dict[str, object] | None = None
    ) -> dict[str, object]:
        t, random_ = self.t, self.rng.random
        residence = self._residence()
        if same_as is not None:
            number = idnumbers.parse(same_as["id_number"], today=t.today)
            sex, born = number.sex, number.birth_date
            person = _Person(sex, born, number.region, str(same_as["household_region"]))
            person.id_number = number.value
            name = str(same_as["name"])
        else:
            sex = "1" if random_() < 0.52 else "2"
            born = self._birth()
            if fault == "legacy_15" and born.year >= 2000:
                fault = "fullwidth_id"  # no 15-digit number was issued to anyone born since
            person = self._place(sex, born)
            # Living in the county of registration is not floating (2009 Regulations, art. 2):
            # draw again whichever the caller did not fix.
            for _retry in range(20):
                if residence[:6] != person.household[:6]:
                    break
                if not t.residence_codes:
                    residence = self._residence()
                elif not t.household_codes:
                    person = self._place(sex, born)
                else:
                    break  # the caller fixed both: keep what they asked for
            person.id_number, born = self._id_number(
                person.id_region, born, sex, want_x=fault == "lowercase_x"
            )
            person.born = born
            name = self._name(sex)

        age = _age(born, t.today)
        arrival = self._arrival(born)
        # Clerks write dates in several ways and the importer reads each (DESIGN.md §5); one
        # clerk keeps to one way, so a row has one style.
        u = random_()
        style = "iso" if u < 0.88 else "slash" if u < 0.92 else "dot" if u < 0.96 else "compact"

        if random_() < t.ever_married[sex][age]:
            marital = t.statuses[age].pick(random_())
        else:
            marital = "未婚"
        married = marital in ("初婚", "已婚", "再婚")
        if marital == "未婚":
            children = "1" if random_() < 0.02 else "0"
        else:
            children = t.children[age].pick(random_())
        if random_() < 0.05:
            children = ""
        reason = t.reasons.pick(random_()) if random_() < 0.98 else ""
        if reason == "婚姻嫁娶" and marital == "未婚":
            reason = "务工经商"  # nobody single moved to marry
        employer = ""
        if reason == "务工经商" and random_() < 0.55:
            employer = self._employer(residence)

        certificate = ("", "", "", "")
        if sex == "2" and 18 <= age <= 49 and random_() < 0.75:
            certificate = self._certificate(person, arrival, style)

        row: dict[str, object] = {
            "name": name,
            "sex": "男" if sex == "1" else "女",
            "id_number": person.id_number,
            "birth_date": _format_date(born, style) if random_() < 0.85 else "",
            "ethnicity": self._ethnicity(person.id_region[:2]),
            "marital_status": marital,
            "household_region": person.household,
            "household_address": (
                self._household_address(person.household) if random_() < 0.7 else ""
            ),
            "residence_region": residence,
            "residence_address": self._residence_address(residence) if random_() < 0.8 else "",
            "arrival_date": _format_date(arrival, style),
            "reason": reason,
            "phone": self._phone() if random_() < 0.88 else "",
            "employer": employer,
            "spouse_id_number": (self._spouse_id(person) if married and random_() < 0.4 else ""),
            "children": children,
            "certificate_no": certificate[0],
            "certificate_issuer": certificate[1],
            "certificate_issued": certificate[2],
            "verified_on": certificate[3],
            "_fault": None,
            "_fault_field": None,
        }
        if fault is not None:
            self._spoil(row, fault, person, born, style)
        return row

    def _place(self, sex: str, born: datetime.date) -> _Person:
        """ID region and household registration."""
        t, random_ = self.t, self.rng.random
        if t.household_codes:
            household = self._choice(t.household_codes)
            county = household[:6]
            if county not in t.div.townships_by_county or random_() < 0.1:
                county = self._origin_county()
            return _Person(sex, born, county, household)
        county = self._origin_county()
        if random_() < 0.1:
            # Registration moved since the number was issued: mostly within the province.
            if random_() < 0.7:
                moved = self._choice(t.div.counties_by_province[county[:2]])
            else:
                moved = self._origin_county()
            return _Person(sex, born, county, self._township_in(moved))
        return _Person(sex, born, county, self._township_in(county))

    def _spoil(
        self, row: dict[str, object], fault: str, person: _Person, born: datetime.date, style: str
    ) -> None:
        random_ = self.rng.random
        field = _FAULT_FIELDS.get(fault)
        value = person.id_number
        if fault == "check_digit":
            others = [c for c in idnumbers.CHECK_CHARACTERS if c != value[17]]
            row["id_number"] = value[:17] + others[int(random_() * len(others))]
        elif fault == "legacy_15":
            row["id_number"] = value[:6] + value[8:17]
        elif fault == "lowercase_x":
            row["id_number"] = value[:17] + "x"
        elif fault == "fullwidth_id":
            row["id_number"] = value.translate(tables.FULLWIDTH)
        elif fault == "sex_mismatch":
            row["sex"] = "女" if row["sex"] == "男" else "男"
        elif fault == "birth_date_mismatch":
            shift = (1 + int(random_() * 400)) * (1 if random_() < 0.5 else -1)
            row["birth_date"] = _format_date(born + datetime.timedelta(days=shift), style)
        elif fault == "unknown_region":
            row["household_region"] = self._unknown_township(person.household[:6])
        elif fault == "arrival_before_birth":
            before = born - datetime.timedelta(days=1 + int(random_() * 1000))
            row["arrival_date"] = _format_date(before, style)
        elif fault == "long_name":
            pool = tables.MALE_GIVEN + tables.FEMALE_GIVEN
            name = str(row["name"])
            row["name"] = name + "".join(
                pool[int(random_() * len(pool))] for _ in range(60 - len(name))
            )
        elif fault == "missing_required":
            field = self._choice(template.REQUIRED)
            row[field] = ""
        row["_fault"], row["_fault_field"] = fault, field

    def _unknown_township(self, county: str) -> str:
        # A plausible-looking 9-digit code in the right county that no township has.
        names = self.t.div.names
        for suffix in range(999, 0, -1):
            code = f"{county}{suffix:03d}"
            if code not in names:
                return code
        return "990000000"  # no province 99


def write_file(
    path: str | Path,
    rows: Iterable[dict],
    *,
    header: str = "chinese",
    progress: Callable[[int], object] | None = None,
) -> int:
    """Write ``rows`` to a csv (UTF-8 with BOM, which Chinese Excel opens correctly) or xlsx
    file chosen by the suffix, with Chinese or English headers; return the number of rows.

    Rows are consumed one at a time and written straight out, so memory stays flat however
    many there are. Only the template columns are written (not "_fault"). ``progress``, when
    given, is called with the running count every 10,000 rows (for a progress bar).
    """
    path = Path(path)
    if header == "chinese":
        headers: Sequence[str] = template.CHINESE_HEADERS
    elif header == "english":
        headers = template.FIELDS
    else:
        raise ValueError(f"header must be 'chinese' or 'english', got {header!r}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _write_csv(path, rows, headers, progress)
    if suffix == ".xlsx":
        return _write_xlsx(path, rows, headers, progress)
    raise ValueError(f"unsupported file type “{suffix or path.name}”: use .csv or .xlsx")


def _cells(row: dict[str, object]) -> tuple:
    """The template columns of ``row`` in order; a missing key is an empty cell."""
    try:
        return _ALL_CELLS(row)
    except KeyError:
        return tuple(row.get(field) for field in template.FIELDS)


_ALL_CELLS = operator.itemgetter(*template.FIELDS)


def _write_csv(
    path: Path,
    rows: Iterable[dict[str, object]],
    headers: Sequence[str],
    progress: Callable[[int], object] | None,
) -> int:
    count = 0
    from liudong.safesheet import CSV_ENCODING, CsvWriter

    with path.open("w", encoding=CSV_ENCODING, newline="") as handle:
        writer = CsvWriter(handle)
        writer.writerow(headers)
        writerow = writer.writerow
        for row in rows:
            writerow(_cells(row))
            count += 1
            if progress is not None and not count % 10_000:
                progress(count)
    return count


def _write_xlsx(
    path: Path,
    rows: Iterable[dict[str, object]],
    headers: Sequence[str],
    progress: Callable[[int], object] | None,
) -> int:
    from liudong.safesheet import Workbook

    # write_only streams rows to a temporary file, and openpyxl 3.1 writes strings inline
    # (no shared-strings table growing in memory).
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="流动人口")
    sheet.append(list(headers))
    count = 0
    try:
        for row in rows:
            count += 1
            if count > XLSX_MAX_ROWS:
                raise ValueError(
                    f"an xlsx sheet holds at most {XLSX_MAX_ROWS:,} rows; write csv instead"
                )
            # An empty string would be written as an empty text cell; None leaves it blank.
            sheet.append([value if value != "" else None for value in _cells(row)])
            if progress is not None and not count % 10_000:
                progress(count)
        workbook.save(path)
    finally:
        workbook.close()
    return count
