"""Person search at province scale: the search box's queries, timed through the function
the person list and the API use, against a hand-written SQL query for the same page.

Builds N person files (default 1,000,000; --large: 10,000,000) with bulk SQL (COPY on
PostgreSQL, executemany on SQLite) from a fixed seed: names drawn from the census surname
shares (王, 李, 张 about 7% each, down to 诸葛 at 0.005%), residents of Zhejiang (33)
registered mostly in other provinces, some Zhejiang files living elsewhere, one open stay
each; then ANALYZE. --reuse keeps the database (PostgreSQL: liudong_bench_search_<n>;
SQLite: <tmp>/liudong_bench_search_<n>/) and reuses it when a build finished there.

Times p50/p95/p99 (ms) of one page of results (the first 50, with the capped count) for
an ID number (exact, and its first 14 characters), a name prefix (common surnames: 王, 张,
李; rare ones: 欧阳, 诸葛, 覃, 汤) and pinyin initials, for a county bureau (330106) and the
province (33): "service" is people.filters.PersonFilter over Person.objects.in_scope() and
people.paging.CappedPaginator, as the list page runs them; "baseline" the same page and
count in one hand-written SQL each; "api" a few through GET /api/persons/ (test client,
signed in). Also: the old uncounted-cap page (COUNT(*) of every match) for 王 once.
Run: .venv/bin/python bench/search.py [--db postgres] [--n 1000000 | --large] [--reuse]
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import sys
import time

from common import (
    argument_parser,
    create_with_check,
    fresh_django,
    report,
    secondary_indexes_dropped,
)

SEED = 15
BASE = 1_000_000  # PostgreSQL builds past this by copying it in SQL (replicate)
BATCH = 50_000
PAGE = 50
ACTORS = (("county", "330106"), ("province", "33"))
COMMON = ("王", "张", "李")
RARE = ("欧阳", "诸葛", "覃", "汤")
REPEATS = 60  # timed runs per query kind and actor (the queries of a kind cycle)
API_REPEATS = 30
PERSON = ("id", "id_number", "name", "name_initials", "sex", "birth_date", "marital_status")
PERSON += ("household_region_id", "residence_region_id", "is_floating", "phone")
EPISODE = ("id", "person_id", "region_id", "arrival_date")


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def built(n: int) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        if "bench_search_built" not in connection.introspection.table_names(cursor):
            return False
        cursor.execute("SELECT n FROM bench_search_built")
        row = cursor.fetchone()
    return bool(row and row[0] == n)


def weighted(pairs) -> list:
    return [value for value, weight in pairs for _ in range(max(1, round(weight * 20)))]


class Builder:
    """Person files and their open stays, from one seeded stream."""

    def __init__(self, vendor: str) -> None:
        from django.utils import timezone
        from report import DESTINATIONS, MARITAL, ORIGINS, Table, expanded

        from liudong.people.generate import _divisions
        from liudong.people.models import Person, ResidenceEpisode
        from liudong.people.population_tables import FEMALE_GIVEN, MALE_GIVEN, SURNAMES

        self.rng = random.Random(SEED)
        div = _divisions()
        self.by_province = div.townships_by_province
        self.by_county = div.townships_by_county
        self.zhejiang = self.by_province["33"]
        self.origins, self.destinations = expanded(ORIGINS), expanded(DESTINATIONS)
        self.marital = expanded(MARITAL)
        self.surnames = weighted(SURNAMES)
        self.given = {"1": MALE_GIVEN, "2": FEMALE_GIVEN}
        now = timezone.now()
        if vendor == "sqlite":
            now = now.replace(tzinfo=None)
        self.persons = Table(Person, PERSON, vendor, now)
        self.episodes = Table(ResidenceEpisode, EPISODE, vendor, now)
        self.first_day = datetime.date(1950, 1, 1).toordinal()

    def pick(self, items):
        return items[int(self.rng.random() * len(items))]

    def person(self, i: int) -> None:
        from liudong.people.idnumbers import make
        from liudong.people.services import floating, name_initials

        r = self.rng.random
        kind = r()
        if kind < 0.70:
            household = self.pick(self.by_province[self.pick(self.origins)])
            residence = self.pick(self.zhejiang)
        elif kind < 0.80:
            household, residence = self.pick(self.zhejiang), self.pick(self.zhejiang)
        elif kind < 0.95:
            household = self.pick(self.zhejiang)
            residence = self.pick(self.by_province[self.pick(self.destinations)])
        else:
            household = self.pick(self.zhejiang)
            residence = self.pick(self.by_county[household[:6]])
        sex = "1" if r() < 0.5 else "2"
        # (day, sequence) is distinct for every i below 10,000,000: distinct ID numbers.
        born = datetime.date.fromordinal(self.first_day + i % 20_000)
        id_number = make(household[:6], born, (i // 20_000) * 2 + (sex == "1"), sex)
        given = "".join(self.pick(self.given[sex]) for _ in range(1 + (r() < 0.7)))
        name = self.pick(self.surnames) + given
        phone = f"13{int(r() * 1e9):09d}"
        self.persons.rows.append(
            (
                i + 1,
                id_number,
                name,
                name_initials(name),
                sex,
                born,
                self.pick(self.marital),
                household,
                residence,
                floating(household, residence),
                phone,
            )
        )
        self.episodes.rows.append((i + 1, i + 1, residence, datetime.date(2024, 1, 1)))

    def build(self, n: int) -> float:
        from django.db import connection, transaction

        start = time.perf_counter()
        for low in range(0, n, BATCH):
            with transaction.atomic():
                for i in range(low, min(n, low + BATCH)):
                    self.person(i)
                self.persons.flush(connection.connection)
                self.episodes.flush(connection.connection)
            if low // BATCH % 20 == 0:
                log(f"{low + BATCH:,} persons")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("CREATE TABLE bench_search_built (n bigint)")
            cursor.execute("INSERT INTO bench_search_built VALUES (%s)", [n])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for table in ("people_person", "people_residenceepisode"):
                    cursor.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, n]
                    )
        return time.perf_counter() - start


def replicate(n: int) -> float:
    """PostgreSQL, past a million: persons BASE + 1 to ``n`` as copies of the first BASE
    (names, regions, dates; so each name's share of each region stays), each with an ID
    number of its own (sequence + 100 per copy, which keeps its parity and so the sex,
    and the check character computed again), and its open stay. The indexes but the keys
    are dropped for the copy and built again after: one sort each is faster than nine
    million inserts into each. Seconds taken."""
    from django.db import connection

    copies = n // BASE
    assert n % BASE == 0 and 2 <= copies <= 10, "copies of the first million, up to ten"
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute("SET synchronous_commit = off")
        create_with_check(cursor)
        with secondary_indexes_dropped(cursor, ("people_person", "people_residenceepisode")):
            shifted = {
                "id": f"p.id + k * {BASE}",
                "merged_into_id": f"p.merged_into_id + k * {BASE}",
            }
            shifted["id_number"] = "pg_temp.with_check(b.body)"
            columns = [
                c.name
                for c in connection.introspection.get_table_description(cursor, "people_person")
            ]
            cursor.execute(
                f"INSERT INTO people_person ({', '.join(columns)})"
                f" SELECT {', '.join(shifted.get(c, 'p.' + c) for c in columns)}"
                f" FROM people_person p CROSS JOIN generate_series(1, {copies - 1}) AS k"
                " CROSS JOIN LATERAL (SELECT left(p.id_number, 14)"
                " || lpad((substr(p.id_number, 15, 3)::int + 100 * k)::text, 3, '0') AS body) b"
                f" WHERE p.id <= {BASE}"
            )
            log(f"persons copied ({time.perf_counter() - start:.0f} s)")
            shifted = {"id": f"e.id + k * {BASE}", "person_id": f"e.person_id + k * {BASE}"}
            table = "people_residenceepisode"
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)})"
                f" SELECT {', '.join(shifted.get(c, 'e.' + c) for c in columns)}"
                f" FROM {table} e CROSS JOIN generate_series(1, {copies - 1}) AS k"
                f" WHERE e.person_id <= {BASE}"
            )
            log(f"stays copied ({time.perf_counter() - start:.0f} s)")
        log(f"indexes built ({time.perf_counter() - start:.0f} s)")
        cursor.execute("ANALYZE people_person")
        cursor.execute("ANALYZE people_residenceepisode")
        for table in ("people_person", "people_residenceepisode"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
        cursor.execute("UPDATE bench_search_built SET n = %s", [n])
    return time.perf_counter() - start


def quantiles(values: list[float]) -> dict:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(cuts[94], 2),
        "p99": round(cuts[98], 2),
        "runs": len(values),
    }


def timed_ms(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


class Request:
    """What PersonFilter reads from a request (the user, for the flow filter)."""

    def __init__(self, user) -> None:
        self.user = user


def service_page(user, query: str, cap: bool = True) -> tuple[int, list]:
    """The list page's work for one search: the filtered, scoped files, the capped count
    and the first page with its regions (people.views.person_list)."""
    from django.core.paginator import Paginator

    from liudong.people.filters import PersonFilter, with_open_arrival
    from liudong.people.models import Person
    from liudong.people.paging import CappedPaginator

    persons = with_open_arrival(
        Person.objects.in_scope(user)
        .active()
        .prefetch_related("household_region", "residence_region")
    )
    filtered = PersonFilter({"q": query}, queryset=persons, request=Request(user))
    paginator = (CappedPaginator if cap else Paginator)(filtered.qs, PAGE)
    page = paginator.get_page(1)
    return paginator.count, list(page.object_list)


def baseline_sql(vendor: str, region: str, query: str) -> tuple[str, str, list]:
    """A hand-written page and capped count for the same search (ID, name or initials)."""
    from liudong.people.filters import _ID_LIKE
    from liudong.regions.codes import subtree_bounds

    low, high = subtree_bounds(region)
    scope = (
        "(household_region_id BETWEEN %s AND %s OR residence_region_id BETWEEN %s AND %s)"
        " AND merged_into_id IS NULL"
    )
    params: list = [low, high, low, high]
    order = "name, id"
    if _ID_LIKE.match(query) and len(query) == 18:
        match = "id_number = %s"
        params.append(query)
    elif _ID_LIKE.match(query):
        match, order = "id_number >= %s AND id_number < %s", "name, id"
        params += [query, query + "\U0010ffff"]
    elif query.isascii():
        match, order = "name_initials >= %s AND name_initials < %s", "name_initials, name, id"
        params += [query, query + "\U0010ffff"]
    else:
        match = "name >= %s AND name < %s"
        params += [query, query + "\U0010ffff"]
    where = f"{scope} AND {match}"
    page = (
        "SELECT p.*, (SELECT arrival_date FROM people_residenceepisode e WHERE e.person_id = p.id"
        f" AND e.departure_date IS NULL LIMIT 1) FROM people_person p WHERE {where}"
        f" ORDER BY {order} LIMIT {PAGE}"
    )
    count = f"SELECT COUNT(*) FROM (SELECT 1 FROM people_person WHERE {where} LIMIT 1001) t"
    return page, count, params


def baseline_page(region: str, query: str) -> None:
    from django.db import connection

    page, count, params = baseline_sql(connection.vendor, region, query)
    with connection.cursor() as cursor:
        cursor.execute(count, params)
        cursor.fetchall()
        cursor.execute(page, params)
        cursor.fetchall()


def queries(n_sample: int = 200) -> dict[str, dict[str, list[str]]]:
    """Per actor, the search terms of each kind, from files in the actor's region."""
    from liudong.people.models import Person

    out: dict[str, dict[str, list[str]]] = {}
    for label, code in ACTORS:
        # Seeded sample of files in the region: every k-th id, not ORDER BY random().
        ids = Person.objects.in_region(code).order_by("id").values_list("id", flat=True)
        chosen = list(ids[: n_sample * 50 : 50]) or list(ids[:n_sample])
        rows = list(Person.objects.filter(id__in=chosen).values_list("id_number", "name_initials"))
        out[label] = {
            "id_exact": [r[0] for r in rows],
            "id_prefix": [r[0][:14] for r in rows],
            "name_common": list(COMMON),
            "name_rare": list(RARE),
            "initials": [r[1] for r in rows if len(r[1]) >= 2][:50],
        }
    return out


def database_time(spent: list[float]):
    """An execute wrapper adding each query's milliseconds to ``spent[0]``."""

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += (time.perf_counter() - start) * 1000

    return wrapper


def measure(users: dict, terms: dict) -> dict:
    from django.db import connection

    figures: dict = {}
    for label, code in ACTORS:
        user = users[label]
        for kind, values in terms[label].items():
            service_page(user, values[0])  # warm the caches
            baseline_page(code, values[0])
            service, in_database, baseline = [], [], []
            counts = set()
            for k in range(REPEATS):
                term = values[k % len(values)]
                spent = [0.0]
                with connection.execute_wrapper(database_time(spent)):
                    service.append(
                        timed_ms(lambda t=term, u=user, s=counts: s.add(service_page(u, t)[0]))
                    )
                in_database.append(spent[0])
                baseline.append(timed_ms(lambda t=term, c=code: baseline_page(c, t)))
            figures[f"{label}_{kind}"] = {
                "service_ms": quantiles(service),
                # Of which in the database driver (the rest: Python, the ORM, the filters).
                "service_database_ms": quantiles(in_database),
                "baseline_ms": quantiles(baseline),
                "counts_seen": sorted(counts)[:3] + (["..."] if len(counts) > 3 else []),
            }
            log(f"{label} {kind}: {figures[f'{label}_{kind}']}")
    # The page as it was before the cap: COUNT(*) of every match.
    for label, _code in ACTORS:
        uncapped = [
            timed_ms(lambda u=users[label]: service_page(u, "王", cap=False)) for _ in range(3)
        ]
        figures[f"{label}_name_common_uncapped_count_ms_median"] = round(
            statistics.median(uncapped), 1
        )
    figures["vendor"] = connection.vendor
    return figures


def past_second_factor(client, user) -> None:
    """The session as a right authenticator code leaves it (roles above a township need
    one), as the test suite's client_for does."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def api_times(users: dict, terms: dict) -> dict:
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS.append("testserver")
    figures = {}
    for label, _code in ACTORS:
        client = Client()
        client.force_login(users[label])
        past_second_factor(client, users[label])
        for kind in ("id_exact", "name_common"):
            values = terms[label][kind]
            client.get("/api/persons/", {"q": values[0]})
            times = []
            for k in range(API_REPEATS):
                term = values[k % len(values)]
                start = time.perf_counter()
                response = client.get("/api/persons/", {"q": term, "page_size": 20})
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.content[:200]
            figures[f"api_{label}_{kind}_ms"] = quantiles(times)
    return figures


def bench_users() -> dict:
    from liudong.accounts.models import User
    from liudong.accounts.services import create_user
    from liudong.actors import OPERATOR
    from liudong.regions.models import Region

    users = {}
    for label, code in ACTORS:
        username = f"bench_search_{label}"
        found = User.objects.filter(username=username).first()
        if found is None:
            found, _ = create_user(
                acting_user=OPERATOR,
                username=username,
                role="county",
                region=Region.objects.get(code=code),
                must_change_password=False,
            )
        users[label] = found
    return users


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--large", action="store_true", help="10,000,000 persons")
    parser.add_argument("--reuse", action="store_true", help="keep and reuse the database")
    args = parser.parse_args()
    n = 10_000_000 if args.large else args.n or 1_000_000
    with fresh_django(args, keep_as=f"liudong_bench_search_{n}"):
        from django.db import connection

        from liudong.people.models import Person

        build_s = None
        copying = connection.vendor == "postgresql" and n > BASE
        if not built(n):
            if not (copying and built(BASE)):
                if Person.objects.exists():
                    raise SystemExit("the kept database holds an unfinished build: drop it")
                from liudong.regions.services import load_divisions

                load_divisions()
                log(f"building {min(n, BASE) if copying else n:,} persons on {connection.vendor}")
                build_s = Builder(connection.vendor).build(min(n, BASE) if copying else n)
                log(f"built in {build_s:.0f} s")
            if copying:
                log(f"copying up to {n:,} persons")
                build_s = (build_s or 0) + replicate(n)
                log(f"built in {build_s:.0f} s")
        if build_s is None:
            # A kept database: fresh planner statistics, as a migration may have changed
            # what they hold (people 0009: a finer histogram of names on PostgreSQL).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE people_person")
        users = bench_users()
        terms = queries()
        figures = {"persons": n, "build_s": build_s and round(build_s), "page_size": PAGE}
        # The machine is shared: the load around the timing says how far to trust it.
        figures["load_average_before"] = round(os.getloadavg()[0], 2)
        figures.update(measure(users, terms))
        figures.update(api_times(users, terms))
        figures["load_average_after"] = round(os.getloadavg()[0], 2)
        report(f"search-{n}", args, figures)


if __name__ == "__main__":
    main()
