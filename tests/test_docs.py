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
    ours = [name for name, app in get_commands().items() if app.startswith("liudong")]
    assert ours
    missing = []
    for name in ours:
        spoken = (
            name.replace("_", " ", 1)
            if name.split("_")[0]
            in (
                "import",
                "export",
                "audit",
                "duplicates",
                "certificate",
                "report",
                "check",
                "node",
                "exchange",
                "account",
                "stats",
            )
            else name
        )
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
