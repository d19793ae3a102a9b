"""The matching report on the web and the API: who may run one, what the report shows to
whom (pairs touching the reader's region; the rest counted only), that the owner alone reads
it again, and that every run, reading and download is in the audit log."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from conftest import make_user
from liudong.audit.models import AuditEntry
from liudong.exchange.matching import services as match_reports
from liudong.exchange.tests.test_match_report import A, B, C, D, registers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def files(tmp_path):
    outflow_path, inflow_path = registers(tmp_path)
    return {
        "outflow": SimpleUploadedFile("流出登记.csv", outflow_path.read_bytes()),
        "inflow": SimpleUploadedFile("流入登记.csv", inflow_path.read_bytes()),
    }


def entries(user, object_type=match_reports.OBJECT_TYPE):
    return list(AuditEntry.objects.filter(actor=user, object_type=object_type).order_by("seq"))


def test_a_county_runs_a_match_and_sees_its_pairs_with_rates(client_for, county_admin, tmp_path):
    client = client_for(county_admin)
    response = client.post("/exchange/matching/", {**files(tmp_path), "threshold": "0.9"})
    assert response.status_code == 302
    report_url = response["Location"]
    page = client.get(report_url)
    assert page.status_code == 200
    html = page.content.decode()
    # 西湖区 (330106) is the residence of the pairs (A, B) and (D, B); (A, C) is 滨江区's.
    assert html.count('data-testid="match-pair"') == 2
    assert "三台县" in html and "西湖区" in html and C not in html
    assert "75.00" in html and "60.00" in html
    assert 'data-testid="match-outside"' in html
    # Unmatched rows with masked numbers, never whole.
    assert "********" in html
    run, view = entries(county_admin)
    assert run.action == "view" and run.detail["via"] == "match"
    assert run.detail["rows"] == {"outflow": 5, "inflow": 6}
    assert run.detail["pairs_listed"] == 2 and run.detail["pairs_outside"] == 1
    assert view.action == "view" and view.detail == {"via": "page"}
    assert run.object_id == view.object_id == report_url.strip("/").split("/")[-1]
    # The uploaded files are not kept, only the report.
    assert not list((match_reports.settings.VAR_DIR / "uploads").glob("*"))


def test_the_xlsx_download_is_an_audited_export(client_for, county_admin, tmp_path):
    client = client_for(county_admin)
    report_url = client.post("/exchange/matching/", files(tmp_path))["Location"]
    response = client.get(report_url + "report.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook["分地区比对"].values)
    assert any(r[0] == "合计" and r[2:5] == (3, 1, 3) for r in rows)
    assert any(str(r[0]).startswith("范围外另有 1 个地区对") for r in rows if r and r[0])
    # Only the listed pairs' people: 孙杰 (A -> B) at the origin; 周婷 (A -> C) is 滨江区's.
    assert [r[0] for r in list(workbook["仅户籍地有"].values)[1:]] == [5]
    export = entries(county_admin)[-1]
    assert export.action == "export" and export.detail["format"] == "xlsx"


def test_another_county_sees_only_counts_and_nobody_else_reads_the_report(
    client_for, county_admin, county_b_admin, tmp_path
):
    report_url = client_for(county_admin).post("/exchange/matching/", files(tmp_path))["Location"]
    other = client_for(county_b_admin)
    assert other.get(report_url).status_code == 404
    assert other.get(report_url + "report.xlsx").status_code == 404
    # 拱墅区 (330105) runs the same files: no pair touches it.
    page = other.get(other.post("/exchange/matching/", files(tmp_path))["Location"])
    html = page.content.decode()
    assert 'data-testid="match-pair"' not in html and 'data-testid="unmatched-row"' not in html
    assert 'data-testid="match-outside"' in html


def test_roles_without_matching_and_township_accounts_are_refused(
    client_for, township_a, villages, tmp_path
):
    assert client_for(township_a).get("/exchange/matching/").status_code == 403
    township_inspector = make_user("inspector_t", "inspector", "330106002")
    client = client_for(township_inspector)
    response = client.get("/exchange/matching/")
    assert response.status_code == 403
    response = client.post("/exchange/matching/", files(tmp_path))
    assert response.status_code == 403
    assert not entries(township_inspector)


def test_an_inspector_of_the_county_may_run_one(client_for, inspector, tmp_path):
    response = client_for(inspector).post("/exchange/matching/", files(tmp_path))
    assert response.status_code == 302


def test_a_file_in_the_wrong_template_is_named_and_nothing_is_kept(
    client_for, county_admin, tmp_path
):
    wrong = SimpleUploadedFile(
        "村组.csv", "区划代码,名称\n330106002001,北山社区\n".encode(), content_type="text/csv"
    )
    response = client_for(county_admin).post(
        "/exchange/matching/", {**files(tmp_path), "inflow": wrong}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="inflow-errors"' in html
    assert "村组.csv" in html and "公民身份号码" in html
    assert not entries(county_admin)
    assert not list((match_reports.settings.VAR_DIR / "matching").glob("*.json"))
    assert not list((match_reports.settings.VAR_DIR / "uploads").glob("*"))


def test_files_larger_than_the_page_takes_point_to_the_command(
    client_for, county_admin, tmp_path, monkeypatch
):
    monkeypatch.setattr(match_reports, "MAX_ROWS", 4)
    response = client_for(county_admin).post("/exchange/matching/", files(tmp_path))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="outflow-errors"' in html and "liudong match" in html


# -- API ---------------------------------------------------------------------------------------


def test_the_api_runs_a_match_and_reads_it_again(api_for, county_admin, tmp_path):
    api = api_for(county_admin)
    response = api.post("/api/match-reports/", files(tmp_path), format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(p["outflow_region"], p["inflow_region"]) for p in body["summary"]] == [
        (D, B),
        (A, B),
    ]
    ab = body["summary"][1]
    assert (ab["residence_rate"], ab["origin_rate"]) == (75.0, 60.0)
    assert body["total"]["matched"] == 3 and body["outside"]["pairs"] == 1
    assert "owner" not in body
    assert all("********" in row["id_number"] for row in body["outflow_unmatched"])
    again = api.get(f"/api/match-reports/{body['id']}/")
    assert again.status_code == 200 and again.json()["summary"] == body["summary"]
    xlsx = api.get(f"/api/match-reports/{body['id']}/xlsx/")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    assert [(e.action, (e.detail or {}).get("via")) for e in entries(county_admin)] == [
        ("view", "match"),
        ("view", "api"),
        ("export", None),
    ]


def test_the_api_refuses_in_the_one_error_shape(
    api_for, county_admin, county_b_admin, township_a, tmp_path
):
    api = api_for(county_admin)
    empty = SimpleUploadedFile("empty.csv", b"")
    response = api.post(
        "/api/match-reports/", {**files(tmp_path), "inflow": empty}, format="multipart"
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "inflow" and set(error) == {"field", "code", "message"}

    body = api.post("/api/match-reports/", files(tmp_path), format="multipart").json()
    assert api_for(county_b_admin).get(f"/api/match-reports/{body['id']}/").status_code == 404
    assert (
        api_for(township_a)
        .post("/api/match-reports/", files(tmp_path), format="multipart")
        .status_code
        == 403
    )
    assert api_for(None).get(f"/api/match-reports/{body['id']}/").status_code in (401, 403)


def test_reports_older_than_a_week_are_deleted_at_the_next_run(client_for, county_admin, tmp_path):
    import os
    import time

    client = client_for(county_admin)
    old_url = client.post("/exchange/matching/", files(tmp_path))["Location"]
    old_id = old_url.strip("/").split("/")[-1]
    stored = match_reports.settings.VAR_DIR / "matching" / f"{old_id}.json"
    eight_days_ago = time.time() - 8 * 86_400
    os.utime(stored, (eight_days_ago, eight_days_ago))
    new_url = client.post("/exchange/matching/", files(tmp_path))["Location"]
    assert not stored.exists()
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200
