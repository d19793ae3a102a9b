"""Documented or it doesn't exist (STYLE.md §8)."""

import re
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_commands():
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick_start and "make test" in quick_start


def test_every_liudong_command_is_in_the_readme():
    from liudong.cli import GROUPS

    ours = [name for name, app in get_commands().items() if app.startswith("liudong")]
    assert ours
    missing = []
    for name in ours:
        # `liudong import persons` runs import_persons: the group's word, then the rest.
        spoken = name.replace("_", " ", 1) if name.split("_")[0] in GROUPS else name
        if " " in spoken:  # a verb of two words is spoken with a hyphen: certificate rotate-key
            spoken = spoken.replace("_", "-")
        if f"liudong {spoken}" not in README:
            missing.append(f"liudong {spoken}")
    assert not missing, missing


def test_every_environment_setting_is_in_the_readme():
    sources = "\n".join(p.read_text() for p in (ROOT / "liudong").rglob("*.py"))
    used = set(re.findall(r"\b((?:LIUDONG_[A-Z_]+)|DATABASE_URL)\b", sources))
    missing = sorted(name for name in used if f"`{name}`" not in README)
    assert not missing, missing


def test_every_role_is_in_the_readme():
    from liudong.accounts.roles import Role

    assert all(f"`{role}`" in README for role in Role.values)


def test_every_standard_indicator_is_in_the_readme():
    from liudong.stats.standard import STANDARD

    missing = [code for code, *_rest in STANDARD if f"`{code}`" not in README]
    assert not missing, missing


# --- README command lines against the commands' own --help --------------------------------


def _code_in_readme() -> list[str]:
    """The README's code: each line of a fenced block and each inline code span (a span
    broken across two lines is joined)."""
    snippets = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", README, re.S | re.M):
        snippets += block.splitlines()
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", README, flags=re.S | re.M)
    snippets += [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", prose)]
    return snippets


# `liudong WORD [WORD] ...` where a word may offer alternatives (import employers|sites).
COMMAND_LINE = re.compile(
    r"(?:^|[\s;&|(])(?:\S*/)?liudong\s+([a-z][a-z_|-]*(?:\s+[a-z][a-z_|-]*)?)(.*)"
)


def _readme_command_lines() -> list[tuple[str, str]]:
    """(the command's words, the rest of the line) of every `liudong ...` in README code."""
    found = []
    for snippet in _code_in_readme():
        for match in COMMAND_LINE.finditer(snippet):
            found.append((match.group(1), match.group(2)))
    return found


def _resolved(words: str) -> list[tuple[str, str]]:
    """(command as written, management command) for each alternative the words offer,
    as `liudong` resolves them (liudong.cli); an unknown one maps to ""."""
    from liudong.cli import COMPOSITE, GROUPS

    commands = get_commands()
    first, *second = words.split()
    resolved = []
    for head in first.split("|"):
        if head in GROUPS and second:
            for tail in second[0].split("|"):
                joined = f"{head}_{tail.replace('-', '_')}"
                resolved.append((f"{head} {tail}", joined if joined in commands else ""))
        elif head in COMPOSITE:
            resolved.append((head, COMPOSITE[head][0][0]))
        else:
            resolved.append((head, head if head in commands else ""))
    return resolved


def test_every_command_line_in_the_readme_names_a_real_command_and_its_options():
    """`liudong import persons --dry-run` in README runs, its --help calls it `liudong
    import persons` (not import_persons) and lists --dry-run: a renamed command or a
    dropped option leaves no stale line behind."""
    from django.core.management import load_command_class

    commands = get_commands()
    lines = _readme_command_lines()
    assert len(lines) > 50  # the README's command lines were found at all
    wrong = []
    for words, rest in lines:
        options = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest))
        for written, name in _resolved(words):
            if not name:
                wrong.append(f"liudong {written}: no such command")
                continue
            parser = load_command_class(commands[name], name).create_parser("liudong", name)
            if parser.prog != f"liudong {written}":  # what its --help calls it
                wrong.append(f"liudong {written}: --help says {parser.prog}")
            unknown = sorted(options - set(parser._option_string_actions))
            if unknown:
                wrong.append(f"liudong {written}: {', '.join(unknown)} not in its --help")
    assert not wrong, sorted(set(wrong))


def test_the_readme_names_commands_as_liudong_runs_them():
    """`liudong import persons`, not `liudong import_persons`: the joined name is the
    management command's, which `liudong --help` does not show."""
    from liudong.cli import GROUPS

    joined = sorted(
        {
            words
            for words, _rest in _readme_command_lines()
            if words.split()[0].split("_")[0] in GROUPS and "_" in words.split()[0]
        }
    )
    assert not joined, joined
