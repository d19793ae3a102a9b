"""The demo county: one real county, five of its townships, synthetic villages, groups,
grids and one account per role. Idempotent: running it again resets only the demo
accounts' passwords."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction

from liudong.accounts import services as accounts
from liudong.accounts.models import User
from liudong.accounts.roles import Role
from liudong.actors import OPERATOR
from liudong.regions import services as regions
from liudong.regions.codes import Level
from liudong.regions.models import Grid, Region

DEMO_COUNTY = "330106"  # 浙江省杭州市西湖区
TOWNSHIPS = 5
VILLAGES_PER_TOWNSHIP = 8
GROUPS_PER_VILLAGE = 3
INFLOW_PEOPLE = 3000
OUTFLOW_PEOPLE = 600

VILLAGE_STEMS = [
    "翠苑",
    "文新",
    "古荡",
    "嘉绿",
    "益乐",
    "东岳",
    "蒋村",
    "龙章",
    "五联",
    "府苑",
    "灵隐",
    "玉泉",
    "金祝",
    "北山",
    "曙光",
    "西溪",
    "桃源",
    "星洲",
    "山水",
    "双龙",
    "梅家坞",
    "龙井",
    "茶园",
    "九溪",
    "满觉陇",
    "杨梅岭",
    "浮山",
    "大清",
    "外桐坞",
    "留下",
    "杨家牌楼",
    "横街",
    "屏峰",
    "西穆坞",
    "小和山",
    "朱家坞",
    "狮峰",
    "翁家山",
    "天竺",
    "双峰",
]
GROUP_NAMES = ["第一村民小组", "第二村民小组", "第三村民小组"]


@dataclass
class DemoAccount:
    username: str
    role: str
    region: str
    password: str


def _village_rows(townships: list[Region]) -> Iterator[tuple[int, dict[str, str]]]:
    row = 2
    stems = iter(VILLAGE_STEMS)
    for township in townships:
        suffix = "社区" if township.name.endswith("街道") else "村"
        for v in range(1, VILLAGES_PER_TOWNSHIP + 1):
            village_code = f"{township.code}{v:03d}"
            yield row, {"code": village_code, "name": next(stems) + suffix}
            row += 1
            for g in range(1, GROUPS_PER_VILLAGE + 1):
                yield row, {"code": f"{village_code}{g:03d}", "name": GROUP_NAMES[g - 1]}
                row += 1


def build_demo(county_code: str = DEMO_COUNTY) -> list[DemoAccount]:
    regions.load_divisions()
    county = Region.objects.get(code=county_code)
    townships = list(county.children.order_by("code")[:TOWNSHIPS])
    summary = regions.import_regions(list(_village_rows(townships)), acting_user=OPERATOR)
    if summary.rejected:
        raise RuntimeError(f"demo villages rejected: {summary.rejected[:3]}")
    first_township = townships[0]
    first_village = Region.objects.filter(parent=first_township).order_by("code")[0]
    plan = [
        ("county_admin", Role.COUNTY, county.code, "县级管理员"),
        ("inspector", Role.INSPECTOR, county.code, "考核员"),
        ("provider", Role.PROVIDER, first_township.code, "服务站技术员"),
        ("node", Role.NODE, county.code, "交换节点"),
        ("auditor", Role.AUDITOR, county.code, "审计管理员"),
        ("village", Role.VILLAGE, first_village.code, "村专干"),
        # The collector works the whole first village: the demo's people live in villages
        # (none in a group), and the collector's grid is to show some of them.
        ("collector", Role.COLLECTOR, first_village.code, "信息员"),
    ]
    for index, township in enumerate(townships, start=1):
        plan.append((f"township_{index}", Role.TOWNSHIP, township.code, f"{township.name}专干"))
    created = []
    with transaction.atomic():
        for username, role, region_code, full_name in plan:
            region = Region.objects.get(code=region_code)
            existing = User.objects.filter(username=username).first()
            if existing is None:
                _user, password = accounts.create_user(
                    acting_user=OPERATOR,
                    username=username,
                    role=role,
                    region=region,
                    full_name=full_name,
                    # Demo accounts are shared and their passwords printed for trying the
                    # system: no forced change (county and inspector still enrol a device).
                    must_change_password=False,
                )
            else:
                if existing.region_id != region.code:  # a demo built by an older release
                    accounts.update_user(acting_user=OPERATOR, user=existing, region=region)
                password = accounts.set_password(
                    acting_user=OPERATOR, user=existing, must_change=False
                )
            created.append(DemoAccount(username, role, region_code, password))
        _demo_grids(townships)
    _demo_people(county, townships)
    _demo_work(county, townships)
    _demo_statistics(county)
    _demo_payments(county, townships)
    return created


# The demo county's scheme scores the offices' own work only (DESIGN.md §2 principle 1):
# registration on time, certificates, verification and its timeliness, services offered,
# notices and assistance answered on time, data accuracy; never births, sex ratio or
# check-ups accepted (statistics). The demo's notices are given today: their item has no
# data until they fall due, and the other items stand for the full marks meanwhile.
DEMO_SCHEME = (
    ("registration_timely_rate", 10),
    ("inflow_verified_within_30d_rate", 15),
    ("inflow_verification_rate", 10),
    ("outflow_certificate_rate", 10),
    ("free_service_rate", 15),
    ("notices_answered_on_time_rate", 10),
    ("assistance_answered_on_time_rate", 15),
    ("data_accuracy_rate", 15),
)


def _demo_statistics(county: Region) -> None:
    """Targets of 85% for the rates the county assesses, its assessment scheme of the
    offices' work, and last month's reports: two townships approved, one returned with a
    reason. Skipped when there."""
    from django.utils import timezone

    from liudong.stats import services as stats
    from liudong.stats.models import AssessmentScheme, Indicator, statistical_year_of

    if AssessmentScheme.objects.filter(region=county).exists():
        return
    admin = User.objects.get(username="county_admin")
    month = stats.last_full_month()
    year = statistical_year_of(timezone.localdate())
    assessed = {i.code: i for i in Indicator.objects.filter(code__in=dict(DEMO_SCHEME))}
    with transaction.atomic():
        for indicator in assessed.values():
            stats.set_target(
                acting_user=admin,
                indicator=indicator,
                region_code=county.code,
                year=year,
                value=85,
            )
        stats.create_scheme(
            acting_user=admin,
            name=f"{year}年度流动人口服务管理工作考核",
            year=year,
            items=[
                {"indicator": code, "weight": weight}
                for code, weight in DEMO_SCHEME
                if code in assessed
            ],
        )
        for index in (1, 2, 3):
            office = User.objects.get(username=f"township_{index}")
            report = stats.submit_report(acting_user=office, period=month)
            if index < 3:
                stats.approve_report(acting_user=admin, report=report)
            else:
                stats.return_report(
                    acting_user=admin, report=report, reason="流入人数较上月变化较大，请核实后重报"
                )


def _demo_people(county: Region, townships: list[Region]) -> None:
    """A few thousand generated files: people living in the demo villages (inflow) and
    people registered in the demo townships living elsewhere (outflow)."""
    from django.conf import settings

    from liudong.people.generate import generate_rows, write_file
    from liudong.people.importing import import_persons

    villages = list(
        Region.objects.subtree(county.code)
        .filter(level=Level.VILLAGE)
        .values_list("code", flat=True)
    )
    folder = settings.VAR_DIR / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (
        ("inflow.csv", generate_rows(INFLOW_PEOPLE, seed=2026, residence_codes=villages)),
        (
            "outflow.csv",
            generate_rows(OUTFLOW_PEOPLE, seed=2027, household_codes=[t.code for t in townships]),
        ),
    ):
        write_file(folder / name, rows)
        import_persons(folder / name, acting_user=OPERATOR)


def _demo_grids(townships: list[Region]) -> None:
    collector = User.objects.get(username="collector")
    for index, township in enumerate(townships, start=1):
        villages = list(township.children.filter(level=Level.VILLAGE).order_by("code"))
        specialist = User.objects.get(username=f"township_{index}")
        half = len(villages) // 2
        for number, chunk in enumerate([villages[:half], villages[half:]], start=1):
            name = f"{township.name}第{number}网格"
            if Grid.objects.filter(region=township, name=name).exists():
                continue
            collectors = [collector] if index == 1 and number == 1 else []
            regions.save_grid(
                acting_user=OPERATOR,
                name=name,
                region=township,
                areas=chunk,
                responsible=specialist,
                collectors=collectors,
            )


DEMO_CERTIFICATES = 20  # issued by the first township to women registered there
DEMO_NOTICES = 5
DEMO_SERVICES = 12


def _demo_work(county: Region, townships: list[Region]) -> None:
    """What the offices have done in the demo county: certificates issued and verified,
    notices, a campaign with activities, places, help requests, an association branch,
    services with follow-ups. Skipped when already there (the demo runs again safely)."""
    from liudong.certificates.models import Certificate

    if Certificate.objects.filter(issuing_region__code__startswith=county.code).exists():
        return
    import datetime

    from django.utils import timezone

    from liudong.certificates import issuing, notices, verification
    from liudong.people.models import Person
    from liudong.places import services as places
    from liudong.places.creditcode import check_character
    from liudong.places.models import Employer, RentalHouse, SafetyIssue, Site
    from liudong.services.associations import services as association_services
    from liudong.services.campaigns import services as campaign_services
    from liudong.services.help_requests import services as help_services
    from liudong.services.records import services as record_services

    today = timezone.localdate()
    first = townships[0]
    office = User.objects.get(username="township_1")
    county_admin = User.objects.get(username="county_admin")
    women = Person.objects.filter(sex="2", merged_into__isnull=True)

    # Certificates for women registered in the first township who live elsewhere.
    for person in women.filter(household_region__code__startswith=first.code)[:200]:
        if Certificate.objects.filter(issuing_region=first).count() >= DEMO_CERTIFICATES:
            break
        if issuing.issue_refusal(person):
            continue
        issuing.issue(person, acting_user=office)

    # Inflow women in the first township's villages: some verified by the record from
    # their registration place, some given the notice to obtain a certificate.
    newcomers = [
        p
        for p in women.filter(
            residence_region__code__startswith=first.code,
            is_floating=True,
            episodes__departure_date__isnull=True,
            episodes__verified_on__isnull=True,
        ).order_by("id")[:60]
        if p.is_adult_wcba(today)
    ]
    for person in newcomers[: DEMO_NOTICES * 2 : 2]:
        notices.issue_notice(person, acting_user=county_admin)
    for person in newcomers[1 : DEMO_NOTICES * 2 : 2]:
        verification.verify_at_residence(
            acting_user=county_admin, method="exchanged", person=person
        )

    village = Region.objects.filter(parent=first, level=Level.VILLAGE).order_by("code")[0]
    body = f"91{village.code[:6]}MA2DE7K01"
    station = places.create(
        Site,
        acting_user=office,
        kind="service_station",
        name=f"{first.name}计生服务站",
        address=f"{first.name}便民服务中心二楼",
        region=first.code,
    )
    places.create(
        Employer,
        acting_user=office,
        credit_code=body + check_character(body),
        name="杭州西溪服装有限公司",
        address=f"{village.name}工业路8号",
        region=village.code,
        contact_name="陈经理",
        phone="0571-88001234",
    )
    house = places.create(
        RentalHouse,
        acting_user=office,
        address=f"{village.name}12幢",
        region=village.code,
        landlord_name="周建国",
        landlord_phone="13906512345",
        rooms=8,
    )
    places.create(
        SafetyIssue,
        acting_user=office,
        rental_house=house,
        hazard="楼道堆放电动车，影响消防通道",
        found_on=today - datetime.timedelta(days=20),
        deadline=today - datetime.timedelta(days=3),
    )

    campaign = campaign_services.create_campaign(
        acting_user=county_admin,
        name="温暖冬春关怀行动",
        kind="warm_winter",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
        regions=townships,
    )
    for index, township in enumerate(townships):
        campaign_services.create_activity(
            acting_user=county_admin,
            campaign=campaign,
            date=today - datetime.timedelta(days=20 - index * 3),
            place=f"{township.name}文化广场",
            region=township,
            participants_count=80 + index * 15,
            materials_count=150 + index * 20,
            free_contraceptives_count=20 + index * 5,
        )

    branch = association_services.create_branch(
        acting_user=office,
        name=f"{first.name}流动人口计生协会",
        region=first,
        founded_on=today.replace(year=today.year - 3),
    )
    for person in newcomers[:5]:
        association_services.create_membership(
            acting_user=office,
            branch=branch,
            person=person,
            joined_on=today - datetime.timedelta(days=90),
        )
    for person, category in zip(newcomers[5:8], ("wages", "schooling", "health"), strict=False):
        help_services.create_help_request(
            acting_user=office,
            person=person,
            category=category,
            received_on=today - datetime.timedelta(days=18),
        )
    for index, person in enumerate(newcomers[:DEMO_SERVICES]):
        record = record_services.create_service_record(
            acting_user=office,
            person=person,
            service_type="reproductive_health" if index % 2 else "counselling",
            date=today - datetime.timedelta(days=25 - index),
            provider=station,
            consent_recorded=True,
            campaign=campaign,
        )
        if index % 3 == 0:
            record_services.schedule_follow_up(
                acting_user=office,
                service=record,
                due_on=record.date + datetime.timedelta(days=21),
            )


# Example amounts of the three national programmes (yuan a year per person), marked as
# examples on every page that shows them (示例金额): not official figures.
DEMO_AMOUNTS = (
    ("reward", "960", "yearly"),
    ("special_death", "7200", "monthly"),
    ("special_disability", "5760", "monthly"),
)
# Demo beneficiaries: (township index, programme, name, birth year, sex, status, reason).
DEMO_BENEFICIARIES = (
    (0, "reward", "王秀英", 1962, "2", "active", ""),
    (0, "reward", "张德明", 1960, "1", "active", ""),
    (0, "special_death", "李桂兰", 1968, "2", "active", ""),
    (0, "reward", "刘玉珍", 1963, "2", "suspended", "年审截止前未确认"),
    (1, "reward", "陈淑芬", 1961, "2", "active", ""),
    (1, "special_disability", "赵凤英", 1970, "2", "active", ""),
    (2, "reward", "孙国华", 1959, "1", "active", ""),
)


def _demo_payments(county: Region, townships: list[Region]) -> None:
    """Example amounts for this year and last in the demo's province (marked as examples),
    a few beneficiaries, and last year's payment list exported with the bank's return (one
    card failed), so the payment pages are not empty. The beneficiaries are DEMO DATA made
    with the ORM as if approved (no application went through the notice and review here);
    skipped when the county has families already."""
    import datetime
    from decimal import Decimal

    from django.conf import settings
    from django.utils import timezone

    from liudong.people import idnumbers
    from liudong.safesheet import CSV_ENCODING, CsvWriter
    from liudong.services.programmes import catalogue, payments
    from liudong.services.programmes.models import (
        Application,
        Benefit,
        Family,
        FamilyChild,
        Programme,
        ProgrammeAmount,
    )

    year = timezone.localdate().year
    programmes = {p.code: p for p in Programme.objects.all()}
    for each_year in (year - 1, year):
        for code, yuan, schedule in DEMO_AMOUNTS:
            known = ProgrammeAmount.objects.filter(
                programme__code=code, year=each_year, province=county.code[:2]
            ).exists()
            if code in programmes and not known:  # a figure the bureau set stays
                catalogue.set_amount(
                    acting_user=OPERATOR,
                    programme=programmes[code],
                    year=each_year,
                    province=county.code[:2],
                    yuan_per_year=Decimal(yuan),
                    schedule=schedule,
                    example=True,
                )
    if Family.objects.filter(household_region__code__startswith=county.code).exists():
        return
    admin = User.objects.get(username="county_admin")
    starts_on = datetime.date(year - 3, 1, 1)
    with transaction.atomic():
        for n, (index, code, name, born, sex, status, reason) in enumerate(
            DEMO_BENEFICIARIES, start=1
        ):
            village = townships[index].children.order_by("code").first()
            if village is None or code not in programmes:
                continue
            id_number = idnumbers.make(county.code, datetime.date(born, 3, n), n * 2 + 1, sex)
            family = Family.objects.create(
                applicant_name=name,
                applicant_id_number=id_number,
                household_type="agricultural",
                household_region=village,
                births_certified_on=starts_on,
                births_certified_note="村、乡镇已确认（示例）",
            )
            child_state = {"special_death": "dead", "special_disability": "disabled"}
            FamilyChild.objects.create(
                family=family,
                sex="2",
                birth_date=datetime.date(born + 26, 5, 1),
                state=child_state.get(code, "living"),
                death_date=datetime.date(year - 4, 6, 1) if code == "special_death" else None,
                disability_grade=2 if code == "special_disability" else None,
            )
            application = Application.objects.create(
                family=family,
                programme=programmes[code],
                id_number=id_number,
                name=name,
                applied_on=starts_on - datetime.timedelta(days=60),
                status=Application.Status.APPROVED,
                decided_on=starts_on - datetime.timedelta(days=10),
                decided_by=admin,
            )
            Benefit.objects.create(
                application=application,
                family=family,
                programme=programmes[code],
                id_number=id_number,
                name=name,
                bank_card=f"6217{county.code}{n:09d}",
                starts_on=starts_on,
                status=status,
                status_reason=reason,
                status_changed_on=starts_on if reason else None,
            )
        last_year = payments.make_list(acting_user=admin, county=county, year=year - 1)
        payments.export_list(acting_user=admin, payment_list=last_year, file_format="xlsx")
        lines = list(payments.ordered_lines(last_year))
        returned = settings.VAR_DIR / "demo" / f"bank-return-{year - 1}.csv"
        returned.parent.mkdir(parents=True, exist_ok=True)
        with returned.open("w", encoding=CSV_ENCODING, newline="") as handle:
            writer = CsvWriter(handle)
            writer.writerow(["序号", "公民身份号码", "一卡通账号", "结果", "失败原因"])
            for serial, line in enumerate(lines, start=1):
                failed = serial == 2
                writer.writerow(
                    [
                        serial,
                        line.id_number,
                        line.bank_card,
                        "失败" if failed else "成功",
                        "账户已挂失" if failed else "",
                    ]
                )
        payments.import_return(acting_user=admin, payment_list=last_year, path=returned)
