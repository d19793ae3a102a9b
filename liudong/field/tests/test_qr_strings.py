"""The certificate check's script (static/field/verify.js) reads its words from the shell's
strings: every key it uses is in VERIFY_STRINGS (else the collector would see nothing, or a
key name), and the shell's strings carry them translated."""

from __future__ import annotations

import re
from pathlib import Path

from liudong.field.verify_strings import VERIFY_STRINGS

SCRIPT = Path(__file__).resolve().parents[1] / "static" / "field" / "verify.js"


def test_every_string_the_script_uses_is_defined():
    used = set(re.findall(r"strings\.(verify_\w+)", SCRIPT.read_text()))
    assert used, "verify.js reads no strings: the pattern is out of date"
    assert used <= set(VERIFY_STRINGS), used - set(VERIFY_STRINGS)


def test_placeholders_are_in_the_form_the_script_fills():
    """verify.js fills %(name)s (as app.js does); any other placeholder would be shown raw."""
    for key, text in VERIFY_STRINGS.items():
        assert "{" not in str(text), key


def test_the_shell_gives_them_in_the_request_language():
    from django.utils import translation

    from liudong.field.views import strings

    with translation.override("zh-hans"):
        chinese = strings()
    with translation.override("en"):
        english = strings()
    assert set(VERIFY_STRINGS) <= set(chinese)
    assert chinese["verify_number_label"] == "婚育证明编号"  # a msgid the catalogue has
    assert english["verify_number_label"] == "Certificate number"
