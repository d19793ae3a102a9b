"""`liudong serve`: the production WSGI server, chosen by platform.

On Linux (and any POSIX system) gunicorn runs several worker processes, one per core by
default, each with a few threads (gthread workers): a process stuck on one request does not
stop the others, and the cores are used although Python runs one thread at a time per
process. On Windows, where gunicorn cannot run, waitress serves in one process as before.

What keeps the server answering under more load than it can take:
- the listen **backlog** is small (64): connections beyond it wait in the kernel, not for
  minutes inside the server, and the front proxy gives up on them quickly;
- each process accepts at most ``threads * 2`` connections (gunicorn's worker_connections,
  1000 by default, would queue hundreds of requests inside a process);
- every request has a **time limit** (liudong.web.deadline): past it, a 503 page;
- gunicorn's own ``timeout`` is only the backstop for a process whose main loop hangs.

The access log is off by default: the URLs carry no ID number or name (files are reached by
their database key, searches are posted or kept in the session), but who opened what, when,
is the audit log's business and is kept there with its own protection. Errors go to stderr.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from typing import Any

from liudong.web import deadline


def server_for(platform: str = sys.platform) -> str:
    """gunicorn wherever it runs; waitress on Windows (gunicorn needs fork())."""
    return "waitress" if platform == "win32" else "gunicorn"


def cores() -> int:
    """The cores this process may run on (a container's or taskset's limit included)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    threads: int
    backlog: int
    request_seconds: float
    access_log: str | None = None

    @property
    def bind(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _post_fork(server: Any, worker: Any) -> None:
    # Only a gunicorn worker process may retire itself (its master starts another).
    deadline.RECYCLE = True


def _worker_exit(server: Any, worker: Any) -> None:
    # A process retired for a request stuck past the limit has let its other requests
    # finish (gunicorn's graceful stop); the interpreter's exit would now wait for the stuck
    # thread, and the master would replace the process only after its own timeout.
    if deadline.RETIRING.is_set():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def gunicorn_config(options: ServeOptions) -> dict[str, Any]:
    """gunicorn's settings for these options (the backstop timeouts derived from the
    request limit)."""
    limit = options.request_seconds if options.request_seconds > 0 else 60.0
    return {
        "bind": [options.bind],
        "workers": options.workers,
        "worker_class": "gthread",
        "threads": options.threads,
        "worker_connections": options.threads * 2,
        "backlog": options.backlog,
        # Seconds without a heartbeat from a process's main loop before the master kills
        # it: past the limit and the recycling grace, so that only a hung process dies.
        "timeout": max(30, int(limit + deadline.RECYCLE_GRACE + 10)),
        # A stopping or reloading process lets its requests finish (they end by the limit).
        "graceful_timeout": int(limit + 5),
        "keepalive": 5,
        "accesslog": options.access_log,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "liudong",
        # Not preloaded: SIGHUP then starts workers that import the code anew (a graceful
        # reload after an upgrade); the master holds no database connection to share.
        "preload_app": False,
        "post_fork": _post_fork,
        "worker_exit": _worker_exit,
        # gunicorn's control socket (gunicornc) sits at one path per user: two servers on a
        # machine (two nodes, tests in parallel) would take each other's.
        "control_socket_disable": True,
    }


def run_gunicorn(options: ServeOptions) -> None:
    from gunicorn.app.base import BaseApplication

    config = gunicorn_config(options)

    class LiudongServer(BaseApplication):
        def load_config(self) -> None:
            for name, value in config.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            from liudong.wsgi import application

            return application

    LiudongServer().run()


def run_waitress(options: ServeOptions) -> None:
    from waitress import serve

    from liudong.wsgi import application

    # One process: all the threads the worker processes would have had.
    serve(
        application,
        host=options.host,
        port=options.port,
        threads=options.workers * options.threads,
        backlog=options.backlog,
        ident="liudong",
    )


def port_taken(host: str, port: int) -> OSError | None:
    """Why the server could not listen on ``host:port`` (a port in use, a host not of
    this machine), found by binding a socket first: gunicorn would otherwise retry for
    five seconds and end with its own log lines."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return exc
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As gunicorn binds: a port a stopped server left in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc
    return None


def run(options: ServeOptions, platform: str = sys.platform) -> None:
    if server_for(platform) == "gunicorn":
        run_gunicorn(options)
    else:
        run_waitress(options)
