"""Payment lists in Chromium (issue 17, item 4): the county makes the year's list, sees the
totals, the example amounts and the suspended benefit left out, exports the file (once:
the list is then frozen), reads the bank's return with one failure; a township specialist,
on a phone, finds the failure and resolves it with her new card."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from conftest import make_user
from tests.browser.pages import shot, sign_in
from tests.browser.payment_steps import export_xlsx, make_list

pytestmark = pytest.mark.usefixtures("national_programmes")


@pytest.fixture
def beneficiaries(township_a):
    from liudong.services.programmes.models import ProgrammeAmount
    from liudong.services.programmes.tests.payment_fixtures import benefit, national_amounts

    year = datetime.date.today().year
    national_amounts(year)
    ProgrammeAmount.objects.update(example=True)
    village = "330106002001"
    found = {
        "wang": benefit(village=village, name="王秀英"),
        "li": benefit(village=village, name="李桂兰", programme="special_death"),
        "liu": benefit(
            village=village, name="刘玉珍", status="suspended", status_reason="年审截止前未确认"
        ),
    }
    make_user("county_pay", "county", "330106", "西湖区卫健局")
    return year, found


def test_the_county_pays_and_a_township_resolves_a_failure(page, phone_page, beneficiaries):
    year, found = beneficiaries
    sign_in(page, "county_pay")
    make_list(page, year)
    expect(page.get_by_test_id("total-count")).to_have_text("2")
    expect(page.get_by_test_id("left-out")).to_contain_text("年审截止前未确认")
    expect(page.get_by_test_id("example-amount").first).to_be_visible()
    cards = page.get_by_test_id("line-card")
    expect(cards.first).to_contain_text("****")
    assert found["wang"].bank_card not in page.content()
    shot(page, "payments-list-1366.png")

    assert {row["姓名"] for row in export_xlsx(page)} == {"王秀英", "李桂兰"}
    page.reload()
    expect(page.get_by_test_id("list-frozen")).to_be_visible()
    expect(page.get_by_test_id("export-xlsx")).to_have_count(0)

    wang, li = found["wang"], found["li"]
    stranger = (
        "公民身份号码,一卡通账号,结果,失败原因\n"
        f"{wang.id_number},{wang.bank_card},失败,账户已挂失\n"
        f"330106196001010011,{li.bank_card},成功,\n"
    )
    form = page.get_by_test_id("return-form")
    form.locator("input[name=file]").set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": stranger.encode("utf-8-sig")}]
    )
    page.get_by_test_id("upload-return").click()
    expect(page.get_by_test_id("return-problems")).to_contain_text("id_number")
    shot(page, "payments-return-problems-1366.png")
    good = (
        "公民身份号码,一卡通账号,结果,失败原因\n"
        f"{wang.id_number},{wang.bank_card},失败,账户已挂失\n"
        f"{li.id_number},{li.bank_card},成功,\n"
    )
    form = page.get_by_test_id("return-form")
    form.locator("input[name=file]").set_input_files(
        files=[{"name": "ok.csv", "mimeType": "text/csv", "buffer": good.encode("utf-8-sig")}]
    )
    page.get_by_test_id("upload-return").click()
    expect(page.get_by_test_id("payment-lines")).to_contain_text("账户已挂失")

    sign_in(phone_page, "township_a")
    phone_page.goto("/programmes/payments/failures/")
    expect(phone_page.get_by_test_id("open-failure")).to_contain_text("王秀英")
    shot(phone_page, "payments-failures-375.png", first_screen=True)
    phone_page.get_by_test_id("resolve-link").click()
    expect(phone_page.get_by_test_id("line-result")).to_be_visible()
    resolve = phone_page.get_by_test_id("resolve-form")
    resolve.locator("input[name=resolution]").fill("已换新卡，人工补发")
    resolve.locator("input[name=new_bank_card]").fill("6222 0212 3456 7890 123")
    shot(phone_page, "payments-resolve-375.png", first_screen=True)
    phone_page.get_by_test_id("resolve").click()
    expect(phone_page).to_have_url(re.compile(r"/programmes/payments/failures/$"))
    expect(phone_page.get_by_test_id("open-failure")).to_have_count(0)
    wang.refresh_from_db()
    assert wang.bank_card == "6222021234567890123"

    phone_page.goto("/programmes/payments/lines/")
    expect(phone_page.get_by_test_id("payment-lines")).to_contain_text("王秀英")
    shot(phone_page, "payments-lines-375.png", first_screen=True)
    page.goto("/programmes/payments/")
    shot(page, "payments-lists-1366.png")
