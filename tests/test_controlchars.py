"""Control characters are refused project-wide (issue 13, item 3, the API and forms): in
any API body with 400 in the one error shape, in any web form as an error on its field,
in any query string or path with 400 - never a 500 (PostgreSQL refuses NUL)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django import forms
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

import liudong
from liudong import controlchars
from liudong.api.tests.test_errors import assert_error_shape
from liudong.people.models import Person
from liudong.people.tests.test_web import arrival_data

CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f"]

# --- by construction: every form, every API view -----------------------------------------


def _all_project_modules() -> None:
    for module in pkgutil.walk_packages(liudong.__path__, "liudong."):
        if ".tests" in module.name or module.name.endswith((".wsgi", ".cli")):
            continue
        importlib.import_module(module.name)


def _subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_form_in_the_project_cleans_through_the_guard():
    _all_project_modules()
    ours = [c for c in _subclasses(forms.BaseForm) if c.__module__.startswith("liudong.")]
    assert len(ours) > 40  # the registry is really there
    for form_class in ours:
        assert form_class._clean_fields is controlchars._clean_fields, form_class
        assert form_class.full_clean is forms.BaseForm.full_clean, form_class


def _views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )
            yield prefix + str(pattern.pattern), view


def test_every_api_view_parses_through_the_guard():
    views = [(url, view) for url, view in _views(get_resolver().url_patterns)]
    api = [(url, view) for url, view in views if view and issubclass(view, APIView)]
    assert len(api) > 30
    for url, view in api:
        for parser in view.parser_classes:
            assert issubclass(parser, controlchars.GuardedParser), (url, parser)


def test_any_form_refuses_them_before_its_own_cleaning():
    class Note(forms.Form):
        title = forms.CharField()
        note = forms.CharField(widget=forms.Textarea)
        choice = forms.MultipleChoiceField(choices=[("a", "a"), ("a\x00", "x")])

        def clean_title(self):  # pragma: no cover - must not run for a refused value
            raise AssertionError("cleaned a refused value")

    for control in CONTROLS:
        form = Note(data={"title": f"a{control}b", "note": "ok", "choice": ["a\x00"]})
        assert not form.is_valid()
        assert {f: e[0].code for f, e in form.errors.as_data().items()} == {
            "title": controlchars.CODE,
            "choice": controlchars.CODE,
        }
    lines = Note(data={"title": "x", "note": "第一行\r\n\t第二行", "choice": ["a"]})
    lines.clean_title = lambda: "x"  # type: ignore[method-assign]
    assert lines.is_valid(), lines.errors  # tab and line breaks are text


# --- the API -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b"])
def test_an_api_body_with_a_control_character_is_a_400_naming_the_field(
    control, township_a, county_admin, api_for
):
    client = api_for(township_a)
    response = client.post(
        "/api/persons/",
        arrival_data(name=f"张{control}三", residence_address="北山路"),
        format="json",
    )
    errors = assert_error_shape(response, 400, controlchars.CODE, field="name")
    assert [e["field"] for e in errors] == ["name"]
    # Bodies are JSON (issue 16); the one multipart endpoint, the match report's upload,
    # refuses control characters the same way.
    response = client.post("/api/persons/", arrival_data(), format="multipart")
    assert_error_shape(response, 415)
    response = api_for(county_admin).post(
        "/api/match-reports/", {"threshold": f"0.9{control}"}, format="multipart"
    )
    assert_error_shape(response, 400, controlchars.CODE, field="threshold")
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_nested_api_data_names_the_path(township_a, api_for):
    response = api_for(township_a).post(
        "/api/persons/", {**arrival_data(), "extra": {"notes": ["ok", "x\x00"]}}, format="json"
    )
    assert_error_shape(response, 400, controlchars.CODE, field="extra.notes")


@pytest.mark.django_db
def test_api_text_keeps_tabs_and_line_breaks(township_a, api_for):
    response = api_for(township_a).post(
        "/api/persons/", arrival_data(residence_address="北山路\t5号\n2楼"), format="json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["q=%00", "q=a%01b", "region=330106%00", "%00=1", "search=%1b"])
def test_api_filters_with_control_characters_are_400_not_500(query, township_a, api_for):
    client = api_for(township_a)
    for url in ("/api/persons/", "/api/employers/", "/api/audit/", "/api/grids/"):
        response = client.get(f"{url}?{query}")
        assert_error_shape(response, 400, controlchars.CODE)


@pytest.mark.django_db
def test_an_api_path_with_a_nul_is_400(township_a, api_for):
    assert_error_shape(api_for(township_a).get("/api/regions/33%00/"), 400, controlchars.CODE)


# --- web forms and pages -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "residence_address", "residence_region", "employer"])
def test_a_web_form_shows_the_error_on_the_field(field, township_a, client_for):
    data = arrival_data()
    data[field] = data[field][:3] + "\x00" + data[field][3:]
    response = client_for(township_a).post("/people/arrive/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert [e.code for e in errors[field]] == [controlchars.CODE]
    assert not Person.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/people/?q=%00", "/places/employers/?q=a%00", "/people/%00/"])
def test_web_query_strings_and_paths_are_400_not_500(url, township_a, client_for):
    response = client_for(township_a).get(url)
    assert response.status_code == 400


@pytest.mark.django_db
def test_a_peer_message_with_a_nul_is_refused(client):
    response = client.post(
        "/exchange/inbox/", '{"id": "x\\u0000"}', content_type="application/json"
    )
    assert_error_shape(response, 400, controlchars.CODE)


# --- views that read posted values without a form -----------------------------------------


def test_every_view_reading_posted_values_without_a_form_is_guarded():
    """A view that hands ``request.POST`` to a form is guarded by the form; one that reads a
    value itself (a reason, a note, a target) must carry ``post_guarded``, or its helper must
    be called only from one that does (a name with a leading underscore)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "liudong"
    unguarded = []
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for function in tree.body:  # module-level views (a nested function is their part)
            if not isinstance(function, ast.FunctionDef) or function.name.startswith("_"):
                continue
            decorators = {ast.unparse(d) for d in function.decorator_list}
            if "post_guarded" in decorators:
                continue
            for node in ast.walk(function):
                # request.POST.get("x") / request.POST["x"] / request.POST.getlist("x"):
                # a value read by hand, not the whole QueryDict handed to a form.
                target = node.value if isinstance(node, ast.Subscript) else None
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    target = node.func.value if node.func.attr in ("get", "getlist") else None
                if target is not None and ast.unparse(target) == "request.POST":
                    unguarded.append(f"{path.relative_to(root)}:{function.name}")
                    break
    # Reviewed exceptions: a value that never reaches the database or a lookup.
    reviewed = {
        "accounts/views.py:login_view",  # "next": checked by url_has_allowed_host_and_scheme
        "certificates/public.py:public_verify",  # handed to PublicCheckForm
    }
    assert sorted(set(unguarded) - reviewed) == []


@pytest.mark.parametrize("field", ["reason", "note"], ids=["return-reason", "spot-check-note-like"])
def test_a_posted_value_read_by_hand_is_refused_400(field, county_admin, client_for):
    from liudong.controlchars import post_guarded

    @post_guarded
    def view(request):
        raise AssertionError("the view must not run")

    from django.test import RequestFactory

    request = RequestFactory().post("/x/", {field: "退回\x00原因"})
    response = view(request)
    assert response.status_code == 400 and field in response.content.decode()
