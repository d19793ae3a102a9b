"""The office's button on her file's page: a code shown once on a slip, never in a URL."""

from __future__ import annotations

import pytest
from django.urls import reverse

from liudong.people.idnumbers import mask
from liudong.residents.models import AccessCode

pytestmark = pytest.mark.django_db


def test_the_township_gets_her_code_once_on_a_slip(client_for, township_a, her):
    web = client_for(township_a)
    detail = web.get(reverse("people:detail", args=[her.pk]))
    assert reverse("resident_codes:issue", args=[her.pk]) in detail.content.decode()
    response = web.post(reverse("resident_codes:issue", args=[her.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    code = response.context["code"]
    page = response.content.decode()
    assert code in page and mask(her.id_number) in page
    assert her.id_number not in page
    assert reverse("residents:sign_in") in page
    first = AccessCode.objects.get(person=her)
    # Again: a new code, the first revoked.
    again = web.post(reverse("resident_codes:issue", args=[her.pk]))
    assert again.context["code"] != code
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert AccessCode.objects.filter(person=her, revoked_at__isnull=True).count() == 1


def test_a_get_makes_no_code(client_for, township_a, her):
    response = client_for(township_a).get(reverse("resident_codes:issue", args=[her.pk]))
    assert response.status_code == 405
    assert not AccessCode.objects.filter(person=her).exists()


@pytest.mark.parametrize("who", ["township_b", "auditor", "provider_a"])
def test_others_cannot_make_her_code(client_for, her, who, request):
    user = request.getfixturevalue(who)
    web = client_for(user)
    response = web.post(reverse("resident_codes:issue", args=[her.pk]))
    assert response.status_code in (403, 404)
    assert not AccessCode.objects.filter(person=her).exists()
    if who == "provider_a":  # sees her file, may not change it: no button either
        detail = web.get(reverse("people:detail", args=[her.pk]))
        if detail.status_code == 200:
            assert reverse("resident_codes:issue", args=[her.pk]) not in detail.content.decode()
