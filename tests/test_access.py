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
    # Fixture names: who reads township A's record, and who of another region must not.
    reader: str = "township_a"
    outsider: str = "township_b"


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
        # Only the auditor reads the audit log (separation of duties); the other county's
        # auditor is the outsider.
        reader="auditor",
        outsider="auditor_b",
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


# Reading (lists and details, every scoped model, web and API) is checked by the
# registry-driven tests/test_generic_access.py; the tests here keep the changes.


@pytest.mark.parametrize("resource", [name for name, spec in RESOURCES.items() if spec.api_change])
def test_anonymous_changes_nothing(resource, objects_of_township_a, api_for):
    spec, key = RESOURCES[resource], objects_of_township_a[resource]
    if spec.api_change:
        assert (
            api_for()
            .patch(spec.api_detail.format(key=key), spec.api_change, format="json")
            .status_code
            == 401
        )
    assert unchanged(resource, key)


@pytest.mark.parametrize(
    "resource", [name for name, spec in RESOURCES.items() if spec.web_change or spec.api_change]
)
def test_another_region_cannot_change(
    resource, objects_of_township_a, grid_b, client_for, api_for, request
):
    spec, key = RESOURCES[resource], objects_of_township_a[resource]
    outsider = request.getfixturevalue(spec.outsider)
    web, api = client_for(outsider), api_for(outsider)
    if spec.web_change:
        # 404 where the role could change such records in its own region; 403 where the
        # role may not change them anywhere. Either way nothing about A is revealed.
        assert web.post(spec.web_detail.format(key=key), spec.web_change).status_code in (403, 404)
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


def test_web_export_of_another_county_holds_none_of_township_a(
    objects_of_township_a, auditor_b, client_for
):
    response = client_for(auditor_b).get("/audit/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    regions = [row[10] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert regions and all(code.startswith("330105") for code in regions)
    assert AuditEntry.objects.filter(action="export", actor_username="auditor_b").exists()


def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        return 0, out.getvalue(), err.getvalue()
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()


def test_command_line_exports_and_changes_are_bound_to_the_account(
    objects_of_township_a, township_b, auditor_b, tmp_path
):
    status, _, err = run_cli(
        "export_audit",
        "--user",
        "auditor_b",
        "--region",
        "330106002",
        "--out",
        str(tmp_path / "a.xlsx"),
    )
    assert status == 1 and "outside the region 330105" in err
    assert not (tmp_path / "a.xlsx").exists()
    # Township B reads no audit log at all, not even its own region's.
    status, _, err = run_cli(
        "export_audit",
        "--user",
        "township_b",
        "--region",
        "330106004",
        "--out",
        str(tmp_path / "own.xlsx"),
    )
    assert status == 1 and "may not read the audit log" in err
    assert not (tmp_path / "own.xlsx").exists()
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
        "auditor_b",
        "--region",
        "330105",
        "--out",
        str(tmp_path / "b.xlsx"),
    )
    assert status == 0
    sheet = load_workbook(tmp_path / "b.xlsx").active
    assert all(row[10].startswith("330105") for row in sheet.iter_rows(min_row=2, values_only=True))


def test_no_module_reads_a_scoped_model_unscoped():
    """Outside models.py and services.py, scoped models are read only through in_scope()
    (STYLE.md §3), checked over the syntax tree of every module for every model whose
    manager is a ScopedQuerySet; tests/access_allowlist.txt names the deliberate
    exceptions, each with its reason, and an entry that no longer matches must go."""
    from tests.scoped_reads import unscoped_reads

    offences, unused = unscoped_reads()
    assert not offences, "read through in_scope(actor), or allow-list with a reason:\n" + (
        "\n".join(map(str, offences))
    )
    assert not unused, "allow-list entries that match nothing:\n" + "\n".join(map(str, unused))


def test_the_scoped_models_come_from_the_app_registry():
    from tests.scoped_reads import scoped_model_names

    names = scoped_model_names()
    # The seven the old line lint knew, and those it missed (places, services, exchange).
    assert {"Grid", "User", "AuditEntry", "Person", "ResidenceEpisode", "Child"} <= names
    assert {"HeldCertificate", "Employer", "ServiceRecord", "IntakeRow", "Campaign"} <= names
    assert {"MonthlyReport", "SpotCheck", "AssessmentScheme"} <= names


# Models placed by a region, a person or an account that have no scoped manager, and why.
UNSCOPED_MODELS = {
    "regions.Region": "the division tree; RegionQuerySet.in_scope() is what a user may change",
    "accounts.RecoveryCodeDevice": "read only for the signed-in holder (accounts.second_factor)",
    "certificates.NumberCounter": "a township's next certificate number; read only by issue()",
    "stats.Indicator": "the county's indicator catalogue: no personal or regional rows",
    "stats.QualityRule": "the data-quality rule catalogue: no personal or regional rows",
    "stats.ReportEvent": "read through its MonthlyReport (scoped)",
    "stats.Target": "read only by the stats services, after check_region()",
    "stats.SpotCheckEntry": "read through its SpotCheck (scoped), stats.spotchecks.entries_of",
    "exchange.NodeIdentity": "this node's own identity (operator only)",
    "exchange.Peer": "the trusted peers (operator only, node trust)",
    # The phone's own actions, as the server answered them: no personal data (a hash of the
    # contents, never the contents), read only by field.sync for the signed-in account.
    "field.FieldAction": "read only by field.sync, always for the account's own rows (user=)",
}


def test_every_model_placed_by_a_region_or_a_person_is_scoped():
    """A new record type with a region, person or account key gets a ScopedQuerySet
    manager (and so the checks above), or an entry here saying why not."""
    from django.apps import apps

    from liudong.base import ScopedQuerySet

    missing = []
    for model in apps.get_models():
        if not model.__module__.startswith("liudong."):
            continue
        keys = [
            f.name
            for f in model._meta.get_fields()
            if getattr(f, "many_to_one", False)
            and f.related_model is not None
            and f.related_model.__name__ in ("Region", "Person", "User")
        ]
        queryset_class = getattr(model._default_manager, "_queryset_class", None)
        scoped = queryset_class is not None and issubclass(queryset_class, ScopedQuerySet)
        if keys and not scoped and model._meta.label not in UNSCOPED_MODELS:
            missing.append(f"{model._meta.label} ({', '.join(keys)})")
    assert not missing, "give these a ScopedQuerySet manager:\n" + "\n".join(missing)
    assert all(apps.get_model(label) for label in UNSCOPED_MODELS)


# API view sets over a scoped model that do not start from its in_scope(), and why.
VIEWSETS_OUTSIDE_THE_BASE = {
    # An importer also sees the rows of the lists it sent in that lie outside its region
    # (exchange.intake.services.scoped_rows): wider than IntakeRow.in_scope(), which is what may be
    # decided; the intake service owns both definitions.
    "intake-batch": "exchange.intake.services.scoped_batches",
    "intake-row": "exchange.intake.services.scoped_rows",
}


def test_every_api_view_set_of_a_scoped_model_starts_from_in_scope():
    """Scoped by construction: ScopedModelViewSet owns get_queryset()."""
    from liudong.api.urls import router
    from liudong.api.viewsets import ScopedModelViewSet
    from tests.scoped_reads import scoped_model_names

    scoped = scoped_model_names()
    outside = []
    for _prefix, viewset, basename in router.registry:
        model = getattr(viewset, "model", None) or getattr(
            getattr(getattr(viewset, "serializer_class", None), "Meta", None), "model", None
        )
        if model is None or model.__name__ not in scoped:
            continue
        if not issubclass(viewset, ScopedModelViewSet) and basename not in (
            VIEWSETS_OUTSIDE_THE_BASE
        ):
            outside.append(f"{basename}: {viewset.__name__} ({model.__name__})")
    assert not outside, "derive from liudong.api.viewsets.ScopedModelViewSet:\n" + "\n".join(
        outside
    )


def test_a_scoped_view_set_cannot_replace_get_queryset():
    from liudong.api.viewsets import ScopedModelViewSet

    with pytest.raises(TypeError, match="narrow"):

        class Unscoped(ScopedModelViewSet):
            model = Person

            def get_queryset(self):
                return Person.objects.all()

    with pytest.raises(TypeError, match="model"):

        class WithQueryset(ScopedModelViewSet):
            queryset = Person.objects.all()


def test_the_view_set_base_scopes_for_the_request_actor(person_a, township_a, township_b, rf):
    from liudong.api.viewsets import ScopedModelViewSet

    class People(ScopedModelViewSet):
        model = Person

        def narrow(self, queryset):
            return queryset.filter(name="张伟")

    for user, expected in ((township_a, [person_a.pk]), (township_b, [])):
        view = People()
        view.request = rf.get("/")
        view.request.user = user
        assert list(view.get_queryset().values_list("pk", flat=True)) == expected


UNSCOPED = """
from django.shortcuts import get_object_or_404
from liudong.base import scoped_object_or_404
from liudong.people.models import Person as P
from liudong.regions import models

def page(request, pk):
    a = P.objects.in_scope(request.user).filter(pk=pk)       # scoped
    b = P.objects.select_related("x").in_scope(request.user)  # scoped later in the chain
    c = P.objects.none()                                      # reads nothing
    d = P.objects.filter(pk=pk)                               # offence
    e = models.Grid._default_manager.all()                    # offence
    f = get_object_or_404(P, pk=pk)                           # offence
    g = P.objects                                             # offence
    h = scoped_object_or_404(P.objects.select_related("x"), request.user, pk=pk)  # scoped
    i = scoped_object_or_404(P, request.user, pk=pk)         # scoped
    return a, b, c, d, e, f, g, h, i
"""


def test_the_syntax_check_finds_each_kind_of_unscoped_read():
    from tests.scoped_reads import offences_in

    found = offences_in(UNSCOPED, "liudong/web/worklist.py", {"Person", "Grid"})
    assert [(o.line, o.model) for o in sorted(found, key=lambda o: o.line)] == [
        (11, "Person"),
        (12, "Grid"),
        (13, "Person"),
        (14, "Person"),
    ]


# --- the auditor (审计管理员): the audit log and nothing else --------------------------------

STAFF_ROLES = [
    "county_admin",
    "township_a",
    "village_a1",
    "collector_a1",
    "provider_a",
    "inspector",
    "node_account",
]


@pytest.mark.parametrize("who", STAFF_ROLES)
def test_only_the_auditor_reads_the_audit_log(
    who, objects_of_township_a, client_for, api_for, request
):
    """Separation of duties: the county administrator manages staff, so it must not be the
    one who reviews their trail; the registry's daily roles do not review their own."""
    user = request.getfixturevalue(who)
    web, api = client_for(user), api_for(user)
    key = objects_of_township_a["audit entry"]
    for url in ("/audit/", "/audit/export.xlsx", f"/audit/{key}/"):
        assert web.get(url).status_code == 403, url
    assert api.get("/api/audit/").status_code == 403
    assert api.get(f"/api/audit/{key}/").status_code == 403
    assert not AuditEntry.objects.filter(action="export", actor_username=user.username).exists()


def _sample(name: str, pattern: str) -> list[str]:
    """Values to fill a URL parameter with, the first one the pattern accepts wins."""
    samples = {
        "code": ["330106002"],
        "number": ["330106002-2025-000001"],
        "decision": ["approve"],
        "report_id": ["0" * 32, "x"],
        "pk": ["1", "00000000-0000-0000-0000-000000000001"],
    }
    return samples.get(name, ["1"])


def _every_url():
    """(name, path) of every page and API route, each parameter filled with a sample value."""
    import re

    from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner.strip(":"))
            elif pattern.name:
                yield f"{namespace}:{pattern.name}".strip(":"), str(pattern.pattern)

    seen = set()
    for name, pattern in walk(get_resolver().url_patterns, ""):
        params = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern)
        params = [a or b for a, b in params]
        if "format" in params:
            continue  # the same view as without the suffix
        for choice in range(2):
            kwargs = {
                p: _sample(p, pattern)[min(choice, len(_sample(p, pattern)) - 1)] for p in params
            }
            try:
                path = reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                continue
            if path not in seen:
                seen.add(path)
                yield name, path
            break


# Routes an auditor may open: its own tokens, the audit log, and what anyone may (the login,
# the language switch, the public certificate check, the API schema). Everything else is 403.
AUDITOR_ALLOWED = {
    "web:home": 302,  # to the audit log
    "accounts:login": 200,
    "accounts:logout": 405,  # POST only; signing out is allowed
    "accounts:token_list": 200,
    # Its own sign-in steps and security settings (second factor, recovery codes, password).
    "accounts:second_factor": 302,  # this session passed it already
    "accounts:second_factor_enrol": 200,
    "accounts:security": 200,
    "accounts:recovery_codes_new": 405,  # POST only
    "accounts:password_change": 200,
    "accounts:token_revoke": 405,  # POST only (a token of another account: 404)
    "verify:check": 200,
    # Peer nodes post signed messages here (POST only), no account involved.
    "exchange:inbox": 405,
    "audit:list": 200,
    "audit:export": 200,
    "audit:detail": 404,  # no entry #1 in its scope is guaranteed; the route is open
    "api:schema": 200,
    "api:docs": 200,
    "api:token": 405,  # POST only: obtaining a token
    "api:token-list": 200,
    "api:token-detail": 404,
    "api:token-revoke": 405,
    "api:audit-list": 200,
    "api:audit-detail": 404,
    "set_language": 302,
    # For the front proxy: anyone, no session (the database answers: 200).
    "web:healthz": 200,
    # The field app's manifest and service worker: public like static files (they name no
    # one; a browser asks for the manifest without cookies, and an installed worker updates
    # after its session ended). The app's page itself refuses the auditor.
    "field:manifest": 200,
    "field:worker": 200,
}


def test_the_auditor_is_refused_on_every_other_page_and_api(auditor, client_for, api_for):
    """Registry-driven: every route the project has, so a page added tomorrow is covered."""
    web, api = client_for(auditor), api_for(auditor)
    unexpected = []
    checked = 0
    for name, path in _every_url():
        client = api if path.startswith("/api/") else web
        status = client.get(path).status_code
        if status == 405:
            status = client.post(path, {}).status_code if name not in AUDITOR_ALLOWED else 405
        checked += 1
        if name.startswith("residents:"):
            # Her pages under /me/ (issue 19) know no staff role: a staff session is no
            # resident session, so they show her sign-in or send the caller to it.
            if not (status in (302, 405) or (name == "residents:sign_in" and status == 200)):
                unexpected.append(f"{name} {path}: {status}, expected her sign-in")
            continue
        expected = AUDITOR_ALLOWED.get(name, 403)
        if status != expected:
            unexpected.append(f"{name} {path}: {status}, expected {expected}")
    assert checked > 150
    assert not unexpected, "\n".join(unexpected)


def test_the_auditor_reads_the_county_log_and_lands_on_it(
    objects_of_township_a, auditor, client_for, api_for
):
    web = client_for(auditor)
    home = web.get("/")
    assert home.status_code == 302 and home.url == "/audit/"
    page = web.get("/audit/").content.decode()
    assert "village_a1" in page
    # The menu offers the log and the tokens, no person file or figure.
    assert 'href="/people/"' not in page and 'href="/audit/"' in page
    export = web.get("/audit/export.xlsx")
    assert export.status_code == 200
    assert AuditEntry.objects.filter(action="export", actor_username="auditor").exists()
    listing = api_for(auditor).get("/api/audit/")
    assert listing.status_code == 200 and "village_a1" in listing.content.decode()


def test_a_staff_administrator_cannot_make_or_take_over_an_auditor(
    auditor, county_admin, client_for, api_for
):
    """Otherwise the administrator would create an auditor account, or reset the auditor's
    password or issue a token for it, and read the trail after all."""
    from django.core.exceptions import PermissionDenied

    from liudong.accounts.services import create_user, issue_token, set_password, update_user

    region = Region.objects.get(code="330106")
    with pytest.raises(PermissionDenied):
        create_user(
            acting_user=county_admin, username="second_auditor", role="auditor", region=region
        )
    with pytest.raises(PermissionDenied):
        set_password(acting_user=county_admin, user=auditor)
    with pytest.raises(PermissionDenied):
        issue_token(acting_user=county_admin, user=auditor)
    with pytest.raises(PermissionDenied):
        update_user(acting_user=county_admin, user=county_admin, role="auditor")
    assert (
        api_for(county_admin)
        .post(
            "/api/users/",
            {"username": "second_auditor", "role": "auditor", "region": "330106"},
            format="json",
        )
        .status_code
        == 403
    )
    assert (
        client_for(county_admin).post(f"/accounts/users/{auditor.pk}/password/").status_code == 403
    )
    assert not User.objects.filter(username="second_auditor").exists()
    assert User.objects.get(pk=county_admin.pk).role == "county"
    # The operator on the command line creates one.
    status, _out, _ = run_cli(
        "createuser", "second_auditor", "--role", "auditor", "--region", "330106"
    )
    assert status in (0, None) and User.objects.get(username="second_auditor").role == "auditor"


def test_a_page_answers_404_for_what_lies_outside_the_actor_scope(person_a, township_a, township_b):
    from django.http import Http404

    from liudong.actors import OPERATOR
    from liudong.base import scoped_object_or_404

    assert scoped_object_or_404(Person, township_a, pk=person_a.pk) == person_a
    assert scoped_object_or_404(Person.objects.filter(name="张伟"), OPERATOR, pk=person_a.pk)
    for outsider in (township_b, None):
        with pytest.raises(Http404):
            scoped_object_or_404(Person, outsider, pk=person_a.pk)
    # A queryset handed in is scoped too: passing an unscoped one does not widen the scope.
    with pytest.raises(Http404):
        scoped_object_or_404(Person.objects.all(), township_b, pk=person_a.pk)


# Routes anyone may open without an account (what a resident's session may GET besides her
# own pages under /me/), with the status they give her.
OPEN_TO_ANYONE = {
    "accounts:login": 200,
    "verify:check": 200,
    "web:healthz": 200,
    "field:manifest": 200,
    "field:worker": 200,
    "api:schema": 200,
    "api:docs": 200,
    "set_language": 302,
}
# POSTs anyone may make, which her read-only session does not refuse: the language switch,
# and the staff sign-in, which ends her session first (residents.middleware).
OPEN_TO_POST = {"set_language", "accounts:login"}


def test_the_resident_reaches_no_staff_page_or_api_and_changes_nothing(
    person_a, township_a, client
):
    """Registry-driven, every route: with her own session (issue 19) a staff page sends her
    to the staff sign-in, the API refuses her, and every POST outside her own pages under
    /me/ is refused — even about her own file (person_a is she)."""
    from scoped_models import resident_signed_in

    web, api = resident_signed_in(person_a.pk)
    unexpected = []
    checked = 0
    for name, path in _every_url():
        if name.startswith("residents:"):
            continue  # her own pages: residents/tests
        client = api if path.startswith("/api/") else web
        response = client.get(path)
        status = response.status_code
        checked += 1
        if name in OPEN_TO_ANYONE:
            ok = status == OPEN_TO_ANYONE[name]
        elif path.startswith("/api/"):
            ok = status in (401, 403, 405)
        else:
            ok = status in (403, 404, 405) or (
                status == 302 and response.url.startswith("/accounts/login/")
            )
        if not ok:
            unexpected.append(f"GET {name} {path}: {status}")
        if name not in OPEN_TO_POST:
            status = client.post(path, {}).status_code
            if status != 403:
                unexpected.append(f"POST {name} {path}: {status}, expected 403")
    assert checked > 150
    assert not unexpected, "\n".join(unexpected)
    # Still signed in as herself: nothing above ended or replaced her session.
    assert web.get("/me/sign-in/").status_code == 200
