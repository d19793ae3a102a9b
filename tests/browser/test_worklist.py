"""The grid worklist on a phone: the grid worker opens it and sees who is due."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import make_user
from tests.browser.pages import shot, sign_in


@pytest.fixture
def grid_with_a_newcomer(township_a):
    from liudong.certificates.models import Notice
    from liudong.regions.models import Region
    from liudong.regions.services import load_divisions, save_grid
    from liudong.web.tests.test_worklist import woman

    load_divisions(prefixes=("41",))  # where the newcomers are registered (河南)
    worker = make_user("grid_worker", "village", "330106002001", "北山网格员")
    grid = save_grid(
        acting_user=township_a,
        name="北山一网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code="330106002001"),
        responsible=worker,
    )
    waiting = woman("王芳", "330106002001", 40, 2)
    woman("李娜", "330106002001", 3, 4)
    today = timezone.localdate()
    Notice.objects.create(
        person=waiting,
        episode=waiting.episodes.get(departure_date__isnull=True),
        region_id="330106002001",
        issued_on=today - datetime.timedelta(days=100),
        deadline=today - datetime.timedelta(days=8),
    )
    return grid


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_grid_worker_sees_who_is_due(request, device, grid_with_a_newcomer):
    page = request.getfixturevalue(device)
    sign_in(page, "grid_worker")
    page.goto("/worklist/")
    arrivals = page.get_by_test_id("worklist-arrivals")
    expect(arrivals).to_contain_text("王芳")
    expect(arrivals).to_contain_text("李娜")
    expect(page.get_by_test_id("worklist-notices")).to_contain_text("王芳")
    shot(page, f"worklist-{device}.png")
