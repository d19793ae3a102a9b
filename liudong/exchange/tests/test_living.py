"""The re-qualification's question to her residence (issue 17 item 3): a beneficiary whose
household is in 西湖区 (330106, this node) and who lives in 淅川县 (411326, 河南's node) is
asked of her residence with the assistance question ``living`` when the county opens its
round; the answer ``confirmed`` confirms her, ``differs`` leaves the decision to the
township. One who lives in this node's county is confirmed by the township: nothing sent."""

from __future__ import annotations

import datetime

import pytest

from liudong.actors import OPERATOR
from liudong.exchange.assistance import services as assistance
from liudong.exchange.messaging import services as messaging
from liudong.exchange.models import AssistanceRequest, OutboxMessage
from liudong.exchange.tests.conftest import public_text
from liudong.exchange.tests.test_assistance import _answer_from_henan
from liudong.people.models import Person
from liudong.regions.models import Region
from liudong.services.programmes import requalification as rq
from liudong.services.programmes.models import Requalification
from liudong.services.programmes.tests import factories

D = datetime.date
OPENED = D(2026, 3, 1)


def beneficiary(lives_in: str | None, registered: str = "330106002001"):
    """A reward beneficiary of township A, and her file here living at ``lives_in``
    (registered at ``registered``)."""
    benefit = factories.benefit()
    Person.objects.create(
        id_number=benefit.id_number,
        name=benefit.name,
        name_initials="wxy",
        sex="2",
        birth_date=D(1962, 5, 1),
        marital_status="20",
        household_region_id=registered,
        residence_region_id=lives_in,
        is_floating=bool(lives_in) and not str(lives_in).startswith("330106"),
    )
    return benefit


DEADLINE = D(2026, 6, 30)


def open_round(county_admin, deadline=DEADLINE):
    return rq.open_round(
        acting_user=county_admin,
        county=Region.objects.get(code="330106"),
        year=2026,
        deadline=deadline,
        today=OPENED,
    )


def test_her_residence_is_asked_whether_she_is_alive_and_living_there(node, county_admin):
    benefit = beneficiary("411326001")

    open_round(county_admin)

    item = Requalification.objects.get(benefit=benefit)
    request = AssistanceRequest.objects.get()
    assert item.assistance_request_id == request.request_id
    assert (request.question, request.other_region, request.urgency) == (
        "living",
        "411326001",
        "normal",  # 30 days leave time before the deadline
    )
    sent = OutboxMessage.objects.get()
    assert (sent.type, sent.to_region) == ("assistance_request", "411326001")
    # Minimum necessary: who and what; nothing of her benefit or family.
    assert sent.envelope["payload"] == {
        "request_id": str(request.request_id),
        "id_number": benefit.id_number,
        "question": "living",
        "urgency": "normal",
    }


def test_a_near_deadline_asks_urgently(node, county_admin):
    beneficiary("411326001")
    open_round(county_admin, deadline=D(2026, 3, 20))
    assert AssistanceRequest.objects.get().urgency == "urgent"


@pytest.mark.parametrize("lives_in", ["330106004001", None])
def test_one_living_in_this_nodes_region_or_nowhere_known_is_the_townships(
    node, county_admin, lives_in
):
    benefit = beneficiary(lives_in)
    open_round(county_admin)
    assert Requalification.objects.get(benefit=benefit).assistance_request_id is None
    assert not AssistanceRequest.objects.exists() and not OutboxMessage.objects.exists()


def test_her_residences_confirmation_confirms_her(node, henan, county_admin):
    benefit = beneficiary("411326001")
    open_round(county_admin)
    request = AssistanceRequest.objects.get()

    assistance.on_answer(
        _answer_from_henan(henan, request.request_id, answered_on="2026-03-20", answer="本人健在")
    )

    item = Requalification.objects.get(benefit=benefit)
    assert (item.outcome, item.decided_by, item.decided_on) == ("confirmed", None, D(2026, 3, 20))
    assert "411326001" in item.outcome_reason and "2026-03-20" in item.outcome_reason


def test_a_confirmation_after_the_deadline_resumes_her_benefit(node, henan, county_admin):
    benefit = beneficiary("411326001")
    opened = open_round(county_admin, deadline=D(2026, 3, 20))
    rq.close_round(opened, D(2026, 3, 21))
    benefit.refresh_from_db()
    assert benefit.status == "suspended"

    request = AssistanceRequest.objects.get()
    assistance.on_answer(_answer_from_henan(henan, request.request_id, answered_on="2026-03-25"))

    benefit.refresh_from_db()
    assert benefit.status == "active"
    assert Requalification.objects.get(benefit=benefit).outcome == "confirmed"


@pytest.mark.parametrize("finding", ["differs", "not_known"])
def test_another_answer_is_left_to_the_township(node, henan, county_admin, finding):
    benefit = beneficiary("411326001")
    open_round(county_admin)
    request = AssistanceRequest.objects.get()

    assistance.on_answer(
        _answer_from_henan(
            henan, request.request_id, finding=finding, answered_on="2026-03-20", answer="已搬离"
        )
    )

    item = Requalification.objects.get(benefit=benefit)
    assert item.outcome == "pending"
    assert "已搬离" in item.outcome_reason and "2026-03-20" in item.outcome_reason
    benefit.refresh_from_db()
    assert benefit.status == "active"


def test_an_open_living_question_serves_her_second_benefit(node, county_admin):
    first = beneficiary("411326001")
    second = factories.benefit(first.family, programme="special_death")

    open_round(county_admin)

    asked = set(Requalification.objects.values_list("assistance_request_id", flat=True))
    assert asked == {AssistanceRequest.objects.get().request_id}
    assert {first.pk, second.pk} == set(Requalification.objects.values_list("benefit", flat=True))


def test_a_file_outside_the_askers_region_opens_the_round_without_asking(
    node_keys, villages, henan, county_admin
):
    # This node serves the whole city (3301); her file here says she is registered in
    # 拱墅区 (330105) now: the node could ask, but her file is not this county's to ask
    # about. The round opens all the same, and the township confirms her.
    messaging.init_node(region_code="3301", url="https://hangzhou.example/")
    messaging.trust_peer(
        acting_user=OPERATOR, region_code="41", url="https://henan.example/", key=public_text(henan)
    )
    benefit = beneficiary("411326001", registered="330105001001")

    open_round(county_admin)

    assert Requalification.objects.get(benefit=benefit).assistance_request_id is None
    assert not AssistanceRequest.objects.exists() and not OutboxMessage.objects.exists()
