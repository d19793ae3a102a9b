"""Help request import and export rows. Changes go through ``help_requests.services``;
must not touch the other sub-domains.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from liudong.accounts.roles import CHANGE_PEOPLE, can
from liudong.actors import Actor, is_operator
from liudong.people import idnumbers
from liudong.services.help_requests import services as help_services
from liudong.services.models import (
    HelpCategory,
    HelpRequest,
    HelpStatus,
)
from liudong.services.spreadsheets import (
    Cell,
    RowProblem,
    Sheet,
    SheetTarget,
    by_number,
    check_same_person,
    day_cell,
    find_person,
    one_of,
    parse_choice,
    parse_date,
    parse_optional_date,
    parse_region,
    parse_text,
    run_rows,
    save_row,
    write_sheet,
    zh_name,
)
from liudong.tabular import ImportSummary, read_table

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


def help_request_rows(requests: Iterable[HelpRequest]) -> Iterable[list]:
    for item in requests:
        yield [
            idnumbers.mask(item.person.id_number),
            item.person.name,
            item.region_id,
            zh_name(HELP_CATEGORY_ZH, item.category),
            zh_name(HELP_STATUS_ZH, item.status),
            day_cell(item.received_on),
            day_cell(item.deadline),
            item.handler.get_full_name() or item.handler.username if item.handler else "",
            item.outcome,
            day_cell(item.resolved_on),
            item.pk,
        ]


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


def parse_help_category(value: Cell) -> str:
    """A category name or code; blank stays blank for the service to refuse."""
    return parse_choice(value, HelpCategory, HELP_CATEGORY_ZH, "category", _("category"))


def import_help_requests(path: Path, *, acting_user: Actor, commit: bool = True) -> ImportSummary:
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
            current = one_of(
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
        status = parse_choice(values["status"], HelpStatus, HELP_STATUS_ZH, "status", _("status"))
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
            current,
            values,
            acting_user=acting_user,
            create=partial(help_services.create_help_request, person=person, region=region),
            update=(help_services.update_help_request, "help_request"),
        )

    return run_rows(rows, one_row, commit=commit, denied_field="id_number")


HELP_SHEET = Sheet(HELP_HEADER, help_request_rows, "权益维护", "help requests", HelpRequest)


def write_help_requests(
    requests: Iterable[HelpRequest], target: SheetTarget, *, acting_user: Actor, region: str
) -> int:
    """The listed help requests as xlsx, ID numbers masked; the export is logged."""
    return write_sheet(HELP_SHEET, requests, target, acting_user=acting_user, region=region)
