"""Two nodes, each a `liudong serve` and a `liudong worker` process on 127.0.0.1, two
databases (issue 7; the worker delivers since issue 15).

西湖区 (330106) is her registration place, 金水区 of 郑州 (410105) her residence. The
residence registers an arrival through its API; the registration node is stopped and a
second arrival registered (and the residence node restarted); the registration node
restarts, and both notices arrive exactly once. Then every other message type crosses
between the two running nodes: a certificate issued at the registration place reaches the
residence, whose check of it by number, a birth, a service and a departure come back; and
an assistance request is asked at one and answered at the other.

The nodes run on SQLite files of their own whatever database the suite runs on: what is
tested is two processes that share nothing but HTTP.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from liudong.people.idnumbers import make

BIN = Path(sys.executable).parent
TODAY = datetime.date.today()
FIRST = make("330106", datetime.date(1994, 6, 1), 22, "2")
SECOND = make("330106", datetime.date(1990, 2, 3), 31, "1")
WAIT_SECONDS = 60  # an upper bound for a delivery round trip on a busy 2-core machine

# SQLite files of their own whatever the suite's database: once is enough (not again on
# PostgreSQL).
pytestmark = [pytest.mark.one_database, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Node:
    def __init__(self, root: Path, region: str):
        self.root, self.region, self.port = root, region, _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = {
            key: value
            for key, value in os.environ.items()
            # A node keeps its audit key and anchors in its own folder (LIUDONG_VAR_DIR), not
            # in the ones this test process points at.
            if key not in ("DATABASE_URL", "LIUDONG_USER")
            and not key.startswith(("PYTEST", "LIUDONG_AUDIT_"))
        }
        self.env.update(
            LIUDONG_VAR_DIR=str(root),
            LIUDONG_NODE_KEY=str(root / "keys"),
            LIUDONG_SECRET_KEY=f"test-secret-{region}",
            LIUDONG_EXCHANGE_INTERVAL="0.3",
            LIUDONG_EXCHANGE_FIRST_RETRY="1",
        )
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def command(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "liudong"), *args],
            env=env or self.env,
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> str:
        process = self.command(*args)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"liudong {' '.join(args)}: {err}"
        return out

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "--format", "json"))

    def python(self, code: str) -> str:
        """Run ``code`` with this node's settings and database (for the actions that have
        no command of their own): the same service functions the pages call."""
        setup = "import django; django.setup()\n"
        result = subprocess.run(
            [sys.executable, "-c", setup + code],
            env={**self.env, "DJANGO_SETTINGS_MODULE": "liudong.settings"},
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self) -> None:
        # The worker delivers the messages; the server answers requests and delivers
        # nothing (LIUDONG_EXCHANGE_INTERVAL=0 for it), so a delivery proves the worker's.
        self.worker = self.command("worker")
        self.server = self.command(
            "serve",
            "--port",
            str(self.port),
            "--threads",
            "4",
            env={**self.env, "LIUDONG_EXCHANGE_INTERVAL": "0"},
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "accounts/login/", timeout=2).close()  # noqa: S310
                return
            except OSError:
                assert self.server.poll() is None, self.server.communicate()[1]
                assert self.worker.poll() is None, self.worker.communicate()[1]
                time.sleep(0.2)
        raise AssertionError(f"node {self.region} did not start")

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.communicate(timeout=30)
            self.server = None
        if self.worker is not None:
            self.worker.terminate()
            _out, err = self.worker.communicate(timeout=30)
            assert self.worker.returncode == 0, err  # a clean stop on SIGTERM
            self.worker = None

    def api(self, token: str, path: str, body: dict) -> dict:
        request = urllib.request.Request(  # noqa: S310 (a local test server)
            self.url + path.lstrip("/"),
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def inbox(self) -> list[dict]:
        return self.json("exchange", "inbox")["messages"]

    def outbox(self) -> list[dict]:
        return self.json("exchange", "outbox")["messages"]


def wait_for(check, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"waited {WAIT_SECONDS} s for {what}")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A database migrated once (schema and divisions), copied for each node."""
    node = Node(tmp_path_factory.mktemp("migrated"), "00")
    node.run("migrate")
    return node.root / "liudong.sqlite3"


@pytest.fixture
def nodes(tmp_path, migrated):
    registration = Node(tmp_path / "xihu", "330106")
    residence = Node(tmp_path / "jinshui", "410105")
    for node in (registration, residence):
        node.root.mkdir()
        shutil.copyfile(migrated, node.root / "liudong.sqlite3")
        # The audit chain is keyed with a file outside the database: a copied database
        # needs its key, or the node refuses to write (audit.keys).
        shutil.copy2(migrated.parent / "audit-key", node.root / "audit-key")
    keys = {
        node.region: node.json("node", "init", "--region", node.region, "--url", node.url)["key"]
        for node in (registration, residence)
    }
    registration.run(
        "node", "trust", "--region", "41", "--url", residence.url, "--key", keys["410105"]
    )
    residence.run(
        "node", "trust", "--region", "33", "--url", registration.url, "--key", keys["330106"]
    )
    yield registration, residence
    for node in (registration, residence):
        node.stop()


def _arrival(id_number: str, name: str, sex: str) -> dict:
    return {
        "id_number": id_number,
        "name": name,
        "sex": sex,
        "marital_status": "20",
        "household_region": "330106002",
        "residence_region": "410105001",
        "arrival_date": (TODAY - datetime.timedelta(days=5)).isoformat(),
    }


def _applied(node: Node, count: int):
    def check():
        applied = [m for m in node.inbox() if m["state"] == "applied"]
        return applied if len(applied) >= count else None

    return check


def test_notices_survive_a_stopped_registration_node_and_arrive_once(nodes):
    registration, residence = nodes
    token = residence.json(
        "createuser", "zhang", "--role", "township", "--region", "410105001", "--token"
    )["token"]
    registration.start()
    residence.start()

    residence.api(token, "/api/persons/", _arrival(FIRST, "王芳", "2"))
    wait_for(_applied(registration, 1), "the first arrival notice")

    registration.stop()
    residence.api(token, "/api/persons/", _arrival(SECOND, "李强", "1"))

    def tried_and_waiting():
        waiting = [m for m in residence.outbox() if m["state"] != "delivered"]
        return waiting if waiting and int(waiting[0]["attempts"]) >= 1 else None

    waiting = wait_for(tried_and_waiting, "a failed delivery to the stopped node")
    assert "127.0.0.1" in waiting[0]["last_error"]
    residence.stop()  # the sender restarts too: what waits is in its outbox
    residence.start()

    registration.start()
    wait_for(_applied(registration, 2), "the second arrival notice after the restart")
    time.sleep(2)  # a few more delivery rounds: nothing arrives twice
    inbox = registration.inbox()
    assert sorted(m["type"] for m in inbox) == ["arrival", "arrival"]
    assert len({m["id"] for m in inbox}) == 2
    assert all(m["state"] == "delivered" for m in residence.outbox())
    files = registration.python(
        "from liudong.people.models import Person\n"
        "for p in Person.objects.order_by('id_number'):\n"
        "    print(p.id_number, p.household_region_id, p.residence_region_id, p.episodes.count())"
    ).split("\n")
    assert sorted(files[:2]) == sorted(
        [f"{FIRST} 330106002 410105001 1", f"{SECOND} 330106002 410105001 1"]
    )


def test_every_notice_crosses_between_two_running_nodes(nodes):
    registration, residence = nodes
    token = residence.json(
        "createuser", "zhang", "--role", "township", "--region", "410105001", "--token"
    )["token"]
    registration.start()
    residence.start()
    residence.api(token, "/api/persons/", _arrival(FIRST, "王芳", "2"))
    wait_for(_applied(registration, 1), "the arrival notice")

    # The registration township issues her certificate: the residence learns of it.
    number = registration.python(
        "from liudong.actors import OPERATOR\n"
        "from liudong.certificates import issuing\n"
        "from liudong.people.models import Person\n"
        f"her = Person.objects.get(id_number='{FIRST}')\n"
        "print(issuing.issue(her, acting_user=OPERATOR).number)"
    ).strip()
    wait_for(_applied(residence, 1), "the certificate notice")
    # The residence checks it by number, records a birth and a service.
    residence.python(
        "import datetime\n"
        "from liudong.actors import OPERATOR\n"
        "from liudong.certificates import verification\n"
        "from liudong.people import services as people\n"
        "from liudong.people.models import Person\n"
        "from liudong.services.records import services as care\n"
        f"her = Person.objects.get(id_number='{FIRST}')\n"
        "verification.verify_at_residence(acting_user=OPERATOR, method='number',\n"
        f"    number='{number}')\n"
        "people.add_child(acting_user=OPERATOR, parent=her, sex='1',\n"
        "    birth_date=datetime.date.today())\n"
        "care.create_service_record(acting_user=OPERATOR, person=her, service_type='postnatal',\n"
        "    date=datetime.date.today(), consent_recorded=True)\n"
    )
    wait_for(_applied(registration, 4), "verification, birth, service")
    # The registration township revokes the certificate: the residence refuses it now.
    registration.python(
        "from liudong.actors import OPERATOR\n"
        "from liudong.certificates import issuing\n"
        f"issuing.revoke('{number}', '证件遗失，申请补办', acting_user=OPERATOR)\n"
    )
    wait_for(_applied(residence, 2), "the revocation")
    refusal = residence.python(
        "from django.core.exceptions import ValidationError\n"
        "from liudong.actors import OPERATOR\n"
        "from liudong.certificates import verification\n"
        "try:\n"
        "    verification.verify_at_residence(acting_user=OPERATOR, method='number',\n"
        f"        number='{number}')\n"
        "except ValidationError as exc:\n"
        "    print(exc.error_dict['number'][0].code)\n"
    ).strip()
    assert refusal == "revoked"
    # She leaves: the registration place closes her stay there.
    residence.python(
        "import datetime\n"
        "from liudong.actors import OPERATOR\n"
        "from liudong.people import services as people\n"
        "from liudong.people.models import Person\n"
        f"her = Person.objects.get(id_number='{FIRST}')\n"
        "people.register_departure(acting_user=OPERATOR, person=her,\n"
        "    departure_date=datetime.date.today())\n"
    )
    received = wait_for(_applied(registration, 5), "the departure")
    assert sorted(m["type"] for m in received) == [
        "arrival", "birth", "departure", "service", "verification"
    ]  # fmt: skip
    assert sorted(m["type"] for m in residence.inbox()) == [
        "certificate_issued",
        "certificate_revoked",
    ]
    state = registration.python(
        "from liudong.certificates.models import Verification\n"
        "from liudong.exchange.models import ReportedService\n"
        "from liudong.people.models import Person\n"
        f"her = Person.objects.get(id_number='{FIRST}')\n"
        "print(Verification.objects.get(person=her).method)\n"
        "print(her.children.count(), her.residence_region_id)\n"
        "print(ReportedService.objects.get(person=her).service_type)\n"
    ).split()
    assert state == ["notified", "1", "None", "postnatal"]


def test_an_assistance_request_is_answered_across_two_nodes(nodes):
    registration, residence = nodes
    token = residence.json(
        "createuser", "zhang", "--role", "township", "--region", "410105001", "--token"
    )["token"]
    registration.run("createuser", "li", "--role", "township", "--region", "330106002")
    registration.start()
    residence.start()
    residence.api(token, "/api/persons/", _arrival(FIRST, "王芳", "2"))
    wait_for(_applied(registration, 1), "the arrival notice")
    residence.api(
        token,
        "/api/assistance-requests/",
        {"person": _file_id(residence, FIRST), "question": "marital_status", "urgency": "urgent"},
    )
    wait_for(_applied(registration, 2), "the assistance request")
    deadline = registration.python(
        "from liudong.accounts.models import User\n"
        "from liudong.exchange.assistance import services as assistance\n"
        "from liudong.exchange.models import AssistanceRequest\n"
        "request = AssistanceRequest.objects.get()\n"
        "assistance.answer(acting_user=User.objects.get(username='li'), request=request,\n"
        "    finding='confirmed', answer='已婚，与户籍登记一致')\n"
        "print(request.deadline)\n"
    ).strip()
    assert deadline == (TODAY + datetime.timedelta(days=15)).isoformat()
    wait_for(_applied(residence, 1), "the answer")
    answered = residence.python(
        "from liudong.exchange.models import AssistanceRequest\n"
        "request = AssistanceRequest.objects.get()\n"
        "print(request.direction, request.finding, request.answered_on, request.answer)\n"
    ).split()
    assert answered == ["outgoing", "confirmed", TODAY.isoformat(), "已婚，与户籍登记一致"]


def _file_id(node: Node, id_number: str) -> int:
    return int(
        node.python(
            "from liudong.people.models import Person\n"
            f"print(Person.objects.get(id_number='{id_number}').pk)"
        )
    )
