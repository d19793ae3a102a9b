"""`liudong serve` as an operator starts it (issue 15, item 2): gunicorn with the worker
processes asked for and the backlog given, a request past the time limit answered 503 while
the same single-threaded process answers the next one at once, /healthz 503 while the
database is down, and waitress chosen on Windows. The test-only routes come from
tests/serve_urls.py (settings tests.serve_settings), never from production's URLs."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from liudong.web import server

ROOT = Path(__file__).resolve().parent.parent
LIUDONG = str(Path(sys.executable).parent / "liudong")
START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(kind: str, tmp_path: Path) -> str | None:
    """A database for the served process: none of the routes used here reads a table, so
    PostgreSQL's own maintenance database serves; ``down`` names one that cannot answer."""
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        port = _free_port() if kind == "down" else settings["PORT"]
        return f"postgres://{settings['USER']}@{settings['HOST']}:{port}/postgres"
    if kind == "down":
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'liudong.sqlite3'}"
    return None


@dataclass
class Served:
    process: subprocess.Popen
    url: str
    log: Path

    def get(self, path: str) -> tuple[int, str, dict]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=60) as response:  # noqa: S310
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def pid_answering(self) -> int:
        status, body, _ = self.get("/test/pid")
        assert status == 200, body
        return json.loads(body)["pid"]


@contextmanager
def served(tmp_path: Path, *args: str, database: str = "up", **env: str) -> Iterator[Served]:
    port = _free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.serve_settings",
        "PYTHONPATH": str(ROOT),
        "LIUDONG_VAR_DIR": str(tmp_path / "var"),
        "LIUDONG_SECRET_KEY": "serve-test",
        **env,
    }
    url = _database_url(database, tmp_path)
    if url:
        environment["DATABASE_URL"] = url
    else:
        environment.pop("DATABASE_URL", None)
    log = tmp_path / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [LIUDONG, "serve", "--port", str(port), *args],
            env=environment,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    result = Served(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                result.pid_answering()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "serve did not start:\n" + log.read_text()
                time.sleep(0.2)
        yield result
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


pytestmark = [
    pytest.mark.every_database,
    pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on POSIX systems"),
]


def test_serve_runs_the_worker_processes_asked_for_with_the_backlog_given(tmp_path):
    with served(tmp_path, "--workers", "2", "--threads", "2", "--backlog", "7") as serve:
        deadline = time.monotonic() + START_SECONDS
        while len(_children(serve.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _children(serve.process.pid)
        assert len(workers) == 2, serve.log.read_text()
        # Each request is answered by one of those worker processes, not the master.
        assert {serve.pid_answering() for _ in range(6)} <= workers
        # The listening socket's backlog (ss shows it as Send-Q) is the one asked for.
        port = serve.url.rsplit(":", 1)[1]
        listening = subprocess.run(
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split()
        assert listening[0] == "LISTEN" and listening[2] == "7", listening


def test_a_request_past_the_limit_gets_503_and_the_same_process_answers_next(tmp_path):
    """One process with one thread: if the stopped request still held it, nothing else
    could be answered."""
    with served(tmp_path, "--workers", "1", "--threads", "1", LIUDONG_REQUEST_SECONDS="1") as serve:
        before = serve.pid_answering()
        status, page, headers = serve.get("/test/slow-query")
        assert status == 503 and 'data-testid="busy"' in page
        assert headers["Retry-After"] == "10"
        assert serve.pid_answering() == before
        status, body, _ = serve.get("/api/test/slow-query")
        assert status == 503
        assert [e["code"] for e in json.loads(body)["errors"]] == ["timeout"]
        assert serve.pid_answering() == before


def test_healthz_is_503_while_the_database_is_down(tmp_path):
    with served(tmp_path, "--workers", "1", database="down") as serve:
        status, body, headers = serve.get("/healthz")
        assert (status, json.loads(body)) == (503, {"status": "unavailable"})
        assert "Set-Cookie" not in headers
        assert serve.pid_answering()  # the server itself still answers


# --- the choice of server, without starting one --------------------------------------------


def test_windows_keeps_waitress_and_everything_else_runs_gunicorn(monkeypatch):
    assert server.server_for("win32") == "waitress"
    assert server.server_for("linux") == server.server_for("darwin") == "gunicorn"
    ran = []
    monkeypatch.setattr(server, "run_waitress", lambda options: ran.append("waitress"))
    monkeypatch.setattr(server, "run_gunicorn", lambda options: ran.append("gunicorn"))
    options = server.ServeOptions("127.0.0.1", 8000, 2, 4, 64, 20.0)
    server.run(options, platform="win32")
    server.run(options, platform="linux")
    assert ran == ["waitress", "gunicorn"]


def test_the_command_passes_its_options_to_the_server(monkeypatch, settings):
    from django.core.management import call_command

    settings.REQUEST_SECONDS = 15
    seen = []
    monkeypatch.setattr(server, "run", lambda options: seen.append(options))
    out = io.StringIO()
    port = str(_free_port())  # the command looks whether the port is free first
    call_command(
        "serve", "--workers", "3", "--threads", "5", "--backlog", "9", "--port", port, stdout=out
    )
    call_command("serve", "--port", port, stdout=out)
    assert "3 processes x 5 threads, requests stopped after 15 s" in out.getvalue()
    given, default = seen
    assert (given.workers, given.threads, given.backlog) == (3, 5, 9)
    assert (default.workers, default.threads, default.backlog) == (server.cores(), 4, 64)
    assert given.request_seconds == 15 and given.access_log is None
    config = server.gunicorn_config(given)
    assert (config["workers"], config["threads"], config["backlog"]) == (3, 5, 9)
    assert config["worker_class"] == "gthread" and config["worker_connections"] == 10
    assert config["accesslog"] is None and config["errorlog"] == "-"
    assert config["control_socket_disable"] is True  # one path per user: servers would clash
    # gunicorn's own timeout only backs the limit up: it never comes first.
    assert config["timeout"] > 15 and config["graceful_timeout"] > 15


def test_a_retired_process_exits_without_waiting_for_its_stuck_thread(monkeypatch):
    """Measured by hand (tests/serve_urls.py python_loop, limit 1 s, one process): the new
    process answered 17 s after the stuck request began; waiting for the stuck thread, the
    master's own timeout replaced it only after 48 s."""
    from liudong.web import deadline

    exits = []
    monkeypatch.setattr(server.os, "_exit", exits.append)
    monkeypatch.setattr(deadline, "RETIRING", threading.Event())
    server._worker_exit(None, None)
    assert exits == []  # an ordinary stop or reload exits as usual
    deadline.RETIRING.set()
    server._worker_exit(None, None)
    assert exits == [0]
    assert server.gunicorn_config(server.ServeOptions("::1", 80, 1, 1, 8, 20.0))["bind"] == [
        "[::1]:80"
    ]


def test_a_port_in_use_is_named_without_starting_a_server(monkeypatch, capsys):
    from django.core.management import call_command

    started = []
    monkeypatch.setattr(server, "run", lambda options: started.append(options))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            call_command("serve", "--port", str(port))
    assert stopped.value.code == 1 and started == []
    said = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in said and "--port" in said and "Traceback" not in said
