"""Two-way assessment matching on the web: a county administrator uploads an outflow and an
inflow register, sees the report by pair of counties with the rates each side is assessed
on and the unmatched people with masked numbers, and downloads it as xlsx."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from conftest import make_user
from liudong.exchange.tests.test_match_report import registers
from tests.browser.pages import shot, sign_in


@pytest.fixture
def county_admin(zhejiang, live_server, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return make_user("county_admin", "county", "330106", "西湖区管理员")


def test_a_county_matches_two_registers_and_reads_the_report(page, county_admin, tmp_path):
    outflow, inflow = registers(tmp_path)
    sign_in(page, "county_admin")
    page.get_by_test_id("nav-exchange").click()
    page.get_by_test_id("nav-matching").click()
    expect(page).to_have_url(page.base_url + "/exchange/matching/")
    # Chinese once /work/tr-match.po is in the catalogue; the English msgid until then.
    expect(page.locator("h2")).to_have_text(re.compile("双向考核比对|Two-way assessment matching"))
    form = page.get_by_test_id("match-form")
    form.locator("input[name=outflow]").set_input_files(str(outflow))
    form.locator("input[name=inflow]").set_input_files(str(inflow))
    shot(page, "matching-upload.png", first_screen=True)
    page.get_by_test_id("match-run").click()

    expect(page).to_have_url(re.compile(r"/exchange/matching/[0-9a-f]{32}/$"), timeout=60_000)
    expect(page.get_by_test_id("match-pair")).to_have_count(2)  # the pairs into 西湖区
    expect(page.get_by_test_id("total-matched")).to_have_text("3")
    expect(page.get_by_test_id("total-residence-rate")).to_have_text("75.00%")
    expect(page.get_by_test_id("total-origin-rate")).to_have_text("50.00%")
    expect(page.get_by_test_id("match-pairs")).to_contain_text("西湖区")
    expect(page.get_by_test_id("match-outside")).to_be_visible()
    first = page.get_by_test_id("match-only-outflow").get_by_test_id("unmatched-row").first
    expect(first).to_contain_text("********")
    shot(page, "matching-report.png")

    with page.expect_download() as download_info:
        page.get_by_test_id("match-xlsx").click()
    workbook = load_workbook(io.BytesIO(download_info.value.path().read_bytes()))
    assert workbook.sheetnames[0] == "分地区比对"
