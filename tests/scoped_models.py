"""The registry of scoped models for the generic access and query-count tests.

Every model whose manager is a :class:`liudong.base.ScopedQuerySet` (discovered from the
app registry by ``tests/test_generic_access.py``) has exactly one entry here: where its web
list and detail pages are, which API route lists it, and a factory that makes one row in a
given township. A surface a model does not have is ``None`` with the reason beside it, so a
missing page is a decision someone wrote down, never an oversight.

This module owns test data only. It must not change what the application does: factories go
through the service functions where one exists for the record, or plain ORM where the record
is written by the system (audit entries, messages, intake rows) rather than by a user.
"""

from __future__ import annotations

import datetime
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from conftest import make_user, pass_second_factor

TOWNSHIP_A = "330106002"  # 北山街道, county 330106
TOWNSHIP_B = "330106004"  # 西溪街道, the same county

_serial = itertools.count(1)


@dataclass
class Place:
    """Where a factory makes its row: a township, one of its villages, and its township
    account (the acting user of the service functions)."""

    township: Any  # Region
    village: Any  # Region
    actor: Any  # User
    people: list = field(default_factory=list)

    def person(self):
        """A person living in the village (registered through the service), made once."""
        if not self.people:
            self.people.append(make_person(self))
        return self.people[0]


def fresh_id_number() -> str:
    """A valid ID number no other test row has: its own birth date and sequence, and a
    list masks the birth date, so the last four characters tell the rows apart."""
    from liudong.people import idnumbers

    n = next(_serial)
    born = datetime.date(1985, 1, 1) + datetime.timedelta(days=n)
    return idnumbers.make("411522", born, n % 499 * 2 + 2, "2")


def make_person(place: Place):
    from liudong.people import idnumbers
    from liudong.people.models import Person
    from liudong.people.services import register_arrival
    from liudong.regions.models import Region

    id_number = fresh_id_number()
    person = Person(
        id_number=id_number,
        name=f"测试{id_number[-4:]}",
        sex="2",
        birth_date=idnumbers.parse(id_number).birth_date,
        marital_status="20",
        household_region=Region.objects.get(code="411522"),
    )
    register_arrival(
        acting_user=place.actor,
        person=person,
        region=place.village,
        arrival_date=datetime.date(2025, 3, 1),
    )
    return person


@dataclass(frozen=True)
class Scoped:
    """One scoped model and where it shows.

    ``web_list`` / ``web_detail`` are URL names (the detail one takes ``pk``, or the name in
    ``detail_kwarg``); ``api`` is the router basename under ``api:``. ``reader`` is the
    fixture user who may read a row of township A; ``outsider`` one of another region who
    must not; ``refused`` one signed in without the role or capability, with the status it
    gets today on (web list, web detail, API list, API detail)."""

    model: str  # app_label.ModelName
    factory: Callable[[Place], Any]
    web_list: str | None
    web_detail: str | None
    api: str | None
    reader: str = "township_a"
    outsider: str = "township_b"
    refused: str = "auditor"
    refused_status: tuple[int, int, int, int] = (403, 403, 403, 403)
    # The detail route is an edit form: a 403 there says "may not change", not "may not see".
    web_detail_edits: bool = False
    detail_kwarg: str = "pk"
    key: Callable[[Any], Any] = lambda obj: obj.pk
    # A known leak of today that this change must not fix: "surface-who" (e.g.
    # "web_list-outsider") -> the reason of a strict xfail, so the fix turns it red.
    leak: dict[str, str] = field(default_factory=dict)
    # Text that shows the row on a web list without a detail page to link to.
    marker: Callable[[Any], str] | None = None
    list_query: str = ""  # appended to the web list URL (a tab of a shared page)
    # Filtered variants of the lists whose query counts are guarded too.
    web_list_variants: tuple[str, ...] = ()
    api_list_variants: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.model.split(".")[1]


# --- factories ----------------------------------------------------------------------------


def grid(place: Place):
    from liudong.regions.services import save_grid

    return save_grid(
        acting_user=place.actor,
        name=f"网格{next(_serial)}",
        region=place.township,
        areas=[place.village],
        # A collector of its own: the lists show each grid's people, which must not cost a
        # query per row.
        responsible=place.actor,
        collectors=[make_user(f"collector{next(_serial)}", "collector", place.village.code)],
    )


def user(place: Place):
    return make_user(f"staff{next(_serial)}", "village", place.village.code)


def api_token(place: Place):
    from liudong.accounts.models import ApiToken
    from liudong.accounts.services import issue_token

    issue_token(acting_user=place.actor, user=place.actor, name=f"令牌{next(_serial)}")
    return ApiToken.objects.filter(user=place.actor).latest("pk")


def audit_entry(place: Place):
    from liudong.audit.models import AuditEntry

    staff = user(place)
    return AuditEntry.objects.get(
        object_type="accounts.user", object_id=str(staff.pk), action="create"
    )


def person(place: Place):
    """A person with a child: the lists show family details, which must not cost a query
    per row."""
    from liudong.people.services import add_child

    someone = make_person(place)
    add_child(
        acting_user=place.actor, parent=someone, sex="2", birth_date=datetime.date(2020, 5, 1)
    )
    return someone


def access_code(place: Place):
    """A resident's access code (issue 19): made on her file, shown to staff nowhere but the
    slip that issues it, read by her as her own row."""
    from liudong.residents.services import issue_code

    _code, access = issue_code(acting_user=place.actor, person=make_person(place))
    return access


def episode(place: Place):
    return make_person(place).episodes.get()


def child(place: Place):
    from liudong.people.services import add_child

    return add_child(
        acting_user=place.actor,
        parent=make_person(place),
        sex="2",
        birth_date=datetime.date(2020, 5, 1),
    )


def held_certificate(place: Place):
    from liudong.people.models import HeldCertificate

    return HeldCertificate.objects.create(
        person=make_person(place), number=f"411522000-2025-{next(_serial):06d}"
    )


def possible_duplicate(place: Place):
    from liudong.people.models import PossibleDuplicate

    return PossibleDuplicate.objects.create(
        first=make_person(place), second=make_person(place), reason="name_birth"
    )


def certificate(place: Place):
    from liudong.certificates.models import Certificate

    someone = make_person(place)
    return Certificate.objects.create(
        number=f"{place.township.code}-2025-{next(_serial):06d}",
        person=someone,
        issuing_region=place.township,
        issued_on=datetime.date(2025, 3, 2),
        valid_until=datetime.date(2040, 3, 6),
        name=someone.name,
        sex=someone.sex,
        birth_date=someone.birth_date,
        id_number=someone.id_number,
        marital_status=someone.marital_status,
        key_id="test",
        payload="test",
    )


def verification(place: Place):
    from liudong.certificates.models import Verification

    someone = make_person(place)
    return Verification.objects.create(
        person=someone,
        episode=someone.episodes.get(),
        region=place.township,
        verified_at=datetime.datetime(2025, 3, 5, 9, tzinfo=datetime.UTC),
        verified_on=datetime.date(2025, 3, 5),
        method="number",
        days_after_arrival=4,
    )


def notice(place: Place):
    from liudong.certificates.models import Notice

    someone = make_person(place)
    return Notice.objects.create(
        person=someone,
        episode=someone.episodes.get(),
        region=place.township,
        issued_on=datetime.date(2025, 3, 5),
        deadline=datetime.date(2025, 6, 5),
    )


def campaign(place: Place):
    from liudong.services.models import Campaign

    return Campaign.objects.create(
        name=f"春节返乡关怀{next(_serial)}",
        kind="warm_winter",
        # Running now: the campaign list shows the current ones.
        starts_on=datetime.date.today() - datetime.timedelta(days=10),
        ends_on=datetime.date.today() + datetime.timedelta(days=30),
        organiser_region=place.township,
    )


def activity(place: Place):
    from liudong.services.models import Activity

    return Activity.objects.create(
        campaign=campaign(place), date=datetime.date(2025, 1, 20), region=place.township
    )


def activity_photo(place: Place):
    from liudong.services.models import ActivityPhoto

    event = activity(place)
    return ActivityPhoto.objects.create(activity=event, file=f"photos/{uuid.uuid4().hex}.jpg")


def branch(place: Place):
    from liudong.services.models import AssociationBranch

    return AssociationBranch.objects.create(name=f"计生协会{next(_serial)}", region=place.township)


def membership(place: Place):
    from liudong.services.models import Membership

    return Membership.objects.create(
        branch=branch(place), person=make_person(place), joined_on=datetime.date(2025, 3, 3)
    )


def association_activity(place: Place):
    from liudong.services.models import AssociationActivity

    return AssociationActivity.objects.create(
        branch=branch(place), date=datetime.date(2025, 3, 3), title=f"活动日{next(_serial)}"
    )


def help_request(place: Place):
    from liudong.services.models import HelpRequest

    return HelpRequest.objects.create(
        person=make_person(place),
        region=place.township,
        category="wages",
        received_on=datetime.date(2025, 3, 3),
        deadline=datetime.date(2025, 4, 3),
    )


def service_record(place: Place):
    from liudong.services.models import ServiceRecord

    return ServiceRecord.objects.create(
        person=make_person(place),
        service_type="pre_pregnancy",
        date=datetime.date(2025, 3, 3),
        region=place.township,
    )


def follow_up(place: Place):
    from liudong.services.models import FollowUp

    record = service_record(place)
    return FollowUp.objects.create(service=record, due_on=datetime.date(2025, 4, 3))


def employer(place: Place):
    from liudong.places.models import Employer

    return Employer.objects.create(name=f"用工单位{next(_serial)}", region=place.township)


def rental_house(place: Place):
    from liudong.places.models import RentalHouse

    return RentalHouse.objects.create(address=f"文一路{next(_serial)}号", region=place.township)


def site(place: Place):
    from liudong.places.models import Site

    return Site.objects.create(kind="market", name=f"市场{next(_serial)}", region=place.township)


def agreement(place: Place):
    from liudong.places.models import Agreement

    return Agreement.objects.create(
        kind="service", signed_on=datetime.date(2025, 3, 3), employer=employer(place)
    )


def safety_issue(place: Place):
    from liudong.places.models import SafetyIssue

    return SafetyIssue.objects.create(
        rental_house=rental_house(place),
        hazard=f"电线私拉{next(_serial)}",
        found_on=datetime.date(2025, 3, 3),
        deadline=datetime.date(2025, 4, 3),
    )


def outbox_message(place: Place):
    from liudong.exchange.models import OutboxMessage

    return OutboxMessage.objects.create(
        type="arrival",
        to_region="411522",
        region=place.township.code,
        envelope={"payload": {"id_number": make_person(place).id_number}},
    )


def inbox_message(place: Place):
    from liudong.exchange.models import InboxMessage

    return InboxMessage.objects.create(
        envelope={"payload": {"id_number": make_person(place).id_number}},
        id=uuid.uuid4(),
        type="arrival",
        from_region="411522",
        to_region=place.township.code,
        digest=uuid.uuid4().hex,
    )


def reported_service(place: Place):
    from liudong.exchange.models import ReportedService

    return ReportedService.objects.create(
        person=make_person(place),
        service_type="pre_pregnancy",
        date=datetime.date(2025, 3, 3),
        reported_by="411522",
        message=inbox_message(place),
    )


def assistance_request(place: Place):
    from liudong.exchange.models import AssistanceRequest

    return AssistanceRequest.objects.create(
        direction="incoming",  # the worklist opens on the requests to answer
        id_number=make_person(place).id_number,
        question="marital_status",
        urgency="normal",
        asked_on=datetime.date(2025, 3, 3),
        deadline=datetime.date(2025, 4, 3),
        region=place.township,
        other_region="411522",
    )


def intake_batch(place: Place):
    from liudong.exchange.models import IntakeBatch

    return IntakeBatch.objects.create(
        source="police", file_name=f"police-{next(_serial)}.xlsx", region=place.township.code
    )


def intake_row(place: Place):
    from liudong.exchange.models import IntakeRow

    return IntakeRow.objects.create(
        batch=intake_batch(place),
        row_number=2,
        values={},
        id_number=fresh_id_number(),  # one row per person and batch
        name="张伟",
        date=datetime.date(2025, 3, 3),
        region=place.village.code,
        category="new",
    )


def import_job(place: Place):
    from liudong.jobs.models import ImportJob

    return ImportJob.objects.create(
        kind="persons",
        created_by=place.actor,
        region=place.township,
        original_name=f"persons-{next(_serial)}.xlsx",
        state="interrupted",  # not previewed (no preview to show), not active (no runner)
    )


def _month(n: int) -> str:
    """A month of its own for each serial number (2000-01, 2000-02, ...)."""
    return f"{2000 + n // 12:04d}-{n % 12 + 1:02d}"


def monthly_report(place: Place):
    from django.utils import timezone

    from liudong.stats.models import MonthlyReport

    return MonthlyReport.objects.create(
        region=place.township,
        period=_month(next(_serial)),  # one report per region and month
        status="submitted",
        figures={},
        submitted_by=place.actor,
        submitted_at=timezone.now(),
    )


def assessment_scheme(place: Place):
    from liudong.stats.models import AssessmentScheme

    return AssessmentScheme.objects.create(
        name=f"考核{next(_serial)}", region=place.township, year=2025, items=[]
    )


def spot_check(place: Place):
    from django.utils import timezone

    from liudong.stats.models import SpotCheck

    return SpotCheck.objects.create(
        region=place.township,
        period="2025-03",
        seed=next(_serial),
        fields_checked=["name"],
        drawn_by=place.actor,
        drawn_at=timezone.now(),
    )


# Reward and assistance programmes (issue 17): families, children, notices and applications
# through their services (a family that qualifies for the reward programme: a father born in
# 1960, rural, one daughter, births certified); the rest with the ORM until theirs exist.


def programme_family(place: Place):
    from liudong.people import idnumbers
    from liudong.services.programmes import services

    n = next(_serial)
    father = idnumbers.make(
        "411522", datetime.date(1958, 1, 1) + datetime.timedelta(days=n), n % 499 * 2 + 1, "1"
    )
    family = services.create_family(
        acting_user=place.actor,
        applicant_name=f"申请{n}",
        applicant_id_number=father,
        household_type="agricultural",
        household_region=place.village,
    )
    services.add_child(
        acting_user=place.actor, family=family, sex="2", birth_date=datetime.date(1995, 1, 1)
    )
    return services.certify_births(
        acting_user=place.actor, family=family, certified_on=datetime.date(2026, 1, 5)
    )


def programme_family_child(place: Place):
    return programme_family(place).children.get()


def programme_notice(place: Place):
    from liudong.services.programmes import services

    return services.post_notice(
        acting_user=place.actor,
        village=place.village,
        posted_on=datetime.date(2026, 3, 1),
        ends_on=datetime.date(2026, 3, 8),
        applications=[programme_application(place)],
    )


def programme_application(place: Place):
    from liudong.services.programmes import services
    from liudong.services.programmes.models import Programme

    family = programme_family(place)
    return services.apply(
        acting_user=place.actor,
        family=family,
        programme=Programme.objects.get(code="reward"),
        id_number=family.applicant_id_number,
        applied_on=datetime.date(2026, 3, 1),
    )


def programme_benefit(place: Place):
    from liudong.services.programmes.models import Benefit

    application = programme_application(place)
    application.status = "approved"
    application.save()
    return Benefit.objects.create(
        application=application,
        family=application.family,
        programme=application.programme,
        id_number=application.id_number,
        name=application.name,
        starts_on=datetime.date(2026, 4, 1),
    )


def programme_round(place: Place):
    from liudong.services.programmes.models import RequalificationRound

    return RequalificationRound.objects.create(
        region=place.township.parent,
        year=2000 + next(_serial) % 1000,
        deadline=datetime.date(2026, 9, 30),
    )


def programme_requalification(place: Place):
    from liudong.services.programmes.models import Requalification

    return Requalification.objects.create(
        round=programme_round(place), benefit=programme_benefit(place)
    )


def programme_payment_list(place: Place):
    from liudong.services.programmes.models import PaymentList

    return PaymentList.objects.create(
        region=place.township.parent,
        year=2000 + next(_serial) % 1000,
        made_on=datetime.date(2026, 3, 1),
        made_by=place.actor,
    )


def programme_payment_line(place: Place):
    from liudong.services.programmes.models import PaymentLine

    benefit = programme_benefit(place)
    return PaymentLine.objects.create(
        payment_list=programme_payment_list(place),
        benefit=benefit,
        township=place.township,
        name=benefit.name,
        id_number=benefit.id_number,
        programme=benefit.programme,
        amount="960.00",
    )


def correction_request(place: Place):
    """Her request to correct her address, made as she makes it (issue 19)."""
    from liudong.actors import Resident
    from liudong.residents.corrections import ask

    person = make_person(place)
    return ask(Resident(person.pk), "residence_address", f"改正地址{next(_serial)}号", "合同")


def masked(id_number: str) -> str:
    from liudong.people.idnumbers import mask

    return mask(id_number)


# --- the registry -------------------------------------------------------------------------

REGISTRY: dict[str, Scoped] = {
    entry.model: entry
    for entry in [
        # Her access code: no page or API lists codes (the slip shows one once). First, so
        # that the audit entries its file and code write come before audit.AuditEntry's row
        # (the audit lists show the newest page).
        Scoped("residents.AccessCode", access_code, None, None, None),
        Scoped("regions.Grid", grid, "regions:grid_list", "regions:grid_edit", "grid"),
        Scoped("accounts.User", user, "accounts:user_list", "accounts:user_detail", "user"),
        Scoped(
            "accounts.ApiToken",
            api_token,
            "accounts:token_list",
            None,  # a token has no page of its own: it is listed and revoked (POST) only
            "token",
            # Every role holds tokens of its own: the auditor lists its own, not A's.
            refused_status=(200, 0, 200, 404),
            marker=lambda token: token.prefix,
        ),
        Scoped(
            "audit.AuditEntry",
            audit_entry,
            "audit:list",
            "audit:detail",
            "audit",
            # Separation of duties: only the auditor reads the log.
            reader="auditor",
            outsider="auditor_b",
            refused="township_a",
            detail_kwarg="seq",
            key=lambda obj: obj.seq,
        ),
        Scoped(
            "people.Person",
            person,
            "people:list",
            "people:detail",
            "person",
            web_list_variants=("?q=cs", "?flow=inflow&sex=2"),
            api_list_variants=("?within=330106&arrival_after=2025-01-01",),
        ),
        Scoped(
            "people.ResidenceEpisode",
            episode,
            None,  # stays are shown on the person's page
            None,
            "episode",
        ),
        Scoped("people.Child", child, None, None, "child"),  # shown on the parent's page
        Scoped(
            "people.HeldCertificate",
            held_certificate,
            None,  # the certificates a person holds are shown on the person's page
            None,
            None,  # not in the API
        ),
        Scoped(
            "people.PossibleDuplicate",
            possible_duplicate,
            "people:duplicates",
            "people:duplicate",
            None,  # the duplicate queue is a web worklist only
        ),
        Scoped(
            "people.CorrectionRequest",
            correction_request,
            "web:corrections",  # the office's list of residents' correction requests
            "web:correction_detail",
            None,  # not in the API: she asks on her pages, the office answers on its own
        ),
        Scoped(
            "certificates.Certificate",
            certificate,
            None,  # no list page: certificates are found through the person or the check
            "certificates:detail",
            "certificate",
            detail_kwarg="number",
            key=lambda obj: obj.number,
        ),
        Scoped(
            "certificates.Verification",
            verification,
            None,  # verifications are shown on the person's page
            None,
            "verification",
        ),
        Scoped(
            "certificates.Notice",
            notice,
            "certificates:notices",
            "certificates:notice_print",
            "notice",
        ),
        Scoped(
            "services.Campaign", campaign, "services:campaigns", "services:campaign", "campaign"
        ),
        Scoped(
            "services.Activity",
            activity,
            None,  # listed on its campaign's page
            "services:activity_edit",
            "activity",
            web_detail_edits=True,
        ),
        Scoped(
            "services.ActivityPhoto",
            activity_photo,
            None,  # listed on its activity's photo page
            None,  # the photo route serves the file, which the factory does not write
            None,  # not in the API
        ),
        Scoped(
            "services.AssociationBranch",
            branch,
            "services:branches",
            "services:branch",
            "association-branch",
        ),
        Scoped(
            "services.Membership",
            membership,
            None,  # listed on its branch's page
            "services:member_edit",
            "membership",
            web_detail_edits=True,
        ),
        Scoped(
            "services.AssociationActivity",
            association_activity,
            None,  # listed on its branch's page
            "services:branch_activity_edit",
            "association-activity",
            web_detail_edits=True,
        ),
        Scoped(
            "services.HelpRequest",
            help_request,
            "services:help_list",
            "services:help",
            "help-request",
        ),
        Scoped(
            "services.ServiceRecord",
            service_record,
            "services:records",
            "services:record",
            "service-record",
        ),
        Scoped(
            "services.FollowUp",
            follow_up,
            "services:followups",
            None,  # a follow-up has no page: it is marked done (POST) from the list
            "follow-up",
            marker=lambda follow_up: f'action="/services/follow-ups/{follow_up.pk}/done/"',
        ),
        Scoped(
            "places.Employer", employer, "places:employers", "places:employers_detail", "employer"
        ),
        Scoped(
            "places.RentalHouse",
            rental_house,
            "places:houses",
            "places:houses_detail",
            "rental-house",
        ),
        Scoped("places.Site", site, "places:sites", "places:sites_detail", "site"),
        Scoped(
            "places.Agreement",
            agreement,
            "places:agreements",
            "places:agreements_edit",
            "agreement",
            web_detail_edits=True,
            # A reader without the right to manage sees the row without a link to edit it.
            marker=lambda agreement: agreement.employer.name,
        ),
        Scoped(
            "places.SafetyIssue",
            safety_issue,
            "places:safety",
            "places:safety_edit",
            "safety-issue",
            marker=lambda issue: issue.hazard,  # the list links the house, not the issue
            web_detail_edits=True,
        ),
        Scoped(
            "exchange.OutboxMessage",
            outbox_message,
            "exchange:mailbox",
            None,  # a message has no page of its own
            "outbox-message",
            list_query="?box=out",
            marker=lambda message: masked(message.envelope["payload"]["id_number"]),
        ),
        Scoped(
            "exchange.InboxMessage",
            inbox_message,
            "exchange:mailbox",
            None,  # a message has no page of its own
            "inbox-message",
            marker=lambda message: masked(message.envelope["payload"]["id_number"]),
        ),
        Scoped(
            "exchange.ReportedService",
            reported_service,
            None,  # shown on the person's page
            None,
            None,  # not in the API: it is what an inbox message applied
        ),
        Scoped(
            "exchange.AssistanceRequest",
            assistance_request,
            "assistance:list",
            "assistance:detail",
            "assistance-request",
        ),
        Scoped(
            "exchange.IntakeBatch",
            intake_batch,
            "exchange:intake_list",
            "exchange:intake_batch",
            "intake-batch",
        ),
        Scoped(
            "exchange.IntakeRow",
            intake_row,
            None,  # listed on its batch's page
            None,
            "intake-row",
        ),
        Scoped("jobs.ImportJob", import_job, "jobs:list", "jobs:detail", None),  # not in the API
        Scoped(
            "stats.MonthlyReport",
            monthly_report,
            "stats:reports",
            None,  # the report page is asked for by region and month (stats:report)
            "monthly-report",
            # The list is of the units below (a unit does not decide its own report).
            reader="county_admin",
            outsider="county_b",
            marker=lambda report: report.period,
        ),
        Scoped(
            "stats.AssessmentScheme",
            assessment_scheme,
            "stats:assessments",
            "stats:assessment",
            "assessment",
        ),
        Scoped(
            "programmes.Family",
            programme_family,
            "programmes:families",
            "programmes:family",
            "programme-family",
            web_list_variants=("?q=申请", "?region=330106002"),
        ),
        Scoped(
            "programmes.FamilyChild",
            programme_family_child,
            None,  # listed on the family's page (and nested in the family's API record)
            "programmes:child_edit",
            None,
            web_detail_edits=True,
        ),
        Scoped(
            "programmes.PublicNotice",
            programme_notice,
            "programmes:notices",
            "programmes:notice",
            "programme-notice",
        ),
        Scoped(
            "programmes.Application",
            programme_application,
            "programmes:applications",
            "programmes:application",
            "programme-application",
        ),
        # The benefits and re-qualification: their pages and API come with the issue's item
        # 3; until then no surface shows them.
        Scoped(
            "programmes.Benefit",
            programme_benefit,
            "programmes:benefits",
            "programmes:benefit",
            "programme-benefit",
        ),
        Scoped(
            "programmes.PaymentList",
            programme_payment_list,
            "programmes:payment_lists",
            "programmes:payment_list",
            "payment-list",
            # The county makes and pays the lists (APPROVE_BENEFITS over its county).
            reader="county_admin",
            outsider="county_b",
        ),
        Scoped(
            "programmes.PaymentLine",
            programme_payment_line,
            "programmes:payment_lines",
            "programmes:payment_line",
            "payment-line",
        ),
        Scoped(
            "programmes.RequalificationRound",
            programme_round,
            "requalification:list",
            "requalification:round",
            "requalification-round",
            # A round is the county's (its region is the county): townships see their
            # re-qualifications, each with its deadline, not the round's own page.
            reader="county_admin",
            outsider="county_b",
        ),
        Scoped(
            "programmes.Requalification",
            programme_requalification,
            "requalification:list",
            "requalification:detail",
            "requalification",
        ),
        Scoped(
            "stats.SpotCheck",
            spot_check,
            "stats:spot_checks",
            "stats:spot_check",
            "spot-check",
            # Spot checks are the county's and the inspector's (SPOT_CHECK), not a township's.
            reader="county_admin",
            outsider="county_b",
        ),
    ]
}


def _declared(record_type) -> Scoped:
    """The entry of a plain record type declared with an ``example`` (liudong.records):
    its rows made through the generic service call, its pages and API from the declaration."""
    from liudong import records

    def factory(place: Place):
        values = record_type.example(place.township)
        return records.create(record_type, acting_user=place.actor, **values)

    ns, slug = record_type.url_namespace, record_type.slug
    return Scoped(
        record_type.model._meta.label,
        factory,
        f"{ns}:{slug}",
        f"{ns}:{slug}_detail" if record_type.has_page else None,
        record_type.api_basename if record_type.api_prefix else None,
    )


def _register_declared() -> None:
    from liudong.records import all_types

    for record_type in all_types():
        if record_type.example is not None and record_type.model._meta.label not in REGISTRY:
            entry = _declared(record_type)
            REGISTRY[entry.model] = entry


_register_declared()


# --- the harness the generic tests share ---------------------------------------------------

SURFACES = ("web_list", "web_detail", "api_list", "api_detail")


def api_kwarg(entry: Scoped) -> str:
    return {"seq": "seq", "number": "number"}.get(entry.detail_kwarg, "pk")


# --- one set of rows per module ----------------------------------------------------------

USERS = {
    # name: (role, region)
    "township_a": ("township", TOWNSHIP_A),
    "township_b": ("township", TOWNSHIP_B),
    "county_admin": ("county", "330106"),
    "county_b": ("county", "330105"),
    "auditor": ("auditor", "330106"),
    "auditor_b": ("auditor", "330105"),
    "collector_a1": ("collector", "330106002001001"),
    "village_a1": ("village", "330106002001"),
    "provider_a": ("provider", TOWNSHIP_A),
    "inspector": ("inspector", "330106"),
    "node_account": ("node", "330106"),
}


def _import_villages():
    """The villages conftest's ``villages`` fixture imports (a function-scoped fixture
    cannot serve a module-scoped one)."""
    from liudong.actors import OPERATOR
    from liudong.regions.services import import_regions

    rows = [
        (2, {"code": "330106002001", "name": "北山社区"}),
        (3, {"code": "330106002002", "name": "曙光社区"}),
        (4, {"code": "330106002001001", "name": "第一村民小组"}),
        (5, {"code": "330106004001", "name": "西溪社区"}),
        (6, {"code": "330106004002", "name": "桃源社区"}),
        (7, {"code": "330105001001", "name": "拱宸桥社区"}),
    ]
    assert not import_regions(rows, acting_user=OPERATOR).rejected


@dataclass
class World:
    users: dict
    place: Place  # township A, where the rows are
    rows: dict  # model label -> row of township A, or the exception its factory raised


@pytest.fixture(scope="module", name="world")
def world_fixture(django_db_setup, django_db_blocker, tmp_path_factory):
    """The divisions' villages, the named users and one row of every registered model in
    township A, made once and rolled back when the module ends."""
    from django.db import transaction
    from django.test.utils import override_settings

    from liudong.audit import anchors
    from liudong.regions.models import Region

    with (
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as patch,
        override_settings(PASSWORD_HASHERS=["conftest.CheapArgon2PasswordHasher"]),
    ):
        # Anchors of this module's own (conftest's per-test fixture is not active yet).
        patch.setenv(
            "LIUDONG_AUDIT_ANCHORS", str(tmp_path_factory.mktemp("anchors") / "anchors.jsonl")
        )
        anchors.forget_cache()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            _import_villages()
            users = {name: make_user(name, role, region) for name, (role, region) in USERS.items()}
            place = Place(
                township=Region.objects.get(code=TOWNSHIP_A),
                village=Region.objects.get(code=TOWNSHIP_A + "001"),
                actor=users["township_a"],
            )
            rows = {}
            # The audit entry's row last: every other factory logs entries of its own, and
            # the log lists the newest first, 50 a page.
            ordered = sorted(REGISTRY.items(), key=lambda item: item[0] == "audit.AuditEntry")
            for label, entry in ordered:
                try:
                    with transaction.atomic():
                        rows[label] = entry.factory(place)
                except Exception as exc:  # reported by the tests of that model
                    rows[label] = exc
            yield World(users, place, rows)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            anchors.forget_cache()


def resident_signed_in(person_id: int):
    """(web client, API client) carrying a resident's own session (liudong.residents): the
    browser she signed in with, as ``session.begin`` leaves it."""
    import time

    from django.conf import settings
    from django.test import Client
    from rest_framework.test import APIClient

    from liudong.residents import session

    web, api = Client(), APIClient()
    store = web.session
    store[session.SESSION_KEY] = {"person": person_id, "until": time.time() + session.lifetime()}
    store.save()
    api.cookies[settings.SESSION_COOKIE_NAME] = store.session_key
    return web, api


def signed_in(user):
    """(web client, API client) signed in as the user (None: anonymous), past the second
    factor where the role needs one."""
    from django.test import Client
    from rest_framework.test import APIClient

    from liudong.accounts.roles import second_factor_required

    web, api = Client(), APIClient()
    if user is not None:
        web.force_login(user)
        if second_factor_required(user):
            pass_second_factor(web, user)
        api.force_authenticate(user)
    return web, api


def url_of(entry: Scoped, surface: str, key) -> str:
    if surface == "web_list":
        return reverse(entry.web_list) + entry.list_query
    if surface == "web_detail":
        return reverse(entry.web_detail, kwargs={entry.detail_kwarg: key})
    if surface == "api_list":
        return reverse(f"api:{entry.api}-list")
    return reverse(f"api:{entry.api}-detail", kwargs={api_kwarg(entry): key})


def has_surface(entry: Scoped, surface: str) -> bool:
    return bool(
        entry.web_list
        if surface == "web_list"
        else entry.web_detail
        if surface == "web_detail"
        else entry.api
    )


def listed(entry: Scoped, surface: str, response, row) -> bool:
    """Whether a listing shows the row: its detail link (or marker) on a page, its key
    among the API results."""
    if surface == "api_list":
        data = json.loads(response.content)
        items = data["results"] if isinstance(data, dict) else data
        key = str(entry.key(row))
        return any(
            str(item.get(field)) == key for item in items for field in ("id", "seq", "number")
        )
    page = response.content.decode()
    if entry.marker:
        return entry.marker(row) in page
    if entry.web_detail:
        return url_of(entry, "web_detail", entry.key(row)) in page
    raise AssertionError(f"{entry.model}: a web list needs a detail page or a marker")
