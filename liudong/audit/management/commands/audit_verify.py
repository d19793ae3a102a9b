from liudong.audit.services import verify_chain
from liudong.commands import LiudongCommand


class Command(LiudongCommand):
    help = "Recompute the audit log's hash chain; exit 1 naming the first broken entry."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options):
        report = verify_chain()
        if options["format"] == "json":
            self.print_json(report.as_dict())
        elif report.ok:
            self.stdout.write(f"audit log intact: {report.checked} entries checked")
        else:
            self.stderr.write(f"audit log BROKEN at entry #{report.broken_seq}: {report.reason}")
        if not report.ok:
            raise SystemExit(1)
