"""Steps of the payment journeys (issue 17, item 4), shared by test_payments.py (benefits
made with the ORM) and test_programmes_journey.py (a benefit approved through the pages):
the county makes the year's list and exports the finance bureau's file."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from playwright.sync_api import expect


def make_list(page, year: int) -> None:
    """The county makes the year's list from the lists page and lands on the list."""
    page.goto("/programmes/payments/")
    page.get_by_test_id("make-list-form").locator("input[name=year]").fill(str(year))
    with page.expect_navigation():
        page.get_by_test_id("make-list").click()
    expect(page.get_by_test_id("list-title")).to_contain_text(str(year))


def export_xlsx(page) -> list[dict[str, object]]:
    """Export the list shown as xlsx; the rows of its sheet 发放名单 as the bank reads them,
    each keyed by the file's own header (row 1), values as the cells hold them."""
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    workbook = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    rows = workbook["发放名单"].iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, row, strict=True)) for row in rows]
