"""A beneficiary who lives at the other node is re-qualified there (issue 17, "Done when"):
two nodes, each a `liudong serve` and a `liudong worker` process (tests/test_multinode.py).

西湖区 (330106, node A) is her household registration and keeps her reward benefit; she
lives in 金水区 of 郑州 (410105, node B), whose township registered her arrival. A's county
opens its re-qualification round: the assistance request ``living`` goes to B, whose
township answers that she is alive and living there, and the answer confirms her at A. She
is never asked to come home.
"""

from __future__ import annotations

import datetime

import pytest
from test_multinode import (  # the two-node harness (its fixtures, used by name below)
    TODAY,
    Node,
    _applied,
    _arrival,
    migrated,
    nodes,
    wait_for,
)

from liudong.people.idnumbers import make

__all__ = ["migrated", "nodes"]
HER = make("330106", datetime.date(1962, 5, 1), 48, "2")
HUSBAND = make("330106", datetime.date(1960, 3, 2), 51, "1")

pytestmark = [pytest.mark.one_database, pytest.mark.slow]


def _benefit_at(node: Node) -> None:
    """Her family and reward benefit at her household registration (made as the
    programmes' own tests make them: the application's service is another module's)."""
    node.python(
        "import datetime\n"
        "from liudong.services.programmes.models import (\n"
        "    Application, Benefit, Family, FamilyChild, Programme)\n"
        "from liudong.people.models import Person\n"
        "D = datetime.date\n"
        f"family = Family.objects.create(applicant_name='王秀英', applicant_id_number='{HER}',\n"
        f"    spouse_name='李建国', spouse_id_number='{HUSBAND}', household_type='agricultural',\n"
        "    household_region_id='330106002', births_certified_on=D(2025, 12, 1),\n"
        f"    person=Person.objects.get(id_number='{HER}'))\n"
        "FamilyChild.objects.create(family=family, sex='1', birth_date=D(1990, 1, 1))\n"
        "reward = Programme.objects.get(code='reward')\n"
        "application = Application.objects.create(family=family, programme=reward,\n"
        f"    id_number='{HER}', name='王秀英', applied_on=D(2025, 1, 1), status='approved')\n"
        "Benefit.objects.create(application=application, family=family, programme=reward,\n"
        f"    id_number='{HER}', name='王秀英', starts_on=D(2025, 3, 1))\n"
    )


def test_a_beneficiary_living_at_the_other_node_is_requalified_there(nodes):
    registration, residence = nodes
    token = residence.json(
        "createuser", "zhang", "--role", "township", "--region", "410105001", "--token"
    )["token"]
    residence.run("createuser", "li", "--role", "township", "--region", "410105001")
    registration.run("createuser", "chen", "--role", "county", "--region", "330106")
    registration.start()
    residence.start()
    arrival = _arrival(HER, "王秀英", "2")
    arrival["birth_date"] = "1962-05-01"
    residence.api(token, "/api/persons/", arrival)
    wait_for(_applied(registration, 1), "her arrival notice")
    _benefit_at(registration)

    # Node A's county opens the round: her residence is asked, not she.
    registration.python(
        "import datetime\n"
        "from liudong.accounts.models import User\n"
        "from liudong.regions.models import Region\n"
        "from liudong.services.programmes import requalification\n"
        "requalification.open_round(acting_user=User.objects.get(username='chen'),\n"
        "    county=Region.objects.get(code='330106'), year=datetime.date.today().year,\n"
        "    deadline=datetime.date.today() + datetime.timedelta(days=60))\n"
    )
    received = wait_for(_applied(residence, 1), "the living question at her residence")
    assert [m["type"] for m in received] == ["assistance_request"]

    # Node B's township answers from its worklist: alive and living here.
    asked = residence.python(
        "from liudong.accounts.models import User\n"
        "from liudong.exchange.assistance import services as assistance\n"
        "from liudong.exchange.models import AssistanceRequest\n"
        "request = AssistanceRequest.objects.get()\n"
        "print(request.question, request.region_id)\n"
        "assistance.answer(acting_user=User.objects.get(username='li'), request=request,\n"
        "    finding='confirmed', answer='本人健在，居住在本社区')\n"
    ).split()
    assert asked == ["living", "410105001"]

    wait_for(_applied(registration, 2), "the answer at her household registration")
    state = registration.python(
        "from liudong.services.programmes.models import Requalification\n"
        "item = Requalification.objects.select_related('benefit').get()\n"
        "print(item.outcome, item.decided_by_id, item.decided_on, item.benefit.status)\n"
        "print(item.outcome_reason)\n"
    ).split("\n")
    assert state[0].split() == ["confirmed", "None", TODAY.isoformat(), "active"]
    assert "410105001" in state[1] and TODAY.isoformat() in state[1]
