"""What several browser tests do on a page: sign in, save a screenshot to look at, and
watch every page for console errors, exceptions and CSP violations."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

from conftest import PASSWORD

# Screenshots for people reviewing the pages (see tests/browser/conftest.py): taken only
# with LIUDONG_SCREENSHOTS=1, so a CI run writes none.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
REVIEW_SCREENSHOTS = SCREENSHOTS / "review"


def chinese(text) -> str:
    """A translatable string as the pages show it (Chinese, the default language): a test
    compares what the page says with the catalogue, not with the English msgid."""
    from django.utils import translation

    with translation.override("zh-hans"):
        return str(text)


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in afresh (whoever was signed in before is signed out)."""
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button").click()
    pass_second_factor(page, username)


def totp_code(key: bytes, *, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows for ``key`` (RFC 6238, 30 s)."""
    from django_otp.oath import TOTP

    totp = TOTP(key)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def key_from_page(page) -> bytes:
    """The key the enrolment page shows for typing by hand, as the app reads it."""
    text = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def pass_second_factor(page, username: str) -> None:
    """After the password: enrol (reading the key off the page, as a person types it) or
    enter the code of the account's device. Nothing when the account owes no second factor."""
    if "/accounts/second-factor/enrol/" in page.url:
        code = totp_code(key_from_page(page))
        page.get_by_test_id("enrol-form").locator("input[name=code]").fill(code)
        with page.expect_navigation():
            page.get_by_test_id("enrol-form").locator("button").click()
        with page.expect_navigation():
            page.get_by_test_id("recovery-done").click()
    elif "/accounts/second-factor/" in page.url:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        # A code is accepted once: after a sign-in in this period, the next period's code
        # (django-otp accepts one period ahead).
        now = time.time()
        ahead = device.step if device.last_t >= int(now - device.t0) // device.step else 0
        form = page.get_by_test_id("code-form")
        form.locator("input[name=code]").fill(totp_code(device.bin_key, at=now + ahead))
        with page.expect_navigation():
            form.locator("button").click()


def shot(page, name: str, *, first_screen: bool = False) -> None:
    """A step of a journey as ``var/screenshots/review/NAME`` (whole page); with
    ``first_screen`` also the first screen as the user sees it (``NAME-screen.png``: a full
    phone page is too long to judge). Nothing unless LIUDONG_SCREENSHOTS=1."""
    if os.environ.get("LIUDONG_SCREENSHOTS") != "1":
        return
    REVIEW_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(REVIEW_SCREENSHOTS / name), full_page=True)
    if first_screen:
        page.screenshot(path=str(REVIEW_SCREENSHOTS / name.replace(".png", "-screen.png")))


def shots(page, name: str, widths: tuple[int, ...] = (1366, 375)) -> None:
    """The page as it is at each width, ``NAME-<width>.png`` (the viewport is restored), for a
    page whose journey passes at one width only. Nothing unless LIUDONG_SCREENSHOTS=1."""
    if os.environ.get("LIUDONG_SCREENSHOTS") != "1":
        return
    viewport = page.viewport_size
    for width in widths:
        page.set_viewport_size({"width": width, "height": viewport["height"]})
        shot(page, f"{name}-{width}.png")
    page.set_viewport_size(viewport)


# Runs in every document before its own scripts: a violation the page never sees in its
# console (a blocked inline handler in a frame, a blocked image) still reaches the test.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `securitypolicyviolation: ${event.effectiveDirective} refused ` +
    `${event.blockedURI || "inline"} at ${event.sourceFile || document.URL}:${event.lineNumber}`
  );
}, true);
"""


class PageProblems:
    """What went wrong in a test's pages: console errors, uncaught exceptions and CSP
    violations, each as ``"<kind>: <text> (<url>)"``."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch_page(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.seen.append(f"uncaught: {error} ({page.url})"))

    def _console(self, message) -> None:
        where = message.location.get("url") or ""
        if message.type == "error":
            self.seen.append(f"console.error: {message.text} ({where})")

    def unexpected(self, allowed: tuple[str, ...]) -> list[str]:
        return [seen for seen in self.seen if not any(text in seen for text in allowed)]


def watch_context(context, problems: PageProblems) -> None:
    """Record the problems of every page ``context`` opens (before any page loads)."""
    context.add_init_script(script=REPORT_VIOLATIONS)
    context.on("page", problems.watch_page)
