"""The beneficiaries' list and page, and the API's read of them: masked ID numbers and
cards, filters, the view of one logged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from liudong.audit.models import AuditEntry
from liudong.people.idnumbers import mask
from liudong.services.programmes.tests import factories

pytestmark = pytest.mark.django_db


def test_the_list_shows_paid_and_suspended_masked_and_filters(client_for, township_a):
    paid = factories.benefit()
    paid.bank_card = "6217000011112222"
    paid.save()
    suspended = factories.benefit(programme="special_death", status="suspended")
    ended = factories.benefit(status="ended")
    client = client_for(township_a)

    page = client.get(reverse("programmes:benefits"))
    listed = {b.pk for b in page.context["benefits"]}
    assert listed == {paid.pk, suspended.pk}
    html = page.content.decode()
    assert paid.id_number not in html and mask(paid.id_number) in html
    assert "6217000011112222" not in html and "6217********2222" in html

    only_ended = client.get(reverse("programmes:benefits"), {"status": "ended"})
    assert [b.pk for b in only_ended.context["benefits"]] == [ended.pk]
    special = client.get(reverse("programmes:benefits"), {"programme": "special_death"})
    assert [b.pk for b in special.context["benefits"]] == [suspended.pk]


def test_one_benefit_read_is_logged(client_for, township_a, api_for):
    benefit = factories.benefit()
    page = client_for(township_a).get(reverse("programmes:benefit", args=[benefit.pk]))
    assert page.status_code == 200
    assert benefit.id_number not in page.content.decode()
    answer = api_for(township_a).get(f"/api/programme-benefits/{benefit.pk}/")
    assert answer.status_code == 200 and answer.json()["id_number"] == mask(benefit.id_number)
    views = AuditEntry.objects.filter(
        action="view", object_type="programmes.benefit", object_id=str(benefit.pk)
    )
    assert sorted(entry.detail["via"] for entry in views) == ["api", "web"]


def test_the_api_lists_by_programme(township_a, api_for):
    factories.benefit()
    special = factories.benefit(programme="special_death")
    answer = api_for(township_a).get("/api/programme-benefits/", {"programme": "special_death"})
    assert [row["id"] for row in answer.json()["results"]] == [special.pk]
