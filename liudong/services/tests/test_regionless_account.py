"""An account without a region reaches nothing in services: the database allows one
(accounts.services refuses to create it), and the rules that compare region codes must
refuse it or offer it nothing, never treat the missing region as the whole tree."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied

from liudong.accounts.models import User
from liudong.services.forms import handler_choices
from liudong.services.records import services as record_services
from liudong.services.spreadsheets import region_choices


@pytest.fixture
def regionless(township_a) -> User:
    User.objects.filter(pk=township_a.pk).update(region=None)
    return User.objects.get(pk=township_a.pk)


def test_a_regionless_account_may_not_export_services_of_any_region(regionless):
    today = datetime.date.today()
    with pytest.raises(PermissionDenied):
        record_services.export_services_xlsx(
            io.BytesIO(),
            acting_user=regionless,
            region_code="330106",
            start=today - datetime.timedelta(days=30),
            end=today,
        )


def test_a_regionless_account_is_offered_no_region_and_no_handler(regionless):
    assert region_choices(regionless) == []
    assert handler_choices("330106001", regionless) == []
