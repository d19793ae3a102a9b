"""Staff of several roles against the production server, with locust (issue 15).

Starts `liudong serve` (the production server, default workers and threads) and
`liudong worker` (the statistics refresher, deliveries, anchors) on the registry of
bench/dashboard.py (1,000,000 persons; the same kept database with --reuse), and drives
them with locust, headless, from bench/locustfile.py: USERS simulated staff, each signing
in once (password, and a TOTP code computed from the device key for the county role),
then making requests with THINK seconds between two (a person reading a page) for
MINUTES minutes. The accounts are made in the bench database: village collectors in the
villages dashboard.py adds, township specialists and county administrators of three
counties (330106, 330102, 330108), each with files of its region to search for and open.

| role (share of users)      | ID search | name | file | worklist | dashboard | report | API |
| --------------------------- | --------- | ---- | ---- | -------- | --------- | ------ | --- |
| village collector (60%)     | 30        | 15   | 30   | 20       | -         | -      | 5   |
| township specialist (30%)   | 20        | 15   | 25   | 10       | 10        | 10     | 10  |
| county administrator (10%)  | 10        | 10   | 15   | -        | 25        | 20     | 20  |

(weights of a role's requests; a search is the list page's htmx request for ?q=, a file
is /people/<id>/ (an audit entry each), the dashboard and the report are the user's own
region for last month, the API list is /api/persons/ or /api/episodes/, page 1.)

Records p50/p95/p99 and errors per request type (a non-200 answer or a redirect to the
sign-in page is an error), the total, the machine's load average and CPU use from
/proc/loadavg and /proc/stat every 5 s, the CPU seconds of each party (locust, server,
worker, PostgreSQL) from /proc/<pid>/stat, and how long the server takes to answer
/healthz quickly once the clients stop.
Run: .venv/bin/pip install -e '.[bench]'  (locust)
     .venv/bin/python bench/load.py [--users 200] [--minutes 3] [--db postgres]
        [--n 1000000] [--reuse]
Results: bench/results/load-<db>-<users>.json.
Goal: 200 users, p95 <= 300 ms, 0 errors on a 2-core machine (PostgreSQL).
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import RESULTS, ROOT, argument_parser
from dashboard import (
    PERIOD,
    STAFF_COUNTIES,
    ensure_registry,
    free_port,
    kept_django,
    load,
    server,
    staff,
    stop,
    villages,
    worker,
)
from report import log

SHARES = {"collector": 6, "township": 3, "county": 1}  # of the users, in tenths
THINK = (2.0, 6.0)  # seconds between two requests of one user, uniform
SAMPLES = 60  # files of its region each account searches for and opens
LOCUST = str(Path(sys.executable).with_name("locust"))


def samples(region: str) -> dict:
    """Files living in the region: ID numbers, names and ids to search for and open."""
    rows: list = []
    for scope in (region, region[:9], region[:6]):  # a small registry leaves villages empty
        rows = rows or rows_in(scope)
    assert rows, f"no files in {region}"
    return {
        "pks": [r[0] for r in rows],
        "ids": [r[1] for r in rows],
        # Full names and surnames as staff type them (the registry has few names).
        "names": sorted({r[2] for r in rows} | {r[2][0] for r in rows}),
    }


def rows_in(region: str) -> list:
    from liudong.people.models import Person
    from liudong.regions.codes import subtree_bounds

    low, high = subtree_bounds(region)
    return list(
        Person.objects.filter(
            residence_region_id__gte=low, residence_region_id__lte=high, merged_into=None
        )
        .order_by("id")
        .values_list("id", "id_number", "name")[: SAMPLES * 20 : 20]
    )


def grids(collectors: list[dict]) -> dict[str, int]:
    """One grid per village, its collectors named; the grid's id by village."""
    from liudong.accounts.models import User
    from liudong.regions.models import Grid, Region

    by_village: dict[str, int] = {}
    for code in villages():
        grid = Grid.objects.filter(region_id=code, name=f"bench {code}").first()
        if grid is None:
            grid = Grid.objects.create(region=Region.objects.get(code=code), name=f"bench {code}")
            grid.areas.add(code)
        names = [a["username"] for a in collectors if a["region"] == code]
        grid.collectors.set(User.objects.filter(username__in=names))
        by_village[code] = grid.pk
    return by_village


def plan(users: int) -> dict:
    """The accounts (enough for every simulated user of its role) and what each asks for."""
    from liudong.regions.models import Region

    village_codes = villages()
    townships = sorted({code[:9] for code in village_codes})
    counts = {role: math.ceil(users * share / 10) + 2 for role, share in SHARES.items()}
    accounts = {
        "collector": staff("bench-collector", "collector", village_codes, counts["collector"]),
        "township": staff("bench-township", "township", townships, counts["township"]),
        "county": staff("bench-county-admin", "county", list(STAFF_COUNTIES), counts["county"]),
    }
    by_village = grids(accounts["collector"])
    cache: dict[str, dict] = {}
    for role, listed in accounts.items():
        for account in listed:
            region = account["region"]
            if region not in cache:
                cache[region] = samples(region)
            account["samples"] = cache[region]
            if role == "collector":
                account["grid"] = by_village[region]
            elif role == "township":
                account["grid"] = by_village[f"{region}001"]
    assert Region.objects.filter(code__in=STAFF_COUNTIES).count() == len(STAFF_COUNTIES)
    return {"accounts": accounts, "weights": SHARES, "think": THINK}


def profile(planned: dict) -> dict:
    """Each request type once in this process (Django's test client, signed in as a
    township specialist, whose region holds villages): its SQL queries and milliseconds,
    the second of two calls. Where a request's time goes, without the load."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from liudong.accounts.models import User

    account = planned["accounts"]["township"][0]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=account["username"]))
    picked = account["samples"]
    htmx = {"HTTP_HX_REQUEST": "true"}
    pages = {
        "search by ID number": (f"/people/?q={picked['ids'][0]}", htmx),
        "search by name": (f"/people/?q={picked['names'][-1]}", htmx),
        "open a file": (f"/people/{picked['pks'][0]}/", {}),
        "worklist": (f"/worklist/{account['grid']}/", {}),
        "dashboard": ("/stats/dashboard/", {}),
        "monthly report": ("/stats/report/", {}),
        "API list (persons)": ("/api/persons/", {}),
        "API list (episodes)": ("/api/episodes/", {}),
    }
    measured = {}
    for name, (url, headers) in pages.items():
        client.get(url, **headers)
        with CaptureQueriesContext(connection) as seen:
            start = time.perf_counter()
            answer = client.get(url, **headers)
            seconds = time.perf_counter() - start
        measured[name] = {
            "status": answer.status_code,
            "queries": len(seen.captured_queries),
            "ms": round(seconds * 1000, 1),
            "slowest_query_ms": round(
                max((float(q["time"]) for q in seen.captured_queries), default=0) * 1000, 1
            ),
        }
    log(f"one request of each type: {measured}")
    return measured


# -- the machine ---------------------------------------------------------------------------


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def processes() -> dict[int, tuple[int, str, int, int]]:
    """pid: (parent, command name, CPU jiffies used, jiffies of its ended children) of
    every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 2 :].split()
        found[int(entry.name)] = (
            int(rest[1]),
            name,
            int(rest[11]) + int(rest[12]),
            int(rest[13]) + int(rest[14]),
        )
    return found


def party_cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each process tree in ``roots``, and by PostgreSQL: its
    processes and those ended (a backend's time goes to the postmaster's children's when
    it ends; every database of the server, so other work on the machine counts too)."""
    table = processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _name, _used, _ended) in table.items():
        children.setdefault(parent, []).append(pid)
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for party, root in roots.items():
        total, todo = 0, [root]
        while todo:
            pid = todo.pop()
            if pid in table:
                total += table[pid][2]
                todo += children.get(pid, [])
        used[party] = total / ticks
    postgres = {pid for pid, row in table.items() if row[1].startswith("postgres")}
    used["postgresql"] = (
        sum(table[pid][2] for pid in postgres)
        + sum(table[pid][3] for pid in postgres if table[pid][0] not in postgres)
    ) / ticks
    return used


class Sampler(threading.Thread):
    """Load average and CPU use every 5 s while the clients run."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[dict] = []
        self.halt = threading.Event()
        self.roots: dict[str, int] = {}
        self.last: dict[str, float] = {}

    def run(self) -> None:
        busy, total = cpu_times()
        while not self.halt.wait(5):
            now_busy, now_total = cpu_times()
            share = (now_busy - busy) / max(1, now_total - total)
            busy, total = now_busy, now_total
            self.samples.append({"load1": load()[0], "cpu_percent": round(100 * share, 1)})
            if self.roots:
                self.last = party_cpu(self.roots)


def recovery(base: str) -> float:
    """Seconds from the clients' stop until /healthz (or the sign-in page before the
    server branch) answers within a second."""
    import requests

    start = time.perf_counter()
    while time.perf_counter() - start < 600:
        for path in ("/healthz", "/accounts/login/"):
            try:
                if requests.get(base + path, timeout=1).status_code == 200:
                    return round(time.perf_counter() - start, 2)
            except requests.RequestException:
                pass
        time.sleep(0.5)
    return -1.0


# -- the run -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(len(ordered) * q / 100)) - 1], 1)


def exact(path: Path, seconds: float) -> dict:
    """Percentiles per request type from every request's time (bench/locustfile.py), and
    for all pages apart from the sign-in steps together; the same again for the requests
    made once every user had started (after the sign-in rush) under "steady"."""
    data = json.loads(path.read_text())
    spawned = data["spawned_s"] or 0.0

    def figures(rows: list[list[float]], span: float) -> dict:
        times = [r[1] for r in rows]
        return {
            "requests": len(times),
            "errors": int(sum(r[2] for r in rows)),
            "p50_ms": percentile(times, 50),
            "p95_ms": percentile(times, 95),
            "p99_ms": percentile(times, 99),
            "max_ms": round(max(times), 1),
            "per_s": round(len(times) / max(span, 1), 2),
        }

    def grouped(rows_by_type: dict[str, list], span: float) -> dict:
        groups = dict(rows_by_type)
        groups["all pages but sign-in"] = [
            r for name, rows in rows_by_type.items() if not name.startswith("sign in") for r in rows
        ]
        groups["all"] = [r for rows in rows_by_type.values() for r in rows]
        return {name: figures(rows, span) for name, rows in groups.items() if rows}

    result = grouped(data["times"], seconds)
    steady = {name: [r for r in rows if r[0] >= spawned] for name, rows in data["times"].items()}
    result["steady"] = grouped(steady, seconds - spawned)
    result["steady"]["from_s"] = spawned
    return result


def read_stats(prefix: str) -> tuple[dict, list[dict]]:
    per_type = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            per_type[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "errors": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
                "max_ms": round(float(row["Max Response Time"] or 0), 1),
                "per_s": round(float(row["Requests/s"] or 0), 2),
            }
    with open(f"{prefix}_failures.csv", encoding="utf-8") as handle:
        failures = [
            {"type": r["Name"], "error": r["Error"][:200], "count": int(r["Occurrences"])}
            for r in csv.DictReader(handle)
        ]
    return per_type, failures


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument(
        "--spawn-rate", type=float, default=None, help="users started a second (users/30)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database, build once")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    n = args.n or 1_000_000
    # Everybody signed in within 30 s: a morning rush, then the steady figures.
    args.spawn_rate = args.spawn_rate or max(1.0, args.users / 30)
    figures: dict = {
        "benchmark": "load",
        "database": args.db,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "persons": n,
        "users": args.users,
        "minutes": args.minutes,
        "spawn_rate": args.spawn_rate,
        "think_s": THINK,
        "shares": SHARES,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_before": load(),
    }
    with kept_django(args, n):
        figures["registry"] = ensure_registry(n)
        work = Path(tempfile.mkdtemp(prefix="liudong-load-"))
        planned = plan(args.users)
        (work / "plan.json").write_text(json.dumps(planned))
        figures["one_request_each"] = profile(planned)
        from django.db import connections

        connections.close_all()
        log(f"accounts ready; {args.users} users for {args.minutes} min")
        port = free_port(args.port)
        with worker() as refresher, server(port) as (base, serving):
            prefix = str(work / "load")
            sampler = Sampler()
            command = [
                LOCUST,
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                f"{int(args.minutes * 60)}s",
                "--host",
                base,
                "--csv",
                prefix,
                "--only-summary",
                "--stop-timeout",
                "10",
            ]
            environment = {
                **os.environ,
                "BENCH_PLAN": str(work / "plan.json"),
                "BENCH_OUT": str(work / "times.json"),
            }
            locust = subprocess.Popen(
                command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            roots = {"locust": locust.pid, "server": serving.pid}
            if refresher is not None:
                roots["worker"] = refresher.pid
            before = party_cpu(roots)
            sampler.roots, sampler.last = roots, before
            sampler.start()
            started = time.perf_counter()
            try:
                _out, errors = locust.communicate(timeout=args.minutes * 60 + 600)
            finally:
                stop(locust)
            after = party_cpu(roots)
            sampler.halt.set()
            figures["wall_s"] = round(time.perf_counter() - started, 1)
            figures["recovery_s"] = recovery(base)
            figures["cpu_s"] = {
                party: round(after[party] - before[party], 1)
                for party in ("server", "worker", "postgresql")
                if party in before
            }
            # Locust has ended by now: its CPU as last sampled (at most 5 s before its end).
            figures["cpu_s"]["locust"] = round(sampler.last["locust"] - before["locust"], 1)
        per_type, failures = read_stats(prefix)
        figures["locust_aggregated"] = per_type.pop("Aggregated", {})
        figures["per_type"] = exact(work / "times.json", args.minutes * 60)
        figures["steady"] = figures["per_type"].pop("steady")
        figures["total"] = figures["per_type"].pop("all")
        figures["pages"] = figures["per_type"].pop("all pages but sign-in")
        figures["errors"] = figures["total"]["errors"]
        figures["failures"] = failures
        figures["machine_load"] = sampler.samples
        loads = [s["load1"] for s in sampler.samples] or [0.0]
        cpus = [s["cpu_percent"] for s in sampler.samples] or [0.0]
        figures["load1_max"] = max(loads)
        figures["cpu_percent_mean"] = round(sum(cpus) / len(cpus), 1)
        figures["period_asked"] = f"{PERIOD[0]:04d}-{PERIOD[1]:02d} (bench) / last month (pages)"
        figures["locust_log_tail"] = errors.decode(errors="replace")[-1500:]
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"load-{args.db}-{args.users}.json"
    target.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    shown = {k: v for k, v in figures.items() if k not in ("machine_load", "locust_log_tail")}
    print(json.dumps(shown, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
