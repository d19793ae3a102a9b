"""The field app's pages (views.py): who may open the shell, what it carries (no personal
data: the service worker keeps it), the manifest and the service worker's release and list."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders

from conftest import make_user
from liudong.field import views
from liudong.field.tests.factories import resident

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "region"),
    [
        ("collector", "330106002001"),
        ("village", "330106002001"),
        ("township", "330106002"),
        ("provider", "330106002"),  # records services door to door too
    ],
)
def test_field_roles_open_the_shell(villages, client_for, role, region):
    response = client_for(make_user("worker", role, region)).get("/field/")
    assert response.status_code == 200
    assert response.templates[0].name == "field/app.html"


@pytest.mark.parametrize(("role", "region"), [("inspector", "330106"), ("auditor", "330106")])
def test_other_roles_are_refused(villages, client_for, role, region):
    response = client_for(make_user("office", role, region)).get("/field/")
    assert response.status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/field/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/field/"


def test_the_shell_names_no_one_and_carries_the_strings(villages, client_for):
    worker = make_user("cun_beishan", "village", "330106002001", "北山村专干")
    person = resident("330106002001", name="王芳")
    page = client_for(worker).get("/field/").content.decode()
    assert person.name not in page and person.id_number not in page
    # The same page for every account: the worker may keep it.
    assert worker.username not in page and "北山村专干" not in page
    block = re.search(r'<script id="field-strings" type="application/json">(.*?)</script>', page)
    assert block is not None
    strings = json.loads(block.group(1))
    assert set(views.STRINGS) <= set(strings)
    assert "verify_valid" in strings  # the QR helper's strings merged in
    assert 'src="/static/field/app.js"' in page and 'type="module"' in page
    assert "echarts" not in page and "htmx" not in page  # only what the page needs


def test_the_nav_links_field_roles_to_the_app(villages, client_for):
    worker = client_for(make_user("worker", "collector", "330106002001"))
    auditor = client_for(make_user("auditor", "auditor", "330106"))
    assert 'data-testid="nav-field"' in worker.get("/").content.decode()
    assert 'data-testid="nav-field"' not in auditor.get("/audit/").content.decode()


def test_the_manifest(client):
    response = client.get("/field/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "流动人口外勤"
    assert manifest["start_url"] == manifest["scope"] == "/field/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon


def worker_parts(client) -> tuple[str, list[str], str]:
    response = client.get("/field/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "no-cache" in response["Cache-Control"]
    source = response.content.decode()
    release = re.search(r'^const RELEASE = "(\w+)";$', source, re.M)
    assets = re.search(r"^const ASSETS = (\[.*\]);$", source, re.M)
    assert release and assets
    return release.group(1), json.loads(assets.group(1)), source


def test_the_worker_precaches_the_app_and_its_libraries(client):
    _release, assets, source = worker_parts(client)  # public, like a static file
    for path in (
        "/static/field/app.js",
        "/static/field/store.js",
        "/static/field/sync.js",
        "/static/field/verify.js",
        "/static/field/qr.js",
        "/static/vendor/jsqr/jsQR.js",
        "/static/vendor/tweetnacl/nacl.min.js",
        "/static/vendor/pico/pico.min.css",
    ):
        assert path in assets
    assert not [a for a in assets if a.endswith(("LICENSE", ".md")) or "echarts" in a]
    # The API passes by: never answered from a cache.
    assert 'url.pathname.startsWith("/api/")) return;' in source


def test_a_changed_file_is_a_new_release(client, monkeypatch, tmp_path):
    before, _assets, _source = worker_parts(client)
    assert worker_parts(client)[0] == before  # stable while nothing changes
    changed = tmp_path / "app.js"
    changed.write_text("// the next release\n")
    found = finders.find

    def find(path, *args, **kwargs):
        return str(changed) if path == "field/app.js" else found(path, *args, **kwargs)

    monkeypatch.setattr(views.finders, "find", find)
    assert worker_parts(client)[0] != before
