"""The import page: upload, preview of the problems, confirm; and the xlsx export."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from liudong.audit.models import AuditEntry
from liudong.regions.models import Region

pytestmark = pytest.mark.django_db


def upload(client, text, name="villages.csv"):
    return client.post("/regions/import/", {"file": SimpleUploadedFile(name, text.encode("utf-8"))})


def test_preview_then_confirm(county_admin, client_for):
    client = client_for(county_admin)
    response = upload(client, "区划代码,名称\n330106002003,新村\n330106002003001,第一组\n")
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="import-confirm"' in page
    assert not Region.objects.filter(code="330106002003").exists()  # preview saves nothing
    response = client.post("/regions/import/", {"confirm": "1"}, follow=True)
    assert response.status_code == 200
    assert Region.objects.get(code="330106002003001").name == "第一组"
    assert AuditEntry.objects.filter(object_id="330106002003", action="create").exists()
    # The confirmation is used up: confirming again imports nothing.
    again = client.post("/regions/import/", {"confirm": "1"}, follow=True)
    assert "upload the file again" in again.content.decode() or "重新上传" in again.content.decode()


def test_a_file_with_problems_lists_them_and_offers_no_confirmation(county_admin, client_for):
    client = client_for(county_admin)
    response = upload(client, "code,name\n330106002003,新村\n330106999001,孤村\n")
    page = response.content.decode()
    assert 'data-testid="import-problems"' in page and "330106999" in page
    assert 'data-testid="import-confirm"' not in page
    client.post("/regions/import/", {"confirm": "1"})
    assert not Region.objects.filter(code="330106002003").exists()


def test_wrong_file_types_are_refused(county_admin, client_for):
    response = upload(client_for(county_admin), "x", name="villages.pdf")
    assert response.status_code == 302


def test_only_county_administrators_import(township_a, client_for):
    assert upload(client_for(township_a), "code,name\n").status_code == 403


def test_export_is_scoped_and_audited(villages, township_a, township_b, client_for):
    response = client_for(township_a).get("/regions/330106002/export.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("区划代码", "名称") and ("330106002001", "北山社区") in rows
    assert all(code.startswith("330106002") for code, _ in rows[1:])
    assert client_for(township_b).get("/regions/330106002/export.xlsx").status_code == 404
    assert AuditEntry.objects.filter(action="export", actor_username="township_a").exists()
