"""The home page's to-dos (issue 16 item 9): each kind of work the user's role acts on, with
how many are waiting and late, in the user's region only, linking to the list to open."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from liudong.exchange.models import AssistanceRequest
from liudong.stats import services as stats
from liudong.stats.models import ReportStatus
from liudong.web.tests.test_worklist import due_in_the_grid  # noqa: F401 (a fixture)
from liudong.web.todos import home_todos

pytestmark = pytest.mark.django_db


def todos_of(user) -> dict[str, tuple[int, int]]:
    return {t.key: (t.count, t.overdue) for t in home_todos(user)}


def asked_of(region: str, days_left: int) -> AssistanceRequest:
    today = timezone.localdate()
    return AssistanceRequest.objects.create(
        direction=AssistanceRequest.Direction.INCOMING,
        id_number="110105199001010023",
        question="children",
        urgency="normal",
        asked_on=today - datetime.timedelta(days=30),
        deadline=today + datetime.timedelta(days=days_left),
        region_id=region,
        other_region="44",
    )


@pytest.mark.usefixtures("due_in_the_grid")
def test_a_township_counts_each_kind_of_work_in_its_region_late_ones_apart(township_a, township_b):
    asked_of("330106002", -2)  # late
    asked_of("330106002", 10)
    asked_of("330106004", -2)  # township B's
    answered = asked_of("330106002", -3)
    answered.answered_on = timezone.localdate()
    answered.save()  # answered late, but answered: nothing to do

    assert todos_of(township_a) == {
        "notices": (1, 1),
        "help_requests": (1, 1),
        "follow_ups": (1, 1),
        "assistance": (2, 1),
        "corrections": (0, 0),
        "hazards": (1, 1),
        "agreements": (1, 0),
        "reports_to_submit": (1, 0),  # last month, not submitted yet
    }
    # Township B shares the county but none of A's files, places or requests.
    assert todos_of(township_b) == {
        "notices": (0, 0),
        "help_requests": (0, 0),
        "follow_ups": (0, 0),
        "assistance": (1, 1),
        "corrections": (0, 0),
        "hazards": (0, 0),
        "agreements": (0, 0),
        "reports_to_submit": (1, 0),
    }


def test_each_role_is_asked_only_what_it_can_act_on(
    collector_a1, provider_a, village_a1, county_admin, inspector
):
    assert set(todos_of(collector_a1)) == {"hazards", "agreements"}
    assert set(todos_of(provider_a)) == {"help_requests", "follow_ups"}
    assert set(todos_of(village_a1)) == {
        "notices",
        "help_requests",
        "follow_ups",
        "hazards",
        "agreements",
    }
    assert "reports_to_approve" in todos_of(county_admin)
    assert "assistance" in todos_of(county_admin)
    assert "corrections" in todos_of(county_admin)
    assert todos_of(inspector) == {}


def test_a_month_submitted_leaves_the_list_a_returned_one_comes_back(township_a, county_admin):
    last = stats.last_full_month()
    assert stats.months_to_submit(township_a) == [last]
    assert todos_of(county_admin)["reports_to_approve"] == (0, 0)

    report = stats.submit_report(acting_user=township_a, period=last)
    assert stats.months_to_submit(township_a) == []
    assert todos_of(township_a)["reports_to_submit"] == (0, 0)
    assert todos_of(county_admin)["reports_to_approve"] == (1, 0)

    stats.return_report(acting_user=county_admin, report=report, reason="请核实流入人数")
    assert stats.months_to_submit(township_a) == [last]
    assert todos_of(county_admin)["reports_to_approve"] == (0, 0)

    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    stats.submit_report(acting_user=township_a, period=last)
    assert stats.months_to_submit(township_a) == []


@pytest.mark.usefixtures("due_in_the_grid")
def test_the_home_page_links_each_waiting_kind_to_its_list_and_names_the_empty_ones(
    township_a, township_b, client_for
):
    page = client_for(township_a).get("/")
    assert page.status_code == 200
    shown = {t.key: t for t in page.context["todos"]}
    assert set(shown) == {
        "notices",
        "help_requests",
        "follow_ups",
        "hazards",
        "agreements",
        "reports_to_submit",
    }
    assert [t.key for t in page.context["quiet_todos"]] == ["assistance", "corrections"]
    html = page.content.decode()
    assert f'href="{shown["hazards"].url}"' in html
    assert shown["hazards"].url == "/places/worklists/open-hazards/"
    assert shown["reports_to_submit"].url.startswith("/stats/report/?region=330106002&period=")
    for todo in shown.values():  # every link opens for this user
        assert client_for(township_a).get(todo.url).status_code == 200, todo.url

    quiet = client_for(township_b).get("/")
    assert [t.key for t in quiet.context["todos"]] == ["reports_to_submit"]
    assert 'data-testid="todo-hazards-none"' in quiet.content.decode()


ROLES = [
    "collector_a1",
    "village_a1",
    "township_a",
    "provider_a",
    "county_admin",
    "inspector",
    "auditor",
    "node_account",
]


@pytest.mark.parametrize("account", ROLES)
def test_the_menu_offers_only_pages_the_role_may_open(account, request, client_for):
    """The menu is built from the role's capabilities: none of its links is refused, and
    the exchange node (no page of its own) meets a page saying so, with no menu."""
    user = request.getfixturevalue(account)
    client = client_for(user)
    home = client.get("/", follow=True)
    assert home.status_code == 200
    menu = re.search(r'<ul class="menu">(.*?)</ul>', home.content.decode(), re.S)
    if user.role == "node":
        assert menu is None
        return
    assert menu is not None
    links = re.findall(r'href="([^"]+)"', menu.group(1))
    assert links
    refused = {link: s for link in links if (s := client.get(link).status_code) >= 400}
    assert not refused
