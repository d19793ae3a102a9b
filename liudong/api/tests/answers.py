"""Real answers of every GET endpoint of the API, for the tests that hold them against the
OpenAPI schema (``test_schema_conformance``) and the client generated from it
(``test_generated_client``).

Owns: a registry with a record behind every list and detail endpoint, holding blank, null
and filled values alike (a woman with education and ethnicity left blank and one with both
given; a certificate valid and one revoked; a follow-up due and one done; a report
submitted and one decided; a verification from the exchanged record, without a
certificate), and the calls that read it. Built with the services and the helpers the
other API tests use; must not touch the application.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from liudong.accounts.services import issue_token
from liudong.actors import OPERATOR

TODAY = timezone.localdate()
VILLAGE_A = "330106002001"


@dataclass
class Answer:
    """One GET call: the schema path it answers, the URL called, what came back."""

    path: str
    url: str
    status: int
    content_type: str
    body: bytes
    query: dict[str, str] = field(default_factory=dict)

    def json(self):
        import json

        return json.loads(self.body)


def _days(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


def _register_csv(rows: list[dict[str, str]]) -> bytes:
    from liudong.people.template import CHINESE_HEADERS, FIELDS

    out = io.StringIO()
    out.write(",".join(CHINESE_HEADERS) + "\n")
    for row in rows:
        out.write(",".join(row.get(name, "") for name in FIELDS) + "\n")
    return out.getvalue().encode("utf-8-sig")


def seed(users: dict, henan) -> dict:
    """The registry behind every endpoint; returns the keys of records the detail calls
    and the extra actions read. ``users``: the named fixture users; ``henan``: the peer
    node's private key (the exchange tests' ``node`` fixture trusts it)."""
    from liudong.certificates import issuing, notices, verification
    from liudong.certificates.tests.conftest import make_person
    from liudong.exchange.assistance import services as assistance
    from liudong.exchange.intake import reading
    from liudong.exchange.matching import services as matching
    from liudong.exchange.tests.test_assistance import _request_from_henan
    from liudong.people import services as people
    from liudong.people.idnumbers import make
    from liudong.places import services as places
    from liudong.regions.models import Region
    from liudong.regions.services import save_grid
    from liudong.services.associations import services as associations
    from liudong.services.campaigns import services as campaigns
    from liudong.services.help_requests import services as help_requests
    from liudong.services.programmes import requalification
    from liudong.services.programmes.tests import factories as programme_factories
    from liudong.services.records import services as records
    from liudong.stats import services as stats
    from liudong.stats import spotchecks
    from liudong.stats.models import Indicator, statistical_year_of

    county, office = users["county_admin"], users["township_a"]
    township_a = Region.objects.get(code="330106002")
    village = Region.objects.get(code=VILLAGE_A)

    # People: she left education, ethnicity and reason blank; he gave them all.
    blank = make_person(household="330105001001", residence=VILLAGE_A, arrived=_days(200))
    full = make_person(
        household="411326",
        residence=VILLAGE_A,
        arrived=_days(100),
        name="李强",
        sex="1",
        education="60",
        ethnicity="03",
        phone="13800000009",
    )
    people.add_child(acting_user=office, parent=blank, name="小明", sex="1", birth_date=_days(400))
    leaving = make_person(household="411326", residence=VILLAGE_A, arrived=_days(300))
    people.register_departure(acting_user=office, person=leaving, departure_date=_days(10))

    # Certificates: one valid, one revoked; a verification without a certificate; a notice.
    home = make_person(household=VILLAGE_A, residence="330105001001", name="赵丽")
    issued = issuing.issue(home, acting_user=office)
    other = make_person(household=VILLAGE_A, residence="330105001001", name="钱红")
    revoked = issuing.issue(other, acting_user=office)
    issuing.revoke(revoked.number, "本人申请注销", acting_user=office)
    verification.verify_at_residence(acting_user=county, method="exchanged", person=blank)
    newcomer = make_person(household="411326", residence=VILLAGE_A, arrived=_days(40))
    notices.issue_notice(newcomer, acting_user=county)

    # Services: a campaign and its activity, a branch and a member, a help request (one
    # handled), service records and follow-ups (one done).
    campaign = campaigns.create_campaign(
        acting_user=county,
        name="温暖冬春关怀行动",
        kind="warm_winter",
        starts_on=_days(30),
        ends_on=_days(-30),
        regions=[township_a],
    )
    campaigns.create_activity(
        acting_user=county,
        campaign=campaign,
        date=_days(5),
        place="文化广场",
        region=township_a,
        participants_count=80,
        materials_count=150,
        free_contraceptives_count=20,
    )
    branch = associations.create_branch(acting_user=office, name="北山协会", region=village)
    associations.create_membership(
        acting_user=office, branch=branch, person=blank, joined_on=_days(20)
    )
    associations.create_association_activity(
        acting_user=office, branch=branch, date=_days(6), title="健康讲座", participants_count=30
    )
    save_grid(
        acting_user=office,
        name="北山一网格",
        region=township_a,
        areas=[village],
        responsible=users["township_a"],
    )
    help_requests.create_help_request(
        acting_user=office, person=blank, category="wages", received_on=_days(18)
    )
    help_requests.create_help_request(
        acting_user=office,
        person=full,
        category="schooling",
        received_on=_days(3),
        handler=office,
        status="in_progress",
    )
    for index, person in enumerate((blank, full)):
        record = records.create_service_record(
            acting_user=office,
            person=person,
            service_type="reproductive_health" if index else "counselling",
            date=_days(25 - index),
            consent_recorded=True,
            campaign=campaign,
        )
        follow_up = records.schedule_follow_up(
            acting_user=office, service=record, due_on=_days(-21)
        )
        if index:
            records.update_follow_up(acting_user=office, follow_up=follow_up, done_on=TODAY)

    # Places: one of each, with an agreement and a hazard.
    employer = places.create_employer(
        acting_user=office,
        credit_code="91350100M000100Y43",
        name="北山服装厂",
        address="北山路1号",
        region=VILLAGE_A,
    )
    house = places.create_rental_house(
        acting_user=office, address="曙光路8号", region=VILLAGE_A, landlord_name="李房东"
    )
    places.create_site(acting_user=office, kind="market", name="北山农贸市场", region=VILLAGE_A)
    places.create_agreement(
        acting_user=office, kind="service", signed_on=_days(60), employer=employer
    )
    places.create_safety_issue(
        acting_user=office,
        rental_house=house,
        hazard="电动车楼道充电",
        found_on=_days(20),
        deadline=_days(3),
    )

    # Statistics: a target, a scheme, reports submitted and decided, a spot check.
    year = statistical_year_of(TODAY)
    rate = Indicator.objects.get(code="inflow_verification_rate")
    stats.set_target(acting_user=county, indicator=rate, region_code="330106", year=year, value=85)
    scheme = stats.create_scheme(
        acting_user=county,
        name="年度考核",
        year=year,
        items=[{"indicator": rate.code, "weight": 20}],
    )
    month = stats.last_full_month()
    decided = stats.submit_report(acting_user=office, period=month)
    stats.return_report(acting_user=county, report=decided, reason="请核实后重报")
    stats.submit_report(acting_user=users["township_b"], period=month)
    check = spotchecks.draw("330106", month, per_village=2, seed=7, acting_user=county)

    # The exchange: an assistance request each way (the incoming one a message in the
    # inbox, the outgoing one in the outbox), a department list, a match report.
    far = make_person(household="411326", residence=VILLAGE_A, arrived=_days(50), name="王芳")
    _request_from_henan(henan, far.id_number, deadline=_days(-20))
    assistance.ask(acting_user=office, person=far, question="children", urgency="normal")
    newcomer_id = make("510105", datetime.date(1995, 4, 2), 12, "2")
    listed = io.BytesIO(
        "姓名,公民身份号码,地址,日期,单位\n"
        f"周敏,{blank.id_number},北山路,{_days(5)},\n"
        f"张新,{newcomer_id},曙光路,{_days(2)},北山服装厂\n".encode("utf-8-sig")
    )
    batch_file = users["tmp_path"] / "公安流入人员.csv"
    batch_file.write_bytes(listed.getvalue())
    batch = reading.import_department(batch_file, source="police", acting_user=office)
    register = _register_csv(
        [
            {
                "name": "周敏",
                "sex": "2",
                "id_number": blank.id_number,
                "marital_status": "20",
                "household_region": "330105",
                "residence_region": VILLAGE_A,
                "arrival_date": str(_days(200)),
            }
        ]
    )
    report = matching.run_match(
        acting_user=county,
        outflow=SimpleUploadedFile("outflow.csv", register),
        inflow=SimpleUploadedFile("inflow.csv", register),
    )
    # Programmes (issue 17): a payment list of the county with a line, one failed and
    # resolved (blank and filled return fields alike).
    from liudong.services.programmes import payments
    from liudong.services.programmes.tests.payment_fixtures import benefit, national_amounts

    national_amounts(TODAY.year)
    benefit(village=VILLAGE_A, name="孙桂芝")
    benefit(village=VILLAGE_A, name="周玉梅", programme="special_death")
    payment_list = payments.make_list(
        acting_user=county, county=Region.objects.get(code="330106"), year=TODAY.year
    )
    payments.export_list(acting_user=county, payment_list=payment_list, file_format="csv")
    failed = payment_list.lines.get(name="孙桂芝")
    returned = users["tmp_path"] / "bank-return.csv"
    returned.write_text(
        "公民身份号码,一卡通账号,结果,失败原因\n"
        f"{failed.id_number},{failed.bank_card},失败,账户已销户\n",
        encoding="utf-8-sig",
    )
    payments.import_return(acting_user=county, payment_list=payment_list, path=returned)
    payments.resolve_failure(acting_user=office, line=failed, resolution="已更换新卡人工补发")

    # Programmes: a family with nothing optional given, and one with a spouse, a child,
    # the births certified, an application and its village notice.
    from liudong.services.programmes import services as programmes
    from liudong.services.programmes.models import Programme

    programmes.create_family(
        acting_user=office,
        applicant_name="孙老汉",
        applicant_id_number=make("330106", datetime.date(1950, 2, 3), 31, "1"),
        household_type="non_agricultural",
        household_region=village,
    )
    family = programmes.create_family(
        acting_user=office,
        applicant_name="王建国",
        applicant_id_number=make("330106", datetime.date(1960, 5, 1), 33, "1"),
        spouse_name="李秀英",
        spouse_id_number=make("330106", datetime.date(1962, 7, 2), 34, "2"),
        household_type="agricultural",
        household_region=village,
        household_address="北山社区 1 号",
    )
    programmes.add_child(
        acting_user=office, family=family, sex="2", birth_date=datetime.date(1990, 3, 1)
    )
    programmes.certify_births(acting_user=office, family=family, certified_on=_days(40))
    programmes.apply(
        acting_user=office,
        family=family,
        programme=Programme.objects.get(code="reward"),
        id_number=family.applicant_id_number,
        applied_on=_days(30),
        bank_card="6217000011112222",
    )
    programmes.post_notice(
        acting_user=office, village=village, posted_on=_days(20), ends_on=_days(12)
    )
    # Programmes: the county's re-qualification round, one benefit confirmed, one waiting.
    programme_factories.benefit()  # waiting
    confirmed = programme_factories.benefit()
    requalification.open_round(
        acting_user=county, county=Region.objects.get(code="330106"), year=TODAY.year,
        deadline=_days(-60),
    )  # fmt: skip
    requalification.confirm(acting_user=office, requalification=confirmed.requalifications.get())
    issue_token(acting_user=OPERATOR, user=county)
    return {
        "certificate": issued.number,
        "scheme": scheme.pk,
        "batch": batch.pk,
        "match_report": report["id"],
        "spot_check": check.pk,
        "period": str(month),
        "year": str(year),
    }


# The account that reads each part of the API (by path prefix; the county administrator
# otherwise): the audit log is its auditor's alone (separation of duties).
READERS = {"/api/audit/": "auditor"}
# Query parameters a GET needs, by schema path.
QUERIES = {
    "/api/monthly-reports/figures/": {"period": "{period}"},
    "/api/targets/": {"year": "{year}"},
}
# Path parameters that no list of the API names (its own list is not offered, or the
# record is another endpoint's): from what seed() returned.
KEYS = {
    "/api/match-reports/{report_id}/": "match_report",
    "/api/match-reports/{report_id}/xlsx/": "match_report",
    "/api/assessments/{id}/scores/": "scheme",
    "/api/intake-batches/{id}/rows/": "batch",
    "/api/certificates/{number}/pdf/": "certificate",
}
DETAILS_PER_LIST = 8  # each record of a short list read one by one: blank and filled alike


def get_paths(schema: dict) -> list[str]:
    return sorted(path for path, operations in schema["paths"].items() if "get" in operations)


def _items(body) -> list:
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return body["results"]
    return body if isinstance(body, list) else []


def collect(schema: dict, clients: dict, keys: dict) -> list[Answer]:
    """Call every GET path of ``schema``: each list, then each record of it (up to
    DETAILS_PER_LIST), as the account READERS names. ``clients``: an API client per user
    name."""
    answers: list[Answer] = []
    listed: dict[str, list] = {}

    def call(path: str, url: str) -> Answer:
        reader = next((u for p, u in READERS.items() if path.startswith(p)), "county_admin")
        query = {k: v.format(**keys) for k, v in QUERIES.get(path, {}).items()}
        response = clients[reader].get(url, query)
        answer = Answer(
            path=path,
            url=url,
            status=response.status_code,
            content_type=response.get("Content-Type", ""),
            body=response.content,
            query=query,
        )
        answers.append(answer)
        return answer

    paths = get_paths(schema)
    for path in (p for p in paths if "{" not in p):
        answer = call(path, path)
        if answer.status == 200 and answer.content_type.startswith("application/json"):
            listed[path] = _items(answer.json())
    for path in (p for p in paths if "{" in p):
        head, _, rest = path.partition("{")
        name = rest.partition("}")[0]
        tail = rest.partition("}")[2]
        if path in KEYS:
            values = [keys[KEYS[path]]]
        else:
            values = [item[name] for item in listed.get(head, [])[:DETAILS_PER_LIST]]
        for value in values:
            call(path, f"{head}{value}{tail}")
    return answers
