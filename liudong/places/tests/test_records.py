"""The generic path of a plain record type (liudong.records, liudong.web.records,
liudong.api.records), exercised on places' sites declared as a plain type: no hand-written
form, rules, serializer or page (``PLAIN``)."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory, force_authenticate

from liudong import records
from liudong.api import records as api_records
from liudong.audit.models import Action, AuditEntry
from liudong.base import StaleWrite
from liudong.places import records as place_records
from liudong.places.models import Site
from liudong.web import records as web_records

from .conftest import VILLAGE_A1

pytestmark = pytest.mark.django_db

PLAIN = dataclasses.replace(
    place_records.SITES, form=None, clean=records.RecordType.clean, listing=None
)


def _site(user, **values) -> Site:
    return records.create(
        PLAIN, acting_user=user, kind="market", name="北山市场", region=VILLAGE_A1, **values
    )


def test_the_form_is_generated_from_the_declared_fields():
    form_class = records.form_class(PLAIN)
    assert list(form_class.base_fields) == ["version", *PLAIN.fields]
    form = form_class(
        {"kind": "market", "name": " 北山市场 ", "region": VILLAGE_A1, "version": "2"}, user=None
    )
    assert form.is_valid(), form.errors
    assert "version" not in form.values() and form.expected_version() == 2
    assert records.form_class(place_records.SITES) is place_records.SITES.form


def test_create_and_update_are_audited_with_the_declared_fields(township_a):
    site = _site(township_a, address=" 文一路1号 ")
    assert site.address == "文一路1号" and site.region_id == VILLAGE_A1
    made = AuditEntry.objects.get(
        action=Action.CREATE, object_type="places.site", object_id=str(site.pk)
    )
    assert set(made.after) == {
        *(f if f != "region" else "region_id" for f in PLAIN.fields),
        "version",
    }
    records.update(PLAIN, site, acting_user=township_a, expected_version=1, name="新市场")
    changed = AuditEntry.objects.get(
        action=Action.UPDATE, object_type="places.site", object_id=str(site.pk)
    )
    assert changed.before["name"] == "北山市场" and changed.after["name"] == "新市场"
    # The same values again: no write, no entry; an older version: refused.
    records.update(PLAIN, site, acting_user=township_a, expected_version=2, name="新市场")
    assert AuditEntry.objects.filter(object_type="places.site", object_id=str(site.pk)).count() == 2
    with pytest.raises(StaleWrite):
        records.update(PLAIN, site, acting_user=township_a, expected_version=1, name="旧")
    site.refresh_from_db()
    assert site.name == "新市场" and site.version == 2


def test_a_record_outside_the_region_or_without_the_capability_is_refused(
    township_b, township_a, auditor
):
    with pytest.raises(ValidationError) as refused:
        _site(township_b)
    assert "330106004" in refused.value.message_dict["region"][0]
    with pytest.raises(PermissionDenied):
        _site(auditor)
    site = _site(township_a)
    with pytest.raises(ValidationError):
        records.update(PLAIN, site, acting_user=township_b, name="别处")
    assert Site.objects.count() == 1 and Site.objects.get().name == "北山市场"


def test_the_detail_page_is_scoped_and_reads_are_audited_when_declared(township_a, township_b):
    site = _site(township_a)
    audited = dataclasses.replace(PLAIN, audit_views=True)

    def page(user, record_type=PLAIN):
        request = RequestFactory().get("/")
        request.user = user
        return web_records.detail(
            request,
            record_type,
            site.pk,
            namespace="places",
            base_template="places/page.html",
            context={"kinds": place_records.TYPES, "may_manage": True},
        )

    shown = page(township_a)
    assert "北山市场" in shown.content.decode() and f"/places/sites/{site.pk}/edit/" in (
        shown.content.decode()
    )
    assert not AuditEntry.objects.filter(action=Action.VIEW).exists()
    page(township_a, audited)
    assert (
        AuditEntry.objects.filter(
            action=Action.VIEW, object_type="places.site", object_id=str(site.pk)
        ).count()
        == 1
    )
    with pytest.raises(Http404):
        page(township_b)


def test_the_list_table_shows_choice_labels_and_joins_the_region(township_a):
    _site(township_a)
    rows = web_records.rows(PLAIN, PLAIN.listed(Site.objects.in_scope(township_a)))
    ((obj, values),) = rows
    assert values[0] == Site.Kind.MARKET.label and obj.region.name  # joined, shown by name
    assert "region" in PLAIN.listed(Site.objects.all()).query.select_related


def test_url_patterns_come_from_the_declarations():
    def view(request, **kwargs):
        raise AssertionError

    names = [
        p.name
        for p in web_records.urlpatterns(
            [PLAIN, place_records.AGREEMENTS],
            list_view=view,
            new_view=view,
            edit_view=view,
            detail_view=view,
            own_detail=(),
        )
    ]
    assert names == [
        "sites", "sites_new", "sites_edit", "sites_detail",
        "agreements", "agreements_new", "agreements_edit",  # no page of its own
    ]  # fmt: skip


def test_the_generated_api_view_set_is_scoped_and_writes_through_the_service(
    township_a, township_b
):
    viewset = api_records.viewset(PLAIN)
    assert viewset.serializer_class.Meta.fields == [
        "id",
        *PLAIN.fields,
        "version",
        "created",
        "updated",
    ]
    create = viewset.as_view({"post": "create"})
    request = APIRequestFactory().post(
        "/", {"kind": "market", "name": "市场", "region": VILLAGE_A1}, format="json"
    )
    force_authenticate(request, township_a)
    made = create(request)
    assert made.status_code == 201, made.data
    assert made.data["region"] == VILLAGE_A1 and made.data["version"] == 1
    assert AuditEntry.objects.filter(
        action=Action.CREATE, object_type="places.site", object_id=str(made.data["id"])
    ).exists()
    listing = viewset.as_view({"get": "list"})
    for user, count in ((township_a, 1), (township_b, 0)):
        request = APIRequestFactory().get("/")
        force_authenticate(request, user)
        assert listing(request).data["count"] == count
    patch = viewset.as_view({"patch": "partial_update"})
    request = APIRequestFactory().patch("/", {"version": 1, "name": "新"}, format="json")
    force_authenticate(request, township_a)
    assert patch(request, pk=str(made.data["id"])).data["version"] == 2


def test_places_view_sets_are_their_own_and_every_declared_type_is_found():
    from liudong.places.api.views import VIEWSETS, EmployerViewSet

    assert EmployerViewSet in VIEWSETS and len(VIEWSETS) == len(place_records.TYPES)
    assert all(t in records.all_types() for t in place_records.TYPES)


def test_a_type_declared_with_an_example_registers_itself_for_the_access_tests():
    from tests.scoped_models import _declared

    entry = _declared(dataclasses.replace(PLAIN, example=lambda township: {}))
    assert (entry.model, entry.web_list, entry.web_detail, entry.api) == (
        "places.Site",
        "places:sites",
        "places:sites_detail",
        "site",
    )
