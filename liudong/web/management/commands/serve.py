import threading
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from liudong.commands import LiudongCommand


class Command(LiudongCommand):
    help = "Serve the web interface and API with waitress (static files included)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def run(self, **options: Any) -> None:
        from waitress import serve

        from liudong.audit.anchors import anchor_loop
        from liudong.exchange.messaging.services import delivery_loop
        from liudong.wsgi import application

        host, port = options["host"], options["port"]
        if host not in ("127.0.0.1", "localhost", "::1") and host not in settings.ALLOWED_HOSTS:
            self.stderr.write(
                f"note: add {host} to LIUDONG_ALLOWED_HOSTS, or requests by that name are refused"
            )
        self.stdout.write(f"Liudong serving on http://{host}:{port}/  (Ctrl+C stops)")
        self.stdout.flush()
        stop = threading.Event()
        if settings.EXCHANGE_INTERVAL > 0:
            # Messages to peer nodes leave from the outbox in the background (the same
            # rounds `liudong exchange flush` runs), while the server answers requests.
            threading.Thread(
                target=delivery_loop,
                args=(stop,),
                kwargs={"interval": settings.EXCHANGE_INTERVAL, "log": self._log},
                name="exchange-delivery",
                daemon=True,
            ).start()
        if settings.AUDIT_ANCHOR_INTERVAL > 0:
            # Signed anchors of the audit chain's head, outside the database, so that an
            # emptied log or a removed tail shows in `liudong audit verify`.
            threading.Thread(
                target=anchor_loop,
                args=(stop,),
                kwargs={"interval": settings.AUDIT_ANCHOR_INTERVAL, "log": self._log},
                name="audit-anchor",
                daemon=True,
            ).start()
        try:
            serve(application, host=host, port=port, threads=options["threads"], ident="liudong")
        finally:
            stop.set()

    def _log(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()
