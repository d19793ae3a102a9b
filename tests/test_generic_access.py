"""Generic access tests driven by the registry of scoped models (tests/scoped_models.py),
NetBox style (STYLE.md §5): for every scoped model and every surface it has (web list, web
detail, API list, API detail), an anonymous caller, a signed-in user without the role, a
user of another region and the permitted user each get what they get today.

A row of each model is made once per test module in township A (330106002) and every test
reads it inside its own savepoint, so the ~500 cases cost one set-up (see ``world``).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse
from scoped_models import (
    REGISTRY,
    SURFACES,
    api_kwarg,
    has_surface,
    listed,
    resident_signed_in,
    signed_in,
    url_of,
    world_fixture,  # noqa: F401 (the fixture "world")
)

from liudong.base import ScopedQuerySet

# "resident": the resident herself (issue 19) signed in with her own session, as the person
# of township A's file: staff pages and the API give her what they give anyone anonymous,
# even for the rows about her (her own pages under /me/ are hers: tests in residents/).
WHO = ("anonymous", "resident", "refused", "outsider", "reader")


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
    extra = sorted(set(REGISTRY) - scoped_models())
    assert not extra, f"entries in tests/scoped_models.py for models that are not scoped: {extra}"


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
        reverse(f"api:{entry.api}-detail", kwargs={api_kwarg(entry): sample})


def _cases():
    for label, entry in sorted(REGISTRY.items()):
        for surface in SURFACES:
            if has_surface(entry, surface):
                for who in WHO:
                    case = f"{surface}-{who}"
                    marks = (
                        [pytest.mark.xfail(strict=True, reason=entry.leak[case])]
                        if case in entry.leak
                        else []
                    )
                    yield pytest.param(label, surface, who, marks=marks, id=f"{entry.label}-{case}")


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "surface", "who"), list(_cases()))
def test_access(model, surface, who, world):
    entry, row = REGISTRY[model], world.rows[model]
    if isinstance(row, Exception):
        raise AssertionError(f"the factory of {model} failed") from row
    url = url_of(entry, surface, entry.key(row))
    if who == "resident":
        web, api = resident_signed_in(world.rows["people.Person"].pk)
    else:
        user = None if who == "anonymous" else world.users[getattr(entry, who)]
        web, api = signed_in(user)
    response = (api if surface.startswith("api") else web).get(url)
    status = response.status_code
    is_list = surface.endswith("list")

    if who in ("anonymous", "resident"):
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


# --- the API shows a role no more than the web does ---------------------------------------

# Signed-in roles of the test county other than the reader: each may be refused a record on
# the web by its role, its region or both; the API must then refuse it too.
OTHER_ROLES = ("village_a1", "collector_a1", "provider_a", "inspector", "node_account")

# Where the API shows a role what the web refuses it: (model, role) -> the reason of a
# strict xfail, so a fix turns it red. Empty: certificates, notices, service records,
# follow-ups and branches once were (their API read needed staff status only); their view
# sets now need for reading what their pages need (accounts.permissions.capability_for_all).
API_WIDER_THAN_WEB: dict[tuple[str, str], str] = {}


def _parity_cases():
    for label, entry in sorted(REGISTRY.items()):
        web_reads = entry.web_list or (entry.web_detail and not entry.web_detail_edits)
        if entry.api and web_reads:
            for role in OTHER_ROLES:
                reason = API_WIDER_THAN_WEB.get((label, role))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(label, role, marks=marks, id=f"{entry.label}-{role}")


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "role"), list(_parity_cases()))
def test_the_api_shows_a_role_no_more_than_the_web(model, role, world):
    entry, row = REGISTRY[model], world.rows[model]
    web, api = signed_in(world.users[role])
    key = entry.key(row)
    shown_on_the_web = False
    if entry.web_list:
        response = web.get(url_of(entry, "web_list", key))
        shown_on_the_web |= response.status_code == 200 and listed(entry, "web_list", response, row)
    if entry.web_detail and not entry.web_detail_edits:
        shown_on_the_web |= web.get(url_of(entry, "web_detail", key)).status_code == 200
    if shown_on_the_web:
        return  # nothing to hold the API to
    listing = api.get(url_of(entry, "api_list", key))
    assert listing.status_code in (200, 403)
    assert listing.status_code == 403 or not listed(entry, "api_list", listing, row)
    assert api.get(url_of(entry, "api_detail", key)).status_code in (403, 404)
