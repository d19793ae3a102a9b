"""Spreadsheets of the services app: importing association members, campaign activities
and service records from xlsx/csv, and exporting help requests, members and service
records (ID numbers masked; never a service's result).

The web pages and (later) the command line call these; every row goes through the
``services`` functions, so an imported row obeys the same rules as one typed in a form.
Imports do not touch models directly and never read a person outside the caller's scope.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people import idnumbers
from liudong.people.models import Person
from liudong.regions.models import Region
from liudong.regions.services import resolve_region
from liudong.tabular import ImportSummary, read_table, write_table

from . import services
from .models import (
    SERVICE_TYPE_ZH,
    Activity,
    AssociationBranch,
    Campaign,
    ContraceptiveMethod,
    HelpRequest,
    MemberRole,
    Membership,
    ServiceRecord,
    ServiceType,
)

MEMBER_COLUMNS = {
    "id_number": ("公民身份号码", "身份证号码", "身份证号"),
    "role": ("角色",),
    "joined_on": ("入会日期",),
}
MEMBER_REQUIRED = ("id_number", "joined_on")

ACTIVITY_COLUMNS = {
    "date": ("日期", "活动日期"),
    "place": ("地点", "活动地点"),
    "region": ("区划代码", "行政区划代码"),
    "participants_count": ("参加人数", "participants"),
    "materials_count": ("宣传品", "宣传品(份)", "materials"),
    "free_contraceptives_count": ("避孕药具", "免费避孕药具(份)", "contraceptives"),
}
ACTIVITY_REQUIRED = ("date", "region")
COUNT_FIELDS = ("participants_count", "materials_count", "free_contraceptives_count")


class RowProblem(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def parse_date(value, field: str) -> datetime.date:
    """A date cell: an Excel date, or text 2025-01-15, 2025/1/15 or 20250115."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowProblem(field, _("“%(value)s” is not a date (write 2025-01-15).") % {"value": text})


def parse_count(value, field: str) -> int:
    if value in (None, ""):
        return 0
    try:
        number = float(str(value).strip())
    except ValueError:
        number = -1.5
    if number < 0 or number != int(number):
        raise RowProblem(
            field, _("“%(value)s” is not a whole number of 0 or more.") % {"value": value}
        )
    return int(number)


def parse_role(value) -> str:
    if value in (None, ""):
        return MemberRole.MEMBER
    text = str(value).strip()
    for code, label in MemberRole.choices:
        if text.lower() in (code, str(label).lower()):
            return code
    # The Chinese labels, whatever language the server answers in.
    chinese = {"会员": "member", "理事": "council", "会长": "chair", "志愿者": "volunteer"}
    if text in chinese:
        return chinese[text]
    raise RowProblem(
        "role",
        _("“%(value)s” is not a role; use one of: %(roles)s.")
        % {"value": text, "roles": ", ".join(str(label) for _code, label in MemberRole.choices)},
    )


def find_person(user, raw) -> Person:
    """The file with this ID number in the caller's scope (a merged file leads on)."""
    try:
        value = idnumbers.parse(str(raw or "")).value
    except idnumbers.IdNumberError as exc:
        raise RowProblem("id_number", str(exc)) from exc
    persons = Person.objects.all() if user is None else Person.objects.in_scope(user)
    person = persons.filter(id_number=value).first()
    if person is not None and person.merged_into_id:
        person = persons.filter(pk=person.merged_into_id).first()
    if person is None:
        raise RowProblem(
            "id_number",
            _("No file with ID number %(number)s in your region.")
            % {"number": idnumbers.mask(value)},
        )
    return person


def _reject(summary: ImportSummary, row: int, exc: Exception, denied_field: str) -> None:
    if isinstance(exc, PermissionDenied):
        summary.rejected.append({"row": row, "field": denied_field, "message": str(exc)})
    elif isinstance(exc, RowProblem):
        summary.rejected.append({"row": row, "field": exc.field, "message": exc.message})
    elif isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            for message in messages:
                summary.rejected.append({"row": row, "field": field, "message": message})
    elif isinstance(exc, ValidationError):
        for message in exc.messages:
            summary.rejected.append({"row": row, "field": "", "message": message})


def _run(rows: Iterable, one_row, *, commit: bool, denied_field: str) -> ImportSummary:
    """Each row in its own savepoint: a bad row is listed and saves nothing; with
    ``commit`` False (the preview) everything is rolled back at the end."""
    summary = ImportSummary()
    with transaction.atomic():
        for row, values in rows:
            try:
                with transaction.atomic():
                    outcome = one_row(values)
            except (RowProblem, ValidationError, PermissionDenied) as exc:
                _reject(summary, row, exc, denied_field)
                continue
            setattr(summary, outcome, getattr(summary, outcome) + 1)
        if not commit:
            transaction.set_rollback(True)
    return summary


def import_members(path, *, branch: AssociationBranch, acting_user, commit: bool = True):
    """Members of ``branch`` from a file (公民身份号码, 角色, 入会日期). A person already an
    open member is updated when role or date differ, else left unchanged, so importing
    the same file twice changes nothing the second time. Raises ``TableError`` when the
    file as a whole cannot be read."""
    rows = read_table(path, MEMBER_COLUMNS, MEMBER_REQUIRED)

    def one_row(values: dict) -> str:
        person = find_person(acting_user, values["id_number"])
        joined_on = parse_date(values["joined_on"], "joined_on")
        role = parse_role(values["role"])
        current = Membership.objects.filter(
            branch=branch, person=person, left_on__isnull=True
        ).first()
        if current is None:
            services.create_membership(
                acting_user=acting_user,
                branch=branch,
                person=person,
                joined_on=joined_on,
                role=role,
            )
            return "imported"
        if current.role == role and current.joined_on == joined_on:
            return "unchanged"
        services.update_membership(
            acting_user=acting_user, membership=current, role=role, joined_on=joined_on
        )
        return "updated"

    return _run(rows, one_row, commit=commit, denied_field="id_number")


def import_activities(path, *, campaign: Campaign, acting_user, commit: bool = True):
    """Activities of ``campaign`` from a file (日期, 地点, 区划代码, 参加人数, 宣传品,
    避孕药具). An activity of the same date, region and place is updated (or left
    unchanged), so importing the same file twice changes nothing the second time."""
    rows = read_table(path, ACTIVITY_COLUMNS, ACTIVITY_REQUIRED)

    def one_row(values: dict) -> str:
        day = parse_date(values["date"], "date")
        try:
            region = resolve_region(str(values["region"]).strip())
        except ValidationError as exc:
            raise RowProblem("region", " ".join(exc.messages)) from exc
        place = str(values["place"] or "").strip()
        counts = {name: parse_count(values[name], name) for name in COUNT_FIELDS}
        current = Activity.objects.filter(
            campaign=campaign, date=day, region=region, place=place
        ).first()
        if current is None:
            services.create_activity(
                acting_user=acting_user,
                campaign=campaign,
                date=day,
                place=place,
                region=region,
                **counts,
            )
            return "imported"
        if all(getattr(current, name) == value for name, value in counts.items()):
            return "unchanged"
        services.update_activity(acting_user=acting_user, activity=current, **counts)
        return "updated"

    return _run(rows, one_row, commit=commit, denied_field="region")


# --- exports -------------------------------------------------------------------------------

HELP_HEADER = [
    "公民身份号码",
    "姓名",
    "受理地行政区划代码",
    "类别",
    "状态",
    "受理日期",
    "办结期限",
    "经办人",
    "办理结果",
    "办结日期",
]
MEMBER_HEADER = ["公民身份号码", "姓名", "角色", "入会日期", "退会日期"]


def _day(value) -> str:
    return value.isoformat() if value else ""


def write_help_requests(requests, target, *, acting_user, region: str) -> int:
    """The listed help requests as xlsx, ID numbers masked; the export is logged."""
    rows = [
        [
            idnumbers.mask(item.person.id_number),
            item.person.name,
            item.region_id,
            str(item.get_category_display()),
            str(item.get_status_display()),
            _day(item.received_on),
            _day(item.deadline),
            item.handler.get_full_name() or item.handler.username if item.handler else "",
            item.outcome,
            _day(item.resolved_on),
        ]
        for item in requests
    ]
    write_table(target, HELP_HEADER, rows, sheet_title="权益维护")
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type=HelpRequest._meta.label_lower,
        object_repr=f"help requests under {region} ({len(rows)} rows)",
        region=region,
        detail={"rows": len(rows), "format": "xlsx", "what": "help requests"},
    )
    return len(rows)


def write_members(branch: AssociationBranch, target, *, acting_user) -> int:
    """The branch's members (past ones too) as xlsx, ID numbers masked; logged."""
    memberships = branch.memberships.select_related("person").order_by("left_on", "joined_on")
    rows = [
        [
            idnumbers.mask(m.person.id_number),
            m.person.name,
            str(m.get_role_display()),
            _day(m.joined_on),
            _day(m.left_on),
        ]
        for m in memberships
    ]
    write_table(target, MEMBER_HEADER, rows, sheet_title="协会会员")
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=branch,
        region=branch.region_id,
        detail={"rows": len(rows), "format": "xlsx", "what": "association members"},
    )
    return len(rows)


def region_choices(user, *, within: Iterable[str] = (), max_length: int = 12) -> list[Region]:
    """The user's region and the regions below it (down to villages), optionally only
    those inside one of ``within`` (a campaign's regions)."""
    from liudong.regions.codes import subtree_q

    regions = Region.objects.filter(subtree_q(user.region_id, "code")).order_by("code")
    codes = list(within)
    return [
        region
        for region in regions
        if len(region.code) <= max_length
        and (not codes or any(region.code.startswith(code) for code in codes))
    ]


# --- service records -----------------------------------------------------------------------

SERVICE_COLUMNS = {
    "id_number": ("公民身份号码", "身份证号码", "身份证号"),
    "service_type": ("服务类型", "类型"),
    "date": ("服务日期", "日期"),
    "provider_name": ("服务机构", "服务站"),
    "free": ("免费", "是否免费"),
    "consent": ("本人同意", "知情同意"),
    "contraceptive_method": ("避孕方法",),
}
SERVICE_REQUIRED = ("id_number", "service_type", "date")

# The method names the offices write; codes and the interface labels are taken too.
METHOD_ZH = {
    "避孕套": ContraceptiveMethod.CONDOM,
    "安全套": ContraceptiveMethod.CONDOM,
    "口服避孕药": ContraceptiveMethod.ORAL,
    "短效口服避孕药": ContraceptiveMethod.ORAL,
    "紧急避孕药": ContraceptiveMethod.EMERGENCY,
    "紧急避孕": ContraceptiveMethod.EMERGENCY,
    "避孕针": ContraceptiveMethod.INJECTION,
    "注射避孕针": ContraceptiveMethod.INJECTION,
    "宫内节育器": ContraceptiveMethod.IUD,
    "皮下埋植": ContraceptiveMethod.IMPLANT,
    "皮下埋植剂": ContraceptiveMethod.IMPLANT,
}
YES = {"是", "y", "yes", "true", "1", "√", "同意"}
NO = {"否", "n", "no", "false", "0", "×", "不同意"}


def _choice(value, choices, names: dict, field: str, what: str) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    if text in names:
        return str(names[text])
    for code, label in choices.choices:
        if text.lower() in (code, str(label).lower()):
            return code
    raise RowProblem(
        field,
        _("“%(value)s” is not a %(what)s; use one of: %(names)s.")
        % {"value": text, "what": what, "names": "、".join(str(n) for n in names)},
    )


def parse_service_type(value) -> str:
    names = {zh: code for code, zh in SERVICE_TYPE_ZH.items()}
    code = _choice(value, ServiceType, names, "service_type", _("type of service"))
    if not code:
        raise RowProblem("service_type", _("service_type is required."))
    return code


def parse_method(value) -> str:
    names = {**METHOD_ZH, "其他": ContraceptiveMethod.OTHER}
    return _choice(value, ContraceptiveMethod, names, "contraceptive_method", _("method"))


def parse_yes_no(value, field: str, *, empty: bool) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if not text:
        return empty
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowProblem(field, _("“%(value)s”: write 是 or 否.") % {"value": value})


def import_service_records(path, *, acting_user, commit: bool = True) -> ImportSummary:
    """Service records from a file (公民身份号码, 服务类型, 服务日期, 服务机构, 免费, 本人同意,
    避孕方法), each through ``create_service_record``: a row without 本人同意 = 是 is
    refused (she asked for or accepted it, or it is not recorded). A registered station
    of that name in the caller's region becomes the provider. The same service (person,
    type, date) already recorded is left unchanged, so a second import changes nothing."""
    from liudong.places.models import Site

    rows = read_table(path, SERVICE_COLUMNS, SERVICE_REQUIRED)
    stations = (
        {}
        if acting_user is None
        else {
            site.name: site
            for site in Site.objects.in_scope(acting_user).filter(kind=Site.Kind.SERVICE_STATION)
        }
    )

    def one_row(values: dict) -> str:
        person = find_person(acting_user, values["id_number"])
        service_type = parse_service_type(values["service_type"])
        day = parse_date(values["date"], "date")
        method = parse_method(values["contraceptive_method"])
        free = parse_yes_no(values["free"], "free_of_charge", empty=True)
        consent = parse_yes_no(values["consent"], "consent_recorded", empty=False)
        provider_name = str(values["provider_name"] or "").strip()
        provider = stations.get(provider_name)
        existing = services.service_records_for(acting_user).filter(
            person=person, service_type=service_type, date=day
        )
        if consent and existing.exists():
            return "unchanged"
        services.create_service_record(
            acting_user=acting_user,
            person=person,
            service_type=service_type,
            date=day,
            provider=provider,
            provider_name="" if provider else provider_name,
            free_of_charge=free,
            consent_recorded=consent,
            contraceptive_method=method,
        )
        return "imported"

    return _run(rows, one_row, commit=commit, denied_field="id_number")


def service_record_rows(records) -> Iterable[list]:
    """One export row per record (masked ID number; never the result)."""
    for record in records:
        yield [
            idnumbers.mask(record.person.id_number),
            record.person.name,
            SERVICE_TYPE_ZH.get(record.service_type, record.service_type),
            record.date.isoformat(),
            f"{record.region_id} {record.region.name}",
            record.provider.name if record.provider_id else record.provider_name,
            "是" if record.free_of_charge else "否",
            record.campaign.name if record.campaign_id else "",
        ]


def write_service_sheet(records, target) -> int:
    """The records as the 服务记录 workbook the command and the page share; returns the
    number of rows (the caller logs the export)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "服务记录"
    sheet.append(services.SERVICE_EXPORT_HEADERS)
    rows = 0
    for row in service_record_rows(records.iterator(chunk_size=2000)):
        sheet.append(row)
        rows += 1
    for letter, width in zip("ABCDEFGH", (22, 10, 18, 12, 28, 24, 8, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    workbook.save(target)
    return rows


def write_service_records(records, target, *, acting_user, region: str, filters: dict) -> int:
    """The listed records (a page's filter) as xlsx; the export is logged with the filter."""
    rows = write_service_sheet(records, target)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type=ServiceRecord._meta.label_lower,
        object_repr=f"service records under {region} ({rows} rows)",
        region=region,
        detail={"rows": rows, "format": "xlsx", "what": "service records", "filter": filters},
    )
    return rows
