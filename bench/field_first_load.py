"""The field app's first load over the wire (issue 18: under 1 MB), against the grid
worklist page in the same run.

Builds a village grid of N people (default 300) through the services, starts `liudong serve`
(the production server, serving the static files as it does in production), signs a collector
in with Debian's Chromium and opens /field/ in a fresh browser profile: the shell, its CSS and
scripts, the vendored QR decoder and signature library, the manifest, the service worker and
what it precaches, and the grid's bundle. Bytes are what Chromium's network layer received for
every response of the page and of its service worker (Playwright's request sizes:
the encoded body and the headers; the context reports the worker's own requests too). The
baseline is the worklist page (/worklist/) opened the same way, in a fresh profile. In both,
what the sign-in page already brought (the site's CSS, its scripts) is in the browser's cache
and counts nothing.
Run: .venv/bin/python bench/field_first_load.py [--n 300] [--port 8771]
"""

from __future__ import annotations

import datetime

from common import argument_parser, fresh_django, report

LIMIT_BYTES = 1_000_000
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Bench-field-2026!"  # noqa: S105 (a throw-away database)
VILLAGE = "330106002001"


def build(n: int) -> None:
    """A township, a village, its grid and its collector, N residents living there."""
    from liudong.accounts.services import create_user
    from liudong.actors import OPERATOR
    from liudong.people.idnumbers import make
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region
    from liudong.regions.services import import_regions, load_divisions, save_grid

    load_divisions(prefixes=("33", "41"))
    import_regions([(2, {"code": VILLAGE, "name": "北山社区"})], acting_user=OPERATOR)
    township, _ = create_user(
        acting_user=OPERATOR,
        username="township_bench",
        role="township",
        region=Region.objects.get(code="330106002"),
        password=PASSWORD,
        full_name="北山专干",
        must_change_password=False,
    )
    collector, _ = create_user(
        acting_user=OPERATOR,
        username="collector_bench",
        role="collector",
        region=Region.objects.get(code=VILLAGE),
        password=PASSWORD,
        full_name="北山信息员",
        must_change_password=False,
    )
    grid = save_grid(
        acting_user=township,
        name="北山一网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code=VILLAGE),
        responsible=collector,
    )
    village = Region.objects.get(code=VILLAGE)
    born = datetime.date(1992, 3, 1)
    for i in range(n):
        person = Person(
            id_number=make("411522", born + datetime.timedelta(days=i % 3000), i % 999 + 1, "2"),
            name=f"住户{i:04d}",
            sex="2",
            birth_date=born + datetime.timedelta(days=i % 3000),
            marital_status="20",
            household_region_id="411522101",
        )
        register_arrival(
            acting_user=OPERATOR,
            person=person,
            region=village,
            arrival_date=datetime.date(2026, 10, 1),
            address=f"北山路{i}号",
        )
    assert grid.pk


def measure(browser, base: str, path: str, settle) -> dict:
    """Bytes received opening ``path`` in a fresh profile, signed in first (the sign-in's
    own bytes not counted)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    form = page.locator("form[data-testid=login-form]")
    form.locator("input[name=username]").fill("collector_bench")
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    received: list[tuple[str, int, bool]] = []

    def finished(request) -> None:
        sizes = request.sizes()
        size = max(sizes["responseBodySize"], 0) + max(sizes["responseHeadersSize"], 0)
        received.append((request.url, size, request.service_worker is not None))

    # The context reports the service worker's own requests too (its precache).
    context.on("requestfinished", finished)
    page.goto(f"{base}{path}")
    settle(page)
    context.close()
    by_url: dict[str, int] = {}
    for url, size, _worker in received:
        path_only = url.removeprefix(base)
        by_url[path_only] = by_url.get(path_only, 0) + size
    return {
        "bytes": sum(size for _url, size, _worker in received),
        "by_worker": sum(size for _url, size, worker in received if worker),
        "responses": len(received),
        "largest": sorted(by_url.items(), key=lambda item: -item[1])[:6],
    }


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--port", type=int, default=8771)
    args = parser.parse_args()
    n = args.n or 300
    with fresh_django(args):
        build(n)
        from dashboard import free_port, server
        from playwright.sync_api import sync_playwright

        port = free_port(args.port)
        with server(port) as (base, _process), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )

            def field_ready(page) -> None:
                page.locator("body[data-ready='1']:not([data-busy])").wait_for(state="attached")
                page.wait_for_function(
                    "async () => Boolean(await caches.match('/field/'))", timeout=60_000
                )

            def worklist_ready(page) -> None:
                page.wait_for_load_state("networkidle")

            field = measure(browser, base, "/field/", field_ready)
            worklist = measure(browser, base, "/worklist/", worklist_ready)
            browser.close()
    report(
        "field_first_load",
        args,
        {
            "people_in_grid": n,
            "field_first_load_bytes": field["bytes"],
            "field_responses": field["responses"],
            "field_bytes_fetched_by_worker": field["by_worker"],
            "field_largest": field["largest"],
            "worklist_first_load_bytes": worklist["bytes"],
            "worklist_responses": worklist["responses"],
            "limit_bytes": LIMIT_BYTES,
            "under_limit": field["bytes"] < LIMIT_BYTES,
        },
    )


if __name__ == "__main__":
    main()
