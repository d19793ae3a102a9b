"""The base of every `liudong` subcommand: one error shape, an acting user, audit context.

Errors print one line, ``liudong: error: MESSAGE``, to stderr and exit with status 1
(2 for a usage error). With ``--format json`` a failure also prints
``{"errors": [{"field": ..., "code": ..., "message": ...}]}`` on stdout.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, NoReturn, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import OperationalError, ProgrammingError
from django.utils.translation import gettext as _

from liudong.actors import OPERATOR, is_operator, region_of
from liudong.audit import context

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from liudong.actors import Actor
    from liudong.tabular import ImportSummary


def row_problem(problem: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    """One refused row of an import as the text output prints it: the column as the
    file's header names it when ``headers`` (field -> header) knows the field, else the
    field (``--format json`` keeps the row, field code and message apart)."""
    field = problem.get("field") or ""
    return _("row %(row)s, %(field)s: %(message)s") % {
        "row": problem["row"],
        "field": (headers or {}).get(field) or field or "—",
        "message": problem["message"],
    }


def import_summary_line(
    summary: ImportSummary, *, dry_run: bool = False, note: str = "", warnings: bool = False
) -> str:
    """The line an import's text output ends with: how many rows were imported, updated,
    left unchanged and rejected (and warned about, with ``warnings``), then ``note`` — or,
    after ``--dry-run``, that nothing was saved. ``--format json`` prints the summary."""
    counts = {
        "imported": summary.imported,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "rejected": len(summary.rejected),
    }
    if warnings:
        line = _(
            "imported %(imported)s, updated %(updated)s, unchanged %(unchanged)s, "
            "rejected %(rejected)s, warnings %(warnings)s"
        ) % {**counts, "warnings": len(summary.warnings)}
    else:
        line = (
            _(
                "imported %(imported)s, updated %(updated)s, unchanged %(unchanged)s, "
                "rejected %(rejected)s"
            )
            % counts
        )
    if dry_run:
        note = _(" (dry run: nothing saved)")
    return line + note


class ProgressBar:
    """What a long command reports as it goes; draws nothing when it was not given a bar
    (stderr is no terminal, or the output is JSON)."""

    def __init__(self, progress: Progress | None = None, task: TaskID | None = None) -> None:
        self._progress, self._task = progress, task

    @property
    def shown(self) -> bool:
        return self._progress is not None

    def update(
        self,
        *,
        done: int | None = None,
        advance: int | None = None,
        total: int | None = None,
        description: str | None = None,
    ) -> None:
        if self._progress is None or self._task is None:
            return
        changes: dict[str, Any] = {}
        if done is not None:
            changes["completed"] = done
        if advance is not None:
            changes["advance"] = advance
        if total is not None:
            changes["total"] = total
        if description is not None:
            changes["description"] = description
        self._progress.update(self._task, **changes)


def _schema_missing(exc: Exception) -> bool:
    text = str(exc)
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _os_user() -> str:
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "cli"


class LiudongCommand(BaseCommand):
    """Subclasses implement ``run(**options)``; ``self.acting_user`` is set from --user."""

    acts_as_user = False  # add --user (and LIUDONG_USER) to scope the command

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # --help and usage errors name the command as the README and `liudong --help` do
        # (`liudong import persons`), not by the management command's joined name.
        from liudong.cli import spoken

        parser.prog = f"{os.path.basename(prog_name)} {spoken(subcommand)}".strip()
        if self.acts_as_user:
            parser.add_argument(
                "--user",
                default=os.environ.get("LIUDONG_USER"),
                help="act as this staff account (its role and region bound what the command "
                "may read or change); default LIUDONG_USER, else the server operator",
            )
        return parser

    def execute(self, *args: Any, **options: Any) -> str | None:
        self.format = options.get("format") or "text"
        if options.get("stdout"):
            self.stdout = OutputWrapper(options["stdout"])
        if options.get("stderr"):
            self.stderr = OutputWrapper(options["stderr"])
        try:
            with context.bind(
                request_id=f"cli-{context.new_request_id()[:12]}", operator=_os_user()
            ):
                self.acting_user = self._resolve_user(options.get("user"))
                return super().execute(*args, **options)
        except CommandError as exc:
            self.fail(str(exc), code="command_error", status=getattr(exc, "returncode", 1))
        except PermissionDenied as exc:
            self.fail(str(exc) or "permission denied", code="permission_denied")
        except (OperationalError, ProgrammingError) as exc:
            if _schema_missing(exc):
                self.fail(
                    f"the database has no such table yet: run `liudong migrate` first ({exc})",
                    code="not_migrated",
                )
            raise
        except ValidationError as exc:
            errors: list[dict[str, Any]] = []
            if hasattr(exc, "error_dict"):
                for field, messages in exc.message_dict.items():
                    errors += [{"field": field, "code": "invalid", "message": m} for m in messages]
            else:
                errors = [{"field": None, "code": "invalid", "message": m} for m in exc.messages]
            self.fail("; ".join(e["message"] for e in errors), errors=errors)

    def handle(self, *args: Any, **options: Any) -> None:
        return self.run(*args, **options)

    def run(self, *args: Any, **options: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _resolve_user(self, username: str | None) -> Actor:
        """The staff account named by --user, else the operator (explicit, never None)."""
        if not self.acts_as_user or not username:
            return OPERATOR
        from liudong.accounts.models import User

        user = User.objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(f"--user: no active staff account “{username}”")
        if not user.region_id:
            raise CommandError(f"--user: account “{username}” has no region")
        return user

    def region_option(self, raw: str) -> str:
        """A --region code, which must lie in the acting user's region (if any)."""
        from liudong.regions.codes import CodeError, clean_code

        try:
            prefix = clean_code(raw)
        except CodeError as exc:
            raise CommandError(f"--region: {exc}") from exc
        user = self.acting_user
        if not is_operator(user) and not prefix.startswith(region_of(user)):
            raise CommandError(
                f"--region {prefix} lies outside the region {user.region_id} "
                f"of account {user.username}"
            )
        return prefix

    def fail(
        self,
        message: str,
        *,
        code: str = "error",
        errors: list[dict[str, Any]] | None = None,
        status: int = 1,
    ) -> NoReturn:
        errors = errors or [{"field": None, "code": code, "message": message}]
        if self.format == "json":
            self.stdout.write(json.dumps({"errors": errors}, ensure_ascii=False))
        self.stderr.write(f"liudong: error: {message}")
        sys.exit(status)

    def shows_progress(self) -> bool:
        """A bar only for a person watching a terminal: never in ``--format json`` (its
        stdout is for a program) nor when stderr goes to a file, a pipe or a log."""
        if self.format == "json":
            return False
        return bool(self.stderr.isatty())

    @contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[ProgressBar]:
        """A rich progress bar on stderr for the work inside the block (see
        ``shows_progress``); it goes away when the block ends, leaving the summary."""
        if not self.shows_progress():
            yield ProgressBar()
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=cast("IO[str]", self.stderr._out)),
            transient=True,
        ) as progress:
            yield ProgressBar(progress, progress.add_task(description, total=total))

    def print_json(self, data: object) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str))
