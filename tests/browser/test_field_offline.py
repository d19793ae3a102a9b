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
from liudong.field.views import STRINGS
from tests.browser.pages import chinese, shot, sign_in

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


def settled(page):
    """The page opened and is not talking to the server (the database is the test's again:
    SQLite's tables lock while the live server writes)."""
    expect(page.locator("body[data-ready='1']:not([data-busy])")).to_be_attached()


def expect_waiting(page, count: int):
    settled(page)
    expect(page.get_by_test_id("field-queue-count")).to_have_attribute("data-count", str(count))
    settled(page)


def go_offline(page):
    page.context.set_offline(True)
    expect(page.get_by_test_id("field-online-state")).to_have_attribute("data-online", "no")


def go_online(page):
    """Back online, and wait until the page has refreshed its data and sent what waited."""
    rounds = int(page.locator("body").get_attribute("data-rounds") or 0)
    page.context.set_offline(False)
    expect(page.get_by_test_id("field-online-state")).to_have_attribute("data-online", "yes")
    page.wait_for_function(
        "(rounds) => Number(document.body.dataset.rounds || 0) > rounds", arg=rounds
    )
    settled(page)


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
    shot(page, "field-arrival-form-375.png")
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
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "field-online-1366.png")
    page.set_viewport_size({"width": 375, "height": 740})

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
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "field-offline-waiting-1366.png")
    page.set_viewport_size({"width": 375, "height": 740})

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


# --- b) a lost answer ------------------------------------------------------------------------


@pytest.mark.console_errors("net::ERR_FAILED")
def test_a_lost_answer_is_sent_again_and_applied_once(phone_page, grid):
    from liudong.field.models import FieldAction
    from liudong.people.models import Person

    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    go_offline(page)
    register_arrival(page, newcomer_id(10), "孙丽")
    expect_waiting(page, 1)

    # The server applies the first attempt, and its answer never reaches the phone. That
    # page.route sees the request at all shows the worker leaves /api/ alone.
    lost: list[int] = []

    def lose_the_first_answer(route):
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().status)
        route.abort()

    page.route("**/api/field/sync/", lose_the_first_answer)
    go_online(page)
    expect(page.get_by_test_id("field-message")).to_have_attribute("data-kind", "error")
    assert lost == [200]
    expect_waiting(page, 1)
    assert Person.objects.filter(id_number=newcomer_id(10)).count() == 1

    page.get_by_test_id("field-sync").click()
    expect_waiting(page, 0)
    assert Person.objects.filter(id_number=newcomer_id(10)).count() == 1
    action = FieldAction.objects.get()
    assert action.status == "applied" and action.attempts == 2


# --- c) the session ended --------------------------------------------------------------------


def fill_login(page, username: str):
    """Sign in on the login page already shown (its ?next= kept)."""
    from conftest import PASSWORD
    from tests.browser.pages import pass_second_factor

    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    pass_second_factor(page, username)


@pytest.mark.console_errors("status of 403")
def test_an_expired_session_keeps_the_queue_until_signed_in_again(phone_page, grid):
    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    go_offline(page)
    record_departure(page, "王芳")
    expect_waiting(page, 1)

    page.context.clear_cookies()  # the session ended while she was away
    go_online(page)
    expect(page.get_by_test_id("field-sign-in")).to_be_visible()
    expect_waiting(page, 1)
    assert len(queued(page)) == 1
    assert grid["wang"].episodes.get().departure_date is None

    page.get_by_test_id("field-sign-in").click()
    page.wait_for_url("**/accounts/login/**")
    # The sign-in page removed the grid's copy from this phone, not the waiting action.
    expect(page.locator("html[data-field-forgotten='1']")).to_be_attached()
    assert stored(page, "people") == []
    assert len(queued(page)) == 1
    fill_login(page, "cun_a")
    page.wait_for_url("**/field/**")
    expect_waiting(page, 0)
    assert grid["wang"].episodes.get().departure_date == timezone.localdate()


# --- d) refused, then fixed; a conflict, then "apply mine" ------------------------------------


def test_a_refused_action_is_fixed_and_a_conflict_applied_on_the_current_file(phone_page, grid):
    from liudong.actors import OPERATOR
    from liudong.people.services import update_person

    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    go_offline(page)
    future = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    record_departure(page, "王芳", future)  # a day that has not come: refused
    go_online(page)
    page.get_by_test_id("field-tab-queue").click()
    refused = page.locator("[data-testid=field-queued][data-state=refused]")
    # The server's words, with the field they are about.
    expect(refused.get_by_test_id("field-queued-errors")).to_contain_text(future)
    expect_waiting(page, 1)
    assert grid["wang"].episodes.get().departure_date is None
    shot(page, "field-refused-375.png")

    refused.get_by_test_id("field-queued-edit").click()
    form = page.get_by_test_id("field-form-departure")
    expect(form.locator("[name=destination_place]")).to_have_value("河南省信阳市")
    form.locator("[name=departure_date]").fill(timezone.localdate().isoformat())
    form.get_by_test_id("field-form-save").click()
    expect_waiting(page, 0)
    assert grid["wang"].episodes.get().departure_date == timezone.localdate()

    # 李娜's file changes on the server after the phone loaded it.
    li = grid["li"]
    go_offline(page)
    record_departure(page, "李娜")
    update_person(acting_user=OPERATOR, person=li, phone="13800000000")
    go_online(page)
    page.get_by_test_id("field-tab-queue").click()
    conflict = page.locator("[data-testid=field-queued][data-state=conflict]")
    table = conflict.get_by_test_id("field-conflict")
    expect(table).to_be_visible()
    expect(table.get_by_test_id("field-conflict-mine").first).to_have_text("李娜")
    expect(table.get_by_test_id("field-conflict-server").first).to_have_text("李娜")
    # The versions side by side: the one the phone saw, the current one.
    expect(table.get_by_test_id("field-conflict-mine").last).to_have_text(str(li.version - 1))
    expect(table.get_by_test_id("field-conflict-server").last).to_have_text(str(li.version))
    assert li.episodes.get().departure_date is None
    shot(page, "field-conflict-375.png")
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "field-conflict-1366.png")

    conflict.get_by_test_id("field-queued-apply").click()
    expect_waiting(page, 0)
    assert li.episodes.get().departure_date == timezone.localdate()


# --- e) a new release; an older schema ------------------------------------------------------


@pytest.mark.console_errors("status of 503")
def test_a_new_release_keeps_the_waiting_actions(phone_page, grid, monkeypatch):
    from liudong.field import views

    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    old = page.evaluate("async () => await caches.keys()")
    # The server is busy: the action stays waiting while the app updates.
    page.route("**/api/field/sync/", lambda route: route.fulfill(status=503, body="busy"))
    record_departure(page, "王芳")
    expect_waiting(page, 1)

    monkeypatch.setattr(views, "release", lambda: "0000newrelease00")
    page.reload()
    page.wait_for_function(
        "async () => JSON.stringify(await caches.keys()) === "
        "JSON.stringify(['liudong-field-0000newrelease00'])"
    )
    assert old != ["liudong-field-0000newrelease00"]
    page.reload()  # opened by the new worker
    expect(page.locator("body[data-ready='1']")).to_be_attached()
    expect_waiting(page, 1)

    page.unroute("**/api/field/sync/")
    page.get_by_test_id("field-sync").click()
    expect_waiting(page, 0)
    assert grid["wang"].episodes.get().departure_date == timezone.localdate()


CREATE_VERSION_1 = """async ([owner, person, version]) => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("liudong-field", 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("meta", { keyPath: "key" });
      db.createObjectStore("people", { keyPath: "id" });
      db.createObjectStore("queue", { keyPath: "client_id" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  await new Promise((resolve, reject) => {
    const tx = db.transaction("queue", "readwrite");
    tx.objectStore("queue").put({
      client_id: "3f0c1a52-8d7e-4b7a-9c1e-2a4b6c8d0e1f", owner, kind: "departure",
      data: { person, person_version: version,
              departure_date: new Date().toISOString().slice(0, 10),
              destination_region: "", destination_place: "河南省信阳市" },
      done_at: new Date().toISOString(), seq: 1, state: "waiting", message: "", errors: {},
      server: null,
    });
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}"""


def test_an_older_schema_is_upgraded_with_its_queue(phone_page, grid):
    page = phone_page
    sign_in(page, "cun_a")
    wang = grid["wang"]
    page.goto("/")  # same origin, no field script: the first release's database, by hand
    page.evaluate(CREATE_VERSION_1, [grid["worker"].pk, wang.pk, wang.version])
    open_app(page)  # the worker installed too: no request of it outlives the test
    expect_waiting(page, 0)  # sent on opening
    assert wang.episodes.get().departure_date == timezone.localdate()
    assert (
        page.evaluate(
            "async () => (await indexedDB.databases())"
            ".find((d) => d.name === 'liudong-field').version"
        )
        == 2
    )


# --- f) storage full -------------------------------------------------------------------------


# A transaction the storage has no room for, as Chromium ends it: aborted, its error a
# QuotaExceededError, nothing of it written. (CDP's Storage.overrideQuotaForOrigin would give
# a real quota, but Chromium 156 answers it "Internal error" in Playwright's browser
# contexts, which keep their storage in memory with a 10 GB quota no test can fill.)
STORAGE_FULL = """() => {
  const add = IDBObjectStore.prototype.add;
  globalThis.restoreStorage = () => { IDBObjectStore.prototype.add = add; };
  IDBObjectStore.prototype.add = function (...args) {
    const request = add.apply(this, args);
    const transaction = this.transaction;
    Object.defineProperty(transaction, "error", {
      value: new DOMException("The quota has been exceeded.", "QuotaExceededError"),
    });
    transaction.abort();
    return request;
  };
}"""


def test_storage_full_says_not_saved_and_keeps_the_form(phone_page, grid):
    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    go_offline(page)
    page.evaluate(STORAGE_FULL)

    page.get_by_test_id("field-tab-arrival").click()
    form = page.get_by_test_id("field-form-arrival")
    form.locator("[name=id_number]").fill(newcomer_id(12))
    form.locator("[name=name]").fill("周燕")
    form.locator("[name=marital_status]").select_option("10")
    form.locator("[name=residence_region]").select_option(VILLAGE)
    form.locator("[name=employer]").fill("北山建筑工地")
    form.get_by_test_id("field-form-save").click()
    message = page.get_by_test_id("field-message")
    expect(message).to_have_attribute("data-kind", "error")
    expect(message).to_have_text(chinese(STRINGS["not_saved_full"]))
    assert queued(page) == []  # nothing half-saved
    expect_waiting(page, 0)
    expect(form.locator("[name=name]")).to_have_value("周燕")  # what she typed is still there
    shot(page, "field-storage-full-375.png")

    page.evaluate("() => globalThis.restoreStorage()")  # space again
    form.get_by_test_id("field-form-save").click()
    expect_waiting(page, 1)


# --- g) signing out; another account on the same phone ---------------------------------------


@pytest.mark.console_errors("status of 503")
def test_sign_out_wipes_the_grid_and_another_account_never_sees_the_queue(phone_page, grid):
    from liudong.field.models import FieldAction

    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    page.route("**/api/field/sync/", lambda route: route.fulfill(status=503, body="busy"))
    record_departure(page, "王芳")
    expect_waiting(page, 1)

    with page.expect_navigation():
        page.get_by_test_id("field-sign-out").click()
    page.wait_for_url("**/accounts/login/**")
    assert stored(page, "people") == [] and stored(page, "meta") == []
    assert len(queued(page)) == 1  # hers, kept for her
    page.unroute("**/api/field/sync/")

    sign_in(page, "xinxi_a")  # the collector of the same grid, on the same phone
    open_app(page)
    expect(page.get_by_test_id("field-person")).to_have_count(2)
    expect_waiting(page, 0)
    page.get_by_test_id("field-tab-queue").click()
    expect(page.get_by_test_id("field-queue-empty")).to_be_visible()
    assert not FieldAction.objects.exists()  # neither shown nor sent
    assert grid["wang"].episodes.get().departure_date is None

    sign_in(page, "cun_a")
    page.goto("/field/")
    expect_waiting(page, 0)  # hers, sent when she is back
    assert grid["wang"].episodes.get().departure_date == timezone.localdate()
    assert FieldAction.objects.get().user == grid["worker"]


# --- the other kinds: a service with her consent, a hazard found, a hazard rectified ----------


@pytest.fixture
def house_with_a_hazard(grid, township_a):
    from liudong.places import services as places
    from liudong.places.models import RentalHouse, SafetyIssue

    today = timezone.localdate()
    house = places.create(
        RentalHouse,
        acting_user=township_a,
        address="北山路8号",
        region=VILLAGE,
        landlord_name="周先生",
    )
    issue = places.create(
        SafetyIssue,
        acting_user=township_a,
        rental_house=house,
        hazard="楼道堆放杂物",
        found_on=today - datetime.timedelta(days=20),
        deadline=today - datetime.timedelta(days=5),
    )
    return house, issue


def test_a_service_a_hazard_and_a_rectification_done_offline(phone_page, grid, house_with_a_hazard):
    from liudong.places.models import SafetyIssue
    from liudong.services.models import ServiceRecord

    house, issue = house_with_a_hazard
    today = timezone.localdate()
    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    go_offline(page)

    # A service is saved only with her consent.
    page.get_by_test_id("field-person").filter(has_text="李娜").click()
    page.get_by_test_id("field-do-service").click()
    form = page.get_by_test_id("field-form-service")
    form.locator("[name=service_type]").select_option(index=1)
    form.get_by_test_id("field-form-save").click()
    expect(form.get_by_test_id("field-error")).to_be_visible()
    expect_waiting(page, 0)
    form.locator("[name=consent]").check()
    form.get_by_test_id("field-form-save").click()
    expect_waiting(page, 1)

    page.get_by_test_id("field-tab-places").click()
    page.get_by_test_id("field-do-hazard").click()
    form = page.get_by_test_id("field-form-hazard")
    form.locator("[name=rental_house]").select_option(str(house.pk))
    form.locator("[name=description]").fill("电动车在楼道内充电")
    form.locator("[name=deadline]").fill((today + datetime.timedelta(days=7)).isoformat())
    form.get_by_test_id("field-form-save").click()
    expect_waiting(page, 2)

    page.get_by_test_id("field-tab-todos").click()
    hazards = page.get_by_test_id("field-todo-hazards")
    hazards.get_by_test_id("field-do-rectification").click()
    form = page.get_by_test_id("field-form-rectification")
    form.locator("[name=note]").fill("杂物已清理")
    form.get_by_test_id("field-form-save").click()
    expect_waiting(page, 3)

    go_online(page)
    expect_waiting(page, 0)
    service = ServiceRecord.objects.get(person=grid["li"])
    assert service.date == today and service.consent_recorded
    found = SafetyIssue.objects.get(hazard="电动车在楼道内充电")
    assert found.rental_house == house and found.found_on == today
    issue.refresh_from_db()
    assert issue.rectified_on == today


# --- a long queue: oldest first, batches of at most 100 ---------------------------------------

ENQUEUE_HAZARDS = """async ([owner, house, count]) => {
  const store = await import('/static/field/store.js');
  const today = store.localIso().slice(0, 10);
  for (let i = 0; i < count; i += 1) {
    await store.enqueue(owner, "hazard", {
      rental_house: house, found_on: today, deadline: today,
      description: `隐患 ${String(i).padStart(3, "0")}`, note: "",
    });
  }
}"""


def test_a_queue_of_500_goes_oldest_first_in_batches_of_100(phone_page, grid, house_with_a_hazard):
    import json
    import time

    from liudong.field.models import FieldAction
    from liudong.places.models import SafetyIssue

    house, _issue = house_with_a_hazard
    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    go_offline(page)
    page.evaluate(ENQUEUE_HAZARDS, [grid["worker"].pk, house.pk, 500])
    page.reload()
    expect_waiting(page, 500)

    batches: list[list[str]] = []
    page.on(
        "request",
        lambda request: (
            batches.append(
                [a["data"]["description"] for a in json.loads(request.post_data)["actions"]]
            )
            if request.url.endswith("/api/field/sync/")
            else None
        ),
    )
    started = time.monotonic()
    go_online(page)
    expect_waiting(page, 0)
    seconds = time.monotonic() - started
    print(f"500 queued actions sent and applied in {seconds:.1f} s")

    assert [len(batch) for batch in batches] == [100] * 5
    sent = [description for batch in batches for description in batch]
    assert sent == [f"隐患 {i:03d}" for i in range(500)]  # oldest first, each once
    assert SafetyIssue.objects.filter(hazard__startswith="隐患 ").count() == 500
    assert FieldAction.objects.filter(status="applied").count() == 500
    assert seconds < 60


def test_an_arrival_registered_meanwhile_by_another_office_is_a_conflict(phone_page, grid):
    """She arrived; while the phone was offline another office (the township) registered her.
    The phone's arrival is not applied as a second file: both are shown, and "apply mine"
    applies the collector's arrival to that file."""
    from liudong.actors import OPERATOR
    from liudong.people.models import Person
    from liudong.people.services import register_arrival as register
    from liudong.regions.models import Region

    page = phone_page
    sign_in(page, "cun_a")
    open_app(page)
    go_offline(page)
    register_arrival(page, newcomer_id(14), "钱红")
    born = NEWCOMER_BORN
    other = Person(
        id_number=newcomer_id(14),
        name="钱红",
        sex="2",
        birth_date=born,
        marital_status="10",
        household_region_id="411522101",
    )
    register(
        acting_user=OPERATOR,
        person=other,
        region=Region.objects.get(code=VILLAGE),
        arrival_date=timezone.localdate() - datetime.timedelta(days=3),
    )
    go_online(page)
    page.get_by_test_id("field-tab-queue").click()
    conflict = page.locator("[data-testid=field-queued][data-state=conflict]")
    expect(conflict.get_by_test_id("field-conflict")).to_be_visible()
    assert Person.objects.filter(id_number=newcomer_id(14)).count() == 1

    conflict.get_by_test_id("field-queued-apply").click()
    expect_waiting(page, 0)
    her = Person.objects.get(id_number=newcomer_id(14))
    assert her.episodes.get(departure_date__isnull=True).region_id == VILLAGE
