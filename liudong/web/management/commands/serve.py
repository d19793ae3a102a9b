from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connections

from liudong.commands import LiudongCommand
from liudong.web import server


class Command(LiudongCommand):
    help = (
        "Serve the web interface and API (static files included): gunicorn with worker "
        "processes on Linux, waitress on Windows. Background work runs in `liudong worker`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WEB_WORKERS or None,
            help="worker processes (default LIUDONG_WORKERS, else one per core)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.WEB_THREADS,
            help="threads in each worker process (default LIUDONG_THREADS, 4)",
        )
        parser.add_argument(
            "--backlog",
            type=int,
            default=settings.WEB_BACKLOG,
            help="connections the kernel holds for the server before refusing more "
            "(default LIUDONG_BACKLOG, 64)",
        )
        parser.add_argument(
            "--access-log",
            metavar="FILE",
            help="write an access log to FILE ('-': stdout); off by default",
        )

    def run(self, **options: Any) -> None:
        host, port = options["host"], options["port"]
        for name in ("workers", "threads", "backlog"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        if host not in ("127.0.0.1", "localhost", "::1") and host not in settings.ALLOWED_HOSTS:
            self.stderr.write(
                f"note: add {host} to LIUDONG_ALLOWED_HOSTS, or requests by that name are refused"
            )
        refused = server.port_taken(host, port)
        if refused is not None:
            raise CommandError(
                f"cannot listen on {host}:{port} ({refused.strerror or refused}): another "
                "program (perhaps another liudong serve) uses that port; stop it or choose "
                "another with --port"
            )
        serve_options = server.ServeOptions(
            host=host,
            port=port,
            workers=options["workers"] or server.cores(),
            threads=options["threads"],
            backlog=options["backlog"],
            request_seconds=float(settings.REQUEST_SECONDS),
            access_log=options["access_log"],
        )
        limit = (
            f"requests stopped after {settings.REQUEST_SECONDS:g} s"
            if settings.REQUEST_SECONDS > 0
            else "no request time limit"
        )
        self.stdout.write(
            f"Liudong serving on http://{host}:{port}/ with {server.server_for()}: "
            f"{serve_options.workers} processes x {serve_options.threads} threads, {limit}  "
            "(Ctrl+C stops)"
        )
        self.stdout.flush()
        # The worker processes open their own connections; none is carried over the fork.
        connections.close_all()
        server.run(serve_options)
