"""A collector's phone back online with 500 queued actions (issue 18 item 5): the sync
endpoint against the same work done through the online path, in one run.

A village specialist (who may do every kind) works one grid. Two sets of the same 500
actions are prepared: 350 arrivals of new files, 50 departures, 50 verifications by QR
(certificates issued by her home township) and 50 services with her consent.

1. baseline: set A applied in process the way the online pages do (the arrival form, then
   ``people.services.save_arrival``; ``register_departure``; ``verify_at_residence``;
   ``create_service_record``), one transaction each;
2. sync: set B queued as the phone queues it, sent to ``POST /api/field/sync/`` in
   batches of 50 through Django's whole request stack (session, CSRF header from the
   bundle, audit context), after one ``GET /api/field/bundle/`` as the phone loads it;
3. replay: set B sent again (every answer lost): each action must come back as a repeat
   and nothing be applied twice;
4. the bundle of a grid of 2,000 people living there (the median of three loads).

Every action must be answered applied (the bench fails otherwise) and the records are
counted. Target: the sync under 60 s on this 2-core machine.

Run: .venv/bin/python bench/field_sync.py [--db postgres] [--n 500]
Results: bench/results/field_sync-<db>.json.
"""

from __future__ import annotations

import datetime
import json
import uuid

from common import argument_parser, fresh_django, report, timed

GROUP = "330106002001001"
VILLAGE = "330106002001"
HOME = "411326001"  # her home township (issues her certificate)
BATCH = 50
GRID = 2000  # people living in the grid when the bundle is timed


def setting_up():
    from django.conf import settings

    from liudong.accounts.services import create_user
    from liudong.actors import OPERATOR
    from liudong.regions.models import Region
    from liudong.regions.services import import_regions, load_divisions, save_grid

    settings.ALLOWED_HOSTS.append("testserver")
    load_divisions()
    import_regions(
        [
            (2, {"code": VILLAGE, "name": "北山社区"}),
            (3, {"code": GROUP, "name": "第一村民小组"}),
        ],
        acting_user=OPERATOR,
    )

    def user(name: str, role: str, region: str):
        account, _password = create_user(
            acting_user=OPERATOR,
            username=name,
            role=role,
            region=Region.objects.get(code=region),
            password="bench-password-1",  # noqa: S106 (a throw-away database)
            full_name=name,
            must_change_password=False,
        )
        return account

    township = user("township_a", "township", "330106002")
    village = user("village_a1", "village", VILLAGE)
    save_grid(
        acting_user=township,
        name="北山一网格",
        region=Region.objects.get(code="330106002"),
        areas=Region.objects.filter(code=VILLAGE),
        responsible=village,
    )
    return village


_sequence = iter(range(2, 10**9, 2))


def _id_number(born: datetime.date) -> str:
    from liudong.people.idnumbers import make

    n = next(_sequence)
    # 999 sequences a birth date: move the date on as the sequence runs over.
    return make("411326", born + datetime.timedelta(days=n // 1000), n % 1000, "2")


def residents(count: int, *, certified: bool = False) -> list:
    """Women living in the grid (through the arrival service), with a certificate."""
    from liudong.actors import OPERATOR
    from liudong.certificates import issuing
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    region = Region.objects.get(code=VILLAGE)
    today = datetime.date.today()
    found = []
    for _ in range(count):
        born = datetime.date(1992, 1, 1)
        person = Person(
            id_number=_id_number(born),
            name="王芳",
            sex="2",
            birth_date=born,
            marital_status="20",
            household_region_id=HOME,
        )
        register_arrival(
            acting_user=OPERATOR,
            person=person,
            region=region,
            arrival_date=today - datetime.timedelta(days=60),
            address="北山路1号",
        )
        certificate = issuing.issue(person, acting_user=OPERATOR) if certified else None
        found.append((person, certificate))
    return found


def queue(n: int) -> list[dict]:
    """``n`` actions as the phone queues them: 70% arrivals, then departures,
    verifications and services in equal parts."""
    from django.utils import timezone

    arrivals = n * 7 // 10
    rest = n - arrivals
    departures, verifications = rest // 3, rest // 3
    services = rest - departures - verifications
    today = timezone.localdate()
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    done_at = timezone.localtime() - datetime.timedelta(hours=3)
    actions = []

    def add(kind: str, data: dict) -> None:
        actions.append(
            {
                "client_id": str(uuid.uuid4()),
                "kind": kind,
                "done_at": done_at.isoformat(),
                "data": data,
            }
        )

    for _ in range(arrivals):
        add(
            "arrival",
            {
                "person": None,
                "person_version": None,
                "id_number": _id_number(datetime.date(1995, 1, 1)),
                "name": "李娜",
                "sex": "",
                "birth_date": None,
                "marital_status": "20",
                "household_region": HOME,
                "residence_region": GROUP,
                "residence_address": "北山路2号",
                "arrival_date": yesterday,
                "reason": "work",
                "employer": "",
            },
        )
    for person, _certificate in residents(departures):
        add(
            "departure",
            {
                "person": person.pk,
                "person_version": person.version,
                "departure_date": yesterday,
                "destination_region": None,
                "destination_place": "广州",
            },
        )
    for person, certificate in residents(verifications, certified=True):
        add(
            "verification",
            {
                "person": person.pk,
                "method": "qr",
                "payload": certificate.payload,
                "number": "",
                "offline_result": "valid",
            },
        )
    for person, _certificate in residents(services):
        add(
            "service",
            {
                "person": person.pk,
                "service_type": "reproductive_health",
                "given_on": yesterday,
                "consent": True,
                "note": "",
            },
        )
    return actions


def baseline(user, actions: list[dict]) -> None:
    """The same actions the way the online pages apply them."""
    from django.db import transaction

    from liudong.certificates.verification import verify_at_residence
    from liudong.people.forms import ArrivalForm
    from liudong.people.models import Person
    from liudong.people.services import register_departure
    from liudong.services.records.services import create_service_record

    for item in actions:
        data = item["data"]
        with transaction.atomic():
            if item["kind"] == "arrival":
                form = ArrivalForm({k: v or "" for k, v in data.items()}, user=user)
                assert form.is_valid(), form.errors
                form.save()
            elif item["kind"] == "departure":
                register_departure(
                    acting_user=user,
                    person=Person.objects.get(pk=data["person"]),
                    departure_date=datetime.date.fromisoformat(data["departure_date"]),
                    destination_place=data["destination_place"],
                    expected_version=data["person_version"],
                )
            elif item["kind"] == "verification":
                verify_at_residence(
                    acting_user=user,
                    method="qr",
                    person=Person.objects.get(pk=data["person"]),
                    payload=data["payload"],
                )
            else:
                create_service_record(
                    acting_user=user,
                    person=Person.objects.get(pk=data["person"]),
                    service_type=data["service_type"],
                    date=datetime.date.fromisoformat(data["given_on"]),
                    consent_recorded=True,
                )


def send(client, token: str, actions: list[dict]) -> list[dict]:
    from django.utils import timezone

    results = []
    for start in range(0, len(actions), BATCH):
        body = {
            "device_time": timezone.localtime().isoformat(),
            "actions": actions[start : start + BATCH],
        }
        answer = client.post(
            "/api/field/sync/",
            json.dumps(body),
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        assert answer.status_code == 200, answer.content[:500]
        results += answer.json()["results"]
    return results


def main() -> None:
    parser = argument_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    n = args.n or 500
    with fresh_django(args):
        from django.test import Client

        from liudong.certificates.models import Verification
        from liudong.field.models import FieldAction
        from liudong.people.models import Person
        from liudong.services.models import ServiceRecord

        user = setting_up()
        set_a = queue(n)
        set_b = queue(n)
        files_before = Person.objects.count()
        baseline_s, _ = timed(baseline, user, set_a)

        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        bundle_s, answer = timed(client.get, "/api/field/bundle/")
        assert answer.status_code == 200
        bundle = answer.json()
        bundle_bytes = len(answer.content)
        sync_s, results = timed(send, client, bundle["csrf_token"], set_b)
        refused = [r for r in results if r["status"] != "applied"]
        assert not refused, refused[:3]
        replay_s, again = timed(send, client, bundle["csrf_token"], set_b)
        assert all(r["status"] == "applied" and r["repeat"] for r in again)

        arrivals = sum(1 for a in set_a if a["kind"] == "arrival")
        assert Person.objects.count() == files_before + 2 * arrivals
        kinds = {k: sum(1 for a in set_b if a["kind"] == k) for k in {a["kind"] for a in set_b}}
        assert Verification.objects.count() == 2 * kinds["verification"]
        assert ServiceRecord.objects.count() == 2 * kinds["service"]
        assert FieldAction.objects.filter(status="applied", attempts=2).count() == n
        # The phone's first load in a grid of GRID people: the bundle, timed thrice.
        present = len(client.get("/api/field/bundle/").json()["people"])
        residents(max(0, GRID - present))
        times = []
        for _ in range(3):
            seconds, answer = timed(client.get, "/api/field/bundle/")
            times.append(seconds)
        grid_people = len(answer.json()["people"])
        report(
            "field_sync",
            args,
            {
                "actions": n,
                "kinds": kinds,
                "batch": BATCH,
                "bundle_people": len(bundle["people"]),
                "bundle_seconds": round(bundle_s, 3),
                "bundle_bytes": bundle_bytes,
                "baseline_seconds": round(baseline_s, 2),
                "sync_seconds": round(sync_s, 2),
                "sync_ms_per_action": round(1000 * sync_s / n, 1),
                "sync_over_baseline": round(sync_s / baseline_s, 2),
                "replay_seconds": round(replay_s, 2),
                "target_seconds": 60,
                "grid_bundle_people": grid_people,
                "grid_bundle_seconds": round(sorted(times)[1], 3),
                "grid_bundle_bytes": len(answer.content),
            },
        )


if __name__ == "__main__":
    main()
