"""Her services on her file page: records (the result only for those who may see it),
open follow-ups, and, for the offices that keep person files, her help requests and
association memberships; scoped to the reader's region and a fixed number of queries.

She lives in 北山社区 (330106002001, township A) and is registered in 拱墅区 (330105).
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from liudong.audit.models import AuditEntry
from liudong.certificates.tests.conftest import make_person
from liudong.places import services as places
from liudong.regions.models import Region
from liudong.services.associations import services as association_services
from liudong.services.campaigns import services as campaign_services
from liudong.services.help_requests import services as help_services
from liudong.services.records import services as record_services

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
SECRET = "宫颈涂片未见异常"


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


@pytest.fixture
def her(villages):
    return make_person(household="330105001001", residence="330106002001", arrived=days_ago(400))


@pytest.fixture
def station(township_a):
    return places.create_site(
        acting_user=township_a,
        kind="service_station",
        name="北山街道计生服务站",
        region="330106002",
    )


@pytest.fixture
def campaign(county_admin):
    return campaign_services.create_campaign(
        acting_user=county_admin,
        name="世界人口日宣传服务",
        kind="population_day",
        starts_on=days_ago(60),
        ends_on=TODAY,
        regions=Region.objects.filter(code="330106002"),
    )


def given(user, person, days: int = 3, **values):
    values = {"service_type": "reproductive_health", "consent_recorded": True, **values}
    return record_services.create_service_record(
        acting_user=user, person=person, date=days_ago(days), **values
    )


@pytest.fixture
def her_services(her, township_a, station, campaign):
    """A checked-up record with a result, a follow-up overdue and one due next week, a
    help request and a membership."""
    checked = given(township_a, her, 20, provider=station, campaign=campaign, result=SECRET)
    counselled = given(township_a, her, 2, service_type="counselling", free_of_charge=False)
    record_services.schedule_follow_up(acting_user=township_a, service=checked, due_on=days_ago(5))
    record_services.schedule_follow_up(
        acting_user=township_a, service=counselled, due_on=TODAY + datetime.timedelta(days=7)
    )
    help_services.create_help_request(acting_user=township_a, person=her, category="wages")
    branch = association_services.create_branch(
        acting_user=township_a,
        name="北山流动人口计生协会",
        region=Region.objects.get(code="330106002"),
    )
    association_services.create_membership(
        acting_user=township_a, branch=branch, person=her, joined_on=days_ago(100)
    )
    return checked, counselled


def page(client_for, user, person):
    return client_for(user).get(reverse("people:detail", args=[person.pk]))


def section(response) -> str:
    html = response.content.decode()
    start = html.index('data-testid="person-services"')
    return html[start : html.index("</section>", start)]


def test_her_township_specialist_sees_records_follow_ups_help_and_memberships(
    client_for, township_a, her, her_services
):
    checked, counselled = her_services
    response = page(client_for, township_a, her)
    assert response.status_code == 200
    html = section(response)
    # Newest first: the counselling (2 days ago) before the check (20 days ago).
    assert html.index(reverse("services:record", args=[counselled.pk])) < html.index(
        reverse("services:record", args=[checked.pk])
    )
    assert SECRET in html  # her own township specialist sees the result
    assert "北山街道计生服务站" in html and "世界人口日宣传服务" in html
    assert html.count('data-testid="overdue"') == 1  # the overdue follow-up is marked
    assert 'data-testid="her-help"' in html and reverse("services:help_list") in html
    assert "北山流动人口计生协会" in html
    # Her ID number goes with the buttons that record a service or a help request for her.
    assert f"{reverse('services:record_create')}?id_number={her.id_number}" in html
    assert f"{reverse('services:help_create')}?id_number={her.id_number}" in html
    # Reading her result is logged, as on the record's own page.
    assert AuditEntry.objects.filter(
        action="view", object_type="services.servicerecord", object_id=str(checked.pk)
    ).exists()


def test_a_service_station_sees_results_but_not_her_help_requests(
    client_for, provider_a, her, her_services
):
    html = section(page(client_for, provider_a, her))
    assert SECRET in html
    assert 'data-testid="her-record"' in html
    assert 'data-testid="her-help"' not in html
    assert 'data-testid="her-memberships"' not in html
    assert "北山流动人口计生协会" not in html
    assert reverse("services:help_create") not in html
    assert reverse("services:record_create") in html  # a station records services


def test_another_township_gets_404(client_for, township_b, her, her_services):
    assert page(client_for, township_b, her).status_code == 404


def test_the_county_without_result_rights_sees_no_result(
    client_for, county_admin, her, her_services
):
    response = page(client_for, county_admin, her)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="her-record"' in html
    assert SECRET not in html
    assert not AuditEntry.objects.filter(
        action="view", object_type="services.servicerecord"
    ).exists()


def test_a_collector_sees_no_buttons_or_links_to_pages_it_cannot_open(
    client_for, collector_a1, township_a
):
    # She lives in the collector's own village group.
    neighbour = make_person(household="330105001001", residence="330106002001001", name="吴芳")
    given(township_a, neighbour, result=SECRET)
    html = section(page(client_for, collector_a1, neighbour))
    assert 'data-testid="her-record"' in html
    assert SECRET not in html
    assert "/services/" not in html  # the services pages need RECORD_SERVICES


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def add_records(user, person, count: int, start: int) -> None:
    """Records with a result, each with a follow-up, a help request and a membership."""
    branch = association_services.create_branch(
        acting_user=user, name=f"协会{start}", region=Region.objects.get(code="330106002")
    )
    for n in range(start, start + count):
        record = given(user, person, 10 + n, result=f"结果{n}")
        record_services.schedule_follow_up(
            acting_user=user, service=record, due_on=days_ago(1 + n % 5)
        )
        help_services.create_help_request(acting_user=user, person=person, category="housing")
    association_services.create_membership(
        acting_user=user, branch=branch, person=person, joined_on=days_ago(100 + start)
    )


def test_query_count_is_the_same_for_1_or_10_records(client_for, township_a, her):
    client = client_for(township_a)
    url = reverse("people:detail", args=[her.pk])
    add_records(township_a, her, 1, 0)
    one = queries(client, url)
    add_records(township_a, her, 9, 1)
    ten = queries(client, url)
    assert ten == one, f"{one} queries for 1 record, {ten} for 10"
