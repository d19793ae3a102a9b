"""The monthly report at province scale, against hand-written SQL computing the same
counts in the same run (issue 6).

Builds a registry of N persons (1,000,000; 10,000,000 with --large) in a fresh database
with bulk SQL in one transaction (COPY on PostgreSQL, executemany on SQLite), streamed in
batches, from a fixed seed and the shipped division codes: residents of Zhejiang (33)
townships registered mostly in other provinces (inflow), Zhejiang files living in another
Zhejiang county (inflow and outflow of the province) or in another province (outflow), a
few not floating (same county, two districts of one city); one or two stays each (some
closed, some verified), certificates for half the women aged 15-49 (some expired, revoked
or issued twice), certificates named in register rows, service records of married women
and children (some born in the period).

At N/4 persons and again at N (the same first N/4 persons plus the rest), after ANALYZE,
times monthly_report("33", 2026-10) (one row per city) and monthly_report("330106",
2026-10) (one row per township), a warm-up and then REPEATS runs each, against the
baseline: one hand-written SQL GROUP BY per population (inflow on the last day, inflow on
the day before the period, outflow, births, spot-checked fields) over the same tables,
written two ways (correlated EXISTS for certificates and services, or joins to per-person
aggregates); the faster of the two is the baseline. On PostgreSQL both run without JIT
compilation, as the engine runs its queries. Before timing, the bench checks that every
indicator of every row the report gives equals what the baseline's counts give.
Run: .venv/bin/python bench/report.py [--db postgres] [--n 1000000 | --large]
    [--repeats 5] [--explain: print the query plans at N] [--keep: keep the SQLite file]
"""

from __future__ import annotations

import datetime
import json
import os
import random
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict

from common import (
    argument_parser,
    create_with_check,
    fresh_django,
    report,
    secondary_indexes_dropped,
    timed,
)

SEED = 6
PERIOD = (2026, 10)
# Fixed, so the registry does not depend on the day it is built (after the period).
TODAY = datetime.date(2026, 11, 22)
REFERENCE = datetime.date(2026, 10, 31)
REGIONS = (("province", "33"), ("county", "330106"))
BATCH = 20_000  # persons per batch: memory stays flat whatever N is
REPEATS = 5

# Where Zhejiang's inflow is registered, and where its outflow lives (weights).
ORIGINS = (
    ("41", 12), ("34", 10), ("51", 9), ("43", 8), ("36", 6), ("52", 6), ("45", 6), ("42", 6),
    ("50", 4), ("13", 4), ("37", 3), ("62", 3),
)  # fmt: skip
DESTINATIONS = (("44", 30), ("32", 11), ("31", 10), ("11", 8), ("35", 6), ("37", 4))
MARITAL = (
    ("10", 25),
    ("20", 30),
    ("21", 20),
    ("22", 5),
    ("23", 1),
    ("30", 4),
    ("40", 8),
    ("90", 7),
)
NAMES = ("王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄丽", "赵军", "吴芳", "周杰")

PERSON = ("id", "id_number", "name", "sex", "birth_date", "marital_status")
PERSON += ("household_region_id", "residence_region_id", "is_floating", "merged_into_id")
EPISODE = ("id", "person_id", "region_id", "arrival_date", "departure_date", "verified_on")
CERTIFICATE = ("id", "number", "person_id", "issuing_region_id", "issued_on", "valid_until")
CERTIFICATE += ("name", "sex", "birth_date", "id_number", "marital_status", "key_id", "payload")
CERTIFICATE += ("revoked_at",)
HELD = ("id", "person_id", "number", "issued_on")
SERVICE = ("id", "person_id", "service_type", "date", "region_id", "free_of_charge")
SERVICE += ("consent_recorded",)
CHILD = ("id", "parent_id", "sex", "birth_date")


def expanded(weights) -> tuple:
    """A weighted table as a flat tuple: one uniform index draws from it."""
    return tuple(item for item, weight in weights for _ in range(weight))


# -- building the registry -----------------------------------------------------------------


class Table:
    """Rows for one table, written in bulk; the columns not generated get their model
    default (timestamps: the build's start)."""

    def __init__(self, model, columns: tuple[str, ...], vendor: str, now):
        self.model, self.vendor = model, vendor
        extra_columns, extra_values = [], []
        for field in model._meta.concrete_fields:
            if field.column in columns:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            else:
                value = field.get_default()
                if isinstance(value, list | dict):
                    value = json.dumps(value)
            assert value is not None or field.null, f"{field.column} needs a value"
            extra_columns.append(field.column)
            extra_values.append(value)
        self.columns = (*columns, *extra_columns)
        self.extra = tuple(extra_values)
        self.rows: list[tuple] = []
        self.written = 0

    def flush(self, raw) -> None:
        table = self.model._meta.db_table
        names = ", ".join(self.columns)
        rows = (row + self.extra for row in self.rows)
        if self.vendor == "postgresql":
            copying = f"COPY {table} ({names}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(copying) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(self.columns))
            raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        self.written += len(self.rows)
        self.rows = []


class Registry:
    """The synthetic registry, generated person by person from one seeded stream, so the
    first K persons of a larger build are those of a build of K."""

    def __init__(self, vendor: str, expected: int, seed: int = SEED):
        from django.utils import timezone

        from liudong.certificates.models import Certificate
        from liudong.people.generate import _divisions, _Seen
        from liudong.people.models import Child, HeldCertificate, Person, ResidenceEpisode
        from liudong.services.models import ServiceRecord, ServiceType

        self.vendor = vendor
        self.rng = random.Random(seed)
        self.seen = _Seen(expected)
        div = _divisions()
        self.zhejiang = div.townships_by_province["33"]
        self.by_county = div.townships_by_county
        self.by_city: dict[str, list[str]] = defaultdict(list)
        for code in self.zhejiang:
            self.by_city[code[:4]].append(code)
        self.by_province = div.townships_by_province
        self.origins = expanded(ORIGINS)
        self.destinations = expanded(DESTINATIONS)
        self.marital = expanded(MARITAL)
        self.service_types = tuple(ServiceType.values)
        now = timezone.now()
        if vendor == "sqlite":  # Django keeps naive UTC text in SQLite
            now = now.replace(tzinfo=None)
        self.persons = Table(Person, PERSON, vendor, now)
        self.episodes = Table(ResidenceEpisode, EPISODE, vendor, now)
        self.certificates = Table(Certificate, CERTIFICATE, vendor, now)
        self.held = Table(HeldCertificate, HELD, vendor, now)
        self.services = Table(ServiceRecord, SERVICE, vendor, now)
        self.children = Table(Child, CHILD, vendor, now)
        self.tables = (
            self.persons,
            self.episodes,
            self.certificates,
            self.held,
            self.services,
            self.children,
        )
        self.ids = Counter()
        self.today = TODAY.toordinal()
        self.reference = REFERENCE.toordinal()
        self.earliest_stay = datetime.date(2008, 1, 1).toordinal()
        self.earliest_certificate = datetime.date(2016, 1, 1).toordinal()
        self.earliest_service = datetime.date(2025, 6, 1).toordinal()
        self.recent_births = (datetime.date(2026, 8, 15).toordinal(), TODAY.toordinal())

    def build(self, until: int) -> float:
        """Add persons until there are ``until``; seconds taken (with the commit)."""
        from django.db import connection, transaction

        start = time.perf_counter()
        with transaction.atomic():
            raw = connection.connection
            while self.ids["person"] < until:
                for _ in range(min(BATCH, until - self.ids["person"])):
                    self.person()
                for table in self.tables:
                    table.flush(raw)
        return time.perf_counter() - start

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def pick(self, items):
        return items[int(self.rng.random() * len(items))]

    def township_in(self, province: str) -> str:
        return self.pick(self.by_province[province])

    def day(self, low: int, high: int) -> int:
        """A day from ``low`` to ``high - 1`` (ordinals)."""
        return low + int(self.rng.random() * (high - low))

    def id_number(self, household: str, born: datetime.date, sex: str) -> tuple[str, object]:
        from liudong.people.idnumbers import make

        parity = 1 if sex == "1" else 0
        while True:
            start = int(self.rng.random() * 500)
            for step in range(500):
                value = make(household[:6], born, (start + step) % 500 * 2 + parity, sex)
                if self.seen.add(int(value[:17])):
                    return value, born
            born -= datetime.timedelta(days=1)

    def person(self) -> None:
        from liudong.people.models import age_on
        from liudong.people.services import floating

        r = self.rng.random
        pid = self.next_id("person")
        kind = r()
        if kind < 0.70:  # registered in another province, living in Zhejiang
            household = self.township_in(self.pick(self.origins))
            residence = self.pick(self.zhejiang)
        elif kind < 0.80:  # moved within Zhejiang: inflow and outflow of the province
            household = self.pick(self.zhejiang)
            same_city = r() < 0.3  # two districts of one city are not floating
            residence = self.pick(self.by_city[household[:4]] if same_city else self.zhejiang)
        elif kind < 0.95:  # registered in Zhejiang, living in another province
            household = self.pick(self.zhejiang)
            residence = self.township_in(self.pick(self.destinations))
        else:  # living in the county of registration: not floating
            household = self.pick(self.zhejiang)
            residence = self.pick(self.by_county[household[:6]])
        band = r()
        low, high = (0, 18) if band < 0.15 else (18, 60) if band < 0.85 else (60, 81)
        born = datetime.date.fromordinal(
            self.reference - int((low + r() * (high - low)) * 365.2425)
        )
        sex = "1" if r() < 0.5 else "2"
        id_number, born = self.id_number(household, born, sex)
        age = age_on(born, REFERENCE)
        marital = "10" if age < 20 else self.pick(self.marital)
        name = self.pick(NAMES)
        born_day = born.toordinal()

        # Stays: arrival mostly in the last few years; 20% came from an earlier stay,
        # 10% left for a place not known (no current residence).
        lowest = max(born_day, self.earliest_stay)
        arrival = self.today - 1 - int(self.rng.expovariate(1 / 900))
        if arrival < lowest:
            arrival = self.day(lowest, self.today)
        stays = []  # (region, arrival, departure)
        shape = r()
        if shape < 0.20 and arrival - 60 > lowest:
            before = self.day(max(lowest, arrival - 2000), arrival - 30)
            earlier = (
                self.pick(self.zhejiang)
                if r() < 0.5
                else self.township_in(self.pick(self.destinations))
            )
            stays.append((earlier, before, arrival))
            stays.append((residence, arrival, None))
            current = residence
        elif shape > 0.90 and arrival < self.today - 2:
            stays.append(
                (residence, arrival, self.day(arrival + 1, min(self.today, arrival + 1500)))
            )
            current = None
        else:
            stays.append((residence, arrival, None))
            current = residence
        merged_into = pid - 1 if pid > 1 and r() < 0.002 else None
        self.persons.rows.append(
            (
                pid,
                id_number,
                name,
                sex,
                born,
                marital,
                household,
                current,
                floating(household, current),
                merged_into,
            )
        )
        for region, came, left in stays:
            verified = None
            if r() < 0.55:
                verified = came + int(self.rng.expovariate(1 / 25))
                verified = datetime.date.fromordinal(verified) if verified < self.today else None
            self.episodes.rows.append(
                (
                    self.next_id("episode"),
                    pid,
                    region,
                    datetime.date.fromordinal(came),
                    datetime.date.fromordinal(left) if left else None,
                    verified,
                )
            )

        if sex == "2" and 15 <= age <= 49:
            self.woman(pid, id_number, name, born, marital, household)
        married = marital in ("20", "21", "22", "23")
        if sex == "2" and 15 <= age <= 49 and married and r() < 0.4:
            for _ in range(1 + int(r() * 3)):
                self.services.rows.append(
                    (
                        self.next_id("service"),
                        pid,
                        self.pick(self.service_types),
                        datetime.date.fromordinal(self.day(self.earliest_service, self.today)),
                        current or household,
                        r() < 0.8,
                        True,
                    )
                )
        # Children: some born around the period (to mothers, and a few to fathers), and
        # older ones that no report of 2026-10 counts.
        recent = (sex == "2" and 18 <= age <= 45 and r() < 0.04) or (
            sex == "1" and married and 20 <= age <= 55 and r() < 0.01
        )
        if recent:
            self.child(pid, self.day(*self.recent_births))
        if sex == "2" and 25 <= age <= 49 and r() < 0.3:
            first = max(born_day + 18 * 365 + 5, datetime.date(2000, 1, 1).toordinal())
            self.child(pid, self.day(first, datetime.date(2026, 8, 1).toordinal()))

    def woman(self, pid, id_number, name, born, marital, household) -> None:
        """Her certificates: half the women 15-49 hold one (8% with an early expiry, 4%
        revoked, 10% issued a second), and 4% are named in a register row."""
        r = self.rng.random
        fiftieth = born.replace(year=born.year + 50) if (born.month, born.day) != (2, 29) else None
        last_day = (fiftieth or datetime.date(born.year + 50, 3, 1)) - datetime.timedelta(days=1)
        low = max(born.toordinal() + 15 * 366, self.earliest_certificate)
        if r() < 0.5 and low < self.today - 1:
            issued = self.day(low, self.today)
            for _ in range(2 if r() < 0.1 else 1):
                until = last_day
                if r() < 0.08:
                    until = min(last_day, datetime.date.fromordinal(issued + self.day(200, 1500)))
                revoked = None
                if r() < 0.04:
                    moment = datetime.datetime.combine(
                        datetime.date.fromordinal(self.day(issued, self.today)),
                        datetime.time(int(r() * 24), int(r() * 60)),
                    )
                    revoked = moment.replace(
                        tzinfo=datetime.UTC if self.vendor != "sqlite" else None
                    )
                cid = self.next_id("certificate")
                day = datetime.date.fromordinal(issued)
                self.certificates.rows.append(
                    (
                        cid,
                        f"{household}-{day.year}-{cid:06d}",
                        pid,
                        household,
                        day,
                        until,
                        name,
                        "2",
                        born,
                        id_number,
                        marital,
                        "bench",
                        "{}",
                        revoked,
                    )
                )
                issued = self.day(issued, self.today)  # a second one: issued later
        if r() < 0.04:
            issued_on = None
            if r() < 0.7:
                issued_on = datetime.date.fromordinal(self.day(self.earliest_stay, self.today))
            hid = self.next_id("held")
            self.held.rows.append((hid, pid, f"EXT-{hid}", issued_on))

    def child(self, parent: int, day: int) -> None:
        sex = "1" if self.rng.random() < 0.51 else "2"
        self.children.rows.append(
            (self.next_id("child"), parent, sex, datetime.date.fromordinal(day))
        )

    def finish(self) -> float:
        """Planner statistics (the importer refreshes them after a large import), and on
        PostgreSQL the id sequences past the ids written here. Seconds taken."""
        from django.db import connection

        start = time.perf_counter()
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                for table in self.tables:
                    name = table.model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
            cursor.execute("ANALYZE")
        return time.perf_counter() - start


def replicate(base: int, n: int) -> float:
    """PostgreSQL: persons ``base`` + 1 to ``n`` as copies of the first ``base`` with all
    they hold (stays, certificates, certificates held, services, children), so a registry
    of ten million takes minutes in SQL rather than most of an hour in Python. Copy k of
    a row has its id shifted by k times its table's largest id, its person by k * base;
    each copy of a person has an ID number of its own (below), and each certificate
    number a suffix. Every figure of the copy is
    ``n / base`` times the first ``base`` persons' (same regions, dates and families).
    The secondary indexes are dropped for the copy and built again after. Seconds."""
    from django.db import connection, transaction

    copies = n // base
    assert n % base == 0 and 2 <= copies <= 10, "up to ten copies of the first persons"
    start = time.perf_counter()
    tables = {  # table: the columns shifted with the person
        "people_person": {"merged_into_id"},
        "people_residenceepisode": {"person_id"},
        "certificates_certificate": {"person_id"},
        "people_heldcertificate": {"person_id"},
        "services_servicerecord": {"person_id"},
        "people_child": {"parent_id"},
    }
    # A copy's ID number: 9 (no province's first digit) and its person's new id, so no two
    # can meet (a sequence shifted within one birth date could meet a real one); figures
    # read the birth date and sex columns, never the number.
    new_id_number = "pg_temp.with_check('9' || lpad(({c} + k * BASE)::text, 16, '0'))"
    new_id_number = new_id_number.replace("BASE", str(base))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # The foreign keys are checked at each insert rather than at the commit: deferred
        # checks left pending would forbid building the indexes in this transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        create_with_check(cursor)
        with secondary_indexes_dropped(cursor, tables):
            for table, by_person in tables.items():
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                step = cursor.fetchone()[0]
                columns = [
                    c.name for c in connection.introspection.get_table_description(cursor, table)
                ]
                shifted = {"id": f"t.id + k * {step}"}
                shifted.update({c: f"t.{c} + k * {base}" for c in by_person})
                if table == "people_person":
                    shifted["id_number"] = new_id_number.format(c="t.id")
                    only = f"t.id <= {base}"
                elif table == "people_child":
                    only = f"t.parent_id <= {base}"
                else:
                    only = f"t.person_id <= {base}"
                if table == "certificates_certificate":
                    shifted["number"] = "t.number || '-' || k"
                    shifted["id_number"] = new_id_number.format(c="t.person_id")
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" SELECT {', '.join(shifted.get(c, 't.' + c) for c in columns)}"
                    f" FROM {table} t CROSS JOIN generate_series(1, {copies - 1}) AS k"
                    f" WHERE {only}"
                )
                copied = cursor.rowcount
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
                log(f"{table}: {copied:,} rows copied ({time.perf_counter() - start:.0f} s)")
        log(f"indexes built ({time.perf_counter() - start:.0f} s)")
    return time.perf_counter() - start


# -- the baseline: hand-written SQL --------------------------------------------------------

ADULT_WCBA = {"sex": "2", "age": [18, 49]}
MARRIED_WCBA = {**ADULT_WCBA, "married": True}
WOMAN = "p.sex = '2' AND p.birth_date <= %(adult)s AND p.birth_date > %(fifty)s"
MARRIED = "p.marital_status IN ('20', '21', '22', '23')"
VERIFIED = "e.verified_on <= %(day)s"
WITHIN_30 = {
    "postgresql": "e.verified_on <= %(day)s AND e.verified_on - e.arrival_date <= 30",
    "sqlite": "e.verified_on <= %(day)s"
    " AND julianday(e.verified_on) - julianday(e.arrival_date) <= 30",
}
CERTIFICATES = """
    SELECT person_id FROM certificates_certificate
    WHERE issued_on <= %(day)s AND valid_until >= %(day)s
      AND (revoked_at IS NULL OR revoked_at >= %(day_over)s)"""
HELD_CERTIFICATES = """
    SELECT person_id FROM people_heldcertificate
    WHERE certificate_id IS NULL AND (issued_on IS NULL OR issued_on <= %(day)s)"""
SERVICES = """
    SELECT person_id FROM services_servicerecord
    WHERE date >= %(year_start)s AND date <= %(day)s AND consent_recorded"""
SERVICES_BY_PERSON = """
    SELECT person_id,
      MAX(CASE WHEN service_type = 'reproductive_health' THEN 1 ELSE 0 END) AS health,
      MAX(CASE WHEN free_of_charge THEN 1 ELSE 0 END) AS free_service
    FROM services_servicerecord
    WHERE date >= %(year_start)s AND date <= %(day)s AND consent_recorded
    GROUP BY person_id"""
# Each style: how "holds a valid certificate" and "accepted a service" are written, and
# the joins they need.
STYLES = {
    "exists": {
        "certificate": f"(EXISTS ({CERTIFICATES} AND person_id = e.person_id)"
        f" OR EXISTS ({HELD_CERTIFICATES} AND person_id = e.person_id))",
        "health": f"EXISTS ({SERVICES} AND person_id = e.person_id"
        " AND service_type = 'reproductive_health')",
        "free": f"EXISTS ({SERVICES} AND person_id = e.person_id AND free_of_charge)",
        "joins": "",
        "service_join": "",
    },
    "join": {
        "certificate": "vc.person_id IS NOT NULL",
        "health": "sv.health = 1",
        "free": "sv.free_service = 1",
        "joins": f"LEFT JOIN ({CERTIFICATES} UNION {HELD_CERTIFICATES}) vc"
        " ON vc.person_id = e.person_id",
        "service_join": f"LEFT JOIN ({SERVICES_BY_PERSON}) sv ON sv.person_id = e.person_id",
    },
}


def populations(vendor: str, style: str) -> list[tuple[str, str, list[tuple[dict, str | None]]]]:
    """(population, day, [(count definition, condition on a stay)]) per baseline query."""
    from liudong.stats.definitions import POPULATIONS

    s = STYLES[style]
    # Spot-checked fields (data_accuracy_rate), where the engine counts them; this registry
    # has none, but the report still asks.
    spot_fields = [
        (
            "spot_fields",
            "end",
            [
                ({"count": "spot_fields"}, None),
                ({"count": "spot_fields", "where": {"correct": True}}, "r.result = 'correct'"),
            ],
        )
    ]
    # Assistance requests this node was asked (assistance_answered_on_time_rate): none in
    # this registry either, counted all the same.
    assistance = [
        (
            "assistance",
            "end",
            [
                ({"count": "assistance"}, None),
                (
                    {"count": "assistance", "where": {"answered_on_time": True}},
                    "a.answered_on IS NOT NULL AND a.answered_on <= a.deadline",
                ),
            ],
        )
    ]
    return [
        *(spot_fields if "spot_fields" in POPULATIONS else []),
        *(assistance if "assistance" in POPULATIONS else []),
        (
            "inflow",
            "end",
            [
                ({"count": "inflow"}, None),
                ({"count": "inflow", "where": ADULT_WCBA}, WOMAN),
                ({"count": "inflow", "where": MARRIED_WCBA}, f"{WOMAN} AND {MARRIED}"),
                (
                    {"count": "inflow", "where": {**ADULT_WCBA, "valid_certificate": True}},
                    f"{WOMAN} AND {s['certificate']}",
                ),
                (
                    {"count": "inflow", "where": {**ADULT_WCBA, "verified": True}},
                    f"{WOMAN} AND {VERIFIED}",
                ),
                (
                    {"count": "inflow", "where": {**ADULT_WCBA, "verified_within_days": 30}},
                    f"{WOMAN} AND {WITHIN_30[vendor]}",
                ),
                (
                    {
                        "count": "inflow",
                        "where": {**MARRIED_WCBA, "service_in_year": "reproductive_health"},
                    },
                    f"{WOMAN} AND {MARRIED} AND {s['health']}",
                ),
                (
                    {"count": "inflow", "where": {**MARRIED_WCBA, "free_service_in_year": True}},
                    f"{WOMAN} AND {MARRIED} AND {s['free']}",
                ),
            ],
        ),
        ("inflow", "before", [({"count": "inflow", "at": "mean"}, None)]),
        (
            "outflow",
            "end",
            [
                ({"count": "outflow"}, None),
                ({"count": "outflow", "where": ADULT_WCBA}, WOMAN),
                ({"count": "outflow", "where": MARRIED_WCBA}, f"{WOMAN} AND {MARRIED}"),
                (
                    {"count": "outflow", "where": {**ADULT_WCBA, "valid_certificate": True}},
                    f"{WOMAN} AND {s['certificate']}",
                ),
            ],
        ),
        (
            "births",
            "period",
            [
                ({"count": "births"}, None),
                ({"count": "births", "where": {"sex": "1"}}, "c.sex = '1'"),
                ({"count": "births", "where": {"sex": "2"}}, "c.sex = '2'"),
            ],
        ),
    ]


def floating_sql(household: str, residence: str, districts: list[str]) -> str:
    """DESIGN.md §5: the counties differ, and not both districts of one city."""
    sql = f"SUBSTR({household}, 1, 6) <> SUBSTR({residence}, 1, 6)"
    if districts:
        assert all(code.isdigit() for code in districts)
        listed = ", ".join(f"'{code}'" for code in districts)
        sql += (
            f"\n  AND NOT (SUBSTR({household}, 1, 4) = SUBSTR({residence}, 1, 4)"
            f" AND SUBSTR({household}, 1, 6) IN ({listed})"
            f" AND SUBSTR({residence}, 1, 6) IN ({listed}))"
        )
    return sql


def baseline_sql(vendor, style, population, columns, length, districts) -> str:
    aggregates = ", ".join(
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)" if condition else "COUNT(*)"
        for _definition, condition in columns
    )
    if population == "spot_fields":
        return f"""SELECT SUBSTR(en.village_id, 1, {length}), {aggregates}
FROM stats_spotcheckresult r
JOIN stats_spotcheckentry en ON en.id = r.entry_id
WHERE en.village_id >= %(low)s AND en.village_id <= %(high)s
  AND en.visited_on >= %(year_start)s AND en.visited_on <= %(last)s
  AND r.result IN ('correct', 'incorrect')
GROUP BY SUBSTR(en.village_id, 1, {length})"""
    if population == "assistance":
        return f"""SELECT SUBSTR(a.region_id, 1, {length}), {aggregates}
FROM exchange_assistancerequest a
WHERE a.region_id >= %(low)s AND a.region_id <= %(high)s
  AND a.direction = 'incoming'
  AND a.deadline >= %(year_start)s AND a.deadline <= %(last)s
GROUP BY SUBSTR(a.region_id, 1, {length})"""
    floating = floating_sql("p.household_region_id", "e.region_id", districts)
    if population == "births":
        return f"""SELECT SUBSTR(e.region_id, 1, {length}), {aggregates}
FROM people_child c
JOIN people_person p ON p.id = c.parent_id
JOIN people_residenceepisode e ON e.person_id = c.parent_id
WHERE c.birth_date >= %(first)s AND c.birth_date <= %(last)s
  AND p.merged_into_id IS NULL
  AND e.region_id >= %(low)s AND e.region_id <= %(high)s
  AND e.arrival_date <= c.birth_date
  AND (e.departure_date IS NULL OR e.departure_date > c.birth_date)
  AND {floating}
GROUP BY SUBSTR(e.region_id, 1, {length})"""
    here = "e.region_id" if population == "inflow" else "p.household_region_id"
    text = " ".join(condition or "" for _definition, condition in columns)
    joins = ""
    if "vc." in text:
        joins += "\n" + STYLES[style]["joins"]
    if "sv." in text:
        joins += "\n" + STYLES[style]["service_join"]
    return f"""SELECT SUBSTR({here}, 1, {length}), {aggregates}
FROM people_residenceepisode e
JOIN people_person p ON p.id = e.person_id{joins}
WHERE {here} >= %(low)s AND {here} <= %(high)s
  AND e.arrival_date <= %(day)s
  AND (e.departure_date IS NULL OR e.departure_date > %(day)s)
  AND p.merged_into_id IS NULL
  AND {floating}
GROUP BY SUBSTR({here}, 1, {length})"""


class Baseline:
    """The report's counts for one region, in hand-written SQL (one query per population)."""

    def __init__(self, code: str, vendor: str, style: str):
        from liudong.regions.codes import subtree_bounds
        from liudong.regions.models import Level, Region
        from liudong.stats.definitions import parse_count
        from liudong.stats.engine import Period, years_before

        with_district = Region.objects.filter(
            code__startswith=code[:2], level=Level.COUNTY, is_district=True
        )
        districts = sorted(with_district.values_list("code", flat=True))
        length = {2: 4, 4: 6, 6: 9}[len(code)]
        period = Period(*PERIOD)
        low, high = subtree_bounds(code)
        zone = datetime.timezone(datetime.timedelta(hours=8))  # settings.TIME_ZONE, no DST

        def day_params(day: datetime.date) -> dict:
            # revoked_at__date > day, in local time: revoked at or after the next midnight.
            over = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
            over = over.replace(tzinfo=zone)
            params = {
                "low": low,
                "high": high,
                "day": day,
                "adult": years_before(day, 18),
                "fifty": years_before(day, 50),
                "year_start": period.statistical_year_start,
                "first": period.first,
                "last": period.last,
                "day_over": over,
            }
            if vendor == "sqlite":  # ISO text, as Django writes dates and UTC datetimes
                params = {k: _sqlite_value(v) for k, v in params.items()}
            return params

        days = {
            "end": period.last,
            "before": period.first - datetime.timedelta(days=1),
            "period": period.last,
        }
        self.queries = []
        for population, day, columns in populations(vendor, style):
            sql = baseline_sql(vendor, style, population, columns, length, districts)
            counts = [parse_count(definition) for definition, _condition in columns]
            self.queries.append((sql, day_params(days[day]), counts))

    def run(self) -> dict:
        """``{Count: {group: value}}``, added up as the engine adds them (a mean is half
        of each day's count)."""
        from django.db import connection, transaction

        values: dict = {}
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # as the engine runs its queries
                cursor.execute("SET LOCAL jit = off")
            for sql, params, counts in self.queries:
                for count in counts:
                    values.setdefault(count, defaultdict(float))
                cursor.execute(sql, params)
                for group, *numbers in cursor.fetchall():
                    for count, number in zip(counts, numbers, strict=True):
                        values[count][group] += number
        # The mean inflow: half the last day's count, then half the day before's.
        mean = next(c for c in values if c.mean)
        total = next(c for c in values if c.population == "inflow" and not c.where)
        halves: dict = defaultdict(float)
        for day_count in (total, mean):
            for group, number in values[day_count].items():
                halves[group] += number / 2
        return {**values, mean: halves}


def _sqlite_value(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# -- timing and checking -------------------------------------------------------------------


def check(report_data: dict, counted: dict, chosen) -> None:
    """Every indicator of every row and of the region equals what the counts give."""
    missing = set(chosen.counts()) - set(counted)
    assert not missing, f"the baseline lacks counts {missing}"
    full = {count: counted.get(count, {}) for count in chosen.counts()}
    rows = {row["region"]: row["indicators"] for row in report_data["rows"]}
    groups = {group for values in full.values() for group in values}
    assert groups <= set(rows), f"groups not in the report: {sorted(groups - set(rows))}"
    for group, indicators in rows.items():
        expected = chosen.values(full, group)
        assert indicators == expected, f"{group}: report {indicators} != baseline {expected}"
    totals = {count: {"": sum(values.values())} for count, values in full.items()}
    expected = chosen.values(totals, "")
    assert report_data["indicators"] == expected, (report_data["indicators"], expected)


def engine_queries(call) -> list[dict]:
    """Each SQL query one report runs, with its seconds (the first line names it)."""
    from django.db import connection

    seen = []

    def timer(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append({"s": round(time.perf_counter() - start, 4), "sql": sql[:90]})

    with connection.execute_wrapper(timer):
        call()
    return sorted(seen, key=lambda q: -q["s"])[:5]


def measure(code: str, vendor: str, repeats: int) -> dict:
    from liudong.actors import OPERATOR
    from liudong.stats.engine import Period
    from liudong.stats.models import Indicator
    from liudong.stats.services import IndicatorSet, monthly_report

    indicators = list(Indicator.objects.filter(standard=True).order_by("position", "code"))
    chosen = IndicatorSet(indicators)
    baselines = {style: Baseline(code, vendor, style) for style in STYLES}

    def run_report():
        return monthly_report(code, Period(*PERIOD), acting_user=OPERATOR, indicators=indicators)

    warm_s, report_data = timed(run_report)  # the warm-up, checked
    for baseline in baselines.values():
        check(report_data, baseline.run(), chosen)
    times: dict[str, list[float]] = {"report": [], **{style: [] for style in STYLES}}
    if warm_s > 10:  # a province of millions: three runs keep the bench under 15 minutes
        repeats = min(repeats, 3)
    for _ in range(repeats):
        times["report"].append(timed(run_report)[0])
        for style, baseline in baselines.items():
            times[style].append(timed(baseline.run)[0])
    medians = {name: statistics.median(values) for name, values in times.items()}
    best = min(STYLES, key=lambda style: medians[style])
    result = {
        "rows": len(report_data["rows"]),
        "inflow_total": report_data["indicators"]["inflow_total"],
        "outflow_total": report_data["indicators"]["outflow_total"],
        "births": report_data["indicators"]["births"],
        "repeats": repeats,
        "report_median_s": round(medians["report"], 4),
        "report_min_s": round(min(times["report"]), 4),
        **{f"baseline_{style}_median_s": round(medians[style], 4) for style in STYLES},
        **{f"baseline_{style}_min_s": round(min(times[style]), 4) for style in STYLES},
        "baseline": best,
        "ratio_report_to_baseline": round(medians["report"] / medians[best], 2),
        # Runs share the machine with whatever else it does: the fastest of each is the
        # figure least disturbed by it.
        "ratio_of_fastest": round(min(times["report"]) / min(times[best]), 2),
        "report_queries": engine_queries(run_report),
    }
    return result


def explain(code: str, vendor: str) -> None:
    """Print the plans of the report's grouped queries and of the baseline's (run with
    --explain): EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite."""
    from django.db import connection, transaction

    from liudong.actors import OPERATOR
    from liudong.stats.engine import Period
    from liudong.stats.services import monthly_report

    captured = []

    def grab(execute, sql, params, many, context):
        if "GROUP BY" in sql:
            captured.append(("report", sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(grab):
        monthly_report(code, Period(*PERIOD), acting_user=OPERATOR)
    for style in STYLES:
        for sql, params, _counts in Baseline(code, vendor, style).queries:
            captured.append((f"baseline ({style})", sql, params))
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "postgresql":  # as the engine and the baseline run them
            cursor.execute("SET LOCAL jit = off")
        for name, sql, params in captured:
            cursor.execute(prefix + sql, params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            print(f"--- {name} ({code}):\n{sql}\n{plan}\n", file=sys.stderr)


def table_sizes() -> dict:
    from django.db import connection

    sizes = {}
    with connection.cursor() as cursor:
        for table in (
            "people_person",
            "people_residenceepisode",
            "certificates_certificate",
            "people_heldcertificate",
            "services_servicerecord",
            "people_child",
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            sizes[table] = cursor.fetchone()[0]
    return sizes


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--large", action="store_true", help="10,000,000 persons")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--explain", action="store_true", help="print the plans at N")
    parser.add_argument("--keep", action="store_true", help="SQLite: keep the database file")
    args = parser.parse_args()
    n = 10_000_000 if args.large else args.n or 1_000_000
    sizes = [n // 4, n]
    figures: dict = {"persons": n, "seed": SEED, "period": f"{PERIOD[0]:04d}-{PERIOD[1]:02d}"}
    with fresh_django(args):
        from django.db import connection

        from liudong.regions.services import load_divisions

        load_divisions()
        vendor = connection.vendor
        registry = Registry(vendor, expected=n * 2)
        for size in sizes:
            log(f"building up to {size:,} persons")
            build_s = registry.build(size)
            finish_s = registry.finish()
            at = {
                "build_s": round(build_s, 1),
                "analyze_s": round(finish_s, 1),
                "tables": table_sizes(),
            }
            log(f"built in {build_s:.1f} s (+{finish_s:.1f} s ANALYZE): {at['tables']}")
            for name, code in REGIONS:
                at[name] = measure(code, vendor, args.repeats)
                at[name]["report_s_per_million_persons"] = round(
                    at[name]["report_median_s"] / (size / 1_000_000), 3
                )
                log(f"{name} {code}: {json.dumps(at[name])}")
            figures[f"at_{size}"] = at
        if args.explain:
            for _name, code in REGIONS:
                explain(code, vendor)
        for name, _code in REGIONS:
            figures[f"{name}_report_s_per_million"] = [
                figures[f"at_{size}"][name]["report_s_per_million_persons"] for size in sizes
            ]
            figures[f"{name}_ratio"] = [
                figures[f"at_{size}"][name]["ratio_report_to_baseline"] for size in sizes
            ]
        report("report", args, figures)
    if args.db == "sqlite" and not args.keep:
        shutil.rmtree(os.environ["LIUDONG_VAR_DIR"], ignore_errors=True)
    elif args.db == "sqlite":
        log(f"kept {os.environ['LIUDONG_VAR_DIR']}")


if __name__ == "__main__":
    main()
