"""She asks for a correction of her file; the office holding it answers (issue 19 item 4)
and every bad input of the issue: her ID number (and what it encodes) refers her to the
police, an empty or 10,000-character note, a file kept by another node now (she is told
where to ask), another person's request in the URL."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from liudong.actors import Resident
from liudong.audit.models import Action, AuditEntry
from liudong.people.models import CorrectionRequest, Person
from liudong.residents import corrections
from liudong.web.todos import home_todos

from .conftest import make_resident_file, sign_in_data

pytestmark = pytest.mark.django_db

NEW_ADDRESS = "北山街道保俶路 12 号 3 单元 502 室"


def signed_in(client, person, township) -> object:
    """A test client with her session, signed in as she does (the office's code)."""
    from liudong.residents.services import issue_code

    code, _access = issue_code(acting_user=township, person=person)
    response = client.post(reverse("residents:sign_in"), sign_in_data(person, code))
    assert response.status_code == 302
    return client


def ask_address(person: Person) -> CorrectionRequest:
    return corrections.ask(Resident(person.pk), "residence_address", NEW_ADDRESS, "租房合同上写的")


def error_codes(raised: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return {k: [e.code for e in v] for k, v in raised.value.error_dict.items()}


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id_number", "birth_date", "sex"])
def test_her_id_number_and_what_it_encodes_are_the_polices(her, field):
    with pytest.raises(ValidationError) as raised:
        corrections.ask(Resident(her.pk), field, "x", "错了")
    assert error_codes(raised) == {"field": ["police"]}
    assert not CorrectionRequest.objects.exists()


def test_the_page_refers_her_to_the_police_in_chinese(client, her, township_a):
    signed_in(client, her, township_a)
    response = client.post(
        reverse("residents:correction_new"),
        {"field": "id_number", "value": "110101199001011234", "note": "号码错了"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert not CorrectionRequest.objects.exists()
    error = response.context["errors"]["field"][0]
    assert "公安" in error or "police" in error


@pytest.mark.parametrize("note", ["", "   ", "字" * 10_000, "字" * 501])
def test_an_empty_or_overlong_note_is_refused(her, note):
    with pytest.raises(ValidationError) as raised:
        corrections.ask(Resident(her.pk), "residence_address", NEW_ADDRESS, note)
    assert "note" in raised.value.error_dict
    assert not CorrectionRequest.objects.exists()


def test_a_note_of_500_characters_is_taken(her):
    made = corrections.ask(Resident(her.pk), "phone", "13800138000", "字" * 500)
    assert len(made.note) == 500


def test_a_10000_character_note_posted_saves_nothing(client, her, township_a):
    signed_in(client, her, township_a)
    response = client.post(
        reverse("residents:correction_new"),
        {"field": "residence_address", "value": NEW_ADDRESS, "note": "字" * 10_000},
    )
    assert response.status_code == 400
    assert "note" in response.context["errors"]
    assert not CorrectionRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("marital_status", "99"), ("residence_address", ""), ("phone", "1" * 21), ("spouse", "x")],
)
def test_a_value_she_may_not_give_is_refused(her, field, value):
    with pytest.raises(ValidationError):
        corrections.ask(Resident(her.pk), field, value, "说明")
    assert not CorrectionRequest.objects.exists()


def test_only_she_asks(her, township_a):
    with pytest.raises(PermissionDenied):
        corrections.ask(township_a, "phone", "13800138000", "说明")  # type: ignore[arg-type]


def test_a_second_request_for_the_same_field_waits_for_the_first(her):
    ask_address(her)
    with pytest.raises(ValidationError) as raised:
        ask_address(her)
    assert error_codes(raised) == {"field": ["already_asked"]}


def test_a_file_kept_by_another_node_now_tells_her_where_to_ask(her, township_a):
    from liudong.exchange.models import Peer
    from liudong.people.services import register_departure
    from liudong.regions.models import Region

    beijing = Region.objects.get(code="110105")
    Peer.objects.create(region_prefix="11", url="https://bj.example", public_key="k", key_id="k")
    register_departure(
        acting_user=township_a,
        person=her,
        departure_date=datetime.date(2026, 2, 1),
        destination_region=beijing,
    )
    with pytest.raises(ValidationError) as raised:
        ask_address(Person.objects.get(pk=her.pk))
    assert error_codes(raised) == {"field": ["elsewhere"]}
    assert beijing.name in raised.value.error_dict["field"][0].message % (
        raised.value.error_dict["field"][0].params or {}
    )
    assert not CorrectionRequest.objects.exists()


def test_a_departure_to_a_place_no_node_serves_still_asks_her_household_office(her, township_a):
    from liudong.people.services import register_departure
    from liudong.regions.models import Region

    register_departure(
        acting_user=township_a,
        person=her,
        departure_date=datetime.date(2026, 2, 1),
        destination_region=Region.objects.get(code="110105"),
    )
    made = ask_address(Person.objects.get(pk=her.pk))
    assert made.holding_region_id == "411522"  # her household registration keeps the file


def test_another_persons_request_in_the_url_finds_nothing(client, her, township_a):
    other = make_resident_file(township_a, name="李四")
    theirs = ask_address(other)
    signed_in(client, her, township_a)
    assert client.get(reverse("residents:correction_detail", args=[theirs.pk])).status_code == 404
    listed = client.get(reverse("residents:corrections"))
    assert [r.pk for r in listed.context["rows"]] == []
    mine = ask_address(her)
    assert client.get(reverse("residents:correction_detail", args=[mine.pk])).status_code == 200


def test_her_pages_need_her_session(client, her):
    response = client.get(reverse("residents:corrections"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("residents:sign_in"))


# --- the request, the office, the answer --------------------------------------------------


def test_her_request_lands_at_her_residence_township_with_a_deadline_in_working_days(
    client, her, township_a
):
    signed_in(client, her, township_a)
    response = client.post(
        reverse("residents:correction_new"),
        {"field": "residence_address", "value": NEW_ADDRESS, "note": "租房合同上写的"},
    )
    made = CorrectionRequest.objects.get()
    assert response.status_code == 302
    assert made.person == her and made.status == "open"
    assert made.holding_region_id == "330106002"  # her residence's township
    assert made.current_value == her.residence_address
    assert made.deadline == corrections.working_days_after(timezone.localdate())
    entry = AuditEntry.objects.filter(
        action=Action.CREATE, object_type="people.correctionrequest", object_id=str(made.pk)
    ).get()
    assert entry.actor_username == f"resident:{her.pk}" and entry.actor_role == "resident"
    assert her.id_number not in str(entry.__dict__)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (datetime.date(2026, 12, 7), datetime.date(2026, 12, 28)),  # Monday: 3 weeks on
        (datetime.date(2026, 12, 4), datetime.date(2026, 12, 25)),  # Friday
        (datetime.date(2026, 12, 5), datetime.date(2026, 12, 25)),  # Saturday: from Monday
    ],
)
def test_fifteen_working_days_skip_weekends(start, due):
    assert corrections.working_days_after(start) == due


def test_public_holidays_are_skipped_when_configured(settings):
    settings.PUBLIC_HOLIDAYS = ["2026-12-25"]
    assert corrections.working_days_after(datetime.date(2026, 12, 4)) == datetime.date(2026, 12, 28)


def test_the_office_accepts_and_her_file_changes_audited(client, her, township_a):
    made = ask_address(her)
    before = Person.objects.get(pk=her.pk).version
    corrections.accept(township_a, made, expected_version=made.version)
    person = Person.objects.get(pk=her.pk)
    assert person.residence_address == NEW_ADDRESS
    assert person.version == before + 1
    made.refresh_from_db()
    assert made.status == "accepted" and made.answered_by == township_a
    assert made.answered_on == timezone.localdate()
    changed = AuditEntry.objects.filter(
        action=Action.UPDATE, object_type="people.person", object_id=str(her.pk)
    ).get()
    assert changed.after["residence_address"] == NEW_ADDRESS
    assert changed.detail["correction"] == made.pk
    signed_in(client, her, township_a)
    page = client.get(reverse("residents:correction_detail", args=[made.pk]))
    assert page.context["row"].status == "accepted"


def test_accepting_another_field_goes_through_update_person(her, township_a):
    made = corrections.ask(Resident(her.pk), "marital_status", "10", "我未婚")
    corrections.accept(township_a, made)
    assert Person.objects.get(pk=her.pk).marital_status == "10"


def test_an_answer_is_given_once(her, township_a):
    made = ask_address(her)
    stale = made.version
    corrections.refuse(township_a, made, "合同地址与登记一致")
    with pytest.raises(ValidationError):
        corrections.accept(township_a, CorrectionRequest.objects.get(pk=made.pk))
    fresh = CorrectionRequest.objects.get(pk=made.pk)
    fresh.status = "open"  # as a second page loaded before the answer still holds it
    from liudong.base import StaleWrite

    with pytest.raises(StaleWrite):
        corrections.accept(township_a, fresh, expected_version=stale)
    assert Person.objects.get(pk=her.pk).residence_address != NEW_ADDRESS


def test_a_refusal_needs_a_reason_and_she_reads_it(client, her, township_a):
    made = ask_address(her)
    with pytest.raises(ValidationError):
        corrections.refuse(township_a, made, "  ")
    corrections.refuse(township_a, made, "合同上的门牌号与登记一致,请带房产证明来")
    assert Person.objects.get(pk=her.pk).residence_address != NEW_ADDRESS
    signed_in(client, her, township_a)
    page = client.get(reverse("residents:correction_detail", args=[made.pk]))
    assert page.context["row"].reason == "合同上的门牌号与登记一致,请带房产证明来"
    assert "合同上的门牌号与登记一致" in page.content.decode()


def test_another_township_may_not_answer_or_open_it(client_for, her, township_b):
    made = ask_address(her)
    with pytest.raises(PermissionDenied):
        corrections.accept(township_b, made)
    page = client_for(township_b).get(reverse("web:correction_detail", args=[made.pk]))
    assert page.status_code == 404
    assert CorrectionRequest.objects.get(pk=made.pk).status == "open"


def test_the_office_accepts_on_its_page_and_the_opening_is_audited(client_for, her, township_a):
    made = ask_address(her)
    office = client_for(township_a)
    listed = office.get(reverse("web:corrections"))
    assert [r.pk for r in listed.context["rows"]] == [made.pk]
    office.get(reverse("web:correction_detail", args=[made.pk]))
    assert AuditEntry.objects.filter(
        action=Action.VIEW, object_type="people.person", object_id=str(her.pk)
    ).exists()
    response = office.post(
        reverse("web:correction_detail", args=[made.pk]),
        {"action": "accept", "version": made.version},
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=her.pk).residence_address == NEW_ADDRESS


def test_a_refusal_without_reason_on_the_page_changes_nothing(client_for, her, township_a):
    made = ask_address(her)
    response = client_for(township_a).post(
        reverse("web:correction_detail", args=[made.pk]),
        {"action": "refuse", "reason": "", "version": made.version},
    )
    assert response.status_code == 400
    assert CorrectionRequest.objects.get(pk=made.pk).status == "open"


def test_the_to_do_appears_for_the_holding_office_and_its_county_and_disappears(
    her, township_a, township_b, county_admin
):
    def waiting(user) -> tuple[int, int]:
        todo = next((t for t in home_todos(user) if t.key == "corrections"), None)
        return (todo.count, todo.overdue) if todo else (0, 0)

    assert waiting(township_a) == (0, 0)
    made = ask_address(her)
    assert waiting(township_a) == (1, 0)
    assert waiting(township_b) == (0, 0)
    assert waiting(county_admin) == (1, 0)  # a county: its townships
    CorrectionRequest.objects.filter(pk=made.pk).update(deadline=datetime.date(2020, 1, 1))
    assert waiting(township_a) == (1, 1)  # past its deadline
    corrections.accept(township_a, CorrectionRequest.objects.get(pk=made.pk))
    assert waiting(township_a) == (0, 0)
