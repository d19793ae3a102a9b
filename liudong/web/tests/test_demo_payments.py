"""The demo ships example amounts (marked as examples) and a few beneficiaries with last
year's list exported and returned, so the payment pages are not empty."""

from __future__ import annotations

import pytest
from django.utils import timezone

from liudong.regions.models import Region
from liudong.services.programmes.models import Benefit, PaymentLine, PaymentList, ProgrammeAmount
from liudong.web import demo

pytestmark = pytest.mark.django_db


def test_the_demo_ships_example_amounts_and_a_paid_list(settings, tmp_path, county_admin):
    settings.VAR_DIR = tmp_path
    county = Region.objects.get(code="330106")
    townships = list(county.children.order_by("code")[:3])
    demo._demo_payments(county, townships)
    year = timezone.localdate().year
    amounts = ProgrammeAmount.objects.filter(province="33")
    assert {(a.programme.code, a.year) for a in amounts} == {
        (code, y) for code, _yuan, _schedule in demo.DEMO_AMOUNTS for y in (year - 1, year)
    }
    assert all(a.example for a in amounts)
    assert Benefit.objects.filter(status="suspended").count() == 1
    last_year = PaymentList.objects.get(region=county, year=year - 1)
    assert last_year.frozen
    assert PaymentLine.objects.filter(payment_list=last_year, result="failed").count() == 1
    lines = PaymentLine.objects.count()
    demo._demo_payments(county, townships)  # again: nothing added
    assert PaymentLine.objects.count() == lines and ProgrammeAmount.objects.count() == 6
