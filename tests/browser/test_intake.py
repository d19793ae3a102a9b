"""Department intake in the browser: a township specialist takes in a police list, sees its
reconciliation (a newcomer, a known person whose address differs, a rejected row), confirms
the newcomer with the marital status the list lacks, and finds her file in the registry.
The reconciliation page is saved as a screenshot for review (LIUDONG_SCREENSHOTS=1)."""

from __future__ import annotations

import csv
import datetime

import pytest
from playwright.sync_api import expect

from liudong.certificates.tests.conftest import make_person
from liudong.people import idnumbers
from tests.browser.pages import shot, sign_in

# Born in 温州市鹿城区 (330302), a Zhejiang division the browser fixtures load.
NEWCOMER = idnumbers.make("330302", datetime.date(1996, 5, 17), 22, "2")


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def police_list(tmp_path, township_a):
    known = make_person(name="周敏", household="330106004", residence="330106002001")
    day = (datetime.date.today() - datetime.timedelta(days=4)).isoformat()
    path = tmp_path / "公安机关流入人员登记.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "公民身份号码", "地址", "日期", "单位"])
        writer.writerow(["林晓燕", NEWCOMER, "北山路18号302室", day, "北山小吃店"])
        writer.writerow(["周敏", known.id_number, "曙光路9号", day, "曙光电子厂"])
        writer.writerow(["陈某", "33030219960230002X", "", day, ""])
    return path


def test_take_in_a_list_and_confirm_a_newcomer(page, var_dir, police_list):
    sign_in(page, "township_a")
    page.get_by_test_id("home-intake").click()
    form = page.get_by_test_id("intake-upload")
    form.locator("select[name=source]").select_option("police")
    page.get_by_test_id("intake-file").set_input_files(str(police_list))
    page.get_by_test_id("intake-submit").click()

    expect(page.get_by_test_id("intake-title")).to_contain_text("公安机关流入人员登记.csv")
    new = page.get_by_test_id("section-new")
    expect(new.get_by_test_id("intake-row-2")).to_contain_text(idnumbers.mask(NEWCOMER))
    expect(page.get_by_test_id("section-changed")).to_contain_text("曙光路9号")
    expect(page.get_by_test_id("section-rejected")).to_contain_text("4")
    expect(page.locator("body")).not_to_contain_text(NEWCOMER)
    shot(page, "intake-reconciliation.png", first_screen=True)

    confirm = page.get_by_test_id("confirm-form-2")
    confirm.locator("select[name$=marital_status]").select_option("90")
    expect(confirm.locator("input[name$=household_region]")).to_have_value("330302")
    page.get_by_test_id("confirm-2").click()
    expect(page.get_by_test_id("intake-status-2")).to_have_attribute("data-status", "confirmed")
    expect(page.get_by_test_id("confirm-form-2")).to_have_count(0)
    shot(page, "intake-confirmed.png")

    page.goto("/people/?q=林晓燕")
    expect(page.locator("main")).to_contain_text("林晓燕")
    page.locator("main").get_by_role("link", name="林晓燕").first.click()
    expect(page.locator("main")).to_contain_text("北山路18号302室")
