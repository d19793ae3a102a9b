"""`liudong worker` as real processes on a database of the suite's kind: a worker killed
(SIGKILL) in the middle of an import, another worker resumes it, and the registry holds
what an uninterrupted import gives (nobody twice, nobody lost); a worker stopped with
SIGTERM puts its import back in the queue and exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_cli import (  # noqa: F401 (fixtures)
    EVERY_DATABASE,
    LIUDONG,
    migrated_database,
    migrated_template,
)

pytestmark = [EVERY_DATABASE, pytest.mark.slow]

ROWS = 30_000

SETUP = """
import json, sys
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from liudong.accounts.services import create_user
from liudong.actors import OPERATOR
from liudong.jobs import services
from liudong.people.generate import generate_rows, write_file
from liudong.regions.models import Region

user, _ = create_user(acting_user=OPERATOR, username="township_w", role="township",
    region=Region.objects.get(code="330106002"), password="a long enough pass 42",
    full_name="township_w", must_change_password=False)
rows = list(generate_rows(int(sys.argv[1]), seed=9, fault_share=0,
    residence_codes=["330106002"]))
path = sys.argv[2]
write_file(path, rows)
with open(path, "rb") as handle:
    uploaded = SimpleUploadedFile("persons.csv", handle.read())
job = services.preview(kind="persons", uploaded=uploaded, acting_user=user)
services.start(job, acting_user=user)
# A clean file: every row is a new person, so the registry must hold exactly these.
accepted = sorted(r["id_number"].upper() for r in rows)
assert len(set(accepted)) == len(accepted)
print(json.dumps({"job": job.pk, "accepted": accepted}))
"""

STATE = """
import json, sys
import django
django.setup()
from liudong.jobs.models import ImportJob
from liudong.people.models import Person
job = ImportJob.objects.get(pk=int(sys.argv[1]))
numbers = list(Person.objects.values_list("id_number", flat=True))
print(json.dumps({"state": job.state, "rows_done": job.rows_done, "attempts": job.attempts,
    "runner": job.runner, "summary": job.summary, "numbers": sorted(numbers)}))
"""


def python(env, script, *args):
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(env, *args):
    return subprocess.Popen(
        [LIUDONG, "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, env, job, timeout=240.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = python(env, STATE, job)
        if condition(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"not reached in {timeout} s: {state}")


@pytest.fixture
def queued_import(migrated_database, tmp_path):  # noqa: F811
    env, _database = migrated_database
    env = {**env, "LIUDONG_WORKER_LEASE": "4", "DJANGO_SETTINGS_MODULE": "liudong.settings"}
    env["LIUDONG_AUDIT_ANCHOR_INTERVAL"] = "0"
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    setup = python(env, SETUP, ROWS, tmp_path / "persons.csv")
    return env, setup["job"], setup["accepted"]


def test_a_worker_killed_mid_import_is_resumed_by_another_with_nobody_twice(queued_import):
    env, job, accepted = queued_import
    first = worker(env, "--no-periodic")
    try:
        running = wait_for(lambda s: s["state"] == "running" and s["rows_done"] > 0, env, job)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    killed = python(env, STATE, job)
    assert killed["state"] == "running" and killed["runner"] == running["runner"]
    assert 0 < len(killed["numbers"]) < len(accepted)  # part-way

    second = worker(env)  # with the periodic jobs: the resumption of imports among them
    try:
        done = wait_for(lambda s: s["state"] in ("done", "failed"), env, job)
    finally:
        second.send_signal(signal.SIGTERM)
        _out, log = second.communicate(timeout=60)
    assert done["state"] == "done" and done["attempts"] == 2, log[-3000:]
    assert done["runner"] != running["runner"]
    # What an uninterrupted import saves: each accepted row once, nobody else.
    assert [n.upper() for n in done["numbers"]] == accepted
    summary = done["summary"]
    assert summary["imported"] + summary["unchanged"] == len(accepted)
    assert summary["unchanged"] == len(killed["numbers"]) and summary["updated"] == 0


def test_a_worker_stopped_by_sigterm_puts_its_import_back_in_the_queue(queued_import):
    env, job, accepted = queued_import
    first = worker(env, "--no-periodic")
    try:
        wait_for(lambda s: s["state"] == "running" and s["rows_done"] > 0, env, job)
    finally:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err[-2000:]
    released = python(env, STATE, job)
    assert released["state"] == "queued" and released["runner"] == ""
    assert 0 < len(released["numbers"]) < len(accepted)

    second = worker(env, "--no-periodic")
    try:
        done = wait_for(lambda s: s["state"] in ("done", "failed"), env, job)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    assert done["state"] == "done"
    assert [n.upper() for n in done["numbers"]] == accepted
