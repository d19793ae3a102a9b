"""liudong import/export sites, agreements and safety-issues (the command line and the
web pages): a file creates, importing it again or importing an export changes nothing,
each refused row names its row and column and saves nothing, and an export holds only
the caller's region, as filtered, and is audited."""

from __future__ import annotations

import csv
import datetime
import io
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from liudong.audit.models import AuditEntry
from liudong.cli import _resolve
from liudong.places import services, spreadsheets
from liudong.places.models import Agreement, Employer, RentalHouse, SafetyIssue, Site
from liudong.places.views import TRANSFERS

from .conftest import CODE, VILLAGE_A1, VILLAGE_B1
from .test_import_export import run
from .test_web import xlsx

pytestmark = pytest.mark.django_db

TOWNSHIP_A = "330106002"
SITE_HEADER = ["场所类型", "场所名称", "地址", "区划代码", "联系人", "联系电话"]
AGREEMENT_HEADER = ["场所类型", "场所", "区划代码", "协议类型", "签订日期", "有效期至", "责任内容"]
SAFETY_HEADER = ["区划代码", "房屋地址", "安全隐患", "发现日期", "整改期限", "整改完成日期", "备注"]
# Chinese punctuation is full width: it must come back as written, not folded to ASCII.
DUTIES = "（一）流动人口来到三日内报告；（二）配合计划生育服务。"
HAZARD = "电动车楼道充电，堵塞通道"


def counts(summary: dict) -> tuple[int, int, int]:
    return summary["imported"], summary["updated"], summary["unchanged"]


def refused(summary: dict) -> list[tuple[int, str]]:
    return [(p["row"], p["field"]) for p in summary["rejected"]]


def write_csv(path, header, rows) -> str:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def export(command: str, path, user: str = "township_a", *more) -> str:
    call_command(command, "--region", TOWNSHIP_A, "--out", str(path), "--user", user, *more)
    return str(path)


def on(month: int, day: int) -> datetime.date:
    return datetime.date(2025, month, day)


def add_agreement(user, place, **values) -> Agreement:
    """An agreement with ``place``: a service agreement signed on 2025-03-05 unless said."""
    field = {Employer: "employer", RentalHouse: "rental_house", Site: "site"}[type(place)]
    values = {"kind": "service", "signed_on": on(3, 5), **values, field: place}
    return services.create_agreement(acting_user=user, **values)


def add_hazard(user, house, hazard=HAZARD, **values) -> SafetyIssue:
    """A hazard of ``house`` found on 2025-03-05, to be put right by 03-20, unless said."""
    values = {"found_on": on(3, 5), "deadline": on(3, 20), **values}
    return services.create_safety_issue(
        acting_user=user, rental_house=house, hazard=hazard, **values
    )


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def places_b(township_b):
    """An employer, a rental house and a site of the same names in township B."""
    services.create_employer(acting_user=township_b, name="北山服装厂", region=VILLAGE_B1)
    house = services.create_rental_house(
        acting_user=township_b, address="曙光路8号", region=VILLAGE_B1, landlord_name="周房东"
    )
    site = services.create_site(
        acting_user=township_b, kind="market", name="北山农贸市场", region=VILLAGE_B1
    )
    add_agreement(township_b, site, signed_on=on(1, 2))
    add_hazard(township_b, house, "西溪隐患", found_on=on(1, 2), deadline=on(2, 2))
    return house


# --- sites -----------------------------------------------------------------------------------


def test_import_sites_creates_then_changes_nothing(tmp_path, township_a):
    file = write_csv(
        tmp_path / "s.csv",
        SITE_HEADER,
        [
            ["市场", "北山农贸市场", "北山路3号（东门）", VILLAGE_A1, "赵站长", "138 0000 0003"],
            ["construction", "曙光二期工地", "", VILLAGE_A1, "", ""],
            ["服务站", "北山服务站", "", "330106002002", "", ""],
        ],
    )
    first = run("import_sites", file, "--user", "township_a")
    assert counts(first) == (3, 0, 0) and first["rejected"] == []
    market = Site.objects.get(name="北山农贸市场")
    assert (market.kind, market.address, market.phone) == (
        "market",
        "北山路3号（东门）",
        "13800000003",
    )
    assert AuditEntry.objects.filter(action="create", object_type="places.site").count() == 3
    again = run("import_sites", file, "--user", "township_a")
    assert counts(again) == (0, 0, 3)
    assert Site.objects.count() == 3


def test_import_sites_with_english_headers_updates(tmp_path, township_a, site):
    file = write_csv(
        tmp_path / "s.csv",
        ["kind", "name", "region", "contact", "phone"],
        [["market", "北山农贸市场", VILLAGE_A1, "赵站长", ""]],
    )
    assert counts(run("import_sites", file, "--user", "township_a")) == (0, 1, 0)
    assert Site.objects.get(pk=site.pk).contact_name == "赵站长"


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_site_export_imports_back_unchanged(tmp_path, township_a, site, places_b, suffix):
    services.create_site(
        acting_user=township_a,
        kind="service_station",
        name="北山计生服务站（中心）",
        address="北山路9号，二楼",
        region=VILLAGE_A1,
    )
    out = export("export_sites", tmp_path / f"sites.{suffix}")
    rows = list(spreadsheets.SITES.read(out))
    assert [values["name"] for _row, values in rows] == ["北山农贸市场", "北山计生服务站（中心）"]
    summary = run("import_sites", out, "--user", "township_a")
    assert counts(summary) == (0, 0, 2) and summary["rejected"] == []


@pytest.mark.parametrize(
    ("cells", "field", "words"),
    [
        (["菜场", "甲", VILLAGE_A1], "kind", "市场、建筑工地、服务站、其他"),
        (["市场", "", VILLAGE_A1], "name", "场所名称"),
        (["市场", "甲", VILLAGE_B1], "region", "outside your region"),
        (["市场", "甲", "990106002999"], "region", "Unknown region code"),
    ],
)
def test_a_bad_site_row_is_refused_by_row_and_field(tmp_path, township_a, cells, field, words):
    file = write_csv(tmp_path / "s.csv", ["场所类型", "场所名称", "区划代码"], [cells])
    summary = run("import_sites", file, "--user", "township_a")
    assert refused(summary) == [(2, field)]
    assert words in summary["rejected"][0]["message"]
    assert not Site.objects.exists()


# --- agreements ------------------------------------------------------------------------------


def test_import_agreements_with_each_kind_of_place(tmp_path, township_a, employer, house, site):
    file = write_csv(
        tmp_path / "a.csv",
        AGREEMENT_HEADER,
        [
            ["用工单位", CODE.lower(), VILLAGE_A1, "服务协议", "2025-03-05", "2026/3/4", DUTIES],
            ["用工单位", "北山服装厂", VILLAGE_A1, "责任书", "2025.03.05", "", ""],
            ["出租房屋", "曙光路8号", TOWNSHIP_A, "管理责任书", "20250305", "", ""],
            ["场所", "北山农贸市场", VILLAGE_A1, "其他", "2025年3月5日", "", ""],
        ],
    )
    first = run("import_agreements", file, "--user", "township_a")
    assert counts(first) == (4, 0, 0) and first["rejected"] == []
    service = Agreement.objects.get(kind="service")
    assert service.employer == employer and service.duties == DUTIES
    assert service.signed_on == datetime.date(2025, 3, 5)
    assert service.valid_until == datetime.date(2026, 3, 4)
    assert Agreement.objects.get(rental_house=house).kind == "responsibility"
    assert Agreement.objects.get(site=site).signed_on == datetime.date(2025, 3, 5)
    assert AuditEntry.objects.filter(action="create", object_type="places.agreement").count() == 4
    assert counts(run("import_agreements", file, "--user", "township_a")) == (0, 0, 4)


def test_import_agreements_from_xlsx_with_excel_dates(tmp_path, township_a, house):
    path = tmp_path / "a.xlsx"
    path.write_bytes(
        xlsx(
            ["place_kind", "place", "region", "kind", "signed_on", "valid_until"],
            [["rental_house", "曙光路8号", VILLAGE_A1, "service", datetime.date(2025, 3, 5), None]],
        )
    )
    assert counts(run("import_agreements", str(path), "--user", "township_a")) == (1, 0, 0)
    assert Agreement.objects.get().signed_on == datetime.date(2025, 3, 5)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_agreement_export_imports_back_unchanged(
    tmp_path, township_a, employer, house, site, places_b, suffix
):
    add_agreement(township_a, employer, valid_until=datetime.date(2026, 3, 4), duties=DUTIES)
    small = services.create_employer(acting_user=township_a, name="小吃店", region=VILLAGE_A1)
    for place in (small, house, site):
        add_agreement(township_a, place, kind="responsibility", signed_on=on(4, 1))
    out = export("export_agreements", tmp_path / f"agreements.{suffix}")
    rows = [values for _row, values in spreadsheets.AGREEMENTS.read(out)]
    assert len(rows) == 4  # township B's agreement is not in it
    assert {(r["place_kind"], r["place"]) for r in rows} == {
        ("用工单位", CODE),  # an employer by its credit code, else by name
        ("用工单位", "小吃店"),
        ("出租房屋", "曙光路8号"),
        ("场所", "北山农贸市场"),
    }
    summary = run("import_agreements", out, "--user", "township_a")
    assert counts(summary) == (0, 0, 4) and summary["rejected"] == []
    assert Agreement.objects.get(employer=employer).duties == DUTIES


def agreement(place_kind="用工单位", place="北山服装厂", region=VILLAGE_A1, **dates):
    """The cells of an agreement row (signed 2025-03-05 unless said otherwise)."""
    signed, until = dates.get("signed", "2025-03-05"), dates.get("until", "")
    return [place_kind, place, region, dates.get("kind", "服务协议"), signed, until]


@pytest.mark.parametrize(
    ("cells", "field", "words"),
    [
        (agreement(signed="2025-13-05"), "signed_on", "not a date"),
        (agreement(until="明年"), "valid_until", "not a date"),
        (agreement(place="无名厂"), "place", "No employer"),
        (agreement("出租房屋", "曙光路99号"), "place", "No rental house"),
        # The same names are on file in township B: named there, refused, never found.
        (agreement(region=VILLAGE_B1), "region", "outside your region"),
        (agreement("场所", "北山农贸市场", VILLAGE_B1), "region", "outside your region"),
        (agreement(until="2025-03-04"), "valid_until", "before it is signed"),
        (agreement(kind="合同"), "kind", "计划生育服务协议、管理责任书、其他"),
        (agreement("工厂"), "place_kind", "用工单位、出租房屋、场所"),
        (agreement(signed=""), "signed_on", "签订日期"),
        (agreement(place=""), "place", "场所"),
    ],
)
def test_a_bad_agreement_row_is_refused_by_row_and_field(
    tmp_path, township_a, employer, site, places_b, cells, field, words
):
    file = write_csv(tmp_path / "a.csv", AGREEMENT_HEADER[:6], [cells])
    summary = run("import_agreements", file, "--user", "township_a")
    assert refused(summary) == [(2, field)]
    message = summary["rejected"][0]["message"]
    assert words in message
    assert "330106004" not in message or field == "region"  # nothing learnt of township B
    assert Agreement.objects.count() == 1  # township B's only


def test_a_place_only_in_another_region_is_not_found(tmp_path, township_a, places_b):
    file = write_csv(
        tmp_path / "a.csv",
        AGREEMENT_HEADER[:5],
        [["出租房屋", "曙光路8号", TOWNSHIP_A, "服务协议", "2025-03-05"]],
    )
    summary = run("import_agreements", file, "--user", "township_a")
    assert refused(summary) == [(2, "place")]
    assert (
        "No rental house “曙光路8号” is registered in region 330106002"
        in (summary["rejected"][0]["message"])
    )
    assert Agreement.objects.count() == 1


def test_two_places_of_one_name_must_be_told_apart(tmp_path, township_a, house):
    services.create_rental_house(
        acting_user=township_a, address="曙光路8号", region="330106002002", landlord_name="周房东"
    )
    file = write_csv(
        tmp_path / "a.csv",
        AGREEMENT_HEADER[:5],
        [
            ["出租房屋", "曙光路8号", TOWNSHIP_A, "服务协议", "2025-03-05"],
            ["出租房屋", "曙光路8号", VILLAGE_A1, "服务协议", "2025-03-05"],
            ["出租房屋", "曙光路8号", VILLAGE_A1, "服务协议", "2025-03-05"],
        ],
    )
    summary = run("import_agreements", file, "--user", "township_a")
    assert refused(summary) == [(2, "place"), (4, "place")]
    assert "More than one rental house" in summary["rejected"][0]["message"]
    assert "first on row 3" in summary["rejected"][1]["message"]
    assert Agreement.objects.get().rental_house == house


# --- the safety and rectification register ---------------------------------------------------


def test_import_safety_issues_creates_then_changes_nothing(tmp_path, township_a, house):
    file = write_csv(
        tmp_path / "h.csv",
        SAFETY_HEADER,
        [
            [VILLAGE_A1, "曙光路8号", HAZARD, "2025/3/5", "2025.03.20", "20250318", "已复查"],
            [TOWNSHIP_A, "曙光路8号", "灭火器过期", "2025-04-01", "2025-04-15", "", ""],
        ],
    )
    first = run("import_safety_issues", file, "--user", "township_a")
    assert counts(first) == (2, 0, 0) and first["rejected"] == []
    issue = SafetyIssue.objects.get(hazard=HAZARD)
    assert issue.rental_house == house
    assert (issue.found_on, issue.deadline, issue.rectified_on) == (
        datetime.date(2025, 3, 5),
        datetime.date(2025, 3, 20),
        datetime.date(2025, 3, 18),
    )
    assert counts(run("import_safety_issues", file, "--user", "township_a")) == (0, 0, 2)


def test_a_rectification_imported_later_updates_the_hazard(tmp_path, township_a, house):
    header = ["region", "rental_house", "hazard", "found_on", "deadline", "rectified_on"]
    row = [VILLAGE_A1, "曙光路8号", HAZARD, "2025-03-05", "2025-03-20"]
    write_csv(tmp_path / "open.csv", header, [row])
    write_csv(tmp_path / "done.csv", header, [[*row, "2025-03-19"]])
    run("import_safety_issues", str(tmp_path / "open.csv"), "--user", "township_a")
    summary = run("import_safety_issues", str(tmp_path / "done.csv"), "--user", "township_a")
    assert counts(summary) == (0, 1, 0)
    assert SafetyIssue.objects.get().rectified_on == datetime.date(2025, 3, 19)
    assert AuditEntry.objects.filter(action="update", object_type="places.safetyissue").exists()


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_safety_export_imports_back_unchanged(tmp_path, township_a, house, places_b, suffix):
    add_hazard(township_a, house, rectified_on=on(3, 18), notes="复查：合格")
    add_hazard(township_a, house, "灭火器过期", found_on=on(4, 1), deadline=on(4, 15))
    out = export("export_safety_issues", tmp_path / f"safety.{suffix}")
    rows = [values for _row, values in spreadsheets.SAFETY_ISSUES.read(out)]
    assert [r["hazard"] for r in rows] == [HAZARD, "灭火器过期"]  # not township B's
    summary = run("import_safety_issues", out, "--user", "township_a")
    assert counts(summary) == (0, 0, 2) and summary["rejected"] == []
    assert SafetyIssue.objects.get(hazard=HAZARD).notes == "复查：合格"


def hazard(address="曙光路8号", text="隐患", found="2025-03-05", deadline="2025-03-20", **more):
    """The cells of a safety register row."""
    return [more.get("region", VILLAGE_A1), address, text, found, deadline]


@pytest.mark.parametrize(
    ("cells", "field", "words"),
    [
        (hazard(found="2025-02-30"), "found_on", "not a date"),
        (hazard("曙光路99号"), "rental_house", "No rental house"),
        (hazard(region=VILLAGE_B1), "region", "outside your region"),
        (hazard(text=""), "hazard", "安全隐患"),
        (hazard(deadline="2025-03-01"), "deadline", "deadline"),
        (hazard(found="2099-03-05", deadline="2099-03-20"), "found_on", "future"),
        (hazard(text="=A1"), "hazard", "Formulas"),
    ],
)
def test_a_bad_safety_row_is_refused_by_row_and_field(
    tmp_path, township_a, house, places_b, cells, field, words
):
    file = write_csv(tmp_path / "h.csv", SAFETY_HEADER[:5], [cells])
    summary = run("import_safety_issues", file, "--user", "township_a")
    assert refused(summary) == [(2, field)]
    assert words in summary["rejected"][0]["message"]
    assert SafetyIssue.objects.count() == 1  # township B's only


# --- the commands: --atomic, --dry-run, the liudong names, exports ----------------------------


@pytest.mark.parametrize(
    ("command", "header", "good", "bad", "model"),
    [
        (
            "import_sites",
            ["场所类型", "场所名称", "区划代码"],
            ["市场", "南门市场", VILLAGE_A1],
            ["市场", "西门市场", "33010600200X"],
            Site,
        ),
        (
            "import_agreements",
            AGREEMENT_HEADER[:5],
            ["出租房屋", "曙光路8号", VILLAGE_A1, "服务协议", "2025-03-05"],
            ["出租房屋", "曙光路8号", VILLAGE_A1, "服务协议", "2025-03-32"],
            Agreement,
        ),
        (
            "import_safety_issues",
            SAFETY_HEADER[:5],
            [VILLAGE_A1, "曙光路8号", "隐患", "2025-03-05", "2025-03-20"],
            [VILLAGE_A1, "曙光路9号", "隐患", "2025-03-05", "2025-03-20"],
            SafetyIssue,
        ),
    ],
)
def test_atomic_and_dry_run(tmp_path, township_a, house, command, header, good, bad, model):
    mixed = write_csv(tmp_path / "mixed.csv", header, [good, bad])
    summary = run(command, mixed, "--atomic", "--user", "township_a")
    assert summary["imported"] == 1 and refused(summary)[0][0] == 3
    assert not model.objects.exists()  # --atomic: one bad row, nothing saved
    clean = write_csv(tmp_path / "clean.csv", header, [good])
    summary = run(command, clean, "--dry-run", "--user", "township_a")
    assert counts(summary) == (1, 0, 0) and not model.objects.exists()
    assert counts(run(command, clean, "--user", "township_a")) == (1, 0, 0)
    assert model.objects.count() == 1


@pytest.mark.parametrize("record", ["sites", "agreements", "safety-issues"])
def test_liudong_import_and_export_name_the_commands(record):
    name = record.replace("-", "_")
    assert _resolve(["import", record, "f.csv"]) == [f"import_{name}", "f.csv"]
    assert _resolve(["export", record, "--region", "1"]) == [f"export_{name}", "--region", "1"]


@pytest.mark.parametrize("command", ["export_sites", "export_agreements", "export_safety_issues"])
def test_export_outside_the_users_region_is_refused(command, township_b):
    with pytest.raises(SystemExit):
        call_command(command, "--region", TOWNSHIP_A, "--user", "township_b", stderr=StringIO())
    assert not AuditEntry.objects.filter(action="export").exists()


@pytest.mark.parametrize(
    ("command", "object_type"),
    [
        ("export_sites", "places.site"),
        ("export_agreements", "places.agreement"),
        ("export_safety_issues", "places.safetyissue"),
    ],
)
def test_command_export_is_audited(tmp_path, township_a, command, object_type):
    export(command, tmp_path / "out.csv")
    entry = AuditEntry.objects.get(action="export")
    assert entry.object_type == object_type and entry.region == TOWNSHIP_A
    assert entry.detail == {"rows": 0, "format": "csv"}


# --- the web pages ---------------------------------------------------------------------------


def test_the_lists_offer_import_and_export(client_for, township_a, provider_a):
    for slug in ("sites", "agreements", "safety"):
        page = client_for(township_a).get(reverse(f"places:{slug}")).content.decode()
        assert reverse(f"places:{slug}_import") in page
        assert reverse(f"places:{slug}_export") in page
        page = client_for(provider_a).get(reverse(f"places:{slug}")).content.decode()
        assert reverse(f"places:{slug}_import") not in page
        assert client_for(provider_a).get(reverse(f"places:{slug}_export")).status_code == 403


def test_the_import_page_shows_what_a_column_takes(client_for, township_a):
    page = client_for(township_a).get(reverse("places:agreements_import")).content.decode()
    assert "场所类型 / place_kind" in page and "用工单位、出租房屋、场所" in page


def test_sites_have_no_residents_to_link(client_for, township_a, site):
    response = client_for(township_a).post(reverse("places:sites_link", args=[site.pk]), {})
    assert response.status_code == 404


def test_import_agreements_on_the_page(client_for, township_a, employer, house, var_dir):
    client = client_for(township_a)
    url = reverse("places:agreements_import")
    content = xlsx(
        AGREEMENT_HEADER,
        [
            ["用工单位", CODE, VILLAGE_A1, "服务协议", datetime.date(2025, 3, 5), None, DUTIES],
            ["出租房屋", "曙光路8号", VILLAGE_A1, "责任书", "2025-03-05", "2025-03-01", ""],
        ],
    )
    response = client.post(url, {"file": SimpleUploadedFile("协议.xlsx", content)})
    summary = response.context["summary"]
    assert summary.imported == 1 and [p["row"] for p in summary.rejected] == [3]
    assert response.context["problems"][0]["column"] == "有效期至"
    assert not Agreement.objects.exists()  # a preview saves nothing
    response = client.post(url, {"confirm": "1"})
    assert response.context["done"] and response.context["summary"].imported == 1
    assert Agreement.objects.get().employer == employer


@pytest.mark.parametrize(
    ("slug", "object_type"),
    [
        ("sites", "places.site"),
        ("agreements", "places.agreement"),
        ("safety", "places.safetyissue"),
    ],
)
def test_web_export_follows_the_filter_and_is_audited(
    client_for, township_a, house, site, places_b, slug, object_type
):
    other = services.create_rental_house(
        acting_user=township_a, address="南门路1号", region="330106002002", landlord_name="吴房东"
    )
    services.create_site(
        acting_user=township_a, kind="other", name="南门驿站", region="330106002002"
    )
    for place in (house, other, site):
        add_agreement(township_a, place)
    for place in (house, other):
        add_hazard(township_a, place, f"{place.address}隐患")
    client = client_for(township_a)
    response = client.get(reverse(f"places:{slug}_export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"-{TOWNSHIP_A}.xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    expected = {"sites": 2, "agreements": 3, "safety": 2}[slug]
    assert len(rows) == 1 + expected  # township B's are not in it
    assert list(rows[0]) == TRANSFERS[slug].header
    response = client.get(reverse(f"places:{slug}_export"), {"region": "330106002002"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2
    response = client.get(reverse(f"places:{slug}_export"), {"q": "南门"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2
    entry = AuditEntry.objects.filter(action="export").latest("pk")
    assert entry.object_type == object_type
    assert entry.detail == {"rows": 1, "format": "xlsx", "search": "南门"}


def test_web_export_imports_back_unchanged(client_for, township_a, house, var_dir):
    add_hazard(township_a, house)
    client = client_for(township_a)
    content = client.get(reverse("places:safety_export")).content
    client.post(reverse("places:safety_import"), {"file": SimpleUploadedFile("s.xlsx", content)})
    summary = client.post(reverse("places:safety_import"), {"confirm": "1"}).context["summary"]
    assert (summary.imported, summary.updated, summary.unchanged) == (0, 0, 1)
