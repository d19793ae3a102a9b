"""The simulated staff of bench/load.py (locust users); the proportions are in load.py's
docstring and in the weights below. Reads the plan load.py writes (accounts, their TOTP
keys, and files of each account's region to search for and open) from $BENCH_PLAN.
Run through bench/load.py, which starts the server and the worker and writes the results."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time

from django_otp.oath import TOTP
from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["BENCH_PLAN"], encoding="utf-8").read())  # noqa: SIM115
# Staff read a page, then type the next search or click: seconds between two requests.
THINK = between(PLAN["think"][0], PLAN["think"][1])
_next_account = {role: itertools.cycle(PLAN["accounts"][role]) for role in PLAN["accounts"]}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HTMX = {"HX-Request": "true"}
# Every request's milliseconds by type, written out when locust quits: load.py computes
# exact percentiles from them (locust's own CSV rounds them) and the figures for all pages
# apart from the sign-in.
# Each as [seconds since the start, milliseconds, 1 if it failed], and the moment every
# user had been started (the figures after it leave the sign-in rush out).
TIMES: dict[str, list[list[float]]] = {}
STARTED = time.time()
SPAWNED: list[float] = []


@events.request.add_listener
def _timed(name: str, response_time: float, exception: object = None, **_kw: object) -> None:
    moment = round(time.time() - STARTED, 2)
    TIMES.setdefault(name, []).append([moment, response_time, 0 if exception is None else 1])


@events.spawning_complete.add_listener
def _spawned(**_kw: object) -> None:
    SPAWNED.append(round(time.time() - STARTED, 2))


@events.quitting.add_listener
def _write(**_kw: object) -> None:
    with open(os.environ["BENCH_OUT"], "w", encoding="utf-8") as out:
        json.dump({"times": TIMES, "spawned_s": SPAWNED[0] if SPAWNED else None}, out)


def code_now(key: str) -> str:
    """The six digits a phone shows now for the device key (hex)."""
    totp = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6, drift=0)
    totp.time = time.time()
    return f"{totp.token():06d}"


class Staff(HttpUser):
    abstract = True
    wait_time = THINK
    role = ""

    def on_start(self) -> None:
        self.account = next(_next_account[self.role])
        self.rng = random.Random()
        page = self.client.get("/accounts/login/", name="sign in: page")
        answer = self.client.post(
            "/accounts/login/",
            data={
                "username": self.account["username"],
                "password": self.account["password"],
                "csrfmiddlewaretoken": _token(page.text),
            },
            name="sign in: password",
        )
        if self.account.get("key"):
            with self.client.post(
                answer.url,
                data={
                    "code": code_now(self.account["key"]),
                    "csrfmiddlewaretoken": _token(answer.text),
                },
                name="sign in: code",
                catch_response=True,
            ) as answer:
                if "/accounts/" in answer.url:
                    answer.failure(f"code refused: {answer.url}")

    def page(self, url: str, name: str, headers: dict | None = None) -> None:
        """A GET that must answer 200 with the page asked for (not the sign-in page)."""
        with self.client.get(url, name=name, headers=headers, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code} {answer.error or ''}"[:200])
            elif "/accounts/login" in answer.url:
                answer.failure("signed out")

    def pick(self, kind: str):
        return self.rng.choice(self.account["samples"][kind])

    # The requests every role makes, named as the results group them.
    def search_id(self) -> None:
        self.page(f"/people/?q={self.pick('ids')}", "search by ID number", HTMX)

    def search_name(self) -> None:
        self.page(f"/people/?q={self.pick('names')}", "search by name", HTMX)

    def open_file(self) -> None:
        self.page(f"/people/{self.pick('pks')}/", "open a file")

    def worklist(self) -> None:
        grid = self.account.get("grid")
        self.page(f"/worklist/{grid}/" if grid else "/worklist/", "worklist")

    def dashboard(self) -> None:
        self.page("/stats/dashboard/", "dashboard")

    def report(self) -> None:
        self.page("/stats/report/", "monthly report")

    def api_list(self) -> None:
        resource = self.rng.choice(("persons", "episodes"))
        self.page(f"/api/{resource}/", "API list")


def _token(html: str) -> str:
    found = TOKEN.search(html)
    return found.group(1) if found else ""


class VillageCollector(Staff):
    weight = PLAN["weights"]["collector"]
    role = "collector"

    @task(30)
    def t_search_id(self) -> None:
        self.search_id()

    @task(15)
    def t_search_name(self) -> None:
        self.search_name()

    @task(30)
    def t_open_file(self) -> None:
        self.open_file()

    @task(20)
    def t_worklist(self) -> None:
        self.worklist()

    @task(5)
    def t_api(self) -> None:
        self.api_list()


class TownshipSpecialist(Staff):
    weight = PLAN["weights"]["township"]
    role = "township"

    @task(20)
    def t_search_id(self) -> None:
        self.search_id()

    @task(15)
    def t_search_name(self) -> None:
        self.search_name()

    @task(25)
    def t_open_file(self) -> None:
        self.open_file()

    @task(10)
    def t_worklist(self) -> None:
        self.worklist()

    @task(10)
    def t_dashboard(self) -> None:
        self.dashboard()

    @task(10)
    def t_report(self) -> None:
        self.report()

    @task(10)
    def t_api(self) -> None:
        self.api_list()


class CountyAdministrator(Staff):
    weight = PLAN["weights"]["county"]
    role = "county"

    @task(10)
    def t_search_id(self) -> None:
        self.search_id()

    @task(10)
    def t_search_name(self) -> None:
        self.search_name()

    @task(15)
    def t_open_file(self) -> None:
        self.open_file()

    @task(25)
    def t_dashboard(self) -> None:
        self.dashboard()

    @task(20)
    def t_report(self) -> None:
        self.report()

    @task(20)
    def t_api(self) -> None:
        self.api_list()
