from typing import Any

from django.core.management.base import CommandParser

from liudong.commands import LiudongCommand
from liudong.worker import services
from liudong.worker.runner import Worker


class Command(LiudongCommand):
    help = (
        "Run the background work: queued imports, exchange delivery, audit anchors and the "
        "statistics refresher (stop with SIGTERM or Ctrl+C; several workers may run at once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="run queued tasks only (another worker runs delivery, anchors, statistics)",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="run one round of each periodic job and the tasks waiting now, then exit",
        )

    def run(self, **options: Any) -> None:
        worker = Worker(periodic=not options["no_periodic"], log=self._log)
        if options["batch"]:
            try:
                for job in worker.periodic_jobs:
                    worker.run_periodic(job)
                worker.run_queued()
            finally:
                services.leave(worker.id)
            return
        worker.serve()

    def _log(self, text: object) -> None:
        self.stderr.write(str(text))
        self.stderr.flush()
