"""The possible-duplicate pages: the queue, one pair side by side, and the decisions."""

import datetime

import pytest
from django.conf import settings

from liudong.audit.models import AuditEntry
from liudong.people import duplicates
from liudong.people.idnumbers import make, mask
from liudong.people.models import PossibleDuplicate
from liudong.people.tests.test_duplicates import BORN, arrive

pytestmark = pytest.mark.django_db


@pytest.fixture
def persons(villages):
    first = arrive(make("411522", BORN, 20, "2"))
    second = arrive(
        make("411522", BORN, 40, "2"), region="330106002002", day=datetime.date(2026, 2, 1)
    )
    return first, second


@pytest.fixture
def pair(persons):
    duplicates.find_duplicates()
    return PossibleDuplicate.objects.get()


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_list_shows_the_pair_with_masked_numbers_only(pair, persons, township_a, client_for):
    html = client_for(township_a).get("/people/duplicates/").content.decode()
    assert f"/people/duplicates/{pair.pk}/" in html
    for person in persons:
        assert mask(person.id_number) in html
        assert person.id_number not in html


def _shown_numbers(html: str) -> list[tuple[str, str]]:
    """Each pair file's ID number as shown: (the characters, the highlighted ones)."""
    import re

    found = []
    for cell in re.findall(r'data-testid="pair-id-number">(.*?)</dd>', html):
        marked = "".join(re.findall(r'<mark data-testid="differs">(.)</mark>', cell))
        found.append((re.sub(r"<[^>]+>", "", cell), marked))
    return found


def test_the_pair_page_shows_both_numbers_with_the_differing_digits_marked(
    pair, persons, township_a, client_for
):
    """Sequence 20 and 40 of the same day: the numbers differ in the 16th digit and the
    check character, and only those are marked; both showings are logged as views."""
    first, second = persons
    assert first.id_number[15] != second.id_number[15]
    html = client_for(township_a).get(f"/people/duplicates/{pair.pk}/").content.decode()
    assert html.count('data-testid="pair-file"') == 2
    differing = [i for i in range(18) if first.id_number[i] != second.id_number[i]]
    assert _shown_numbers(html) == [
        (first.id_number, "".join(first.id_number[i] for i in differing)),
        (second.id_number, "".join(second.id_number[i] for i in differing)),
    ]
    viewed = AuditEntry.objects.filter(action="view", detail__via="duplicate")
    assert sorted(viewed.values_list("object_id", flat=True)) == sorted(str(p.pk) for p in persons)


def test_who_may_not_merge_sees_the_numbers_masked(pair, persons, inspector, client_for):
    html = client_for(inspector).get(f"/people/duplicates/{pair.pk}/").content.decode()
    assert html.count('data-testid="pair-file"') == 2
    for person in persons:
        assert mask(person.id_number) in html and person.id_number not in html
    assert not AuditEntry.objects.filter(detail__via="duplicate").exists()


def test_the_status_filter(pair, township_a, client_for):
    client = client_for(township_a)
    assert (
        f"/people/duplicates/{pair.pk}/"
        in client.get("/people/duplicates/?status=open").content.decode()
    )
    assert (
        f"/people/duplicates/{pair.pk}/"
        not in client.get("/people/duplicates/?status=merged").content.decode()
    )


def test_another_township_gets_nothing(pair, township_b, client_for):
    client = client_for(township_b)
    assert (
        f"/people/duplicates/{pair.pk}/" not in client.get("/people/duplicates/").content.decode()
    )
    assert client.get(f"/people/duplicates/{pair.pk}/").status_code == 404
    assert client.post(f"/people/duplicates/{pair.pk}/dismiss/").status_code == 404
    pair.refresh_from_db()
    assert pair.status == "open"


def test_merge_keeps_the_chosen_file_and_undo_restores_it(pair, persons, township_a, client_for):
    first, second = persons
    client = english(client_for(township_a))
    response = client.post(f"/people/duplicates/{pair.pk}/merge/", {"keep": second.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"/people/duplicates/{pair.pk}/"
    assert "The files were merged." in messages_of(response)
    pair.refresh_from_db()
    first.refresh_from_db()
    assert pair.status == "merged" and pair.kept_id == second.pk
    assert pair.decided_by == township_a
    assert first.merged_into_id == second.pk

    response = client.post(f"/people/duplicates/{pair.pk}/undo/", follow=True)
    assert "The merge was undone." in messages_of(response)
    pair.refresh_from_db()
    first.refresh_from_db()
    assert pair.status == "open" and first.merged_into_id is None


def test_a_refused_decision_is_a_message(pair, persons, township_a, client_for):
    client = english(client_for(township_a))
    response = client.post(f"/people/duplicates/{pair.pk}/undo/", follow=True)
    assert "Only a merged pair can be unmerged." in messages_of(response)
    response = client.post(f"/people/duplicates/{pair.pk}/merge/", {"keep": "x"}, follow=True)
    assert "The file to keep must be one of the pair." in messages_of(response)
    pair.refresh_from_db()
    assert pair.status == "open"


def test_dismiss(pair, township_a, client_for):
    response = english(client_for(township_a)).post(
        f"/people/duplicates/{pair.pk}/dismiss/", follow=True
    )
    assert "Marked as not the same person." in messages_of(response)
    pair.refresh_from_db()
    assert pair.status == "dismissed" and pair.decided_by == township_a


def test_a_read_only_role_may_look_but_not_decide(pair, persons, inspector, client_for):
    client = client_for(inspector)
    assert client.get(f"/people/duplicates/{pair.pk}/").status_code == 200
    for action, data in (("merge", {"keep": persons[0].pk}), ("dismiss", {}), ("undo", {})):
        assert client.post(f"/people/duplicates/{pair.pk}/{action}/", data).status_code == 403
    assert client.post("/people/duplicates/scan/").status_code == 403
    pair.refresh_from_db()
    assert pair.status == "open"


def test_scan_now_queues_a_pair(persons, township_a, client_for):
    response = english(client_for(township_a)).post("/people/duplicates/scan/", follow=True)
    assert "Scan finished: 1 new possible duplicate pair queued." in messages_of(response)
    assert PossibleDuplicate.objects.count() == 1


def test_the_list_names_why_a_pair_may_be_one_person(pair, township_a, client_for):
    html = client_for(township_a).get("/people/duplicates/").content.decode()
    assert "<th>疑似重复原因</th>" in html and "流动原因" not in html
