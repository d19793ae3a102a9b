"""Spreadsheets of the services app: importing from xlsx/csv and exporting as xlsx every
kind of services record (help requests, service records and their follow-ups, campaigns
and their activities, association branches with members and activities), ID numbers
masked and never a service's result. Each import reads the columns its export writes, so
an export re-imports unchanged: where a person's number is masked, the row carries the
record's 编号 (see ``by_number``).

The web pages and (later) the command line call these; every row goes through the
``services`` functions, so an imported row obeys the same rules as one typed in a form.
Imports do not touch models directly and never read a person outside the caller's scope.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Callable, Iterable
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from liudong.accounts.roles import CHANGE_PEOPLE, can
from liudong.actors import is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people import idnumbers
from liudong.people.models import Person
from liudong.regions.models import Region
from liudong.regions.services import resolve_region
from liudong.safesheet import write_table
from liudong.tabular import ImportSummary, read_table, row_problems

from . import services
from .models import (
    SERVICE_TYPE_ZH,
    Activity,
    AssociationActivity,
    AssociationBranch,
    Campaign,
    CampaignKind,
    ContraceptiveMethod,
    FollowUp,
    HelpCategory,
    HelpRequest,
    HelpStatus,
    MemberRole,
    Membership,
    ServiceRecord,
    ServiceType,
)
from .servicesheet import write_service_sheet

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
    if "*" in str(raw or ""):
        raise RowProblem(
            "id_number",
            _(
                "A masked ID number (as an export writes it) does not say whose it is: "
                "give the full number, or the record's 编号."
            ),
        )
    try:
        value = idnumbers.parse(str(raw or "")).value
    except idnumbers.IdNumberError as exc:
        raise RowProblem("id_number", str(exc)) from exc
    persons = Person.objects.in_scope(user)
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
            if problems := row_problems(values):
                summary.rejected.extend(problems)  # a control character in a cell
                continue
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


def save_row(acting_user, current, values: dict, *, create, update: tuple, read=getattr) -> str:
    """One imported row through the services: ``create(acting_user=…, **values)`` when
    nothing matches the row's key (``current`` None); else the service ``update[0]`` with
    the record as its keyword ``update[1]`` and the values that differ; else nothing. A
    value None is a blank cell: left as it is (a new record takes the service's default),
    so an export, which leaves out what it does not show, re-imports unchanged."""
    given = {name: value for name, value in values.items() if value is not None}
    if current is None:
        create(acting_user=acting_user, **given)
        return "imported"
    changes = {name: value for name, value in given.items() if read(current, name) != value}
    if not changes:
        return "unchanged"
    service, keyword = update
    service(acting_user=acting_user, **{keyword: current}, **changes)
    return "updated"


def parse_region(value, field: str = "region") -> Region:
    try:
        return resolve_region(str(value or "").strip())
    except ValidationError as exc:
        raise RowProblem(field, " ".join(exc.messages)) from exc


def parse_text(value) -> str | None:
    """A text cell; None when blank (left as it is)."""
    text = str(value if value is not None else "").strip()
    return text or None


def parse_optional_date(value, field: str) -> datetime.date | None:
    return None if value in (None, "") else parse_date(value, field)


def parse_optional_count(value, field: str) -> int | None:
    return None if value in (None, "") else parse_count(value, field)


def by_number(records, value, field: str = "number"):
    """The record a file's 编号 column names among ``records`` (the caller's); None when
    the cell is blank. An export writes this number because its ID numbers are masked:
    a masked number cannot say whose record a row is, the record's own number can."""
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number cell Excel keeps as 12.0
    text = str(value).strip()
    valid = text.isascii() and text.isdigit() and 0 < len(text) < 19
    record = records.filter(pk=int(text)).first() if valid else None
    if record is None:
        raise RowProblem(
            field, _("No record number “%(number)s” in your region.") % {"number": text}
        )
    return record


def check_same_person(value, person: Person, number: int) -> None:
    """A row naming a record by its number must not name another person: the ID number
    cell, when filled, is hers in full or masked as the export wrote it."""
    text = str(value or "").strip().upper()
    if text and text not in (person.id_number, idnumbers.mask(person.id_number)):
        raise RowProblem(
            "id_number",
            _("%(given)s is not the ID number of the person of record %(number)s.")
            % {"given": text, "number": number},
        )


def import_members(path, *, branch: AssociationBranch, acting_user, commit: bool = True):
    """Members of ``branch`` from a file (公民身份号码, 角色, 入会日期). A person already an
    open member is updated when role or date differ, else left unchanged, so importing
    the same file twice changes nothing the second time. Raises ``TableError`` when the
    file as a whole cannot be read."""
    rows = read_table(path, MEMBER_COLUMNS, MEMBER_REQUIRED)

    def one_row(values: dict) -> str:
        person = find_person(acting_user, values["id_number"])
        return save_row(
            acting_user,
            Membership.objects.filter(branch=branch, person=person, left_on__isnull=True).first(),
            {
                "joined_on": parse_date(values["joined_on"], "joined_on"),
                "role": parse_role(values["role"]),
            },
            create=partial(services.create_membership, branch=branch, person=person),
            update=(services.update_membership, "membership"),
        )

    return _run(rows, one_row, commit=commit, denied_field="id_number")


def import_activities(path, *, campaign: Campaign, acting_user, commit: bool = True):
    """Activities of ``campaign`` from a file (日期, 地点, 区划代码, 参加人数, 宣传品,
    避孕药具). An activity of the same date, region and place is updated (or left
    unchanged), so importing the same file twice changes nothing the second time."""
    rows = read_table(path, ACTIVITY_COLUMNS, ACTIVITY_REQUIRED)

    def one_row(values: dict) -> str:
        key = {
            "date": parse_date(values["date"], "date"),
            "region": parse_region(values["region"]),
            "place": str(values["place"] or "").strip(),
        }
        return save_row(
            acting_user,
            Activity.objects.filter(campaign=campaign, **key).first(),
            {name: parse_count(values[name], name) for name in COUNT_FIELDS},
            create=partial(services.create_activity, campaign=campaign, **key),
            update=(services.update_activity, "activity"),
        )

    return _run(rows, one_row, commit=commit, denied_field="region")


# --- exports -------------------------------------------------------------------------------

# The help-request sheet: the import reads the columns it writes. Its ID numbers are
# masked, so a row of an export names its request by 编号 (the request's number); a new
# request in a file names her by her full ID number instead.
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
    "编号",
]
MEMBER_HEADER = ["公民身份号码", "姓名", "角色", "入会日期", "退会日期"]

# The names the offices write, first the one an export writes (in Chinese whatever the
# interface language, like SERVICE_TYPE_ZH); codes and interface labels are taken too.
HELP_CATEGORY_ZH = {
    "欠薪": HelpCategory.WAGES,
    "拖欠工资": HelpCategory.WAGES,
    "子女入学": HelpCategory.SCHOOLING,
    "住房": HelpCategory.HOUSING,
    "住房情况": HelpCategory.HOUSING,
    "健康": HelpCategory.HEALTH,
    "其他": HelpCategory.OTHER,
}
HELP_STATUS_ZH = {
    "待办": HelpStatus.OPEN,
    "办理中": HelpStatus.IN_PROGRESS,
    "已解决": HelpStatus.RESOLVED,
    "已转办": HelpStatus.REFERRED,
    "已关闭": HelpStatus.CLOSED,
}
CAMPAIGN_KIND_ZH = {
    "温暖冬春行动": CampaignKind.WARM_WINTER,
    "世界人口日": CampaignKind.POPULATION_DAY,
    "协会活动日": CampaignKind.ASSOCIATION_DAY,
    "其他": CampaignKind.OTHER,
}


def _zh(names: dict, code: str) -> str:
    """The first Chinese name of ``code`` in ``names`` (the one an export writes)."""
    return next((name for name, value in names.items() if value == code), code)


def _day(value) -> str:
    return value.isoformat() if value else ""


def _write_logged(
    target,
    header: list[str],
    rows: Iterable[list],
    *,
    sheet_title: str,
    acting_user,
    region: str,
    what: str,
    obj=None,
    model=None,
) -> int:
    """Write the rows as xlsx and log the export (who, where, what, how many rows)."""
    rows = list(rows)
    write_table(target, header, rows, sheet_title=sheet_title)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=obj,
        object_type="" if model is None else model._meta.label_lower,
        object_repr="" if obj is not None else f"{what} under {region} ({len(rows)} rows)",
        region=region,
        detail={"rows": len(rows), "format": "xlsx", "what": what},
    )
    return len(rows)


def help_request_rows(requests) -> Iterable[list]:
    for item in requests:
        yield [
            idnumbers.mask(item.person.id_number),
            item.person.name,
            item.region_id,
            _zh(HELP_CATEGORY_ZH, item.category),
            _zh(HELP_STATUS_ZH, item.status),
            _day(item.received_on),
            _day(item.deadline),
            item.handler.get_full_name() or item.handler.username if item.handler else "",
            item.outcome,
            _day(item.resolved_on),
            item.pk,
        ]


def write_help_requests(requests, target, *, acting_user, region: str) -> int:
    """The listed help requests as xlsx, ID numbers masked; the export is logged."""
    return write_sheet("help_requests", requests, target, acting_user=acting_user, region=region)


def write_members(branch: AssociationBranch, target, *, acting_user) -> int:
    """The branch's members (past ones too) as xlsx, ID numbers masked; logged."""
    memberships = branch.memberships.select_related("person").order_by("left_on", "joined_on")
    rows = (
        [
            idnumbers.mask(m.person.id_number),
            m.person.name,
            str(m.get_role_display()),
            _day(m.joined_on),
            _day(m.left_on),
        ]
        for m in memberships
    )
    return _write_logged(
        target,
        MEMBER_HEADER,
        rows,
        sheet_title="协会会员",
        acting_user=acting_user,
        region=branch.region_id,
        what="association members",
        obj=branch,
    )


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
        if is_operator(acting_user)
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


# --- help requests, follow-ups, campaigns and associations in and out ------------------------
#
# Each import reads the columns its export writes, so an export re-imports unchanged. Where
# an export masks ID numbers, its rows carry the record's 编号; a row without one names the
# person by her full ID number and the record by its natural key. A blank cell leaves the
# record's value as it is (a new record takes the service's default).

HELP_COLUMNS = {
    "id_number": ("公民身份号码", "身份证号码", "身份证号"),
    "region": ("受理地行政区划代码", "区划代码"),
    "category": ("类别", "诉求类别"),
    "status": ("状态",),
    "received_on": ("受理日期",),
    "deadline": ("办结期限",),
    "description": ("情况说明",),
    "outcome": ("办理结果",),
    "resolved_on": ("办结日期",),
    "number": ("编号", "记录编号"),
}
HELP_REQUIRED = ("id_number", "category", "received_on")


def parse_help_category(value) -> str:
    """A category name or code; blank stays blank for the service to refuse."""
    return _choice(value, HelpCategory, HELP_CATEGORY_ZH, "category", _("category"))


def _one_of(records, field: str, message: str):
    """The record matching a row's key, None when none does; several is the row's problem."""
    found = list(records[:2])
    if len(found) > 1:
        raise RowProblem(field, message)
    return found[0] if found else None


def import_help_requests(path, *, acting_user, commit: bool = True) -> ImportSummary:
    """Help requests from a file (公民身份号码, 类别, 受理日期, 办结期限, 情况说明, 状态,
    办理结果, 办结日期, 受理地行政区划代码, 编号) through ``create_help_request`` and
    ``update_help_request``. A row with 编号 is that request (the ID number, masked or
    full, must be its person's); else her full ID number finds her file in the caller's
    scope and the same person, category and date received is updated or left unchanged.
    A blank 办结期限 is the service's 15 days on a new request. Only roles that see
    personal affairs import them (they could not tell an existing request otherwise)."""
    if not is_operator(acting_user) and not can(acting_user, CHANGE_PEOPLE):
        raise PermissionDenied(_("Your role does not see help requests."))
    rows = read_table(path, HELP_COLUMNS, HELP_REQUIRED, free_text=("description",))
    requests = HelpRequest.objects.in_scope(acting_user).select_related("person")

    def one_row(values: dict) -> str:
        category = parse_help_category(values["category"])
        received_on = parse_date(values["received_on"], "received_on")
        current = by_number(requests, values["number"])
        if current is not None:
            person = current.person
            check_same_person(values["id_number"], person, current.pk)
        else:
            person = find_person(acting_user, values["id_number"])
            current = _one_of(
                requests.filter(person=person, category=category, received_on=received_on),
                "number",
                _("Several of her requests have this category and date: give the 编号."),
            )
        region = None if values["region"] in (None, "") else parse_region(values["region"])
        if current is not None and region is not None and region.code != current.region_id:
            raise RowProblem(
                "region",
                _("A request stays with the office that received it (%(code)s).")
                % {"code": current.region_id},
            )
        status = _choice(values["status"], HelpStatus, HELP_STATUS_ZH, "status", _("status"))
        values = {
            "category": category,
            "received_on": received_on,
            "deadline": parse_optional_date(values["deadline"], "deadline"),
            "description": parse_text(values["description"]),
            "status": status or None,
            "outcome": parse_text(values["outcome"]),
            "resolved_on": parse_optional_date(values["resolved_on"], "resolved_on"),
        }
        return save_row(
            acting_user,
            current,
            values,
            create=partial(services.create_help_request, person=person, region=region),
            update=(services.update_help_request, "help_request"),
        )

    return _run(rows, one_row, commit=commit, denied_field="id_number")


# Whose service and which one, then the follow-up itself (its 编号 last).
FOLLOWED_SERVICE = ["公民身份号码", "姓名", "服务类型", "服务日期"]
FOLLOW_UP_HEADER = [*FOLLOWED_SERVICE, "随访日期", "完成日期", "备注", "编号"]
FOLLOW_UP_COLUMNS = {
    "id_number": ("公民身份号码", "身份证号码", "身份证号"),
    "service_type": ("服务类型",),
    "service_date": ("服务日期",),
    "due_on": ("随访日期", "应随访日期"),
    "done_on": ("完成日期", "随访完成日期"),
    "notes": ("备注", "随访情况"),
    "number": ("编号", "随访编号"),
}
FOLLOW_UP_REQUIRED = ("id_number", "service_type", "service_date", "due_on")


def import_follow_ups(path, *, acting_user, commit: bool = True) -> ImportSummary:
    """Follow-ups from a file (公民身份号码, 服务类型, 服务日期 name the service record;
    随访日期, 完成日期, 备注; 编号) through ``schedule_follow_up`` and ``update_follow_up``.
    A row with 编号 is that follow-up (its due date may move); else the service's
    follow-up due that day is updated or left unchanged, or scheduled. The worklist's
    export comes back with 完成日期 filled in: those follow-ups are marked done."""
    rows = read_table(path, FOLLOW_UP_COLUMNS, FOLLOW_UP_REQUIRED, free_text=("notes",))
    follow_ups = FollowUp.objects.in_scope(acting_user).select_related("service", "service__person")

    def one_row(values: dict) -> str:
        service_type = parse_service_type(values["service_type"])
        service_date = parse_date(values["service_date"], "service_date")
        due_on = parse_date(values["due_on"], "due_on")
        current = by_number(follow_ups, values["number"])
        if current is not None:
            service = current.service
            check_same_person(values["id_number"], service.person, current.pk)
            if (service.service_type, service.date) != (service_type, service_date):
                raise RowProblem(
                    "service_date",
                    _("Follow-up %(number)s follows another service (%(service)s %(day)s).")
                    % {
                        "number": current.pk,
                        "service": SERVICE_TYPE_ZH.get(service.service_type),
                        "day": service.date,
                    },
                )
        else:
            person = find_person(acting_user, values["id_number"])
            records = services.service_records_for(acting_user).filter(
                person=person, service_type=service_type, date=service_date
            )
            service = records.order_by("pk").first()
            if service is None:
                raise RowProblem(
                    "service_date",
                    _("No service “%(service)s” of %(day)s is recorded for her in your region.")
                    % {"service": SERVICE_TYPE_ZH[ServiceType(service_type)], "day": service_date},
                )
            current = service.follow_ups.filter(due_on=due_on).order_by("pk").first()
        return save_row(
            acting_user,
            current,
            {
                "due_on": due_on,
                "done_on": parse_optional_date(values["done_on"], "done_on"),
                "notes": parse_text(values["notes"]),
            },
            create=partial(services.schedule_follow_up, service=service),
            update=(services.update_follow_up, "follow_up"),
        )

    return _run(rows, one_row, commit=commit, denied_field="id_number")


def follow_up_rows(follow_ups) -> Iterable[list]:
    """One row per follow-up (masked ID number; never the service's result)."""
    for follow_up in follow_ups:
        service = follow_up.service
        yield [
            idnumbers.mask(service.person.id_number),
            service.person.name,
            SERVICE_TYPE_ZH.get(service.service_type, service.service_type),
            _day(service.date),
            _day(follow_up.due_on),
            _day(follow_up.done_on),
            follow_up.notes,
            follow_up.pk,
        ]


CAMPAIGN_COLUMNS = {
    "name": ("名称", "活动名称"),
    "kind": ("类型", "活动类型"),
    "starts_on": ("开始日期",),
    "ends_on": ("结束日期",),
    "regions": ("区划代码", "覆盖区划代码"),
    "organiser": ("组织单位代码",),
    "description": ("说明", "活动说明"),
}
CAMPAIGN_REQUIRED = ("name", "kind", "starts_on", "ends_on")
CAMPAIGN_HEADER = [names[0] for names in CAMPAIGN_COLUMNS.values()]


def parse_regions(value) -> list[Region] | None:
    """A list of region codes (separated by spaces, commas or 、), ordered by code; None
    when blank."""
    codes = [code for code in re.split(r"[\s,，、;；]+", str(value or "")) if code]
    regions = {region.code: region for region in (parse_region(c, "regions") for c in codes)}
    return [regions[code] for code in sorted(regions)] or None


def _campaign_value(campaign: Campaign, field: str):
    if field == "regions":
        return list(campaign.regions.order_by("code"))
    return getattr(campaign, field)


def import_campaigns(path, *, acting_user, commit: bool = True) -> ImportSummary:
    """Campaigns from a file (名称, 类型, 开始日期, 结束日期, 区划代码, 组织单位代码, 说明)
    through ``create_campaign`` and ``update_campaign``. A campaign is its name and start
    (and organising region, when given): one the caller sees is updated or left unchanged
    (only its organising office may change it), else it is created, organised by the
    caller's region unless 组织单位代码 names one below. Blank 区划代码: the organiser's
    whole region."""
    rows = read_table(path, CAMPAIGN_COLUMNS, CAMPAIGN_REQUIRED, free_text=("description",))
    campaigns = Campaign.objects.in_scope(acting_user)

    def one_row(values: dict) -> str:
        name = parse_text(values["name"]) or ""
        starts_on = parse_date(values["starts_on"], "starts_on")
        matching = campaigns.filter(name=name, starts_on=starts_on)
        organiser = None
        if values["organiser"] not in (None, ""):
            organiser = parse_region(values["organiser"], "organiser_region")
            matching = matching.filter(organiser_region=organiser)
        kind = _choice(values["kind"], CampaignKind, CAMPAIGN_KIND_ZH, "kind", _("kind"))
        return save_row(
            acting_user,
            _one_of(
                matching,
                "organiser_region",
                _("Several campaigns of this name start that day: give 组织单位代码."),
            ),
            {
                "kind": kind,
                "ends_on": parse_date(values["ends_on"], "ends_on"),
                "regions": parse_regions(values["regions"]),
                "description": parse_text(values["description"]),
            },
            create=partial(
                services.create_campaign, name=name, starts_on=starts_on, organiser_region=organiser
            ),
            update=(services.update_campaign, "campaign"),
            read=_campaign_value,
        )

    return _run(rows, one_row, commit=commit, denied_field="organiser_region")


def campaign_rows(campaigns) -> Iterable[list]:
    for campaign in campaigns:
        yield [
            campaign.name,
            _zh(CAMPAIGN_KIND_ZH, campaign.kind),
            _day(campaign.starts_on),
            _day(campaign.ends_on),
            "、".join(sorted(region.code for region in campaign.regions.all())),
            campaign.organiser_region_id,
            campaign.description,
        ]


ACTIVITY_HEADER = [names[0] for names in ACTIVITY_COLUMNS.values()]


def activity_rows(activities) -> Iterable[list]:
    """A campaign's activities in the columns ``import_activities`` reads."""
    for activity in activities:
        counts = [getattr(activity, name) for name in COUNT_FIELDS]
        yield [_day(activity.date), activity.place, activity.region_id, *counts]


BRANCH_COLUMNS = {
    "name": ("名称", "协会名称"),
    "region": ("区划代码", "行政区划代码"),
    "place": ("地点", "所在地点"),
    "founded_on": ("成立日期",),
}
BRANCH_HEADER = [names[0] for names in BRANCH_COLUMNS.values()]


def import_branches(path, *, acting_user, commit: bool = True) -> ImportSummary:
    """Association branches from a file (名称, 区划代码, 地点, 成立日期) through
    ``create_branch`` and ``update_branch``: a branch of that name in that region is
    updated or left unchanged, else created (in the caller's region)."""
    rows = read_table(path, BRANCH_COLUMNS, ("name", "region"))
    branches = AssociationBranch.objects.in_scope(acting_user)

    def one_row(values: dict) -> str:
        key = {"name": parse_text(values["name"]) or "", "region": parse_region(values["region"])}
        return save_row(
            acting_user,
            branches.filter(**key).first(),
            {
                "place": parse_text(values["place"]),
                "founded_on": parse_optional_date(values["founded_on"], "founded_on"),
            },
            create=partial(services.create_branch, **key),
            update=(services.update_branch, "branch"),
        )

    return _run(rows, one_row, commit=commit, denied_field="region")


def branch_rows(branches) -> Iterable[list]:
    for branch in branches:
        yield [branch.name, branch.region_id, branch.place, _day(branch.founded_on)]


ASSOCIATION_ACTIVITY_COLUMNS = {
    "date": ("日期", "活动日期"),
    "title": ("主题", "活动主题", "标题"),
    "participants_count": ("参加人数",),
    "notes": ("备注",),
}
ASSOCIATION_ACTIVITY_HEADER = [names[0] for names in ASSOCIATION_ACTIVITY_COLUMNS.values()]


def import_association_activities(
    path, *, branch: AssociationBranch, acting_user, commit: bool = True
) -> ImportSummary:
    """Activities of ``branch`` from a file (日期, 主题, 参加人数, 备注) through
    ``create_association_activity`` and ``update_association_activity``: an activity of
    that date and title is updated or left unchanged, else created."""
    rows = read_table(path, ASSOCIATION_ACTIVITY_COLUMNS, ("date", "title"), free_text=("notes",))

    def one_row(values: dict) -> str:
        key = {
            "date": parse_date(values["date"], "date"),
            "title": parse_text(values["title"]) or "",
        }
        return save_row(
            acting_user,
            branch.activities.filter(**key).first(),
            {
                "participants_count": parse_optional_count(
                    values["participants_count"], "participants_count"
                ),
                "notes": parse_text(values["notes"]),
            },
            create=partial(services.create_association_activity, branch=branch, **key),
            update=(services.update_association_activity, "activity"),
        )

    return _run(rows, one_row, commit=commit, denied_field="branch")


def association_activity_rows(activities) -> Iterable[list]:
    for activity in activities:
        yield [_day(activity.date), activity.title, activity.participants_count, activity.notes]


@dataclasses.dataclass(frozen=True)
class Sheet:
    """An export: its header, how a record becomes a row, the sheet's title, and what the
    audit log calls it."""

    header: list[str]
    rows: Callable[[Iterable], Iterable[list]]
    title: str
    what: str
    model: type


SHEETS = {
    "help_requests": Sheet(
        HELP_HEADER, help_request_rows, "权益维护", "help requests", HelpRequest
    ),
    "follow_ups": Sheet(FOLLOW_UP_HEADER, follow_up_rows, "随访", "follow-ups", FollowUp),
    "campaigns": Sheet(CAMPAIGN_HEADER, campaign_rows, "专项活动", "campaigns", Campaign),
    "campaign_activities": Sheet(
        ACTIVITY_HEADER, activity_rows, "活动", "campaign activities", Activity
    ),
    "branches": Sheet(
        BRANCH_HEADER, branch_rows, "计生协会", "association branches", AssociationBranch
    ),
    "association_activities": Sheet(
        ASSOCIATION_ACTIVITY_HEADER,
        association_activity_rows,
        "协会活动",
        "association activities",
        AssociationActivity,
    ),
}


def write_sheet(name: str, records, target, *, acting_user, region: str, obj=None) -> int:
    """The records (as the caller's page lists them) as the xlsx ``SHEETS[name]``, the
    export logged under ``obj`` (the campaign or branch they belong to) or the region."""
    sheet = SHEETS[name]
    return _write_logged(
        target,
        sheet.header,
        sheet.rows(records),
        sheet_title=sheet.title,
        acting_user=acting_user,
        region=region,
        what=sheet.what,
        obj=obj,
        model=None if obj is not None else sheet.model,
    )
