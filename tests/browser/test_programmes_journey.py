"""The reward programme in Chromium (issue 17), from the family to the county's approval
and into the year's payment list: the township, on a phone (375 px), records a family, its
child and the certification of its births, sees the eligibility check before applying,
posts the village's notice and prints it (a PDF), reviews after the notice ended (its dates
set in the past); the county approves and the benefit shows on the family's page. The whole
journey goes on at an office PC (1366 px): the province's bureau sets the year's amount on
the catalogue page, the county approves, makes the year's payment list, sees her line
masked, exports the finance bureau's file once and is refused a second export.

Each step is a function of its own (the payment list's are tests/browser/payment_steps.py's,
shared with test_payments.py), so a journey is the steps called in turn."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from conftest import make_user
from tests.browser.pages import shot, shots, sign_in
from tests.browser.payment_steps import export_xlsx, make_list

pytestmark = pytest.mark.usefixtures("national_programmes")

TODAY = datetime.date.today()
CARD_TYPED = "6217 0000 1111 2222"  # her 一卡通 account as the application form takes it
CARD = CARD_TYPED.replace(" ", "")


def days_ago(n: int) -> str:
    return (TODAY - datetime.timedelta(days=n)).isoformat()


@pytest.fixture
def county_admin(zhejiang, live_server):
    return make_user("county_admin", "county", "330106", "西湖区卫健局")


@pytest.fixture
def province_bureau(zhejiang, live_server):
    """The bureau of 浙江省 (33), which sets the province's amounts: a county-role account
    over the province (liudong/services/programmes/catalogue.py)."""
    return make_user("province_bureau", "county", "33", "浙江省卫健委")


def pick_region(form, name: str, text: str, code: str) -> None:
    picker = form.get_by_test_id(f"picker-{name}")
    picker.click()
    picker.press_sequentially(text, delay=30)
    option = form.locator(f"#id_{name}-options [role=option]", has_text=text)
    expect(option.first).to_be_visible()
    option.first.click()
    expect(form.locator(f"input[name={name}]")).to_have_value(code)


def record_family(page, applicant_id: str, spouse_id: str) -> str:
    """The township records the couple of 北山社区; returns the family page's path."""
    page.goto("/programmes/")
    page.get_by_test_id("new-family").click()
    form = page.get_by_test_id("family-form")
    form.locator("input[name=applicant_name]").fill("王建国")
    form.locator("input[name=applicant_id_number]").fill(applicant_id)
    form.locator("input[name=spouse_name]").fill("李秀英")
    form.locator("input[name=spouse_id_number]").fill(spouse_id)
    form.locator("select[name=household_type]").select_option("agricultural")
    pick_region(form, "household_region", "北山社区", "330106002001")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("family-title")).to_contain_text("王建国")
    return re.sub(r"^https?://[^/]+", "", page.url)


def add_child(page, family_path: str, born: str, sex: str = "2") -> None:
    page.goto(family_path)
    page.get_by_test_id("add-child").click()
    form = page.get_by_test_id("child-form")
    form.locator("select[name=sex]").select_option(sex)
    form.locator("input[name=birth_date]").fill(born)
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("child-row")).to_contain_text(born)


def certify_births(page, family_path: str) -> None:
    page.goto(family_path)
    form = page.get_by_test_id("certify-form")
    form.locator("input[name=certified_on]").fill(days_ago(60))
    form.locator("input[name=note]").fill("村委会、街道确认")
    with page.expect_navigation():
        page.get_by_test_id("certify").click()
    expect(page.get_by_test_id("certified")).to_contain_text(days_ago(60))


def apply_for(page, family_path: str, programme: str = "reward") -> str:
    """The check first, then the application; returns the application page's path."""
    page.goto(family_path)
    page.get_by_test_id("apply").click()
    row = page.get_by_test_id(f"check-{programme}")
    expect(row).to_have_attribute("data-qualifies", "yes")
    expect(page.get_by_test_id("check-special_death")).to_have_attribute("data-qualifies", "no")
    shot(page, "programmes-journey-check-375.png")
    form = page.get_by_test_id("apply-form")
    from liudong.services.programmes.models import Programme

    name = Programme.objects.get(code=programme).name
    form.locator("select[name=programme]").select_option(label=name)
    form.locator("input[name=applied_on]").fill(days_ago(40))
    form.locator("input[name=bank_card]").fill(CARD_TYPED)
    with page.expect_navigation():
        page.get_by_test_id("submit-application").click()
    expect(page.get_by_test_id("application-status")).to_have_attribute("data-status", "applied")
    return re.sub(r"^https?://[^/]+", "", page.url)


def post_and_print_notice(page) -> None:
    """The village's notice, posted 30 days ago for 10 days (so it has ended), printed."""
    page.goto("/programmes/notices/")
    page.get_by_test_id("new-notice").click()
    chooser = page.get_by_test_id("village-form")
    pick_region(chooser, "village", "北山社区", "330106002001")
    with page.expect_navigation():
        page.get_by_test_id("choose-village").click()
    form = page.get_by_test_id("notice-form")
    form.locator("input[name=posted_on]").fill(days_ago(30))
    form.locator("input[name=ends_on]").fill(days_ago(20))
    expect(form.locator("input[name=applications]").first).to_be_checked()
    with page.expect_navigation():
        page.get_by_test_id("post-notice").click()
    expect(page.get_by_test_id("notice-applications")).to_contain_text("王建国")
    shot(page, "programmes-journey-notice-375.png")
    href = page.get_by_test_id("print-notice").get_attribute("href")
    printed = page.context.request.get(href)
    assert printed.ok and printed.headers["content-type"] == "application/pdf"
    assert printed.body().startswith(b"%PDF-")


def review(page, application_path: str) -> None:
    page.goto(application_path)
    with page.expect_navigation():
        page.get_by_test_id("review-pass").click()
    expect(page.get_by_test_id("application-status")).to_have_attribute("data-status", "reviewed")


def approve(page, application_path: str) -> None:
    page.goto("/programmes/worklist/")
    expect(page.get_by_test_id("application-table")).to_contain_text("王建国")
    page.goto(application_path)
    with page.expect_navigation():
        page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("application-status")).to_have_attribute("data-status", "approved")
    expect(page.get_by_test_id("benefit")).to_be_visible()


def set_amount(page, programme: str, year: int, yuan: str) -> None:
    """The province's bureau sets the year's amount (paid once a year) on the catalogue."""
    page.goto("/programmes/catalogue/")
    with page.expect_navigation():
        page.get_by_test_id(f"set-amount-{programme}").click()
    form = page.get_by_test_id("amount-form")
    form.locator("input[name=year]").fill(str(year))
    form.locator("input[name=yuan_per_year]").fill(yuan)
    form.locator("select[name=schedule]").select_option("yearly")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(
        page.get_by_test_id(f"amounts-{programme}").locator("tr", has_text=str(year))
    ).to_contain_text(yuan)


def test_from_the_village_notice_to_the_county_approval_and_into_the_payment_list(
    phone_page, page, township_a, county_admin, province_bureau
):
    from django.utils import timezone

    from liudong.audit.models import Action, AuditEntry
    from liudong.people.idnumbers import make, mask
    from liudong.services.programmes.models import PaymentList, Programme
    from liudong.services.programmes.payments import mask_card
    from liudong.services.programmes.services import first_of_next_month

    applicant_id = make("330106", datetime.date(1960, 5, 1), 11, "1")
    # Approved today (the server's day), she is paid from the first of next month: that
    # year's list holds her (in December, next year's).
    year = first_of_next_month(timezone.localdate()).year

    # 1. The township, on a phone: the family, the check and the application, the notice.
    sign_in(phone_page, "township_a")
    family = record_family(
        phone_page, applicant_id, make("330106", datetime.date(1962, 7, 2), 12, "2")
    )
    add_child(phone_page, family, "1990-03-01")
    certify_births(phone_page, family)
    shot(phone_page, "programmes-journey-family-375.png")
    application = apply_for(phone_page, family)
    post_and_print_notice(phone_page)
    review(phone_page, application)

    # 2. The province's bureau sets the year's amount; the county approves (1366 px).
    sign_in(page, "province_bureau")
    set_amount(page, "reward", year, "960.00")
    shots(page, "programmes-journey-catalogue")
    sign_in(page, "county_admin")
    approve(page, application)
    shots(page, "programmes-journey-approved")
    page.goto(family)
    expect(page.get_by_test_id("benefit-row")).to_contain_text("王建国")

    # 3. The year's payment list: her line, the amount, her ID number and card masked.
    make_list(page, year)
    line = page.get_by_test_id("payment-lines").locator("tr", has_text="王建国")
    expect(line).to_contain_text(mask(applicant_id))
    expect(line.get_by_test_id("line-card")).to_have_text(mask_card(CARD))
    expect(line).to_contain_text(Programme.objects.get(code="reward").name)
    expect(line).to_contain_text("960.00")
    expect(page.get_by_test_id("total-amount")).to_have_text("960.00")
    content = page.content()
    assert applicant_id not in content and CARD not in content
    shots(page, "payments-journey-list")

    # 4. The finance bureau's file: her line whole (ID number, card), the amount a number.
    rows = export_xlsx(page)
    assert [(r["公民身份号码"], r["一卡通账号"], r["金额(元)"]) for r in rows] == [
        (applicant_id, CARD, 960)
    ]
    assert isinstance(rows[0]["金额(元)"], int | float)
    # The page still offers the export (it was loaded before): a second one is refused.
    with page.expect_navigation():
        page.get_by_test_id("export-xlsx").click()
    expect(page.locator(".flash.error")).to_contain_text(str(year))
    expect(page.get_by_test_id("list-frozen")).to_be_visible()
    expect(page.get_by_test_id("export-section")).to_have_count(0)
    shots(page, "payments-journey-refused")
    made = PaymentList.objects.get(year=year)
    exports = AuditEntry.objects.filter(action=Action.EXPORT, object_id=str(made.pk))
    assert exports.filter(object_type="programmes.paymentlist").count() == 1


PAGES = {
    "families": "/programmes/",
    "family": "/programmes/families/{family}/",
    "family-edit": "/programmes/families/{family}/edit/",
    "child": "/programmes/families/{family}/children/new/",
    "apply": "/programmes/families/{family}/apply/",
    "applications": "/programmes/applications/",
    "application": "/programmes/applications/{application}/",
    "notices": "/programmes/notices/",
    "notice-new": "/programmes/notices/new/?village=330106002001",
    "notice": "/programmes/notices/{notice}/",
    "worklist": "/programmes/worklist/",
}


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_every_programme_page_opens_without_errors(request, device, township_a, county_admin):
    """Each page at 1366 and 375 px (screenshots for review with LIUDONG_SCREENSHOTS=1),
    as the county sees them: a family on a notice, reviewed, waiting for approval."""
    from liudong.people.idnumbers import make
    from liudong.regions.models import Region
    from liudong.services.programmes import services
    from liudong.services.programmes.models import Programme

    village = Region.objects.get(code="330106002001")
    family = services.create_family(
        acting_user=township_a,
        applicant_name="王建国",
        applicant_id_number=make("330106", datetime.date(1960, 5, 1), 11, "1"),
        spouse_name="李秀英",
        spouse_id_number=make("330106", datetime.date(1962, 7, 2), 12, "2"),
        household_type="agricultural",
        household_region=village,
    )
    services.add_child(
        acting_user=township_a, family=family, sex="2", birth_date=datetime.date(1990, 3, 1)
    )
    services.certify_births(
        acting_user=township_a, family=family, certified_on=TODAY - datetime.timedelta(days=60)
    )
    application = services.apply(
        acting_user=township_a,
        family=family,
        programme=Programme.objects.get(code="reward"),
        id_number=family.applicant_id_number,
        applied_on=TODAY - datetime.timedelta(days=40),
        bank_card=CARD,
    )
    notice = services.post_notice(
        acting_user=township_a,
        village=village,
        posted_on=TODAY - datetime.timedelta(days=30),
        ends_on=TODAY - datetime.timedelta(days=20),
    )
    application.refresh_from_db()
    services.review(acting_user=township_a, application=application, passed=True)
    page = request.getfixturevalue(device)
    sign_in(page, "county_admin")
    keys = {"family": family.pk, "application": application.pk, "notice": notice.pk}
    width = 375 if device == "phone_page" else 1366
    for name, path in PAGES.items():
        response = page.goto(path.format(**keys))
        assert response is not None and response.ok, (name, response and response.status)
        shot(page, f"programmes-{name}-{width}.png")
