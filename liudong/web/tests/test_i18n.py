"""Chinese is the default language; every message has a Chinese translation, and the
compiled catalogue shipped with the package matches its source."""

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def read_po(path: Path) -> dict[str, dict[str, str]]:
    """msgid -> {"msgstr", "plural", "fuzzy"} of a .po file (enough of the format for our
    catalogues: plain, plural and context entries, continuation lines, flags)."""
    entries: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    field = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current.get("msgid"):
                # A message with a context is keyed as the .mo keys it: context, EOT, msgid.
                key = current["msgid"]
                if "msgctxt" in current:
                    key = f"{current['msgctxt']}\x04{key}"
                entries[key] = current
            current, field = {}, None
        elif line.startswith("#,") and "fuzzy" in line:
            current["fuzzy"] = "yes"
        elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr ", "msgstr[0] ")):
            keyword, _, literal = line.partition(" ")
            field = {"msgid_plural": "plural", "msgstr[0]": "msgstr"}.get(keyword, keyword)
            current[field] = ast.literal_eval(literal)
        elif line.startswith("msgstr["):
            field = None  # further plural forms: Chinese has one
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
    return entries


CATALOGUE = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_is_translated_into_chinese():
    entries = read_po(CATALOGUE)
    assert len(entries) > 100
    untranslated = [msgid for msgid, entry in entries.items() if not entry.get("msgstr")]
    assert not untranslated, untranslated[:10]
    fuzzy = [msgid for msgid, entry in entries.items() if entry.get("fuzzy")]
    assert not fuzzy, fuzzy[:10]


def test_the_compiled_catalogue_matches_the_source():
    entries = read_po(CATALOGUE)
    with CATALOGUE.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for msgid, entry in entries.items()
        if (
            compiled.ngettext(msgid, entry["plural"], 1)
            if "plural" in entry
            else compiled.gettext(msgid)
        )
        != entry["msgstr"]
    ]
    assert not stale, f"run `make messages` (compilemessages): {stale[:5]}"


@pytest.mark.django_db
def test_pages_are_chinese_by_default_and_english_on_request():
    chinese = Client().get("/accounts/login/")
    assert chinese["Content-Language"] == "zh-hans"
    assert 'lang="zh-CN"' in chinese.content.decode() and "登录" in chinese.content.decode()
    chosen = Client()
    chosen.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # what the language switch sets
    english = chosen.get("/accounts/login/")
    assert "Sign in" in english.content.decode()


@pytest.mark.django_db
def test_a_browser_asking_for_english_still_gets_chinese_until_the_user_chooses():
    """The language follows the user's choice (the switch), never the browser's
    Accept-Language: a township PC set up in English shows the Chinese pages."""
    browser = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    page = browser.get("/accounts/login/")
    assert page["Content-Language"] == "zh-hans" and "登录" in page.content.decode()
    chose = browser.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert chose.status_code == 302
    assert "Sign in" in browser.get("/accounts/login/").content.decode()
    browser.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert "登录" in browser.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_the_api_still_answers_in_the_language_its_client_asks_for(client):
    chinese = client.get("/api/schema/")
    english = client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese["Content-Language"] == "zh-hans" and english["Content-Language"] == "en"
