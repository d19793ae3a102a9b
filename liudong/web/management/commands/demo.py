import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.commands import LiudongCommand
from liudong.web.demo import build_demo

# Seconds the demo's worker has to finish its step once the server stops.
WORKER_STOP_WAIT = 30


class Command(LiudongCommand):
    help = (
        "Create var/, migrate, build a demo county (西湖区: 5 townships, 40 villages, groups, "
        "grids), create one account per role with printed passwords, and serve on :8000 "
        "with `liudong worker` beside the server (imports, deliveries, figures)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="set up only, do not serve")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def run(self, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        accounts = build_demo()
        self.stdout.write(_("Demo county 浙江省杭州市西湖区 (330106) is ready. Accounts:"))
        head = (_("user name"), _("role"), _("region"), _("password"))
        self.stdout.write(f"  {head[0]:<14} {head[1]:<10} {head[2]:<16} {head[3]}")
        for account in accounts:
            name, role, region = account.username, account.role, account.region
            self.stdout.write(f"  {name:<14} {role:<10} {region:<16} {account.password}")
        if options["no_serve"]:
            return
        # The background work (queued imports, exchange delivery, audit anchors, the
        # statistics refresher) runs in its own process, as in production; it stops with
        # the server.
        # Its own session: Ctrl+C in the terminal reaches the demo, which stops the worker
        # with one SIGTERM (a second signal would end it mid-step).
        worker = subprocess.Popen(
            [sys.executable, "-m", "liudong.cli", "worker"], start_new_session=True
        )
        self.stdout.write(
            _("liudong worker started beside the server (process %(pid)s)") % {"pid": worker.pid}
        )
        # SIGTERM to the demo stops the server through the `finally` below, as Ctrl+C does.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            call_command("serve", host=options["host"], port=options["port"])
        finally:
            stop_worker(worker)


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM (the worker puts a running import back in the queue), then kill."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=WORKER_STOP_WAIT)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
