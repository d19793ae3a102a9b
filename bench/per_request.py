"""What one request of each type bench/load.py's staff make costs, without the load
(issue 15): SQL queries, milliseconds, and where the time goes, per role.

On the kept registry of bench/dashboard.py (1,000,000 persons; built there, never here:
the database must hold a whole registry), with the accounts bench/load.py makes, this
process signs in (Django's test client, past the second factor) as one account of each
role and makes each request type that role makes in bench/locustfile.py: a warm-up
request, then REPEAT timed ones. For each: the queries of a request (and how many of
them repeat a statement with other parameters: an N+1 shows there), the median
milliseconds of the whole request, of its SQL (as the driver waited for it) and of this
process's CPU, and the slowest query. Then the CPU a request of the locust mix costs on
average (weights of load.py's docstring; the API list is persons or episodes, half each):
what 2 cores must serve 40-50 such requests a second with.

Run: .venv/bin/python bench/per_request.py --db postgres [--n 1000000] [--repeat 5]
        [--show-queries "open a file"]
Results: bench/results/per_request-<db>.json.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from common import RESULTS, argument_parser
from dashboard import kept_django
from load import SHARES, plan
from report import log

REPEAT = 5

# The tasks of each role in bench/locustfile.py, with their weights.
MIX = {
    "collector": {
        "search by ID number": 30,
        "search by name": 15,
        "open a file": 30,
        "worklist": 20,
        "API list": 5,
    },
    "township": {
        "search by ID number": 20,
        "search by name": 15,
        "open a file": 25,
        "worklist": 10,
        "dashboard": 10,
        "monthly report": 10,
        "API list": 10,
    },
    "county": {
        "search by ID number": 10,
        "search by name": 10,
        "open a file": 15,
        "dashboard": 25,
        "monthly report": 20,
        "API list": 20,
    },
}
HTMX = {"HTTP_HX_REQUEST": "true"}


def requests_of(account: dict) -> dict[str, tuple[str, dict]]:
    """The URL (and headers) of each request type for this account, as locust asks them."""
    picked = account["samples"]
    grid = account.get("grid")
    return {
        "search by ID number": (f"/people/?q={picked['ids'][0]}", HTMX),
        "search by name": (f"/people/?q={picked['names'][-1]}", HTMX),
        "open a file": (f"/people/{picked['pks'][0]}/", {}),
        "worklist": (f"/worklist/{grid}/" if grid else "/worklist/", {}),
        "dashboard": ("/stats/dashboard/", {}),
        "monthly report": ("/stats/report/", {}),
        "API list (persons)": ("/api/persons/", {}),
        "API list (episodes)": ("/api/episodes/", {}),
    }


def shape(sql: str) -> str:
    """A statement with its parameters left out: the same shape twice is a repeat."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


def measure(client, url: str, headers: dict, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, **headers)  # warm: caches, the connection, the plan
    runs = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as seen:
            cpu, start = time.process_time(), time.perf_counter()
            answer = client.get(url, **headers)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        sql = sum(float(q["time"]) for q in seen.captured_queries)
        runs.append((answer.status_code, seen.captured_queries, wall, sql, cpu))
    status, queries = runs[-1][0], runs[-1][1]
    shapes = Counter(shape(q["sql"]) for q in queries)
    return {
        "status": status,
        "queries": len(queries),
        "repeated_queries": sum(n - 1 for n in shapes.values() if n > 1),
        "ms": round(statistics.median(r[2] for r in runs) * 1000, 1),
        "sql_ms": round(statistics.median(r[3] for r in runs) * 1000, 1),
        "python_cpu_ms": round(statistics.median(r[4] for r in runs) * 1000, 1),
        "slowest_query_ms": round(max(float(q["time"]) for q in queries) * 1000, 1)
        if queries
        else 0.0,
        "sql": [q["sql"][:300] for q in queries],
    }


def mix_cost(measured: dict[str, dict[str, dict]], field: str) -> float:
    """The mean of ``field`` over the locust mix: users' shares times task weights."""
    total = weight_sum = 0.0
    for role, tasks in MIX.items():
        share = SHARES[role] / sum(tasks.values())
        for name, weight in tasks.items():
            if name == "API list":
                figure = sum(
                    measured[role][f"API list ({r})"][field] for r in ("persons", "episodes")
                )
                figure /= 2
            else:
                figure = measured[role][name][field]
            total += share * weight * figure
            weight_sum += share * weight
    return round(total / weight_sum, 1)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--show-queries", default="", help="print the SQL of this request type")
    args = parser.parse_args()
    args.reuse = True  # never build nor drop the kept registry here
    n = args.n or 1_000_000
    figures: dict = {
        "benchmark": "per_request",
        "database": args.db,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "persons": n,
        "repeat": args.repeat,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_before": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]],
    }
    with kept_django(args, n):
        from django.test import Client

        from liudong.accounts.models import User
        from liudong.people.models import Person

        assert Person.objects.filter(pk__lte=n).count() == n, "build it with bench/dashboard.py"
        planned = plan(10)
        measured: dict[str, dict[str, dict]] = {}
        for role, tasks in MIX.items():
            account = planned["accounts"][role][0]
            client = Client(HTTP_HOST="127.0.0.1")
            user = User.objects.get(username=account["username"])
            client.force_login(user)
            if account.get("key"):
                session = client.session
                from django_otp import DEVICE_ID_SESSION_KEY
                from django_otp.plugins.otp_totp.models import TOTPDevice

                device = TOTPDevice.objects.get(user=user)
                session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                session.save()
            measured[role] = {}
            for name, (url, headers) in requests_of(account).items():
                if name.startswith("API list") and "API list" not in tasks:
                    continue
                if not name.startswith("API list") and name not in tasks:
                    continue
                measured[role][name] = measure(client, url, headers, args.repeat)
                shown = {k: v for k, v in measured[role][name].items() if k != "sql"}
                log(f"{role} {name}: {shown}")
                if args.show_queries and name == args.show_queries:
                    print("\n".join(measured[role][name]["sql"]), file=sys.stderr)
        figures["per_role"] = measured
        figures["mix_mean"] = {
            field: mix_cost(measured, field)
            for field in ("queries", "ms", "sql_ms", "python_cpu_ms")
        }
        log(f"the locust mix, mean per request: {figures['mix_mean']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"per_request-{args.db}.json"
    target.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures["mix_mean"]))


if __name__ == "__main__":
    main()
