"""What several browser tests do on a page: sign in, and save a screenshot to look at."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import PASSWORD

# Screenshots for people reviewing the pages (see tests/browser/conftest.py): taken only
# with LIUDONG_SCREENSHOTS=1, so a CI run writes none.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
REVIEW_SCREENSHOTS = SCREENSHOTS / "review"


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in afresh (whoever was signed in before is signed out)."""
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
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
