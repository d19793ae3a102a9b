"""Chinese is the default language; every message has a Chinese translation, and the
compiled catalogue shipped with the package matches its source."""

import ast
import gettext
from pathlib import Path

import pytest
from django.test import Client

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (enough of the format for our catalogues)."""
    entries, current, field, fuzzy = {}, {"msgid": "", "msgstr": ""}, None, False
    flagged = set()

    def flush():
        if current["msgid"]:
            entries[current["msgid"]] = current["msgstr"]
            if fuzzy:
                flagged.add(current["msgid"])

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            flush()
            current, field, fuzzy = {"msgid": "", "msgstr": ""}, None, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith(("msgid ", "msgstr ")):
            field, _, literal = line.partition(" ")
            current[field] = ast.literal_eval(literal)
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
    read_po.fuzzy = flagged
    return entries


def test_every_message_is_translated_into_chinese():
    entries = read_po(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr in entries.items() if not msgstr]
    assert not untranslated, untranslated[:10]
    assert not read_po.fuzzy, sorted(read_po.fuzzy)[:10]


def test_the_compiled_catalogue_matches_the_source():
    entries = read_po(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po")
    with (LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [m for m, s in entries.items() if compiled.gettext(m) != s]
    assert not stale, f"run `make messages` (compilemessages): {stale[:5]}"


@pytest.mark.django_db
def test_pages_are_chinese_by_default_and_english_on_request():
    chinese = Client().get("/accounts/login/")
    assert chinese["Content-Language"] == "zh-hans"
    assert 'lang="zh-CN"' in chinese.content.decode() and "登录" in chinese.content.decode()
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/accounts/login/")
    assert "Sign in" in english.content.decode()
