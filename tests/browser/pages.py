"""What several browser tests do on a page: sign in, and save a screenshot to look at."""

from __future__ import annotations

from pathlib import Path

from conftest import PASSWORD

SHOTS = Path("/tmp/shots")  # looked at by whoever changes a page; not kept by CI


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
    """The whole page as ``/tmp/shots/NAME``; with ``first_screen`` also the first screen
    as the user sees it (``NAME-screen.png``: a full phone page is too long to judge)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)
    if first_screen:
        page.screenshot(path=str(SHOTS / name.replace(".png", "-screen.png")))
