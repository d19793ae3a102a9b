"""The field app offline (issue 18), in Debian's Chromium at a phone's 375 px: the shell
opens from the service worker without a network, what the collector does waits in IndexedDB
and reaches the server exactly once, whatever is lost on the way (an answer, the session,
the app's version, the phone's storage, the account signed in).

Offline is Playwright's network emulation (``context.set_offline``): the browser's requests
fail as on a phone with no signal, and ``navigator.onLine`` and its events follow.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import make_user
from tests.browser.pages import shot, sign_in

VILLAGE = "330106002001"  # 北山社区, the grid's area
NEWCOMER_BORN = datetime.date(1998, 6, 1)


def woman(name: str, household: str, sequence: int, arrived_days_ago: int):
    from liudong.actors import OPERATOR
    from liudong.people.idnumbers import make
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    born = datetime.date(1994, 4, 18)
    person = Person(
        id_number=make(household[:6], born, sequence, "2"),
        name=name,
        sex="2",
        birth_date=born,
        marital_status="20",
        household_region_id=household,
    )
    register_arrival(
        acting_user=OPERATOR,
        person=person,
        region=Region.objects.get(code=VILLAGE),
        arrival_date=timezone.localdate() - datetime.timedelta(days=arrived_days_ago),
    )
    return person


@pytest.fixture
def grid(township_a, township_b, node_keys):
    """Village specialist 北山村专干 (``cun_a``) works grid 北山一网格 (北山社区), where 王芳
    (from 河南) and 李娜 (from 西溪街道, whose certificate 西溪 issued) live; collector
    ``xinxi_a`` works there too."""
    from liudong.certificates.issuing import issue
    from liudong.regions.models import Region
    from liudong.regions.services import load_divisions, save_grid

    load_divisions(prefixes=("41",))
    worker = make_user("cun_a", "village", VILLAGE, "北山村专干")
    collector = make_user("xinxi_a", "collector", VILLAGE, "北山信息员")
    grid = save_grid(
        acting_user=township_a,
        name="北山一网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code=VILLAGE),
        responsible=worker,
    )
    grid.collectors.add(collector)
    wang = woman("王芳", "411522101", 2, 40)
    li = woman("李娜", "330106004", 4, 5)
    certificate = issue(li, acting_user=township_b)
    return {"worker": worker, "wang": wang, "li": li, "certificate": certificate}


# --- steps ---------------------------------------------------------------------------------


def open_app(page):
    """Open /field/ and wait until the worker controls the page, the shell is cached and
    the grid's data is stored."""
    page.goto("/field/")
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function("async () => Boolean(await caches.match('/field/'))")
    expect(page.get_by_test_id("field-no-data")).to_have_count(0)


def stored(page, store: str) -> list:
    return page.evaluate(
        "async (name) => (await import('/static/field/store.js')).getAll(name)", store
    )


def queued(page) -> list:
    """The queue, oldest first (as it is sent)."""
    return sorted(stored(page, "queue"), key=lambda action: action["seq"])


def expect_waiting(page, count: int):
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", str(count))


def go_offline(page):
    page.context.set_offline(True)
    expect(page.get_by_test_id("field-online-state")).to_have_attribute("data-online", "no")


def go_online(page):
    page.context.set_offline(False)
    expect(page.get_by_test_id("field-online-state")).to_have_attribute("data-online", "yes")


def newcomer_id(sequence: int = 8) -> str:
    from liudong.people.idnumbers import make

    return make("411522", NEWCOMER_BORN, sequence, "2")


def register_arrival(page, id_number: str, name: str = "赵雪"):
    page.get_by_test_id("field-tab-arrival").click()
    form = page.get_by_test_id("field-form-arrival")
    form.locator("[name=id_number]").fill(id_number)
    form.locator("[name=name]").fill(name)
    form.locator("[name=marital_status]").select_option("10")
    form.locator("[name=residence_region]").select_option(VILLAGE)
    form.locator("[name=residence_address]").fill("北山路3号201")
    form.locator("[name=reason]").select_option("work")
    form.get_by_test_id("field-form-save").click()
    expect(page.get_by_test_id("field-message")).to_have_attribute("data-kind", "info")


def record_departure(page, name: str, day: str | None = None):
    page.get_by_test_id("field-tab-people").click()
    page.get_by_test_id("field-person").filter(has_text=name).click()
    page.get_by_test_id("field-do-departure").click()
    form = page.get_by_test_id("field-form-departure")
    if day:
        form.locator("[name=departure_date]").fill(day)
    form.locator("[name=destination_place]").fill("河南省信阳市")
    form.get_by_test_id("field-form-save").click()
    expect(page.get_by_test_id("field-message")).to_have_attribute("data-kind", "info")


def verify_by_number(page, number: str):
    page.get_by_test_id("field-tab-verify").click()
    page.get_by_test_id("verify-number").fill(number)
    page.get_by_test_id("verify-number").press("Enter")
    expect(page.get_by_test_id("verify-result")).to_be_visible()
    page.get_by_test_id("verify-save").click()


def offline_times(client_id: str) -> list[dict]:
    from liudong.audit.models import AuditEntry

    return [
        entry.detail["offline"]
        for entry in AuditEntry.objects.filter(detail__offline__client_id=client_id)
    ]


# --- a) the journey --------------------------------------------------------------------------


def test_offline_journey_reaches_the_server_once(phone_page, grid):
    from liudong.certificates.models import Verification
    from liudong.field.models import FieldAction
    from liudong.people.models import Person

    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    expect(page.get_by_test_id("field-person")).to_have_count(2)
    shot(page, "field-online-375.png")

    go_offline(page)
    register_arrival(page, newcomer_id())
    record_departure(page, "王芳")
    verify_by_number(page, grid["certificate"].number)
    expect_waiting(page, 3)

    # Closing the page, or the browser opening it again without a network: the worker's
    # shell, and the queue from IndexedDB.
    page.reload()
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    expect_waiting(page, 3)
    page.get_by_test_id("field-tab-queue").click()
    expect(page.get_by_test_id("field-queued")).to_have_count(3)
    assert [action["kind"] for action in queued(page)] == ["arrival", "departure", "verification"]
    client_ids = [action["client_id"] for action in queued(page)]
    shot(page, "field-offline-waiting-375.png")

    go_online(page)  # the "online" event sends them
    expect_waiting(page, 0)
    expect(page.get_by_test_id("field-queue-empty")).to_be_visible()

    assert Person.objects.filter(id_number=newcomer_id()).count() == 1
    newcomer = Person.objects.get(id_number=newcomer_id())
    assert newcomer.episodes.get().region_id == VILLAGE
    stay = grid["wang"].episodes.get()
    assert stay.departure_date == timezone.localdate()
    assert Verification.objects.filter(certificate=grid["certificate"]).count() == 1
    actions = FieldAction.objects.filter(user=grid["worker"])
    assert sorted(str(a.client_id) for a in actions) == sorted(client_ids)
    assert {a.status for a in actions} == {"applied"}
    for client_id, kind in zip(client_ids, ["arrival", "departure", "verification"], strict=True):
        times = offline_times(client_id)
        assert times, f"no audit entry of {kind} carries its offline times"
        assert all(t["kind"] == kind and t["done_at"] and t["received_at"] for t in times)
