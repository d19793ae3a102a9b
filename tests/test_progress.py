"""Long commands show a rich progress bar to a person at a terminal (issue 16 item 9), and
nothing else ever sees it: not ``--format json`` (its stdout is for a program and must stay
one JSON document), not a run whose stderr goes to a file, pipe or log."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from liudong.people.generate import generate_rows, write_file

pytestmark = pytest.mark.django_db

BAR = "━"  # rich's bar character: drawn only when a bar is


class Terminal(io.StringIO):
    """stderr as a terminal would be: rich draws on it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def person_file(tmp_path, villages):
    path = tmp_path / "persons.csv"
    write_file(path, generate_rows(30, seed=7, residence_codes=["330106002001"]))
    return path


def run(command: str, *args: str, stderr: io.StringIO) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=stderr)
    return out.getvalue()


def commands(person_file, tmp_path) -> dict[str, list[str]]:
    """Each long command with the arguments of a small run; those with a JSON format."""
    return {
        "import_persons": [str(person_file)],
        "duplicates_find": [],
        "stats_rebuild": ["--region", "330106"],
        "export_persons": ["--region", "330106", "--out", str(tmp_path / "out.csv")],
        "generate": ["--persons", "20", "--out", str(tmp_path / "generated.csv")],
    }


WITH_JSON = ("import_persons", "duplicates_find", "stats_rebuild")


@pytest.mark.parametrize("command", WITH_JSON)
def test_json_output_stays_one_json_document_and_no_bar_is_drawn_even_at_a_terminal(
    command, person_file, tmp_path
):
    if command != "import_persons":
        run("import_persons", str(person_file), stderr=io.StringIO())
    terminal = Terminal()
    printed = run(
        command, *commands(person_file, tmp_path)[command], "--format", "json", stderr=terminal
    )
    assert isinstance(json.loads(printed), dict)
    assert BAR not in terminal.getvalue() and "\x1b[" not in terminal.getvalue()


@pytest.mark.parametrize(
    "command", ["import_persons", "duplicates_find", "stats_rebuild", "export_persons", "generate"]
)
def test_a_terminal_gets_a_bar_a_file_or_pipe_gets_none(command, person_file, tmp_path):
    if command != "import_persons":
        run("import_persons", str(person_file), stderr=io.StringIO())
    arguments = commands(person_file, tmp_path)[command]

    piped = io.StringIO()
    printed = run(command, *arguments, stderr=piped)
    assert BAR not in piped.getvalue() and "\x1b[" not in piped.getvalue()
    assert BAR not in printed

    terminal = Terminal()
    printed = run(command, *arguments, stderr=terminal)
    assert BAR in terminal.getvalue()
    assert BAR not in printed  # the summary on stdout carries no bar
