"""The place pages through the Django test client: each record type created, found,
changed, exported and imported; scope (another region's record is a 404), roles (a
provider or inspector may look but not change), a stale edit refused, and the service's
refusals shown on the field they concern."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from liudong.audit.models import AuditEntry
from liudong.places import creditcode, services
from liudong.places.models import Agreement, Employer, RentalHouse, SafetyIssue, Site

from .conftest import CODE, VILLAGE_A1, VILLAGE_B1, days, make_agreement, make_issue

pytestmark = pytest.mark.django_db


def make_code(body8: str = "MA27XY0A", region: str = "330106") -> str:
    """A valid unified social credit code (right check characters)."""
    first17 = "91" + region + body8 + creditcode.organisation_check(body8)
    return first17 + creditcode.check_character(first17)


def errors(response, field=None):
    form = response.context["form"]
    return form.errors.get(field or "__all__", [])


# --- lists and search ----------------------------------------------------------------------


def test_hub_opens_the_employers_tab(client_for, township_a, employer):
    client = client_for(township_a)
    response = client.get("/places/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("places:employers")
    assert "北山服装厂" in response.content.decode()
    assert 'data-testid="new-record"' in response.content.decode()


@pytest.mark.parametrize(
    ("slug", "query", "shown", "hidden"),
    [
        ("employers", "M000100", "北山服装厂", "西溪厂"),
        ("employers", "北山路", "北山服装厂", "西溪厂"),
        ("houses", "李房东", "曙光路8号", "西溪路1号"),
        ("sites", "农贸", "北山农贸市场", "—none—"),
    ],
)
def test_lists_search_and_scope(
    client_for, township_a, township_b, employer, house, site, slug, query, shown, hidden
):
    services.create_employer(acting_user=township_b, name="西溪厂", region=VILLAGE_B1)
    services.create_rental_house(
        acting_user=township_b, address="西溪路1号", region=VILLAGE_B1, landlord_name="李房东"
    )
    client = client_for(township_a)
    page = client.get(reverse(f"places:{slug}"), {"q": query}).content.decode()
    assert shown in page and hidden not in page
    # The whole list of the region also never shows another region's records.
    assert hidden not in client.get(reverse(f"places:{slug}")).content.decode()


def test_list_region_filter_and_htmx(client_for, township_a, employer):
    services.create_employer(acting_user=township_a, name="曙光小吃", region="330106002002")
    client = client_for(township_a)
    page = client.get(reverse("places:employers"), {"region": "330106002002"}).content.decode()
    assert "曙光小吃" in page and "北山服装厂" not in page
    # A region outside the user's is ignored (the whole region is listed).
    page = client.get(reverse("places:employers"), {"region": "330106004"}).content.decode()
    assert "曙光小吃" in page and "北山服装厂" in page
    partial = client.get(reverse("places:employers"), {"q": "曙光"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and "曙光小吃" in partial.content.decode()


def test_agreements_and_safety_lists(client_for, township_a, employer, house):
    make_agreement(township_a, employer, signed_on=days(-300), valid_until=days(10))
    make_issue(township_a, house, found_on=days(-20), deadline=days(-5))
    client = client_for(township_a)
    assert "北山服装厂" in client.get(reverse("places:agreements")).content.decode()
    page = client.get(reverse("places:safety"), {"q": "曙光"}).content.decode()
    assert "电动车楼道充电" in page and 'data-testid="overdue"' in page


# --- create, change, errors on the field ---------------------------------------------------


def test_create_employer_and_edit(client_for, township_a):
    client = client_for(township_a)
    code = make_code()
    response = client.post(
        reverse("places:employers_new"),
        {
            "name": "曙光电子厂",
            "credit_code": code.lower(),
            "region": VILLAGE_A1,
            "phone": "138 0000 0009",
        },
    )
    employer = Employer.objects.get(name="曙光电子厂")
    assert response.status_code == 302 and response["Location"] == reverse(
        "places:employers_detail", args=[employer.pk]
    )
    assert employer.credit_code == code and employer.phone == "13800000009"
    assert AuditEntry.objects.filter(object_type="places.employer", action="create").exists()

    response = client.post(
        reverse("places:employers_edit", args=[employer.pk]),
        {"name": "曙光电子有限公司", "credit_code": code, "region": VILLAGE_A1, "version": 1},
    )
    assert response.status_code == 302
    employer.refresh_from_db()
    assert employer.name == "曙光电子有限公司" and employer.version == 2


def test_wrong_credit_code_shown_on_the_field(client_for, township_a):
    client = client_for(township_a)
    wrong = CODE[:-1] + ("4" if CODE[-1] != "4" else "5")
    response = client.post(
        reverse("places:employers_new"),
        {"name": "坏代码厂", "credit_code": wrong, "region": VILLAGE_A1},
    )
    assert response.status_code == 200
    assert errors(response, "credit_code")
    assert 'data-testid="field-error-credit_code"' in response.content.decode()
    response = client.post(
        reverse("places:employers_new"),
        {"name": "短代码厂", "credit_code": "9135", "region": VILLAGE_A1},
    )
    assert errors(response, "credit_code")
    assert not Employer.objects.exists()


def test_employer_outside_region_refused_on_region_field(client_for, township_a):
    response = client_for(township_a).post(
        reverse("places:employers_new"), {"name": "西溪厂", "region": VILLAGE_B1}
    )
    assert errors(response, "region") and not Employer.objects.exists()


def test_stale_edit_refused(client_for, township_a, employer):
    client = client_for(township_a)
    services.update_employer(employer, acting_user=township_a, industry="服装")
    response = client.post(
        reverse("places:employers_edit", args=[employer.pk]),
        {"name": "旧名字", "credit_code": CODE, "region": VILLAGE_A1, "version": 1},
    )
    assert response.status_code == 200
    message = " ".join(errors(response))
    assert "version" in message or "版" in message  # English or Chinese, whichever is on
    employer.refresh_from_db()
    assert employer.name == "北山服装厂" and employer.version == 2
    # The form now carries the current version: saving again keeps the user's values.
    assert response.context["form"].data["version"] == 2
    response = client.post(
        reverse("places:employers_edit", args=[employer.pk]),
        {"name": "旧名字", "credit_code": CODE, "region": VILLAGE_A1, "version": 2},
    )
    assert response.status_code == 302
    employer.refresh_from_db()
    assert employer.name == "旧名字"


def test_create_and_edit_rental_house(client_for, township_a):
    client = client_for(township_a)
    response = client.post(
        reverse("places:houses_new"),
        {"address": "曙光路9号", "region": VILLAGE_A1, "landlord_name": "赵房东", "rooms": "4"},
    )
    house = RentalHouse.objects.get(address="曙光路9号")
    assert response.status_code == 302 and house.rooms == 4
    response = client.post(
        reverse("places:houses_new"), {"address": "曙光路10号", "region": VILLAGE_A1}
    )
    assert errors(response, "landlord_name")
    response = client.post(
        reverse("places:houses_new"),
        {"address": "曙光路11号", "region": VILLAGE_A1, "landlord": "110105199001010011"},
    )
    assert errors(response, "landlord")
    response = client.post(
        reverse("places:houses_edit", args=[house.pk]),
        {
            "address": "曙光路9号",
            "region": VILLAGE_A1,
            "landlord_name": "赵房东",
            "rooms": "5",
            "version": 1,
        },
    )
    assert response.status_code == 302
    house.refresh_from_db()
    assert house.rooms == 5


def test_create_and_edit_site(client_for, township_a):
    client = client_for(township_a)
    response = client.post(
        reverse("places:sites_new"),
        {"kind": "construction", "name": "地铁工地", "region": VILLAGE_A1},
    )
    site = Site.objects.get(name="地铁工地")
    assert response.status_code == 302
    assert "地铁工地" in client.get(reverse("places:sites_detail", args=[site.pk])).content.decode()
    client.post(
        reverse("places:sites_edit", args=[site.pk]),
        {"kind": "market", "name": "地铁工地", "region": VILLAGE_A1, "version": 1},
    )
    site.refresh_from_db()
    assert site.kind == "market"


def test_agreement_from_a_place_and_end_before_start(client_for, township_a, employer):
    client = client_for(township_a)
    url = reverse("places:agreements_new") + f"?employer={employer.pk}"
    response = client.post(
        url, {"kind": "service", "signed_on": "2024-05-01", "valid_until": "2024-04-01"}
    )
    assert errors(response, "valid_until") and not Agreement.objects.exists()
    response = client.post(
        url,
        {
            "kind": "service",
            "signed_on": "2024-05-01",
            "valid_until": "2027-04-30",
            "duties": "报告",
        },
    )
    agreement = Agreement.objects.get()
    assert response["Location"] == reverse("places:employers_detail", args=[employer.pk])
    assert agreement.employer == employer
    page = client.get(response["Location"]).content.decode()
    assert "2027-04-30" in page
    response = client.post(
        reverse("places:agreements_edit", args=[agreement.pk]),
        {
            "kind": "responsibility",
            "signed_on": "2024-05-01",
            "valid_until": "2027-04-30",
            "version": 1,
        },
    )
    agreement.refresh_from_db()
    assert agreement.kind == "responsibility" and agreement.employer == employer


def test_agreement_with_a_chosen_place(client_for, township_a, township_b, house):
    other = services.create_site(
        acting_user=township_b, kind="market", name="西溪市场", region=VILLAGE_B1
    )
    client = client_for(township_a)
    form = client.get(reverse("places:agreements_new")).context["form"]
    keys = [key for _group, options in form.fields["place"].choices[1:] for key, _label in options]
    assert f"rental_house:{house.pk}" in keys and f"site:{other.pk}" not in keys
    response = client.post(
        reverse("places:agreements_new"),
        {"place": f"site:{other.pk}", "kind": "service", "signed_on": "2024-05-01"},
    )
    assert errors(response, "place")
    client.post(
        reverse("places:agreements_new"),
        {"place": f"rental_house:{house.pk}", "kind": "service", "signed_on": "2024-05-01"},
    )
    assert Agreement.objects.get().rental_house == house


def test_hazard_added_and_rectified(client_for, township_a, house):
    client = client_for(township_a)
    url = reverse("places:safety_new") + f"?rental_house={house.pk}"
    response = client.post(
        url,
        {
            "hazard": "楼道堆放杂物",
            "found_on": days(-3).isoformat(),
            "deadline": days(-5).isoformat(),
        },
    )
    assert errors(response, "deadline")
    response = client.post(
        url,
        {
            "hazard": "楼道堆放杂物",
            "found_on": days(-3).isoformat(),
            "deadline": days(-1).isoformat(),
        },
    )
    issue = SafetyIssue.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert "楼道堆放杂物" in page and 'data-testid="overdue"' in page
    response = client.post(
        reverse("places:rectify", args=[issue.pk]),
        {"rectified_on": days(0).isoformat(), "version": 1},
    )
    issue.refresh_from_db()
    assert issue.rectified_on == days(0)
    # A second, stale submission of the same button is refused (nothing changes).
    response = client.post(
        reverse("places:rectify", args=[issue.pk]),
        {"rectified_on": days(-1).isoformat(), "version": 1},
        follow=True,
    )
    issue.refresh_from_db()
    assert issue.rectified_on == days(0)
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_house_page_lists_open_issues_first(client_for, township_a, house):
    done = make_issue(
        township_a, house, found_on=days(-30), deadline=days(-20), rectified_on=days(-21)
    )
    later = make_issue(township_a, house, found_on=days(-2), deadline=days(20))
    overdue = make_issue(township_a, house, found_on=days(-10), deadline=days(-1))
    response = client_for(township_a).get(reverse("places:houses_detail", args=[house.pk]))
    assert list(response.context["issues"]) == [overdue, later, done]


def test_worklists(client_for, township_a, township_b, employer, house):
    soon = make_agreement(township_a, employer, signed_on=days(-300), valid_until=days(10))
    make_agreement(township_a, house, signed_on=days(-300), valid_until=days(100))
    make_issue(township_a, house, found_on=days(-10), deadline=days(-1))
    make_issue(township_a, house, found_on=days(-10), deadline=days(5))
    client = client_for(township_a)
    response = client.get(reverse("places:expiring"))
    assert list(response.context["page"]) == [soon]
    response = client.get(reverse("places:hazards"))
    rows = list(response.context["page"])
    assert len(rows) == 2 and rows[0].deadline < rows[1].deadline
    assert not client_for(township_b).get(reverse("places:hazards")).context["page"].paginator.count


# --- scope and roles -----------------------------------------------------------------------


def test_another_regions_records_are_404(client_for, township_b, employer, house, site):
    agreement = make_agreement(employer_owner(employer), employer, signed_on=days(-10))
    issue = make_issue(employer_owner(employer), house, found_on=days(-3), deadline=days(3))
    client = client_for(township_b)
    for url in (
        reverse("places:employers_detail", args=[employer.pk]),
        reverse("places:employers_edit", args=[employer.pk]),
        reverse("places:houses_detail", args=[house.pk]),
        reverse("places:houses_edit", args=[house.pk]),
        reverse("places:sites_detail", args=[site.pk]),
        reverse("places:agreements_edit", args=[agreement.pk]),
        reverse("places:safety_edit", args=[issue.pk]),
        reverse("places:agreements_new") + f"?employer={employer.pk}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("places:rectify", args=[issue.pk]), {}).status_code == 404


def employer_owner(employer):
    from liudong.accounts.models import User

    return User.objects.get(username="township_a")


@pytest.mark.parametrize("who", ["provider_a", "inspector"])
def test_provider_and_inspector_may_not_change(request, client_for, who, employer, house):
    user = request.getfixturevalue(who)
    client = client_for(user)
    for url in (
        reverse("places:employers_new"),
        reverse("places:employers_edit", args=[employer.pk]),
        reverse("places:houses_new"),
        reverse("places:houses_edit", args=[house.pk]),
        reverse("places:sites_new"),
        reverse("places:agreements_new"),
        reverse("places:safety_new"),
        reverse("places:employers_import"),
        reverse("places:employers_export"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("places:houses_link", args=[house.pk]), {}).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, employer):
    response = client.get(reverse("places:employers"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- linking a resident --------------------------------------------------------------------


def test_link_a_resident_to_employer_and_house(client_for, township_a, employer, house):
    from liudong.certificates.tests.conftest import make_person

    person = make_person(household="330105001001", residence=VILLAGE_A1, name="周敏")
    client = client_for(township_a)
    response = client.post(
        reverse("places:employers_link", args=[employer.pk]), {"id_number": person.id_number}
    )
    assert response.status_code == 302
    page = client.get(reverse("places:employers_detail", args=[employer.pk])).content.decode()
    assert "周敏" in page and person.id_number not in page and person.id_number[:6] in page
    client.post(reverse("places:houses_link", args=[house.pk]), {"id_number": person.id_number})
    episode = person.episodes.get()
    assert episode.employer_place == employer and episode.rental_house == house
    # Someone not on file, or on file without a stay here, is refused on the page.
    response = client.post(
        reverse("places:houses_link", args=[house.pk]), {"id_number": "110105199001010011"}
    )
    assert response.status_code == 200 and 'data-testid="link-error"' in response.content.decode()


# --- import and export ---------------------------------------------------------------------


def xlsx(header, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def test_import_employers_preview_then_confirm(client_for, township_a, var_dir):
    client = client_for(township_a)
    url = reverse("places:employers_import")
    content = xlsx(
        ["统一社会信用代码", "单位名称", "地址", "区划代码", "联系人", "联系电话", "行业"],
        [
            [make_code(), "曙光电子厂", "曙光路1号", VILLAGE_A1, "钱经理", "13800000011", "电子"],
            ["", "小吃店", "", VILLAGE_A1, "", "", ""],
            [CODE[:-1] + "0", "坏代码厂", "", VILLAGE_A1, "", "", ""],
        ],
    )
    response = client.post(url, {"file": SimpleUploadedFile("单位.xlsx", content)})
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary.imported == 2 and [p["row"] for p in summary.rejected] == [4]
    assert summary.rejected[0]["field"] == "credit_code"
    assert not Employer.objects.exists()  # a preview saves nothing
    response = client.post(url, {"confirm": "1"})
    assert response.context["done"] and response.context["summary"].imported == 2
    assert set(Employer.objects.values_list("name", flat=True)) == {"曙光电子厂", "小吃店"}


def test_import_rental_houses(client_for, township_a, var_dir):
    client = client_for(township_a)
    url = reverse("places:houses_import")
    content = (
        "地址,区划代码,房东姓名,房东电话,房间数,可住人数\n"
        f"曙光路3号,{VILLAGE_A1},孙房东,,3,6\n"
        f"曙光路4号,{VILLAGE_A1},,,x,\n"
    ).encode()
    response = client.post(url, {"file": SimpleUploadedFile("房屋.csv", content)})
    assert [p["row"] for p in response.context["summary"].rejected] == [3]
    client.post(url, {"confirm": "1"})
    assert list(RentalHouse.objects.values_list("address", flat=True)) == ["曙光路3号"]


def stored_uploads(settings) -> list:
    folder = settings.VAR_DIR / "uploads"
    return list(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("name", "content"),
    [("x.pdf", b"%PDF"), ("x.xlsx", b"not a workbook")],
    ids=["refused-type", "unreadable"],
)
def test_import_refuses_a_bad_file(name, content, client_for, township_a, var_dir, settings):
    client = client_for(township_a)
    response = client.post(
        reverse("places:employers_import"),
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    # Nothing saved: no record, no stored upload, nothing pending that a confirm would import.
    assert not Employer.objects.exists()
    assert not stored_uploads(settings)
    assert "places_import_employers" not in client.session
    confirm = client.post(reverse("places:employers_import"), {"confirm": "1"}, follow=True)
    assert "没有待导入的文件，请重新上传。" in confirm.content.decode()
    assert not Employer.objects.exists()


def test_confirm_without_upload(client_for, township_a, var_dir, settings):
    url = reverse("places:employers_import")
    # Another session of the same account has a preview waiting; this one has none.
    other = client_for(township_a)
    content = f"单位名称,区划代码\n曙光电子厂,{VILLAGE_A1}\n".encode()
    assert other.post(url, {"file": SimpleUploadedFile("单位.csv", content)}).status_code == 200
    response = client_for(township_a).post(url, {"confirm": "1"}, follow=True)
    assert "没有待导入的文件，请重新上传。" in response.content.decode()
    # Nothing saved, and the other session's preview is still there to confirm.
    assert not Employer.objects.exists()
    assert not AuditEntry.objects.filter(object_type="places.employer").exists()
    assert len(stored_uploads(settings)) == 1
    assert other.post(url, {"confirm": "1"}).context["summary"].imported == 1
    assert list(Employer.objects.values_list("name", flat=True)) == ["曙光电子厂"]


@pytest.mark.parametrize("slug", ["employers", "houses"])
def test_export_follows_the_filter(client_for, township_a, township_b, employer, house, slug):
    services.create_employer(acting_user=township_a, name="曙光小吃", region="330106002002")
    services.create_rental_house(
        acting_user=township_a, address="曙光路20号", region="330106002002", landlord_name="周房东"
    )
    services.create_employer(acting_user=township_b, name="西溪厂", region=VILLAGE_B1)
    client = client_for(township_a)
    response = client.get(reverse(f"places:{slug}_export"), {"region": VILLAGE_A1})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2  # header and the one record in 北山社区
    response = client.get(reverse(f"places:{slug}_export"), {"q": "曙光"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 if slug == "employers" else len(rows) == 3
    entry = AuditEntry.objects.filter(action="export").latest("pk")
    assert entry.detail["search"] == "曙光"


def test_export_imports_back_unchanged(client_for, township_a, employer, var_dir):
    client = client_for(township_a)
    content = client.get(reverse("places:employers_export")).content
    client.post(reverse("places:employers_import"), {"file": SimpleUploadedFile("e.xlsx", content)})
    response = client.post(reverse("places:employers_import"), {"confirm": "1"})
    summary = response.context["summary"]
    assert (summary.imported, summary.updated, summary.unchanged) == (0, 0, 1)


def test_nav_item_for_place_managers(client_for, township_a, provider_a):
    assert 'data-testid="nav-places"' in client_for(township_a).get("/").content.decode()
    assert 'data-testid="nav-places"' not in client_for(provider_a).get("/").content.decode()
