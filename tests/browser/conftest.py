"""Browser tests: Debian's Chromium driven through Playwright against pytest-django's
``live_server``.

Fixtures
--------
``browser``      one headless Chromium for the whole session (launched from /usr/bin/chromium;
                 ``playwright install`` is never needed).
``page``         a fresh browser context per test (locale zh-CN, 1366x768, an office PC). Its
                 context has ``base_url`` set to the live server, so ``page.goto("/regions/")``
                 works; the server's address is also ``page.base_url`` (a plain string).
``phone_page``   the same at a phone's viewport, 375x740.
``zhejiang``     Zhejiang's divisions plus village 北山社区 and its group, loaded through the
                 services (live_server is transactional: every test brings its own data).
``township_a``   a township account of 北山街道 (330106002), password ``PASSWORD``.
``national_programmes``  the programmes migration 0002 ships, back after an earlier test's flush.
``sign_in``      sign_in(page, username, password): fills and submits the login form.

Screenshots: a failing test leaves ``var/screenshots/<test-name>.png`` (full page) under the
repository root; with ``LIUDONG_SCREENSHOTS=1`` every test also leaves
``var/screenshots/review/<test-name>.png`` for people reviewing the pages, and the journeys'
steps (``pages.shot``) there too.

Every page is watched (``watch_context``): a console error (Chromium logs a script the
Content-Security-Policy refuses as one), an uncaught exception or a
``securitypolicyviolation`` event fails the test that opened it, even when its assertions
passed: a control whose script the CSP blocks does nothing, and its test must not pass.
A test that means to meet an error page names what it expects with
``@pytest.mark.console_errors("status of 403")`` (substrings of the allowed messages).
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise
# refuse to run ("You cannot call this from an async context").
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
SKIP_REASON = "Debian chromium not installed: browser tests skipped"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

HERE = Path(__file__).resolve().parent

from conftest import PASSWORD, make_user  # noqa: E402 (the root fixtures)
from tests.browser.pages import (  # noqa: E402
    REVIEW_SCREENSHOTS,
    SCREENSHOTS,
    PageProblems,
    pass_second_factor,
    watch_context,
)

# Generous for a loaded CI machine (two cores shared with the multi-node and worker tests: a
# live-counted dashboard took over 10 s there once); htmx's 300 ms debounce is well inside it.
TIMEOUT_MS = 20_000

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 740}


# --- collection: mark, and skip when there is no browser ----------------------------------


def _in_this_folder(item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if not _in_this_folder(item):
            continue
        item.add_marker(pytest.mark.browser)
        if not CHROMIUM.exists():
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (rep_setup, rep_call, rep_teardown) so the
    page fixture can tell, while tearing down, whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_session():
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    yield playwright
    playwright.stop()


@pytest.fixture(scope="session")
def browser(playwright_session):
    browser = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


def _file_name(item) -> str:
    """A test's name as a safe file name: test_search[北山] -> test_search-北山."""
    name = re.sub(r"[^\w.-]+", "-", item.name).strip("-")
    return f"{name}.png"


def _failed(item) -> bool:
    return any(
        getattr(item, f"rep_{when}", None) is not None and getattr(item, f"rep_{when}").failed
        for when in ("setup", "call")
    )


def _screenshot(page, folder: Path, item) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(folder / _file_name(item)), full_page=True)
    except Exception as exc:  # a crashed page must not hide the test's own failure
        print(f"screenshot of {item.nodeid} failed: {exc}")


# --- every page: console errors, uncaught exceptions and CSP violations ----------------------


def _allowed_errors(item) -> tuple[str, ...]:
    return tuple(text for mark in item.iter_markers("console_errors") for text in mark.args)


def _open_page(request, browser, live_server, viewport):
    context = browser.new_context(locale="zh-CN", viewport=viewport, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    problems = PageProblems()
    watch_context(context, problems)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    if _failed(request.node):
        _screenshot(page, SCREENSHOTS, request.node)
    if os.environ.get("LIUDONG_SCREENSHOTS") == "1":
        _screenshot(page, REVIEW_SCREENSHOTS, request.node)
    context.close()
    unexpected = problems.unexpected(_allowed_errors(request.node))
    if unexpected and not _failed(request.node):
        pytest.fail(
            "the pages reported errors (a script the CSP refuses, an exception):\n"
            + "\n".join(unexpected),
            pytrace=False,
        )


@pytest.fixture
def page(request, browser, live_server):
    """A new context per test (zh-CN, 1280x800) on the live server; see the module doc."""
    yield from _open_page(request, browser, live_server, DESKTOP)


@pytest.fixture
def phone_page(request, browser, live_server):
    """Like ``page`` at a phone's 375x740 viewport."""
    yield from _open_page(request, browser, live_server, PHONE)


# --- data -----------------------------------------------------------------------------------


@pytest.fixture
def zhejiang(transactional_db):
    """Zhejiang's divisions with village 北山社区 (330106002001) and its first group."""
    from liudong.actors import OPERATOR
    from liudong.regions.services import import_regions, load_divisions

    load_divisions(prefixes=("33",))
    summary = import_regions(
        [
            (2, {"code": "330106002001", "name": "北山社区"}),
            (3, {"code": "330106002001001", "name": "第一村民小组"}),
        ],
        acting_user=OPERATOR,
    )
    assert not summary.rejected, summary.rejected


@pytest.fixture
def township_a(zhejiang, live_server):
    """Township worker of 北山街道 (浙江省杭州市西湖区, 330106002)."""
    return make_user("township_a", "township", "330106002", "北山专干")


@pytest.fixture
def township_b(zhejiang, live_server):
    """Township worker of 西溪街道 (330106004), a neighbour of township A."""
    return make_user("township_b", "township", "330106004", "西溪专干")


@pytest.fixture
def month_with_residents(township_a, county_admin):
    """Three floating residents from 河南 since March 2026 (two in township A, one in
    西溪街道; one of A's and the 西溪 one verified in April); the last full month."""
    from django.apps import apps

    from liudong.regions.services import load_divisions
    from liudong.stats import standard
    from liudong.stats.services import last_full_month
    from liudong.stats.tests.conftest import resident

    standard.install(apps)  # a browser test's database is emptied between tests
    load_divisions(prefixes=("41",))  # where the residents are registered (河南)
    resident(verified=datetime.date(2026, 4, 1))
    resident()
    resident(lives_in="330106004001", verified=datetime.date(2026, 4, 2))
    return str(last_full_month())


@pytest.fixture
def national_programmes(transactional_db):
    """The programmes migration 0002 ships (reward, special_death, special_disability): a
    transactional test before the one asking for them flushed every table, data rows
    included (use it as ``pytestmark = pytest.mark.usefixtures("national_programmes")``)."""
    import importlib

    from django.apps import apps

    shipped = importlib.import_module(
        "liudong.services.programmes.migrations.0002_national_programmes"
    )
    shipped.add(apps, None)


# --- actions --------------------------------------------------------------------------------


@pytest.fixture
def sign_in():
    """sign_in(page, username, password=PASSWORD): open the login page unless it is
    already shown, fill the form and submit it (waits for the next page to load); an
    account that owes a second factor enrols or enters its code (pages.pass_second_factor)."""

    def do(page, username: str, password: str = PASSWORD) -> None:
        if "/accounts/login/" not in page.url:
            page.goto("/accounts/login/")
        form = page.get_by_test_id("login-form")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        pass_second_factor(page, username)

    return do
