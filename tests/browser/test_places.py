"""Places in the browser: a township specialist creates an employer (a wrong credit code
refused on its field first), a rental house, records a hazard and its rectification,
imports a small employers xlsx and exports the list; on a desktop and on a phone. Then
an agreements xlsx imported through the page and the safety register downloaded.
Screenshots go to /tmp/shots/places-*.png for review."""

from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from liudong.places import creditcode
from tests.browser.pages import shot, sign_in

VILLAGE = "330106002001"


def make_code(body8: str) -> str:
    first17 = "91330106" + body8 + creditcode.organisation_check(body8)
    return first17 + creditcode.check_character(first17)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def employers_xlsx(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "单位名称", "地址", "区划代码", "联系人", "联系电话", "行业"])
    sheet.append(
        [make_code("MA27XY1B"), "曙光电子厂", "曙光路1号", VILLAGE, "钱经理", "13800000011", "电子"]
    )
    sheet.append(["", "北山小吃店", "北山路5号", VILLAGE, "", "", "餐饮"])
    sheet.append(["91330106MA27XY1B99", "坏代码厂", "", VILLAGE, "", "", ""])
    path = tmp_path / "用工单位.xlsx"
    book.save(path)
    return path


def day(n: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def walk_through(page, label: str, employers_xlsx, code: str) -> None:
    sign_in(page, "township_a")
    if label == "desktop":
        page.get_by_test_id("nav-places").click()
    else:
        page.goto("/places/")
    expect(page.get_by_test_id("tab-employers")).to_have_attribute("aria-current", "page")

    # A new employer: a wrong check character is refused on the credit code field.
    page.get_by_test_id("new-record").click()
    form = page.get_by_test_id("record-form")
    form.locator("input[name=name]").fill("北山服装厂")
    form.locator("input[name=credit_code]").fill(code[:-1] + ("0" if code[-1] != "0" else "1"))
    form.get_by_test_id("picker-region").fill(VILLAGE)  # the region picker takes a code too
    # The code reaches the form's own (hidden) input before anything else is done.
    expect(form.locator("input[name=region]")).to_have_value(VILLAGE)
    form.locator("input[name=phone]").fill("138 0000 0001")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("field-error-credit_code")).to_be_visible()
    shot(page, f"places-employer-invalid-{label}.png", first_screen=True)
    page.get_by_test_id("record-form").locator("input[name=credit_code]").fill(code)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("place-name")).to_have_text("北山服装厂")
    expect(page.get_by_test_id("place-fields")).to_contain_text(code)
    shot(page, f"places-employer-{label}.png", first_screen=True)

    # A rental house, a hazard found five days ago and due yesterday (overdue), rectified.
    with page.expect_navigation():  # the next click must be on the page it opens
        page.get_by_test_id("tab-houses").click()
    page.get_by_test_id("new-record").click()
    form = page.get_by_test_id("record-form")
    form.locator("input[name=address]").fill("曙光路8号")
    form.get_by_test_id("picker-region").fill(VILLAGE)  # the region picker takes a code too
    # The code reaches the form's own (hidden) input before anything else is done.
    expect(form.locator("input[name=region]")).to_have_value(VILLAGE)
    form.locator("input[name=landlord_name]").fill("李房东")
    form.locator("input[name=rooms]").fill("6")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("place-name")).to_have_text("曙光路8号")
    page.get_by_test_id("add-hazard").click()
    form = page.get_by_test_id("record-form")
    form.locator("textarea[name=hazard]").fill("电动车楼道充电")
    form.locator("input[name=found_on]").fill(day(-5))
    form.locator("input[name=deadline]").fill(day(-1))
    shot(page, f"places-hazard-form-{label}.png", first_screen=True)
    page.get_by_test_id("save").click()
    issue = page.get_by_test_id("issue")
    expect(issue).to_contain_text("电动车楼道充电")
    expect(issue.get_by_test_id("overdue")).to_be_visible()
    shot(page, f"places-house-overdue-{label}.png")
    with page.expect_navigation():  # the next click must be on the page it opens
        page.get_by_test_id("tab-hazards").click()
    expect(page.get_by_test_id("worklist")).to_contain_text("电动车楼道充电")
    page.get_by_test_id("worklist").get_by_role("link", name="曙光路8号").click()
    page.get_by_test_id("rectify").click()
    expect(page.get_by_test_id("issue-rectified")).to_be_visible()
    shot(page, f"places-house-rectified-{label}.png")

    # Import a small employers file: preview with the bad row, confirm, summary.
    with page.expect_navigation():  # the next click must be on the page it opens
        page.get_by_test_id("tab-employers").click()
    page.get_by_test_id("import").click()
    page.get_by_test_id("import-form").locator("input[name=file]").set_input_files(
        str(employers_xlsx)
    )
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-preview")).to_be_visible()
    problems = page.get_by_test_id("import-problems").locator("tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first.locator("td").first).to_have_text("4")
    shot(page, f"places-import-preview-{label}.png", first_screen=True)
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-summary")).to_be_visible()
    shot(page, f"places-import-summary-{label}.png", first_screen=True)
    page.get_by_test_id("back-to-list").click()
    expect(page.get_by_test_id("record-table")).to_contain_text("曙光电子厂")
    expect(page.get_by_test_id("record-table")).to_contain_text("北山小吃店")

    # Search, then export what is shown.
    page.get_by_test_id("search").fill("曙光")
    expect(page.get_by_test_id("record-table").locator("tbody tr")).to_have_count(1)
    shot(page, f"places-employers-{label}.png", first_screen=True)
    with page.expect_download() as download_info:
        page.get_by_test_id("export").click()
    path = download_info.value.path()
    rows = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["曙光电子厂"]


def test_places_on_a_desktop(page, township_a, var_dir, employers_xlsx):
    walk_through(page, "desktop", employers_xlsx, make_code("MA27XY0A"))


def test_places_on_a_phone(phone_page, township_a, var_dir, employers_xlsx):
    walk_through(phone_page, "phone", employers_xlsx, make_code("MA27XY0A"))


def test_agreements_import_and_safety_register_export(page, township_a, var_dir, tmp_path):
    """A township specialist imports the agreements kept in a spreadsheet (one row names a
    house not on file: shown, skipped), sees them in the list, then downloads the safety
    register as it is filtered."""
    from liudong.places import services

    code = make_code("MA27XY2C")
    services.create_employer(
        acting_user=township_a, credit_code=code, name="曙光电子厂", region=VILLAGE
    )
    house = services.create_rental_house(
        acting_user=township_a, address="曙光路8号", region=VILLAGE, landlord_name="李房东"
    )
    today = datetime.date.today()
    for hazard, found in (("电动车楼道充电", -20), ("灭火器过期", -10)):
        services.create_safety_issue(
            acting_user=township_a,
            rental_house=house,
            hazard=hazard,
            found_on=today + datetime.timedelta(days=found),
            deadline=today + datetime.timedelta(days=found + 15),
        )
    book = Workbook()
    sheet = book.active
    sheet.append(["场所类型", "场所", "区划代码", "协议类型", "签订日期", "有效期至", "责任内容"])
    signed = datetime.date(2025, 3, 5)  # an Excel date cell; the others typed as text
    sheet.append(["用工单位", code, VILLAGE, "服务协议", signed, "2026-03-04", "报告来人"])
    sheet.append(["出租房屋", "曙光路8号", VILLAGE, "责任书", "2025/3/5", "", ""])
    sheet.append(["出租房屋", "曙光路99号", VILLAGE, "责任书", "2025/3/5", "", ""])
    path = tmp_path / "协议.xlsx"
    book.save(path)

    sign_in(page, "township_a")
    page.goto("/places/agreements/")
    page.get_by_test_id("import").click()
    page.get_by_test_id("import-form").locator("input[name=file]").set_input_files(str(path))
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-preview")).to_be_visible()
    problems = page.get_by_test_id("import-problems").locator("tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first.locator("td").nth(0)).to_have_text("4")
    expect(problems.first.locator("td").nth(1)).to_have_text("场所")
    expect(problems.first).to_contain_text("曙光路99号")
    shot(page, "places-agreements-import-preview.png", first_screen=True)
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-summary")).to_be_visible()
    page.get_by_test_id("back-to-list").click()
    table = page.get_by_test_id("record-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("曙光电子厂")
    expect(table).to_contain_text("曙光路8号")

    # The safety register, searched, downloaded in the import template.
    page.get_by_test_id("tab-safety").click()
    page.get_by_test_id("search").fill("灭火器")
    expect(page.get_by_test_id("record-table").locator("tbody tr")).to_have_count(1)
    with page.expect_download() as download_info:
        page.get_by_test_id("export").click()
    download = download_info.value
    assert download.suggested_filename == "safety-issues-330106002.xlsx"
    rows = list(
        load_workbook(io.BytesIO(download.path().read_bytes())).active.iter_rows(values_only=True)
    )
    assert rows[0][:3] == ("区划代码", "房屋地址", "安全隐患")
    assert [row[1:3] for row in rows[1:]] == [("曙光路8号", "灭火器过期")]
