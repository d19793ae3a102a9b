"""Generic access tests driven by the registry of scoped models (tests/scoped_models.py),
NetBox style (STYLE.md §5): for every scoped model and every surface it has (web list, web
detail, API list, API detail), an anonymous caller, a signed-in user without the role, a
user of another region and the permitted user each get what they get today.

A row of each model is made once per test module in township A (330106002) and every test
reads it inside its own savepoint, so the ~500 cases cost one set-up (see ``world``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.urls import reverse
from scoped_models import REGISTRY, TOWNSHIP_A, TOWNSHIP_B, Place, Scoped

from conftest import make_user, pass_second_factor
from liudong.base import ScopedQuerySet

SURFACES = ("web_list", "web_detail", "api_list", "api_detail")
WHO = ("anonymous", "refused", "outsider", "reader")


def scoped_models() -> set[str]:
    """Every installed model whose default manager is a ScopedQuerySet (or a subclass)."""
    return {
        model._meta.label
        for model in apps.get_models()
        if isinstance(model._default_manager.all(), ScopedQuerySet)
    }


def test_every_scoped_model_is_registered():
    missing = sorted(scoped_models() - set(REGISTRY))
    assert not missing, (
        "scoped models without an entry in tests/scoped_models.py (add one: README, "
        f"'Adding a record type'): {missing}"
    )


def test_the_registry_names_only_scoped_models():
    assert not sorted(set(REGISTRY) - scoped_models())


@pytest.mark.parametrize("model", sorted(REGISTRY))
def test_every_registered_route_exists(model):
    """A renamed route fails here, not as a puzzling 404 in the access tests."""
    entry = REGISTRY[model]
    sample = "330106002-2025-000001" if entry.detail_kwarg == "number" else 1
    if entry.web_list:
        reverse(entry.web_list)
    if entry.web_detail:
        reverse(entry.web_detail, kwargs={entry.detail_kwarg: sample})
    if entry.api:
        reverse(f"api:{entry.api}-list")
        reverse(f"api:{entry.api}-detail", kwargs={_api_kwarg(entry): sample})


def _api_kwarg(entry: Scoped) -> str:
    return {"seq": "seq", "number": "number"}.get(entry.detail_kwarg, "pk")


# --- one set of rows per module ----------------------------------------------------------

USERS = {
    # name: (role, region)
    "township_a": ("township", TOWNSHIP_A),
    "township_b": ("township", TOWNSHIP_B),
    "county_admin": ("county", "330106"),
    "auditor": ("auditor", "330106"),
    "auditor_b": ("auditor", "330105"),
    "collector_a1": ("collector", "330106002001001"),
}


def _import_villages():
    """The villages conftest's ``villages`` fixture imports (a function-scoped fixture
    cannot serve a module-scoped one)."""
    from liudong.regions.services import import_regions

    rows = [
        (2, {"code": "330106002001", "name": "北山社区"}),
        (3, {"code": "330106002002", "name": "曙光社区"}),
        (4, {"code": "330106002001001", "name": "第一村民小组"}),
        (5, {"code": "330106004001", "name": "西溪社区"}),
        (6, {"code": "330106004002", "name": "桃源社区"}),
        (7, {"code": "330105001001", "name": "拱宸桥社区"}),
    ]
    assert not import_regions(rows).rejected


@dataclass
class World:
    users: dict
    rows: dict  # model label -> row of township A, or the exception its factory raised


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The divisions' villages, the named users and one row of every registered model in
    township A, made once and rolled back when the module ends."""
    from django.db import transaction
    from django.test.utils import override_settings

    from liudong.audit import anchors
    from liudong.regions.models import Region

    with (
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as patch,
        override_settings(PASSWORD_HASHERS=["conftest.CheapArgon2PasswordHasher"]),
    ):
        # Anchors of this module's own (conftest's per-test fixture is not active yet).
        patch.setenv(
            "LIUDONG_AUDIT_ANCHORS", str(tmp_path_factory.mktemp("anchors") / "anchors.jsonl")
        )
        anchors.forget_cache()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            _import_villages()
            users = {name: make_user(name, role, region) for name, (role, region) in USERS.items()}
            place = Place(
                township=Region.objects.get(code=TOWNSHIP_A),
                village=Region.objects.get(code=TOWNSHIP_A + "001"),
                actor=users["township_a"],
            )
            rows = {}
            for label, entry in REGISTRY.items():
                try:
                    with transaction.atomic():
                        rows[label] = entry.factory(place)
                except Exception as exc:  # reported by the tests of that model
                    rows[label] = exc
            yield World(users, rows)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            anchors.forget_cache()


def _client(user):
    from django.test import Client
    from rest_framework.test import APIClient

    from liudong.accounts.roles import second_factor_required

    web, api = Client(), APIClient()
    if user is not None:
        web.force_login(user)
        if second_factor_required(user):
            pass_second_factor(web, user)
        api.force_authenticate(user)
    return web, api


def url_of(entry: Scoped, surface: str, key) -> str:
    if surface == "web_list":
        return reverse(entry.web_list) + entry.list_query
    if surface == "web_detail":
        return reverse(entry.web_detail, kwargs={entry.detail_kwarg: key})
    if surface == "api_list":
        return reverse(f"api:{entry.api}-list")
    return reverse(f"api:{entry.api}-detail", kwargs={_api_kwarg(entry): key})


def has_surface(entry: Scoped, surface: str) -> bool:
    return bool(
        entry.web_list
        if surface == "web_list"
        else entry.web_detail
        if surface == "web_detail"
        else entry.api
    )


def listed(entry: Scoped, surface: str, response, row) -> bool:
    """Whether a listing shows the row: its detail link (or marker) on a page, its key
    among the API results."""
    if surface == "api_list":
        data = json.loads(response.content)
        items = data["results"] if isinstance(data, dict) else data
        key = str(entry.key(row))
        return any(
            str(item.get(field)) == key for item in items for field in ("id", "seq", "number")
        )
    page = response.content.decode()
    if entry.marker:
        return entry.marker(row) in page
    if entry.web_detail:
        return url_of(entry, "web_detail", entry.key(row)) in page
    raise AssertionError(f"{entry.model}: a web list needs a detail page or a marker")


def _cases():
    for label, entry in sorted(REGISTRY.items()):
        for surface in SURFACES:
            if has_surface(entry, surface):
                for who in WHO:
                    yield pytest.param(label, surface, who, id=f"{entry.label}-{surface}-{who}")


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "surface", "who"), list(_cases()))
def test_access(model, surface, who, world):
    entry, row = REGISTRY[model], world.rows[model]
    if isinstance(row, Exception):
        raise AssertionError(f"the factory of {model} failed") from row
    if surface in entry.leak:
        pytest.xfail(entry.leak[surface])
    url = url_of(entry, surface, entry.key(row))
    user = None if who == "anonymous" else world.users[getattr(entry, who)]
    web, api = _client(user)
    response = (api if surface.startswith("api") else web).get(url)
    status = response.status_code
    is_list = surface.endswith("list")

    if who == "anonymous":
        if surface.startswith("web"):
            assert status == 302 and "/accounts/login/" in response.url, (url, status)
        else:
            assert status == 401, (url, status)
    elif who == "refused":
        expected = entry.refused_status[SURFACES.index(surface)]
        assert status == expected, (url, status)
        if status == 200:  # a list of what is the user's own (tokens): never A's row
            assert not listed(entry, surface, response, row), url
    elif who == "outsider":
        assert status == (200 if is_list else 404), (url, status)
        if is_list:
            assert not listed(entry, surface, response, row), f"{url} shows {model} of A"
    else:
        assert status == 200, (url, status)
        if is_list:
            assert listed(entry, surface, response, row), f"{url} does not show {model}"
