from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from liudong.audit import keys
from liudong.audit.services import verify_chain
from liudong.commands import LiudongCommand

if TYPE_CHECKING:
    from liudong.audit.services import ChainReport


class Command(LiudongCommand):
    help = (
        "Recompute the audit log's keyed chain and hold it against the signed anchors; "
        "exit 1 naming the first broken entry, an emptied log or a removed tail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def run(self, **options: Any) -> None:
        report = verify_chain()
        if options["format"] == "json":
            self.print_json(report.as_dict())
        elif report.ok:
            self.stdout.write(_("audit log intact: %(n)s entries checked") % {"n": report.checked})
            self.stdout.write(self._chaining(report))
            if report.on_record:
                last = report.on_record[-1]
                self.stdout.write(
                    _(
                        "held against %(n)s anchor(s); the last, of %(at)s, records "
                        "%(count)s entries"
                    )
                    % {"n": len(report.on_record), "at": last.at, "count": last.count}
                )
            else:
                # Not a failure (a new node has none yet), but the operator must know that
                # an emptied log or a removed tail cannot be seen without one.
                self.stdout.write(
                    _(
                        "no anchor on record yet (`liudong audit anchor`, or `liudong serve` "
                        "writes them): an emptied log or removed last entries cannot be detected"
                    )
                )
        else:
            self.stderr.write(
                _("audit log BROKEN at entry #%(seq)s: %(reason)s")
                % {"seq": report.broken_seq, "reason": report.reason}
            )
        if not report.ok:
            raise SystemExit(1)

    @staticmethod
    def _chaining(report: ChainReport) -> str:
        if report.keyed_from is None:
            if report.checked:
                return _("no keyed entry yet: every entry is chained with plain SHA-256")
            return _("new entries are keyed (%(algorithm)s)") % {
                "algorithm": keys.chain_algorithm()
            }
        if report.keyed_from == 1:
            return _("every entry is keyed")
        return _(
            "entries #1 to #%(last_plain)s are chained with plain SHA-256 (written before "
            "keyed chaining); keyed from entry #%(keyed_from)s"
        ) % {"last_plain": report.keyed_from - 1, "keyed_from": report.keyed_from}
