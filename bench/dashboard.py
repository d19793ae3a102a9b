"""The dashboard and the monthly reports read from the pre-counted store, against the live
engine in the same run (issue 15), and the time from a change to its figure being fresh.

Builds the registry of bench/report.py (its Registry, the same seed: N persons, 1,000,000 by
default, 10,000,000 with --large) in a database of its own, kept with --reuse
(PostgreSQL: liudong_bench_dash_<N>; SQLite: var/bench-dash-<N>/) so a second run, and
bench/load.py, skip the build. Then, after ANALYZE:

1. builds the store from scratch (`liudong stats rebuild`, a subprocess, timed: the cold
   build cost);
2. asserts that the store and the live engine (LIUDONG_STATS_STORE=off) give identical
   figures: the province report "33" and the county report "330106" of the bench period
   (2026-10), every indicator of the region and of every row;
3. times the province and county reports in this process, read from the store and live:
   cold (the first call on a new database connection) and warm (REQUESTS calls, p50/p95/p99;
   live: BASELINE calls);
4. times the dashboard over HTTP, signed in (password, then the TOTP code computed from the
   device key as a phone would), on a real `liudong serve` started by this script: cold (the
   first request after the server starts) and warm (p50/p95/p99), for the province (a
   provincial bureau's administrator) and the county, with the store and then with a server
   started with LIUDONG_STATS_STORE=off (the baseline);
5. with `liudong worker` running, registers an arrival in county 330106 through the service
   function and polls the store until the county's figure for the current month moves: the
   seconds from the change to a fresh figure.

The machine's load average is recorded at each step (other work on the machine shows there).
Run: .venv/bin/python bench/dashboard.py [--db postgres] [--n 1000000 | --large] [--reuse]
    [--keep-store] [--requests 50] [--baseline 3] [--changes 3] [--port 8765]
Results: bench/results/dashboard-<db>.json.
Goals: dashboard p95 <= 200 ms and province report <= 1 s at 10,000,000 persons on
PostgreSQL; dashboard p95 <= 300 ms at 1,000,000 on SQLite; a change fresh within 60 s.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from common import ROOT, argument_parser, fresh_django, report
from report import PERIOD, Registry, log, replicate, table_sizes

REGIONS = (("province", "33"), ("county", "330106"))
REQUESTS = 50  # warm requests per timed page, read from the store
BASELINE = 3  # warm requests of the live engine (a province dashboard counts for a minute)
PASSWORD = "bench-Pass-2026-long"  # noqa: S105 (accounts of a throw-away database)
LIUDONG = str(Path(sys.executable).with_name("liudong"))
FRESH_LIMIT_S = 300  # give up waiting for a fresh figure after this long


# -- the kept database ---------------------------------------------------------------------


def var_dir(args, n: int) -> Path:
    """The var/ folder of the bench database: the SQLite file, the audit key and anchors."""
    return ROOT / "var" / f"bench-dash-{args.db}-{n}"


@contextlib.contextmanager
def kept_django(args, n: int) -> Iterator[None]:
    """Django pointed at the bench database of N persons (with --reuse: kept, and built
    once), migrated (common.fresh_django)."""
    with fresh_django(args, keep_as=f"liudong_bench_dash_{n}", folder=var_dir(args, n)):
        yield


def ensure_registry(n: int, copy_from: int = 0) -> dict:
    """The registry of N persons: built unless a whole one is there already (the build is
    one transaction, so a database holds all N persons or none). With ``copy_from``
    (PostgreSQL), the first ``copy_from`` persons are built and the rest copied from them
    in SQL (report.replicate). Figures of the build."""
    from django.db import connection

    from liudong.people.models import Person
    from liudong.regions.services import load_divisions

    vendor = connection.vendor
    there = Person.objects.count()
    registry = None
    figures: dict = {}
    # A kept registry may hold the arrivals earlier runs' freshness step registered (after
    # the bench period: its figures stay those of bench/report.py's registry).
    if there >= n and Person.objects.filter(pk__lte=n).count() == n:
        log(f"reusing the registry of {n:,} persons (+{there - n} arrivals of earlier runs)")
        figures["reused"] = True
    else:
        assert there == 0, (
            f"{there:,} persons in the bench database: an unfinished build: drop the database"
        )
        load_divisions()
        registry = Registry(vendor, expected=n * 2)
        built = copy_from if copy_from and vendor == "postgresql" else n
        log(f"building {built:,} persons")
        figures["build_s"] = round(registry.build(built), 1)
        if built < n:
            log(f"copying them to {n:,}")
            figures["copied_from"] = built
            figures["copy_s"] = round(replicate(built, n), 1)
    if registry is None:  # ANALYZE again: migrations since may have added indexes
        from django.db import connection as conn

        start = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.execute("ANALYZE")
        figures["analyze_s"] = round(time.perf_counter() - start, 1)
    else:
        figures["analyze_s"] = round(registry.finish(), 1)
    figures["villages"] = len(villages())
    figures["tables"] = table_sizes()
    log(f"registry ready: {figures}")
    return figures


# Counties whose staff bench/load.py simulates; their first townships get villages (the
# registry files residents at townships) so a village collector has files of her own.
STAFF_COUNTIES = ("330106", "330102", "330108")
TOWNSHIPS_WITH_VILLAGES = 3
VILLAGES = 4


def villages() -> list[str]:
    """Villages under the first townships of STAFF_COUNTIES, with the residents of the
    township (their files and open stays) spread over them by id; made once, idempotent.
    Every report at township level or above keeps its figures: the villages lie inside the
    townships, and the county of residence, so floating or not, stays the same."""
    from django.db import connection, transaction

    from liudong.regions.codes import Level
    from liudong.regions.models import Region

    codes = []
    with transaction.atomic():
        for county in STAFF_COUNTIES:
            townships = Region.objects.filter(parent_id=county).order_by("code")
            for township in townships[:TOWNSHIPS_WITH_VILLAGES]:
                made = [f"{township.code}{i:03d}" for i in range(1, VILLAGES + 1)]
                codes += made
                if Region.objects.filter(code=made[0]).exists():
                    continue
                Region.objects.bulk_create(
                    Region(
                        code=code,
                        name=f"{township.name}第{i}村",
                        level=Level.VILLAGE,
                        parent=township,
                    )
                    for i, code in enumerate(made, start=1)
                )
                with connection.cursor() as cursor:
                    for i, code in enumerate(made):
                        cursor.execute(
                            "UPDATE people_person SET residence_region_id = %s"
                            " WHERE residence_region_id = %s AND id %% %s = %s",
                            [code, township.code, VILLAGES, i],
                        )
                        cursor.execute(
                            "UPDATE people_residenceepisode SET region_id = %s"
                            " WHERE region_id = %s AND departure_date IS NULL"
                            " AND person_id %% %s = %s",
                            [code, township.code, VILLAGES, i],
                        )
    return codes


def load() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# -- accounts and signing in ---------------------------------------------------------------


def staff(prefix: str, role: str, regions: list[str], count: int) -> list[dict]:
    """``count`` accounts named prefix-1.. of ``role``, spread over ``regions``, with the
    bench password and, for the roles that need one, a confirmed TOTP device (a fresh key
    each run). Made in bulk (one password hash for all), so 1,000 take a second."""
    from django.contrib.auth.hashers import make_password
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from liudong.accounts.models import User
    from liudong.accounts.roles import second_factor_required

    names = [f"{prefix}-{i}" for i in range(1, count + 1)]
    hashed = make_password(PASSWORD)
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        User(
            username=name,
            password=hashed,
            role=role,
            region_id=regions[i % len(regions)],
            must_change_password=False,
        )
        for i, name in enumerate(names)
        if name not in existing
    )
    users = list(User.objects.filter(username__in=names).order_by("pk"))
    User.objects.filter(pk__in=[u.pk for u in users]).update(password=hashed)
    accounts = []
    needs_key = [u for u in users if second_factor_required(u)]
    TOTPDevice.objects.filter(user__in=users).delete()
    devices = TOTPDevice.objects.bulk_create(
        TOTPDevice(user=u, name="bench phone", confirmed=True) for u in needs_key
    )
    keys = {d.user_id: d.key for d in devices}
    for u in users:
        accounts.append(
            {
                "username": u.username,
                "password": PASSWORD,
                "role": role,
                "region": u.region_id,
                "key": keys.get(u.pk),
            }
        )
    return accounts


def totp_code(key: str) -> str:
    """The code a phone shows now for a device key (hex, as django-otp keeps it)."""
    from django_otp.oath import TOTP

    totp = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time()
    return f"{totp.token():06d}"


def form_token(html: str) -> str:
    """The CSRF token of the form on a page (the cookie is HttpOnly, as in a browser)."""
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, "no form on the page"
    return found.group(1)


def sign_in(session, base: str, account: dict) -> None:
    """Password, then the code from the authenticator when the account has one."""
    page = session.get(f"{base}/accounts/login/", timeout=60)
    page.raise_for_status()
    answer = session.post(
        f"{base}/accounts/login/",
        data={
            "username": account["username"],
            "password": account["password"],
            "csrfmiddlewaretoken": form_token(page.text),
        },
        timeout=60,
    )
    answer.raise_for_status()
    if account.get("key"):
        # A code is accepted once (replay refused): a second sign-in of the same account
        # within one 30-s step waits for the next code, as a person would.
        while int(time.time() // 30) == account.get("step"):
            time.sleep(0.5)
        account["step"] = int(time.time() // 30)
        answer = session.post(
            answer.url,  # the code page, with its ?next=
            data={
                "code": totp_code(account["key"]),
                "csrfmiddlewaretoken": form_token(answer.text),
            },
            timeout=60,
        )
        answer.raise_for_status()
    assert "/accounts/" not in answer.url, f"{account['username']} not signed in: {answer.url}"


# -- servers and workers -------------------------------------------------------------------


def logfile(name: str):
    """What a server or worker says goes to a file in the bench's var/ (a pipe nobody
    reads would fill up and stop it)."""
    path = Path(os.environ["LIUDONG_VAR_DIR"]) / "logs" / f"{name}.log"
    path.parent.mkdir(exist_ok=True)
    return path.open("ab")


def tail(handle) -> str:
    handle.flush()
    return Path(handle.name).read_bytes()[-2000:].decode(errors="replace")


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]


@contextlib.contextmanager
def server(port: int, *, store: str = "on", extra: list[str] | None = None, **env: str):
    """`liudong serve` in a subprocess (the production server), until it answers."""
    import requests

    environment = {**os.environ, "LIUDONG_STATS_STORE": store, **env}
    command = [LIUDONG, "serve", "--host", "127.0.0.1", "--port", str(port), *(extra or [])]
    said = logfile(f"serve-{port}")
    process = subprocess.Popen(command, env=environment, stdout=said, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"liudong serve ended: {tail(said)}"
            try:
                if requests.get(f"{base}/accounts/login/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "liudong serve did not answer within 120 s"
            time.sleep(0.2)
        yield base, process
    finally:
        stop(process)
        said.close()


@contextlib.contextmanager
def worker(**env: str) -> Iterator[subprocess.Popen | None]:
    """`liudong worker` in a subprocess (the statistics refresher among its jobs); None on
    a branch that has no worker command yet."""
    from django.core.management import get_commands

    if "worker" not in get_commands():
        log("no `liudong worker` on this branch: running without it")
        yield None
        return
    environment = {**os.environ, **env}
    said = logfile("worker")
    process = subprocess.Popen(
        [LIUDONG, "worker"], env=environment, stdout=said, stderr=subprocess.STDOUT
    )
    try:
        time.sleep(2)
        if process.poll() is not None:
            raise AssertionError(f"liudong worker ended: {tail(said)}")
        yield process
    finally:
        stop(process)
        said.close()


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (a clean stop), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- timing --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary(cold: float, warm: list[float]) -> dict:
    ms = [round(s * 1000, 1) for s in warm]
    if not ms:  # --baseline 0: the live engine's first call only
        return {"cold_ms": round(cold * 1000, 1), "warm_n": 0}
    return {
        "cold_ms": round(cold * 1000, 1),
        "warm_n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms),
    }


def time_calls(call, warm: int) -> dict:
    start = time.perf_counter()
    call()
    cold = time.perf_counter() - start
    times = []
    for _ in range(warm):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return summary(cold, times)


@contextlib.contextmanager
def store_mode(mode: str) -> Iterator[None]:
    from django.test import override_settings

    with override_settings(STATS_STORE=mode):
        yield


def report_of(code: str, period) -> dict:
    from liudong.actors import OPERATOR
    from liudong.stats.services import monthly_report

    return monthly_report(code, period, acting_user=OPERATOR)


def store_state() -> dict:
    """What the store holds: months, counts (ready or not), cells, marks waiting."""
    from liudong.stats.store.models import StoreCell, StoredCount, StoredMonth, StoreMark

    return {
        "months": sorted(StoredMonth.objects.values_list("month", flat=True)),
        "counts": StoredCount.objects.count(),
        "counts_not_ready": StoredCount.objects.filter(ready=False).count(),
        "cells": StoreCell.objects.count(),
        "marks": StoreMark.objects.count(),
    }


def check_stored(period) -> dict:
    """The store holds the month and every count is ready: a read of it is a read of the
    store, not the live engine's fallback (else a comparison would prove nothing)."""
    state = store_state()
    assert str(period) in state["months"], f"{period} not stored: {state['months']}"
    assert state["counts"] and not state["counts_not_ready"], state
    return state


def compare(code: str, period) -> dict:
    """The store's report equals the live engine's: every indicator, every row."""
    check_stored(period)
    with store_mode("on"):
        stored = report_of(code, period)
    with store_mode("off"):
        live = report_of(code, period)
    assert stored["indicators"] == live["indicators"], (code, stored["indicators"], live)
    assert len(stored["rows"]) == len(live["rows"]), code
    for mine, theirs in zip(stored["rows"], live["rows"], strict=True):
        assert mine == theirs, f"{code}: store {mine} != live {theirs}"
    return {
        "rows": len(live["rows"]),
        "indicators": len(live["indicators"]),
        "inflow_total": live["indicators"].get("inflow_total"),
        "identical": True,
    }


def queries(period) -> dict:
    """SQL queries of one dashboard (the service function behind the page) and of one
    report, read from the store, by a province and a county administrator."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from liudong.accounts.models import User
    from liudong.stats.services import dashboard

    counted = {}
    for name, code in REGIONS:
        user = User.objects.get(username=f"bench-{name}-1")
        with store_mode("on"):
            with CaptureQueriesContext(connection) as seen:
                dashboard(code, period, acting_user=user, indicator_code="")
            counted[f"{name}_dashboard"] = len(seen.captured_queries)
            with CaptureQueriesContext(connection) as seen:
                report_of(code, period)
            counted[f"{name}_report"] = len(seen.captured_queries)
    log(f"queries: {counted}")
    return counted


def time_reports(period, warm: int, baseline: int) -> dict:
    from django.db import connections

    figures = {}
    for name, code in REGIONS:
        for mode, runs in (("store", warm), ("live", baseline)):
            connections.close_all()  # cold: the first call on a new connection
            with store_mode("on" if mode == "store" else "off"):
                figures[f"{name}_report_{mode}"] = time_calls(
                    lambda c=code: report_of(c, period), runs
                )
            log(f"{name} report ({mode}): {figures[f'{name}_report_{mode}']}")
    return figures


def time_dashboards(args, admins: dict, warm: int, store: str) -> dict:
    """Cold and warm dashboards over HTTP on a server started for the purpose."""
    import requests

    figures = {}
    # The live engine takes minutes for a province dashboard: no time limit for the baseline.
    limits = {"LIUDONG_REQUEST_SECONDS": "3600"} if store == "off" else {}
    for name, code in REGIONS:
        with server(free_port(args.port), store=store, **limits) as (base, _process):
            session = requests.Session()
            sign_in(session, base, admins[name])
            url = f"{base}/stats/dashboard/?region={code}&period={PERIOD[0]:04d}-{PERIOD[1]:02d}"

            def get(session=session, url=url) -> None:
                page = session.get(url, timeout=3600)
                assert page.status_code == 200 and "/stats/dashboard/" in page.url, page.url

            mode = "store" if store == "on" else "live"
            figures[f"{name}_dashboard_{mode}"] = time_calls(get, warm)
            log(f"{name} dashboard ({mode}): {figures[f'{name}_dashboard_{mode}']}")
    return figures


def rebuild() -> dict:
    """`liudong stats rebuild` from scratch, as an administrator runs it (before the
    command exists: the refresher, which builds every month not stored yet)."""
    from django.core.management import get_commands

    start = time.perf_counter()
    if "stats_rebuild" not in get_commands():
        from liudong.stats.store import refresh
        from liudong.stats.store.models import StoreMark

        # Marks made before a build from scratch are counted by it (the registry's own
        # build marks every county): dropped as a rebuild drops them.
        last = StoreMark.objects.order_by("-id").values_list("id", flat=True).first() or 0
        said = json.dumps(refresh())
        StoreMark.objects.filter(id__lte=last).delete()
        how = "liudong.stats.store.refresh()"
    else:
        done = subprocess.run(
            [LIUDONG, "stats", "rebuild"], env=dict(os.environ), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]
        said, how = done.stdout.strip(), "liudong stats rebuild"
    seconds = time.perf_counter() - start
    log(f"{how}: {seconds:.1f} s")
    return {"rebuild_s": round(seconds, 1), "by": how, "output": said[-600:]}


def freshness(county: str = "330106") -> dict:
    """An arrival registered in the county through the service function; with `liudong
    worker` running, seconds until the store's figure for the current month moves."""
    import random

    from django.utils import timezone

    from liudong.actors import OPERATOR
    from liudong.people.idnumbers import make
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region
    from liudong.stats.engine import Period

    today = timezone.localdate()
    period = Period(today.year, today.month)
    township = Region.objects.filter(parent_id=county).order_by("code").first()
    household = Region.objects.filter(code__startswith="410102", code__regex=r"^\d{9}$").first()
    assert township is not None and household is not None
    rng = random.Random()
    while True:  # an ID number nobody in the registry holds
        born = datetime.date(1990, 1, 1) + datetime.timedelta(days=rng.randrange(3000))
        id_number = make(household.code[:6], born, rng.randrange(500) * 2 + 1, "1")
        if not Person.objects.filter(id_number=id_number).exists():
            break

    def figure() -> float:
        with store_mode("on"):
            return report_of(county, period)["indicators"]["inflow_total"]

    check_stored(period)
    with worker():
        from liudong.stats.store.models import StoreMark

        waited = time.perf_counter()
        while StoreMark.objects.exists():  # earlier changes counted first: this one alone
            assert time.perf_counter() - waited < FRESH_LIMIT_S, "marks left uncounted"
            time.sleep(0.5)
        before = figure()
        start = time.perf_counter()
        register_arrival(
            acting_user=OPERATOR,
            person=Person(
                id_number=id_number,
                name="新来者",
                sex="1",
                birth_date=born,
                marital_status="10",
                household_region=household,
            ),
            region=township,
            arrival_date=today,
        )
        changed = time.perf_counter()
        polls = 0
        while True:
            polls += 1
            now = figure()
            if now != before:
                break
            assert time.perf_counter() - start < FRESH_LIMIT_S, "the figure never moved"
            time.sleep(0.5)
        fresh = time.perf_counter() - start
    result = {
        "period": str(period),
        "waited_for_earlier_marks_s": round(start - waited, 1),
        "before": before,
        "after": now,
        "change_s": round(changed - start, 3),
        "fresh_s": round(fresh, 1),
        "polls": polls,
    }
    log(f"freshness: {result}")
    return result


def store_ready() -> bool:
    return importlib.util.find_spec("liudong.stats.store") is not None


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--large", action="store_true", help="10,000,000 persons")
    parser.add_argument("--reuse", action="store_true", help="keep the database, build once")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--baseline", type=int, default=BASELINE)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--changes", type=int, default=3, help="changes timed to freshness")
    parser.add_argument(
        "--keep-store", action="store_true", help="with --reuse: keep the store built before"
    )
    parser.add_argument("--build-only", action="store_true", help="build the registry, stop")
    parser.add_argument(
        "--copy-from",
        type=int,
        default=None,
        help="PostgreSQL: build this many persons and copy them in SQL up to N "
        "(default with --large: 1,000,000; 0: build all N in Python)",
    )
    args = parser.parse_args()
    n = 10_000_000 if args.large else args.n or 1_000_000
    figures: dict = {
        "persons": n,
        "period": f"{PERIOD[0]:04d}-{PERIOD[1]:02d}",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    loads: dict[str, list[float]] = {"start": load()}
    with kept_django(args, n):
        from liudong.stats.engine import Period

        copy_from = (
            args.copy_from if args.copy_from is not None else (1_000_000 if args.large else 0)
        )
        figures["registry"] = ensure_registry(n, copy_from)
        if args.build_only:
            return
        period = Period(*PERIOD)
        admins = {
            "province": staff("bench-province", "county", ["33"], 1)[0],
            "county": staff("bench-county", "county", ["330106"], 1)[0],
        }
        if not store_ready():
            log("no liudong.stats.store on this branch: timing the live engine only")
            figures["store"] = "missing"
        else:
            loads["rebuild"] = load()
            if args.keep_store:
                # The store an earlier run built (its rebuild time is in that run's JSON);
                # marks left since are counted first, as the worker would.
                from liudong.stats.store import refresh

                figures["store_build"] = {"kept": True, "refresh": refresh()}
            else:
                figures["store_build"] = rebuild()
            state = store_state()
            figures["store_build"].update(
                {
                    **state,
                    "months": len(state["months"]),
                    "first_month": state["months"][0],
                    "last_month": state["months"][-1],
                }
            )
            for name, code in REGIONS:
                figures[f"{name}_identical"] = compare(code, period)
                log(f"{name} {code}: store == live {figures[f'{name}_identical']}")
            figures["queries"] = queries(period)
        loads["reports"] = load()
        figures.update(time_reports(period, args.requests, args.baseline))
        loads["dashboards"] = load()
        if store_ready():
            figures.update(time_dashboards(args, admins, args.requests, "on"))
        figures.update(time_dashboards(args, admins, args.baseline, "off"))
        from django.core.management import get_commands

        if store_ready() and "worker" in get_commands():
            loads["freshness"] = load()
            # A few changes one after another: where each falls in the worker's round varies.
            runs = [freshness() for _ in range(args.changes)]
            figures["freshness"] = {
                "fresh_s": [r["fresh_s"] for r in runs],
                "max_fresh_s": max(r["fresh_s"] for r in runs),
                "runs": runs,
            }
        loads["end"] = load()
        figures["loadavg"] = loads
        report("dashboard", args, figures)


if __name__ == "__main__":
    main()
