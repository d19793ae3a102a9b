"""No template carries script the Content-Security-Policy blocks (``script-src 'self'``):
an inline event handler (``onchange=``…), a ``<script>`` without ``src``, or a
``javascript:`` URL. Chromium refuses each, so the control it drives does nothing; page
behaviour lives in the apps' static scripts (web/controls.js: ``data-autosubmit``,
``data-print``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(PACKAGE.glob("*/templates/**/*.html"))

# An attribute named on… inside a tag: ` onchange="…"`, ` onClick='…'`, ` onload=x`.
INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-zA-Z]+\s*=", re.DOTALL)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE)


def problems(text: str) -> list[str]:
    """What in one template's text the CSP would block."""
    found = [f"inline handler: {m.group(0)[-40:]!r}" for m in INLINE_HANDLER.finditer(text)]
    found += [
        f"inline script: {m.group(0)!r}"
        for m in SCRIPT_TAG.finditer(text)
        if not re.search(r"\ssrc\s*=", m.group(1), re.IGNORECASE)
    ]
    found += [f"javascript: URL: {m.group(0)!r}" for m in JAVASCRIPT_URL.finditer(text)]
    return found


def test_the_templates_are_found():
    assert len(TEMPLATES) > 50
    assert PACKAGE / "stats" / "templates" / "stats" / "report.html" in TEMPLATES


@pytest.mark.parametrize(
    "text",
    [
        '<select name="status" onchange="this.form.submit()">',
        '<input\n  type="month"\n  onChange="this.form.submit()">',
        "<body onload=start()>",
        "<script>document.forms[0].submit()</script>",
        '<script type="module">go()</script>',
        '<a href="javascript:window.print()">',
    ],
)
def test_what_the_check_catches(text):
    assert problems(text)


@pytest.mark.parametrize(
    "text",
    [
        '<select name="status" data-autosubmit>',
        '<script src="/static/web/controls.js" defer></script>',
        '<p class="note">Data on loan is shown as onward=yes</p>',
        '<a href="?region=33&period=2026-11">',
        '<button type="button" data-print>',
    ],
)
def test_what_the_check_lets_through(text):
    assert not problems(text)


def test_no_template_carries_inline_script():
    found = {
        str(template.relative_to(PACKAGE)): blocked
        for template in TEMPLATES
        if (blocked := problems(template.read_text(encoding="utf-8")))
    }
    assert not found
