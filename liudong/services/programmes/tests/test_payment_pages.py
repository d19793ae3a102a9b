"""The payment pages and API (issue 17, item 4): the county makes, exports and reads the
bank's return; a township sees its own lines and failures; bank cards are masked on every
page and API list."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from liudong.services.programmes import payments
from liudong.services.programmes.models import PaymentList, ProgrammeAmount

from .payment_fixtures import VILLAGE_A, VILLAGE_B, YEAR, benefit, national_amounts

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(villages):
    national_amounts()
    ProgrammeAmount.objects.update(example=True)
    return {
        "a": benefit(village=VILLAGE_A, name="王秀英"),
        "b": benefit(village=VILLAGE_B, name="李桂兰"),
        "suspended": benefit(village=VILLAGE_A, status="suspended", status_reason="年审未确认"),
    }


def test_the_county_makes_the_list_on_its_page_and_sees_totals_and_left_out(
    world, county_admin, client_for
):
    web = client_for(county_admin)
    response = web.post(reverse("programmes:payment_lists"), {"year": YEAR})
    made = PaymentList.objects.get(region_id="330106", year=YEAR)
    assert response.status_code == 302 and response.url == reverse(
        "programmes:payment_list", kwargs={"pk": made.pk}
    )
    page = web.get(response.url).content.decode()
    assert made.lines.count() == 2
    assert 'data-code="330106002"' in page and 'data-code="330106004"' in page
    assert "年审未确认" in page  # the suspended benefit, left out with its reason
    assert 'data-testid="example-amount"' in page
    for each in (world["a"], world["b"]):
        assert each.bank_card not in page and each.id_number not in page
        assert payments.mask_card(each.bank_card) in page


def test_a_township_may_not_make_a_list(world, township_a, client_for):
    response = client_for(township_a).post(reverse("programmes:payment_lists"), {"year": YEAR})
    assert response.status_code == 403
    assert not PaymentList.objects.exists()


def test_export_on_the_page_gives_the_file_once(world, county_admin, client_for):
    web = client_for(county_admin)
    made = payments.make_list(
        acting_user=county_admin, county=world["a"].family.household_region.parent.parent, year=YEAR
    )
    url = reverse("programmes:payment_export", kwargs={"pk": made.pk})
    first = web.post(url, {"format": "xlsx"})
    assert first.status_code == 200 and first["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    sheet = load_workbook(io.BytesIO(first.content))["发放名单"]
    assert {row[3] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        world["a"].id_number,
        world["b"].id_number,
    }
    second = web.post(url, {"format": "csv"}, follow=True)
    assert second.redirect_chain and "frozen" in second.content.decode()
    assert not second["Content-Type"].startswith("text/csv")


def test_a_return_with_a_stranger_shows_the_row_and_changes_nothing(
    world, county_admin, client_for
):
    made = payments.make_list(
        acting_user=county_admin, county=world["a"].family.household_region.parent.parent, year=YEAR
    )
    payments.export_list(acting_user=county_admin, payment_list=made, file_format="csv")
    her = world["a"]
    text = (
        "公民身份号码,一卡通账号,结果,失败原因\n"
        f"{her.id_number},{her.bank_card},成功,\n"
        f"330106196001010011,{her.bank_card},成功,\n"
    )
    upload = SimpleUploadedFile("return.csv", text.encode("utf-8-sig"), "text/csv")
    page = client_for(county_admin).post(
        reverse("programmes:payment_list", kwargs={"pk": made.pk}), {"file": upload}
    )
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="return-problems"' in body
    assert "<td>3</td>" in body and "id_number" in body
    assert set(made.lines.values_list("result", flat=True)) == {"pending"}


def test_a_township_sees_only_its_own_lines_and_failures(
    world, county_admin, township_a, township_b, client_for
):
    made = payments.make_list(
        acting_user=county_admin, county=world["a"].family.household_region.parent.parent, year=YEAR
    )
    page = client_for(township_a).get(reverse("programmes:payment_lines")).content.decode()
    assert "王秀英" in page and "李桂兰" not in page
    assert world["a"].bank_card not in page and payments.mask_card(world["a"].bank_card) in page
    other_line = made.lines.get(township_id="330106004")
    detail = reverse("programmes:payment_line", kwargs={"pk": other_line.pk})
    assert client_for(township_a).get(detail).status_code == 404
    assert client_for(township_b).get(detail).status_code == 200
    # The county's list page is the county's.
    list_url = reverse("programmes:payment_list", kwargs={"pk": made.pk})
    assert client_for(township_a).get(list_url).status_code == 404


def test_a_township_resolves_its_failure_on_the_page(
    world, county_admin, township_a, client_for, tmp_path
):
    made = payments.make_list(
        acting_user=county_admin, county=world["a"].family.household_region.parent.parent, year=YEAR
    )
    payments.export_list(acting_user=county_admin, payment_list=made, file_format="csv")
    her = world["a"]
    path = tmp_path / "r.csv"
    path.write_text(
        f"公民身份号码,一卡通账号,结果,失败原因\n{her.id_number},{her.bank_card},失败,账户冻结\n",
        encoding="utf-8-sig",
    )
    payments.import_return(acting_user=county_admin, payment_list=made, path=path)
    web = client_for(township_a)
    failures = web.get(reverse("programmes:payment_failures")).content.decode()
    assert "账户冻结" in failures and 'data-testid="open-failure"' in failures
    line = made.lines.get(benefit=her)
    url = reverse("programmes:payment_line", kwargs={"pk": line.pk})
    response = web.post(
        url,
        {
            "resolution": "已更换新卡并人工补发",
            "new_bank_card": "6222021234567890123",
            "benefit_version": her.version,
        },
    )
    assert response.status_code == 302
    line.refresh_from_db()
    her.refresh_from_db()
    assert line.resolution == "已更换新卡并人工补发" and line.resolved_on == datetime.date.today()
    assert her.bank_card == "6222021234567890123"


# --- API ----------------------------------------------------------------------------------------


def test_the_api_makes_exports_and_reads_the_return(world, county_admin, api_for, tmp_path):
    api = api_for(county_admin)
    made = api.post("/api/payment-lists/", {"year": YEAR}, format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["line_count"] == 2 and body["frozen"] is False
    assert {row["code"] for row in body["by_township"]} == {"330106002", "330106004"}
    pk = body["id"]
    exported = api.post(f"/api/payment-lists/{pk}/export/", {"format": "csv"}, format="json")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    again = api.post(f"/api/payment-lists/{pk}/export/", {"format": "csv"}, format="json")
    assert again.status_code == 400 and again.json()["errors"][0]["code"] == "frozen"
    her = world["a"]
    text = f"公民身份号码,一卡通账号,结果,失败原因\n{her.id_number},{her.bank_card},失败,销户\n"
    upload = SimpleUploadedFile("r.csv", text.encode("utf-8-sig"), "text/csv")
    summary = api.post(f"/api/payment-lists/{pk}/return/", {"file": upload}, format="multipart")
    assert summary.status_code == 200, summary.content
    assert summary.json()["updated"] == 1 and summary.json()["rejected"] == []


def test_api_lines_are_masked_and_scoped(world, county_admin, township_a, api_for):
    payments.make_list(
        acting_user=county_admin, county=world["a"].family.household_region.parent.parent, year=YEAR
    )
    listing = api_for(township_a).get("/api/payment-lines/").json()["results"]
    assert [item["name"] for item in listing] == ["王秀英"]
    [item] = listing
    assert item["bank_card"] == payments.mask_card(world["a"].bank_card)
    assert item["id_number"] != world["a"].id_number and "*" in item["id_number"]
    assert api_for(township_a).get("/api/payment-lists/").json()["results"] == []
    refused = api_for(township_a).post("/api/payment-lists/", {"year": YEAR}, format="json")
    assert refused.status_code == 403
