"""The township's forms on the web (issue 16 item 2): a child on her file, an outflow
file opened by hand by the registration township, and a departure's destination.

Township A is 北山街道 330106002, township B 西溪街道 330106004 (county 西湖区 330106);
the inflow persons are registered in 光山县 411522 (河南).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.people.models import Child, Person
from liudong.people.tests.test_web import english, page, register
from liudong.stats.engine import Period
from liudong.stats.services import monthly_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def mother(township_a):
    """王芳 from 河南, living in 北山社区 (township A) since 2025-03-01."""
    return register(township_a, "王芳", sequence=12, sex="2")


# --- a child on her file -------------------------------------------------------------------


def test_the_file_offers_to_add_a_child(mother, township_a, client_for):
    html = page(client_for(township_a), f"/people/{mother.pk}/")
    assert f'href="/people/{mother.pk}/child/"' in html


def test_a_child_added_on_the_web_is_saved_audited_listed_and_counted(
    mother, township_a, client_for
):
    client = english(client_for(township_a))
    today = timezone.localdate()
    response = client.post(
        f"/people/{mother.pk}/child/",
        {
            "name": "王小明",
            "sex": "1",
            "birth_date": today.isoformat(),
            "birth_order": "2",
            "birth_place": "西湖区妇幼保健院",
        },
    )
    assert response.status_code == 302
    assert response.url == f"/people/{mother.pk}/#children"
    child = Child.objects.get(parent=mother)
    assert (child.name, child.sex, child.birth_date, child.birth_order, child.birth_place) == (
        "王小明",
        "1",
        today,
        2,
        "西湖区妇幼保健院",
    )
    entry = AuditEntry.objects.get(
        action="create", object_type="people.child", object_id=str(child.pk)
    )
    assert entry.actor_username == "township_a"
    html = page(client, f"/people/{mother.pk}/")
    table = html.split('data-testid="children"')[1].split("</table>")[0]
    assert "王小明" in table and today.isoformat() in table
    # The births of the month now count her child (the office reported 0 before).
    report = monthly_report("330106002", Period(today.year, today.month), acting_user=OPERATOR)
    assert report["indicators"]["births"] == 1


def test_the_birth_order_is_typed_on_a_digit_keyboard_not_a_number_input(
    mother, township_a, client_for
):
    """A focused number input jumped back into view as a tap on the button below left it,
    and the tap submitted nothing (people.forms.WholeNumberInput)."""
    html = page(client_for(township_a), f"/people/{mother.pk}/child/")
    field = re.search(r'<input[^>]*name="birth_order"[^>]*>', html)
    assert field is not None
    assert 'inputmode="numeric"' in field.group(0) and 'type="text"' in field.group(0)
    response = client_for(township_a).post(
        f"/people/{mother.pk}/child/", {"sex": "1", "birth_date": "2025-10-12", "birth_order": "x"}
    )
    assert response.status_code == 200 and not Child.objects.filter(parent=mother).exists()


def test_a_child_born_before_the_mother_or_in_the_future_is_refused(mother, township_a, client_for):
    client = client_for(township_a)
    for day in ("1980-01-01", (timezone.localdate() + datetime.timedelta(days=1)).isoformat()):
        response = client.post(f"/people/{mother.pk}/child/", {"sex": "2", "birth_date": day})
        assert response.status_code == 200
        assert 'data-testid="field-error-birth_date"' in response.content.decode()
    assert not Child.objects.exists()


def test_a_child_with_an_id_number_of_the_other_sex_is_refused(mother, township_a, client_for):
    from liudong.people import idnumbers

    number = idnumbers.make("330106", datetime.date(2024, 5, 1), 31, "1")
    response = client_for(township_a).post(
        f"/people/{mother.pk}/child/",
        {"sex": "2", "birth_date": "2024-05-01", "id_number": number},
    )
    assert response.status_code == 200
    assert 'data-testid="field-error-sex"' in response.content.decode()
    assert not Child.objects.exists()


def test_another_township_cannot_add_a_child(mother, township_b, client_for):
    client = client_for(township_b)
    assert client.get(f"/people/{mother.pk}/child/").status_code == 404
    response = client.post(f"/people/{mother.pk}/child/", {"sex": "1", "birth_date": "2025-06-01"})
    assert response.status_code == 404
    assert not Child.objects.exists()


def test_a_merged_file_takes_no_child(mother, township_a, client_for):
    other = register(township_a, "王芳", sequence=14, sex="2")
    Person.objects.filter(pk=mother.pk).update(merged_into=other)
    assert client_for(township_a).get(f"/people/{mother.pk}/child/").status_code == 404


def test_the_child_page_says_nothing_of_policy(mother, township_a, client_for):
    html = page(english(client_for(township_a)), f"/people/{mother.pk}/child/").lower()
    for word in ("policy", "quota", "fine", "permit"):
        assert word not in html


# --- a departure's destination -------------------------------------------------------------

XIXI = "330106004001"  # 西溪社区, township B
TAOYUAN = "330106004002"  # 桃源社区, township B
SHUGUANG = "330106002002"  # 曙光社区, township A


def test_a_departure_keeps_where_she_went_and_says_who_sees_her(
    mother, township_a, township_b, client_for
):
    client = english(client_for(township_a))
    html = page(client, f"/people/{mother.pk}/depart/")
    assert 'name="destination_region"' in html and 'name="destination_place"' in html
    response = client.post(
        f"/people/{mother.pk}/depart/",
        {
            "departure_date": "2025-08-01",
            "destination_region": XIXI,
            "destination_place": "西溪路8号",
            "version": mother.version,
        },
        follow=True,
    )
    stay = mother.episodes.get()
    assert stay.departure_date == datetime.date(2025, 8, 1)
    assert (stay.destination_region_id, stay.destination_place) == (XIXI, "西溪路8号")
    entry = AuditEntry.objects.filter(detail__action="departure").get()
    assert entry.detail["destination_region"] == XIXI
    # Registered in 河南: 西溪街道's office does not see her file, and no office here
    # holds both places.
    shown = [str(m) for m in response.context["messages"]]
    assert any("西溪街道 does not see her file" in m and "handed over" in m for m in shown)


def test_a_destination_inside_the_place_she_leaves_is_refused(mother, township_a, client_for):
    from liudong.people.services import open_episode

    stay = open_episode(mother)
    stay.region_id = "330106002"  # a stay coded at the township itself
    stay.save()
    response = client_for(township_a).post(
        f"/people/{mother.pk}/depart/",
        {"departure_date": "2025-08-01", "destination_region": SHUGUANG, "version": 1},
    )
    assert response.status_code == 200
    assert 'data-testid="field-error-destination_region"' in response.content.decode()
    assert mother.episodes.get().departure_date is None


def test_a_destination_above_village_level_is_accepted_and_a_province_refused(
    mother, township_a, client_for
):
    client = client_for(township_a)
    response = client.post(
        f"/people/{mother.pk}/depart/",
        {"departure_date": "2025-08-01", "destination_region": "44", "version": 1},
    )
    assert 'data-testid="field-error-destination_region"' in response.content.decode()
    response = client.post(
        f"/people/{mother.pk}/depart/",
        {"departure_date": "2025-08-01", "destination_region": "440106", "version": 1},
    )
    assert response.status_code == 302
    assert mother.episodes.get().destination_region_id == "440106"


def test_the_file_shows_where_she_went_to_who_still_sees_it(
    villages, township_a, township_b, client_for
):
    """Registered in township A, living in township B: township B records her departure
    to 曙光社区 (township A), whose office sees her file and says so on it."""
    her = register(
        township_b, "陈静", sequence=16, sex="2", household=SHUGUANG[:9] + "001", residence=XIXI
    )
    response = english(client_for(township_b)).post(
        f"/people/{her.pk}/depart/",
        {"departure_date": "2025-08-01", "destination_region": SHUGUANG, "version": her.version},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any("北山街道 sees her file" in m for m in shown)
    html = page(english(client_for(township_a)), f"/people/{her.pk}/")
    went = html.split('data-testid="went-to"')[1].split("</td>")[0]
    assert "曙光社区" in went and SHUGUANG in went
    assert 'data-testid="destination-note"' in html


def test_the_office_over_both_places_is_named(villages, township_b, county_admin):
    from liudong.people import services
    from liudong.regions.models import Region

    her = register(
        township_b, "陈静", sequence=16, sex="2", household="330106002001", residence=XIXI
    )
    found = services.destination_office(her, Region.objects.get(code=TAOYUAN))
    assert (found.office.code, found.sees_file, found.over_both.code) == (
        "330106004",
        False,
        "330106",
    )
    nowhere = services.destination_office(her, Region.objects.get(code="440106"))
    assert nowhere.office is None and not nowhere.sees_file


def test_the_api_gives_the_destination_of_a_stay(mother, township_a, api_for):
    from liudong.people import services
    from liudong.regions.models import Region

    services.register_departure(
        acting_user=township_a,
        person=mother,
        departure_date=datetime.date(2025, 8, 1),
        destination_region=Region.objects.get(code="440106"),
        destination_place="天河区",
    )
    # Gone from township A: the stay is still its own (it was in its region).
    data = api_for(township_a).get("/api/episodes/").json()
    stay = next(s for s in data["results"] if s["person"] == mother.pk)
    assert stay["destination_region"] == "440106"
    assert stay["destination_region_name"] == "天河区"
    assert stay["destination_place"] == "天河区"


# --- an outflow file opened by hand ------------------------------------------------------------

BORN_HERE = datetime.date(1994, 6, 2)


def outflow_data(**changes) -> dict:
    from liudong.people import idnumbers

    data = {
        "id_number": idnumbers.make("330106", BORN_HERE, 52, "2"),
        "name": "赵丽",
        "marital_status": "20",
        "household_region": "330106002001",
        "household_address": "北山路1号",
        "residence_region": "440106",
        "residence_address": "天河路100号",
        "arrival_date": "2025-05-01",
        "reason": "",
        "employer": "",
    }
    data.update(changes)
    return data


def test_the_person_list_offers_to_register_someone_who_left(township_a, client_for):
    html = page(client_for(township_a), "/people/")
    assert 'href="/people/outflow/"' in html


def offered(client, html: str, field: str, query: str) -> list[str]:
    """What the picker of ``field`` on the page ``html`` offers for ``query`` (the search the
    script sends, with the widget's own subtree and levels)."""
    widget = re.search(rf'<span class="region-picker"[^>]*>\s*<input[^>]*name="{field}"', html)
    assert widget is not None, field
    params = dict(re.findall(r'data-(under|lengths)="([^"]*)"', widget.group(0)))
    answer = client.get("/regions/search/", {"q": query, **params}).json()
    return [item["name"] for item in answer["results"]]


def test_the_outflow_pickers_offer_what_the_form_accepts(township_a, client_for):
    """Her residence is anywhere in China (the arrival form's is the user's own region);
    her household registration lies in the user's region."""
    client = client_for(township_a)
    html = page(client, "/people/outflow/")
    assert "天河区" in offered(client, html, "residence_region", "天河")
    assert "北山社区" in offered(client, html, "household_region", "北山社区")
    assert offered(client, html, "household_region", "西溪街道") == []
    arrival = page(client, "/people/arrive/")
    assert offered(client, arrival, "residence_region", "天河") == []


def test_the_registration_township_opens_an_outflow_file_counted_as_outflow(township_a, client_for):
    today = timezone.localdate()
    period = Period(today.year, today.month)
    before = monthly_report("330106002", period, acting_user=OPERATOR)["indicators"]
    response = english(client_for(township_a)).post("/people/outflow/", outflow_data())
    assert response.status_code == 302
    her = Person.objects.get(name="赵丽")
    assert response.url == f"/people/{her.pk}/"
    assert (her.sex, her.birth_date, her.household_region_id, her.residence_region_id) == (
        "2",
        BORN_HERE,
        "330106002001",
        "440106",
    )
    assert her.is_floating
    stay = her.episodes.get()
    assert (stay.region_id, stay.arrival_date, stay.departure_date, stay.address) == (
        "440106",
        datetime.date(2025, 5, 1),
        None,
        "天河路100号",
    )
    assert list(Person.objects.outflow("330106002")) == [her]
    after = monthly_report("330106002", period, acting_user=OPERATOR)["indicators"]
    assert after["outflow_total"] == before["outflow_total"] + 1
    assert after["inflow_total"] == before["inflow_total"]
    entry = AuditEntry.objects.get(object_type="people.person", object_id=str(her.pk))
    assert entry.action == "create" and entry.detail["action"] == "outflow opened"
    html = page(english(client_for(township_a)), f"/people/{her.pk}/")
    assert "天河区" in html and ">outflow<" in html


def test_an_outflow_file_where_she_lives_is_not_known(township_a, client_for):
    response = english(client_for(township_a)).post(
        "/people/outflow/",
        outflow_data(residence_region="", residence_address="", arrival_date=""),
        follow=True,
    )
    her = Person.objects.get(name="赵丽")
    assert her.residence_region_id is None and not her.is_floating
    assert not her.episodes.exists()
    shown = [str(m) for m in response.context["messages"]]
    assert any("not known" in m for m in shown)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"household_region": "330106004001"}, "household_region"),  # township B's
        ({"residence_region": "330106004001"}, "residence_region"),  # the same county
        ({"arrival_date": ""}, "arrival_date"),  # a place without since when
        ({"arrival_date": "1990-01-01"}, "arrival_date"),  # before she was born
        ({"sex": "1"}, "sex"),  # the ID number says a woman
    ],
)
def test_what_an_outflow_file_refuses(changes, field, township_a, client_for):
    response = client_for(township_a).post("/people/outflow/", outflow_data(**changes))
    assert response.status_code == 200
    assert f'data-testid="field-error-{field}"' in response.content.decode()
    assert not Person.objects.filter(name="赵丽").exists()


def test_an_outflow_file_is_never_opened_twice(mother, township_a, township_b, client_for):
    # On file in township A already: refused, the file is opened instead.
    response = client_for(township_a).post(
        "/people/outflow/", outflow_data(id_number=mother.id_number)
    )
    assert 'data-testid="field-error-id_number"' in response.content.decode()
    # On file outside township B's region: refused without saying where.
    response = client_for(township_b).post(
        "/people/outflow/",
        outflow_data(id_number=mother.id_number, household_region="330106004001"),
    )
    assert 'data-testid="field-error-id_number"' in response.content.decode()
    assert Person.objects.count() == 1


def test_who_may_not_change_files_opens_none(inspector, client_for):
    response = client_for(inspector).post(
        "/people/outflow/", outflow_data(household_region="330106002001")
    )
    assert response.status_code in (200, 403)
    assert not Person.objects.exists()


def test_the_arrival_form_still_keeps_the_residence_in_the_users_region(township_a, client_for):
    data = outflow_data()
    response = client_for(township_a).post("/people/arrive/", data)
    assert 'data-testid="field-error-residence_region"' in response.content.decode()
    assert not Person.objects.exists()
