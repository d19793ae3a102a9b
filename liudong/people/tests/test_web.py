"""The person pages: list and live search, one file (logged), arrival, departure, move
within the jurisdiction, return home and edits, and what another township cannot do.

Township A is 北山街道 330106002, township B 西溪街道 330106004 (county 西湖区 330106);
the inflow persons below are registered in 光山县 411522 (河南).
"""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.test import Client

from liudong.actors import OPERATOR
from liudong.audit.models import AuditEntry
from liudong.people import idnumbers, services
from liudong.people.models import Person, ResidenceEpisode
from liudong.regions.models import Region

pytestmark = pytest.mark.django_db

HENAN = "411522"  # 光山县
BEISHAN = "330106002001"  # 北山社区, township A
SHUGUANG = "330106002002"  # 曙光社区, township A
XIXI = "330106004001"  # 西溪社区, township B
BORN = datetime.date(1990, 3, 7)
ARRIVED = datetime.date(2025, 3, 1)


def id_for(sequence: int, *, sex: str = "1", born: datetime.date = BORN, region=HENAN) -> str:
    return idnumbers.make(region, born, sequence, sex)


def wrong_check(value: str) -> str:
    """The same number with a check character that does not fit."""
    last = "0" if value[-1] != "0" else "1"
    return value[:17] + last


def register(
    user,
    name: str,
    *,
    sequence: int = 1,
    sex: str = "1",
    born: datetime.date = BORN,
    household: str = HENAN,
    residence: str = BEISHAN,
    arrived: datetime.date = ARRIVED,
    phone: str = "",
    marital_status: str = "20",
    id_number: str | None = None,
) -> Person:
    """A person on file, registered through the service (``user`` None: the operator)."""
    number = id_number or id_for(sequence, sex=sex, born=born, region=household[:6])
    person = Person(
        id_number=number,
        id_check_failed=not idnumbers.parse(number).check_ok,
        name=name,
        sex=sex,
        birth_date=born,
        marital_status=marital_status,
        phone=phone,
        household_region=Region.objects.get(code=household),
    )
    services.register_arrival(
        acting_user=user,
        person=person,
        region=Region.objects.get(code=residence),
        arrival_date=arrived,
        reason="work",
    )
    return person


@pytest.fixture
def person_a(township_a):
    """张伟 from 河南, living in 北山社区 (township A)."""
    return register(township_a, "张伟", sequence=11, phone="13812345678")


@pytest.fixture
def person_b(township_b):
    """李娜 from 河南, living in 西溪社区 (township B)."""
    return register(township_b, "李娜", sequence=22, sex="2", residence=XIXI)


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
    return client


def page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- the list ----------------------------------------------------------------------------


def test_the_list_shows_masked_numbers_and_never_the_full_one(person_a, township_a, client_for):
    html = page(client_for(township_a), "/people/")
    assert "张伟" in html
    assert idnumbers.mask(person_a.id_number) in html
    assert person_a.id_number not in html
    assert "光山县" in html and "北山社区" in html and "2025-03-01" in html
    age = person_a.age_on(datetime.date.today())
    assert f"<td>{age}</td>" in html


def test_a_wrong_check_digit_is_badged_in_the_list(township_a, client_for):
    register(township_a, "王芳", sex="2", id_number=wrong_check(id_for(31, sex="2")))
    html = page(client_for(township_a), "/people/")
    assert 'data-testid="check-failed"' in html


@pytest.mark.parametrize(
    "query",
    ["张", "张伟", "zw", "ZW", "13812345678", "1381234", "411522", "4115221990"],
)
def test_search_finds_by_name_initials_id_or_phone(query, person_a, township_a, client_for):
    register(township_a, "李娜", sequence=12, sex="2", phone="13900000000")
    html = page(client_for(township_a), "/people/", q=query)
    assert "张伟" in html
    if query not in ("411522", "4115221990"):
        assert "李娜" not in html


def test_search_by_the_whole_id_number_typed_untidily(person_a, township_a, client_for):
    register(township_a, "李娜", sequence=12, sex="2")
    value = person_a.id_number
    untidy = " " + value[:6] + "-" + value[6:14] + " " + value[14:].lower()
    html = page(client_for(township_a), "/people/", q=untidy)
    assert "张伟" in html and "李娜" not in html
    assert value not in html  # still masked in the results


def test_a_short_number_or_a_stranger_finds_nobody(person_a, township_a, client_for):
    client = client_for(township_a)
    assert "张伟" not in page(client, "/people/", q="41152")  # under 6 digits: no ID prefix
    assert "张伟" not in page(client, "/people/", q="王")
    assert "张伟" not in page(client, "/people/", q="lw")


def test_the_live_search_answers_htmx_with_the_results_only(person_a, township_a, client_for):
    response = client_for(township_a).get("/people/", {"q": "zw"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'data-testid="person-table"' in html and "张伟" in html
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_gets_the_whole_page(person_a, township_a, client_for):
    response = client_for(township_a).get(
        "/people/", {"q": "zw"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode() and "张伟" in response.content.decode()


def test_filters_flow_sex_and_marital_status(person_a, township_a, client_for):
    # 陈静 is registered in 北山社区 and works in Beijing: outflow for township A.
    register(
        OPERATOR,
        "陈静",
        sequence=40,
        sex="2",
        household=BEISHAN,
        residence="110105",
        marital_status="10",
    )
    client = client_for(township_a)
    inflow = page(client, "/people/", flow="inflow")
    assert "张伟" in inflow and "陈静" not in inflow
    outflow = page(client, "/people/", flow="outflow")
    assert "陈静" in outflow and "张伟" not in outflow
    women = page(client, "/people/", sex="2")
    assert "陈静" in women and "张伟" not in women
    single = page(client, "/people/", marital_status="10")
    assert "陈静" in single and "张伟" not in single
    # Nonsense in a filter is ignored, not an error page.
    assert "张伟" in page(client, "/people/", sex="x", flow="sideways")


def test_the_list_pages_by_fifty(township_a, client_for):
    for n in range(52):
        register(township_a, f"测试{n:02d}", sequence=100 + 2 * n)
    client = client_for(township_a)
    first = page(client, "/people/")
    assert first.count('href="/people/') - first.count('href="/people/arrive') >= 50
    assert 'data-testid="next-page"' in first
    second = page(client, "/people/", page=2)
    assert second.count('<tr><td><a href="/people/') == 2


def test_merged_files_are_not_listed(person_a, township_a, client_for):
    duplicate = register(township_a, "张伟", sequence=13)
    Person.objects.filter(pk=duplicate.pk).update(merged_into=person_a)
    html = page(client_for(township_a), "/people/")
    assert html.count(">张伟</a>") == 1


# --- one file ----------------------------------------------------------------------------


def test_the_file_shows_the_full_number_and_its_opening_is_logged(person_a, township_a, client_for):
    before = AuditEntry.objects.filter(action="view", object_id=str(person_a.pk)).count()
    html = page(client_for(township_a), f"/people/{person_a.pk}/")
    assert person_a.id_number in html
    assert "光山县" in html and "北山社区" in html and "2025-03-01" in html
    assert 'data-testid="id-check-warning"' not in html
    views = AuditEntry.objects.filter(
        action="view", object_type="people.person", object_id=str(person_a.pk)
    )
    assert views.count() == before + 1
    entry = views.latest("seq")
    assert entry.actor_username == "township_a" and entry.detail == {"via": "web"}
    page(client_for(township_a), f"/people/{person_a.pk}/")
    assert views.count() == before + 2  # every opening, not only the first


def test_the_file_warns_when_the_check_digit_is_wrong(township_a, client_for):
    person = register(township_a, "王芳", sex="2", id_number=wrong_check(id_for(31, sex="2")))
    html = page(client_for(township_a), f"/people/{person.pk}/")
    assert 'data-testid="id-check-warning"' in html


def test_the_file_lists_stays_newest_first(person_a, township_a, client_for):
    services.move_within(
        acting_user=township_a,
        person=person_a,
        region=Region.objects.get(code=SHUGUANG),
        moved_on=datetime.date(2025, 6, 1),
    )
    html = page(client_for(township_a), f"/people/{person_a.pk}/")
    history = html.split('data-testid="episodes"', 1)[1]
    assert history.index("曙光社区") < history.index("北山社区")
    assert 'data-testid="depart"' in html and 'data-testid="return"' in html


# --- arrival -----------------------------------------------------------------------------


def arrival_data(**changes) -> dict:
    data = {
        "id_number": id_for(51, sex="2"),
        "name": "刘洋",
        "sex": "2",
        "birth_date": BORN.isoformat(),
        "ethnicity": "01",
        "marital_status": "20",
        "phone": "13700001111",
        "household_region": HENAN,
        "household_address": "光山县弦山街道1号",
        "residence_region": BEISHAN,
        "residence_address": "北山路5号",
        "arrival_date": ARRIVED.isoformat(),
        "reason": "work",
        "employer": "西湖茶厂",
    }
    data.update(changes)
    return data


def test_an_arrival_creates_a_floating_inflow_file(township_a, client_for):
    client = client_for(township_a)
    form = page(client, "/people/arrive/")
    assert 'value="330106002"' in form  # the residence defaults to the user's region
    response = client.post("/people/arrive/", arrival_data())
    person = Person.objects.get(id_number=id_for(51, sex="2"))
    assert response.status_code == 302 and response.url == f"/people/{person.pk}/"
    assert person.name_initials == "ly" and not person.id_check_failed
    assert person.residence_region_id == BEISHAN and person.is_floating
    episode = ResidenceEpisode.objects.get(person=person)
    assert episode.departure_date is None and episode.arrival_date == ARRIVED
    assert episode.employer == "西湖茶厂" and episode.reason == "work"
    assert Person.objects.inflow("330106002").filter(pk=person.pk).exists()
    assert Person.objects.outflow(HENAN).filter(pk=person.pk).exists()
    assert not Person.objects.outflow("330106").filter(pk=person.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(person.pk), action="create").exists()


def test_sex_and_birth_date_are_taken_from_the_id_number_when_left_empty(township_a, client_for):
    response = client_for(township_a).post("/people/arrive/", arrival_data(sex="", birth_date=""))
    assert response.status_code == 302
    person = Person.objects.get(id_number=id_for(51, sex="2"))
    assert person.sex == "2" and person.birth_date == BORN


def test_a_wrong_check_digit_is_saved_with_a_warning(township_a, client_for):
    number = wrong_check(id_for(51, sex="2"))
    client = english(client_for(township_a))
    response = client.post("/people/arrive/", arrival_data(id_number=number), follow=True)
    person = Person.objects.get(id_number=number)
    assert person.id_check_failed
    html = response.content.decode()
    assert "check digit" in html and 'data-testid="id-check-warning"' in html


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id_number": "41152219900307"}, "id_number"),
        ({"id_number": "411522199002300012"}, "id_number"),  # 30 February
        ({"sex": "1"}, "sex"),
        ({"birth_date": "1990-03-08"}, "birth_date"),
        ({"household_region": "999999"}, "household_region"),
        ({"household_region": "33"}, "household_region"),  # a province is too coarse
        ({"residence_region": "33x"}, "residence_region"),
        ({"residence_region": XIXI}, "residence_region"),  # township B's, not A's
        ({"arrival_date": "2999-01-01"}, "arrival_date"),
        ({"arrival_date": "1980-01-01"}, "arrival_date"),  # before birth
        ({"phone": "12345"}, "phone"),
        ({"marital_status": ""}, "marital_status"),
    ],
)
def test_an_arrival_is_refused_with_the_field_named(changes, field, township_a, client_for):
    response = client_for(township_a).post("/people/arrive/", arrival_data(**changes))
    assert response.status_code == 200
    assert f'data-testid="field-error-{field}"' in response.content.decode()
    assert not Person.objects.exists()


def test_an_id_number_on_file_elsewhere_is_refused_without_saying_whose(
    person_b, township_a, client_for
):
    response = english(client_for(township_a)).post(
        "/people/arrive/", arrival_data(id_number=person_b.id_number, name="冒名", sex="2")
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="field-error-id_number"' in html
    assert "outside your region" in html
    assert "李娜" not in html and "西溪" not in html
    person_b.refresh_from_db()
    assert person_b.name == "李娜" and person_b.residence_region_id == XIXI
    assert person_b.episodes.count() == 1


def test_a_known_number_fills_the_form_and_adds_a_stay_to_the_same_file(township_a, client_for):
    person = register(OPERATOR, "赵磊", sequence=61, household=BEISHAN, residence="110105")
    client = client_for(township_a)
    html = page(client, "/people/arrive/", id_number=person.id_number)
    assert 'data-testid="prefilled"' in html and 'value="赵磊"' in html
    # Filling the form from the file shows the file: logged like opening it.
    assert AuditEntry.objects.filter(
        action="view", object_id=str(person.pk), actor_username="township_a"
    ).exists()
    response = client.post(
        "/people/arrive/",
        arrival_data(
            id_number=person.id_number,
            name="赵磊",
            sex="1",
            household_region=BEISHAN,
            phone="13600002222",
            person_version=str(person.version),
        ),
    )
    assert response.status_code == 302
    assert Person.objects.filter(id_number=person.id_number).count() == 1
    person.refresh_from_db()
    assert person.phone == "13600002222" and person.residence_region_id == BEISHAN
    assert not person.is_floating  # back in the county of registration
    stays = list(person.episodes.order_by("arrival_date"))
    assert len(stays) == 2 and stays[0].departure_date == ARRIVED


def test_the_id_check_fragment_derives_birth_date_and_sex(person_b, township_a, client_for):
    client = client_for(township_a)
    number = id_for(51, sex="2")
    html = page(client, "/people/arrive/id/", id_number=number)
    assert 'value="1990-03-07"' in html and '<option value="2" selected>' in html
    assert "id-known" not in html and "id-error" not in html
    # Still typing: nothing to say, what the user chose stays.
    html = page(client, "/people/arrive/id/", id_number="41152", sex="1")
    assert '<option value="1" selected>' in html and "id-error" not in html
    # A number on file elsewhere: refused, nobody named.
    html = page(client, "/people/arrive/id/", id_number=person_b.id_number)
    assert "id-error" in html and "李娜" not in html
    html = page(client, "/people/arrive/id/", id_number=wrong_check(number))
    assert 'data-testid="id-check-warning"' in html


def test_the_id_check_fragment_names_a_file_in_scope(person_a, township_a, client_for):
    html = page(client_for(township_a), "/people/arrive/id/", id_number=person_a.id_number)
    assert 'data-testid="id-known"' in html and "张伟" in html


# --- departure, move, return -------------------------------------------------------------


def test_a_departure_closes_the_stay(person_a, township_a, client_for):
    client = client_for(township_a)
    assert page(client, f"/people/{person_a.pk}/depart/")
    response = client.post(
        f"/people/{person_a.pk}/depart/", {"departure_date": "2025-08-01", "version": 1}
    )
    # Registered in 河南 and gone from 北山: the file leaves township A's region.
    assert response.status_code == 302 and response.url == "/people/"
    person = Person.objects.get(pk=person_a.pk)
    assert person.residence_region_id is None and not person.is_floating
    assert person.episodes.get().departure_date == datetime.date(2025, 8, 1)


def test_a_departure_before_the_arrival_is_refused(person_a, township_a, client_for):
    response = client_for(township_a).post(
        f"/people/{person_a.pk}/depart/", {"departure_date": "2025-01-01", "version": 1}
    )
    assert response.status_code == 200
    assert 'data-testid="field-error-departure_date"' in response.content.decode()
    assert Person.objects.get(pk=person_a.pk).residence_region_id == BEISHAN


def test_a_move_within_the_jurisdiction_opens_a_new_stay(person_a, township_a, client_for):
    response = client_for(township_a).post(
        f"/people/{person_a.pk}/move/",
        {"region": SHUGUANG, "moved_on": "2025-06-01", "address": "曙光路1号", "version": 1},
    )
    assert response.status_code == 302 and response.url == f"/people/{person_a.pk}/"
    person = Person.objects.get(pk=person_a.pk)
    assert person.residence_region_id == SHUGUANG and person.is_floating
    current = person.episodes.get(departure_date__isnull=True)
    assert current.arrival_date == datetime.date(2025, 6, 1) and current.employer == ""
    assert person.episodes.get(region_id=BEISHAN).departure_date == datetime.date(2025, 6, 1)


def test_a_move_outside_the_region_or_county_is_refused(person_a, township_a, client_for):
    client = client_for(township_a)
    for code in (XIXI, "330105001001"):
        response = client.post(
            f"/people/{person_a.pk}/move/",
            {"region": code, "moved_on": "2025-06-01", "version": 1},
        )
        assert response.status_code == 200
        assert 'data-testid="field-error-region"' in response.content.decode()
    assert Person.objects.get(pk=person_a.pk).residence_region_id == BEISHAN


def test_returning_home_ends_floating(township_a, client_for):
    # 孙丽 is registered in 北山社区 and lives in Beijing: outflow.
    person = register(OPERATOR, "孙丽", sequence=70, sex="2", household=BEISHAN, residence="110105")
    assert person.is_floating
    response = client_for(township_a).post(
        f"/people/{person.pk}/return/", {"returned_on": "2025-09-01", "version": person.version}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.residence_region_id == BEISHAN and not person.is_floating
    assert person.episodes.filter(departure_date__isnull=True).get().region_id == BEISHAN


def test_a_change_from_an_old_page_is_refused(person_a, township_a, client_for):
    services.update_person(acting_user=township_a, person=person_a, phone="13900000001")
    response = english(client_for(township_a)).post(
        f"/people/{person_a.pk}/depart/", {"departure_date": "2025-08-01", "version": 1}
    )
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    assert Person.objects.get(pk=person_a.pk).residence_region_id == BEISHAN


# --- edits -------------------------------------------------------------------------------


def edit_data(person: Person, **changes) -> dict:
    data = {
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "ethnicity": person.ethnicity,
        "marital_status": person.marital_status,
        "phone": person.phone,
        "education": person.education,
        "household_region": person.household_region_id,
        "household_address": person.household_address,
        "spouse_id_number": person.spouse_id_number,
        "children_count": "" if person.children_count is None else person.children_count,
        "version": person.version,
    }
    data.update(changes)
    return data


def test_an_edit_saves_through_the_service(person_a, township_a, client_for):
    client = client_for(township_a)
    assert 'value="张伟"' in page(client, f"/people/{person_a.pk}/edit/")
    assert AuditEntry.objects.filter(action="view", object_id=str(person_a.pk)).count() == 1
    response = client.post(
        f"/people/{person_a.pk}/edit/",
        edit_data(person_a, name="张伟民", children_count="2", education="70"),
    )
    assert response.status_code == 302
    person = Person.objects.get(pk=person_a.pk)
    assert (person.name, person.name_initials, person.children_count) == ("张伟民", "zwm", 2)
    assert person.version == 2
    entry = AuditEntry.objects.filter(object_id=str(person.pk), action="update").latest("seq")
    assert entry.before["name"] == "张伟" and entry.after["name"] == "张伟民"


def test_an_edit_must_agree_with_the_id_number(person_a, township_a, client_for):
    response = client_for(township_a).post(
        f"/people/{person_a.pk}/edit/", edit_data(person_a, sex="2", birth_date="1991-01-01")
    )
    html = response.content.decode()
    assert 'data-testid="field-error-sex"' in html
    assert 'data-testid="field-error-birth_date"' in html


def test_a_stale_edit_is_refused_and_names_what_changed(person_a, township_a, client_for):
    client = english(client_for(township_a))
    loaded = edit_data(person_a)  # what the page showed, version 1
    # Meanwhile a colleague changes the marital status.
    services.update_person(acting_user=township_a, person=person_a, marital_status="40")
    response = client.post(f"/people/{person_a.pk}/edit/", {**loaded, "phone": "13700000000"})
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="form-error"' in html
    assert "Someone else saved this file" in html
    message = html.split('data-testid="form-error">', 1)[1].split("</p>", 1)[0]
    assert "Marital status: 离婚" in message  # the field and what it holds now
    assert "Phone: 13812345678" in message
    assert "Name" not in message  # unchanged fields are not listed
    person = Person.objects.get(pk=person_a.pk)
    assert person.phone == "13812345678" and person.marital_status == "40"
    # The form now carries the current version: saving again keeps the user's values.
    assert 'name="version" value="2"' in html
    again = client.post(
        f"/people/{person_a.pk}/edit/", {**loaded, "phone": "13700000000", "version": 2}
    )
    assert again.status_code == 302
    person.refresh_from_db()
    assert person.phone == "13700000000" and person.marital_status == "20"


# --- another township --------------------------------------------------------------------


def test_another_township_can_neither_see_nor_change_the_file(
    person_a, township_b, person_b, client_for
):
    client = client_for(township_b)
    listing = page(client, "/people/")
    assert "李娜" in listing and "张伟" not in listing
    assert "张伟" not in page(client, "/people/", q=person_a.id_number)
    assert "张伟" not in page(client, "/people/", q="zw")
    pk = person_a.pk
    for url in ("", "edit/", "depart/", "move/", "return/"):
        assert client.get(f"/people/{pk}/{url}").status_code == 404, url
    assert client.post(f"/people/{pk}/edit/", edit_data(person_a, name="x")).status_code == 404
    assert (
        client.post(
            f"/people/{pk}/depart/", {"departure_date": "2025-08-01", "version": 1}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/people/{pk}/move/", {"region": XIXI, "moved_on": "2025-08-01", "version": 1}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/people/{pk}/return/", {"returned_on": "2025-08-01", "version": 1}
        ).status_code
        == 404
    )
    person = Person.objects.get(pk=pk)
    assert person.name == "张伟" and person.version == 1 and person.residence_region_id == BEISHAN
    assert not AuditEntry.objects.filter(
        action="view", object_id=str(pk), actor_username="township_b"
    ).exists()


def test_the_county_sees_both_townships(person_a, person_b, county_admin, client_for):
    html = page(client_for(county_admin), "/people/")
    assert "张伟" in html and "李娜" in html


def test_anonymous_visitors_are_sent_to_sign_in(person_a, client):
    for url in ("/people/", f"/people/{person_a.pk}/", "/people/arrive/", "/people/arrive/id/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_arrival_form_asks_for_a_persons_full_name(township_a, client_for):
    html = page(client_for(township_a), "/people/arrive/")
    assert '<label for="id_name">姓名' in html, "a person has a 姓名, not a 名称"


def test_a_persons_name_field_is_called_xingming_and_a_places_mingcheng():
    from django.utils import translation

    from liudong.people.models import Person
    from liudong.places.models import Employer

    with translation.override("zh-hans"):
        assert str(Person._meta.get_field("name").verbose_name) == "姓名"
        assert str(Employer._meta.get_field("name").verbose_name) == "名称"
