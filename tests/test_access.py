"""Constrained access, NetBox style (STYLE.md §5): for every record that belongs to a
region, an anonymous caller, a user of another township and a user without the needed
role each get nothing, through the web, the API and the command line; the permitted user
gets it. Township A is 330106002, township B is 330106004 (both in county 330106)."""

import datetime
import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from liudong.accounts.models import User
from liudong.audit.models import AuditEntry
from liudong.people import idnumbers
from liudong.people.models import Person
from liudong.people.services import register_arrival
from liudong.regions.models import Grid, Region

pytestmark = pytest.mark.django_db


@dataclass
class Resource:
    name: str
    web_list: str
    web_detail: str  # format with {key}
    api_list: str
    api_detail: str
    marker: str  # text that identifies the object in a listing
    web_change: dict | None  # POST data for the detail URL, None: not changeable
    api_change: dict | None


RESOURCES = {
    "grid": Resource(
        "grid",
        "/regions/grids/",
        "/regions/grids/{key}/",
        "/api/grids/",
        "/api/grids/{key}/",
        "北山一网格",
        {"name": "改名网格", "region": "330106002", "areas": "", "version": 1},
        {"name": "改名网格"},
    ),
    "account": Resource(
        "account",
        "/accounts/users/",
        "/accounts/users/{key}/",
        "/api/users/",
        "/api/users/{key}/",
        "village_a1",
        {
            "full_name": "改名",
            "role": "village",
            "region": "330106002001",
            "is_active": "on",
            "version": 1,
        },
        {"full_name": "改名"},
    ),
    "person": Resource(
        "person",
        "/people/",
        "/people/{key}/",
        "/api/persons/",
        "/api/persons/{key}/",
        "张伟",
        None,  # changed through /people/{key}/edit/ (liudong/people/tests/test_web.py)
        {"name": "改名", "version": 1},
    ),
    "audit entry": Resource(
        "audit entry",
        "/audit/",
        "/audit/{key}/",
        "/api/audit/",
        "/api/audit/{key}/",
        "village_a1",
        None,
        None,
    ),
}


@pytest.fixture
def person_a(township_a):
    """张伟 from 光山县 (河南) living in 北山社区, registered by township A."""
    person = Person(
        id_number=idnumbers.make("411522", datetime.date(1990, 3, 7), 11, "1"),
        name="张伟",
        sex="1",
        birth_date=datetime.date(1990, 3, 7),
        marital_status="20",
        household_region=Region.objects.get(code="411522"),
    )
    register_arrival(
        acting_user=township_a,
        person=person,
        region=Region.objects.get(code="330106002001"),
        arrival_date=datetime.date(2025, 3, 1),
    )
    return person


@pytest.fixture
def objects_of_township_a(grid_a, village_a1, person_a):
    entry = AuditEntry.objects.get(
        object_type="accounts.user", object_id=str(village_a1.pk), action="create"
    )
    return {
        "grid": grid_a.pk,
        "account": village_a1.pk,
        "person": person_a.pk,
        "audit entry": entry.seq,
    }


def unchanged(resource, key):
    if resource == "grid":
        return Grid.objects.get(pk=key).name == "北山一网格"
    if resource == "account":
        return User.objects.get(pk=key).full_name == "village_a1"
    if resource == "person":
        return Person.objects.get(pk=key).name == "张伟"
    return True


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_gets_nothing(resource, objects_of_township_a, client, api_for):
    spec, key = RESOURCES[resource], objects_of_township_a[resource]
    for url in (spec.web_list, spec.web_detail.format(key=key)):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
    assert api_for().get(spec.api_list).status_code == 401
    assert api_for().get(spec.api_detail.format(key=key)).status_code == 401
    if spec.api_change:
        assert (
            api_for()
            .patch(spec.api_detail.format(key=key), spec.api_change, format="json")
            .status_code
            == 401
        )
    assert unchanged(resource, key)


@pytest.mark.parametrize("resource", RESOURCES)
def test_another_township_cannot_read_list_or_change(
    resource, objects_of_township_a, township_b, grid_b, client_for, api_for
):
    spec, key = RESOURCES[resource], objects_of_township_a[resource]
    web, api = client_for(township_b), api_for(township_b)
    listing = web.get(spec.web_list)
    assert listing.status_code == 200 and spec.marker not in listing.content.decode()
    assert web.get(spec.web_detail.format(key=key)).status_code == 404
    if spec.web_change:
        # 404 where the role could change such records in its own region; 403 where the
        # role may not change them anywhere. Either way nothing about A is revealed.
        assert web.post(spec.web_detail.format(key=key), spec.web_change).status_code in (403, 404)
    api_listing = api.get(spec.api_list)
    assert api_listing.status_code == 200 and spec.marker not in api_listing.content.decode()
    assert api.get(spec.api_detail.format(key=key)).status_code == 404
    if spec.api_change:
        response = api.patch(spec.api_detail.format(key=key), spec.api_change, format="json")
        assert response.status_code in (403, 404)
    assert unchanged(resource, key)


def test_another_county_administrator_cannot_touch_township_a_accounts(
    objects_of_township_a, county_b_admin, client_for, api_for
):
    key = objects_of_township_a["account"]
    assert client_for(county_b_admin).get(f"/accounts/users/{key}/").status_code == 404
    assert (
        client_for(county_b_admin)
        .post(f"/accounts/users/{key}/", RESOURCES["account"].web_change)
        .status_code
        == 404
    )
    assert (
        api_for(county_b_admin)
        .patch(f"/api/users/{key}/", {"full_name": "x"}, format="json")
        .status_code
        == 404
    )
    assert unchanged("account", key)


@pytest.mark.parametrize("resource", RESOURCES)
def test_the_township_itself_reads_its_own(
    resource, objects_of_township_a, township_a, client_for, api_for
):
    spec, key = RESOURCES[resource], objects_of_township_a[resource]
    web, api = client_for(township_a), api_for(township_a)
    assert spec.marker in web.get(spec.web_list).content.decode()
    assert web.get(spec.web_detail.format(key=key)).status_code == 200
    assert spec.marker in api.get(spec.api_list).content.decode()
    assert api.get(spec.api_detail.format(key=key)).status_code == 200


def test_roles_without_the_capability_are_refused(
    objects_of_township_a, township_a, collector_a1, client_for, api_for
):
    # A township may read accounts of its township but not change them.
    key = objects_of_township_a["account"]
    assert (
        client_for(township_a)
        .post(f"/accounts/users/{key}/", RESOURCES["account"].web_change)
        .status_code
        == 403
    )
    assert (
        api_for(township_a)
        .patch(f"/api/users/{key}/", {"full_name": "x"}, format="json")
        .status_code
        == 403
    )
    # A collector sees no audit log; sees the grid they work in but may not change it.
    assert client_for(collector_a1).get("/audit/").status_code == 403
    assert api_for(collector_a1).get("/api/audit/").status_code == 403
    grid = objects_of_township_a["grid"]
    assert client_for(collector_a1).get(f"/regions/grids/{grid}/").status_code == 200
    assert (
        client_for(collector_a1)
        .post(f"/regions/grids/{grid}/", RESOURCES["grid"].web_change)
        .status_code
        == 403
    )
    assert unchanged("account", key) and unchanged("grid", grid)


def test_the_county_administrator_changes_what_is_in_the_county(
    objects_of_township_a, county_admin, api_for
):
    key = objects_of_township_a["account"]
    response = api_for(county_admin).patch(
        f"/api/users/{key}/", {"full_name": "王芳"}, format="json"
    )
    assert response.status_code == 200
    assert User.objects.get(pk=key).full_name == "王芳"


def test_regions_of_another_county_cannot_be_changed(
    villages, county_b_admin, township_b, client_for, api_for
):
    api = api_for(county_b_admin)
    assert (
        api.post("/api/regions/", {"code": "330106002009", "name": "x"}, format="json").status_code
        == 403
    )
    assert api.patch("/api/regions/330106002001/", {"name": "x"}, format="json").status_code == 403
    web = client_for(county_b_admin)
    assert (
        web.post("/regions/330106002/add/", {"code": "330106002009", "name": "x"}).status_code
        == 404
    )
    assert web.post("/regions/330106002001/rename/", {"name": "x", "version": 1}).status_code == 404
    assert (
        client_for(township_b)
        .post("/regions/330106004/add/", {"code": "330106004009", "name": "x"})
        .status_code
        == 403
    )
    assert Region.objects.get(code="330106002001").name == "北山社区"
    assert not Region.objects.filter(code__in=["330106002009", "330106004009"]).exists()


def test_web_export_of_another_township_holds_none_of_township_a(
    objects_of_township_a, township_b, grid_b, client_for
):
    response = client_for(township_b).get("/audit/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    regions = [row[10] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert regions and all(code.startswith("330106004") for code in regions)
    assert AuditEntry.objects.filter(action="export", actor_username="township_b").exists()


def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()


def test_command_line_exports_and_changes_are_bound_to_the_account(
    objects_of_township_a, township_b, tmp_path
):
    status, _, err = run_cli(
        "export_audit",
        "--user",
        "township_b",
        "--region",
        "330106002",
        "--out",
        str(tmp_path / "a.xlsx"),
    )
    assert status == 1 and "outside the region 330106004" in err
    assert not (tmp_path / "a.xlsx").exists()
    status, _, err = run_cli("export_regions", "--user", "township_b", "--region", "330106002")
    assert status == 1 and "outside the region" in err
    status, _, err = run_cli(
        "createuser",
        "intruder",
        "--user",
        "township_b",
        "--role",
        "village",
        "--region",
        "330106002001",
    )
    assert status == 1 and not User.objects.filter(username="intruder").exists()
    status, _, _ = run_cli(
        "export_audit",
        "--user",
        "township_b",
        "--region",
        "330106004",
        "--out",
        str(tmp_path / "b.xlsx"),
    )
    assert status == 0
    sheet = load_workbook(tmp_path / "b.xlsx").active
    assert all(
        row[10].startswith("330106004") for row in sheet.iter_rows(min_row=2, values_only=True)
    )


def test_a_personal_data_view_never_reads_models_unscoped():
    """Views and API views reach scoped models only through in_scope() (STYLE.md §3)."""
    import pathlib
    import re

    scoped = (
        "Grid",
        "User",
        "AuditEntry",
        "Person",
        "ResidenceEpisode",
        "Child",
        "HeldCertificate",
    )
    pattern = re.compile(r"\b(" + "|".join(scoped) + r")\.objects\.(?!in_scope|in_region)")
    offenders = []
    for path in pathlib.Path("liudong").rglob("*.py"):
        if path.name == "views.py":
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{path}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
