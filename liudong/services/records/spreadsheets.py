"""Service record and follow-up imports and exports. Changes go through
``records.services``; must not touch campaigns or associations.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from liudong.actors import Actor, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people import idnumbers
from liudong.services.models import (
    SERVICE_TYPE_ZH,
    ContraceptiveMethod,
    FollowUp,
    ServiceRecord,
    ServiceType,
)
from liudong.services.records import services as record_services
from liudong.services.servicesheet import service_type_zh, write_service_sheet
from liudong.services.spreadsheets import (
    Cell,
    RowProblem,
    Sheet,
    SheetTarget,
    by_number,
    check_same_person,
    day_cell,
    find_person,
    parse_choice,
    parse_date,
    parse_optional_date,
    parse_text,
    run_rows,
    save_row,
)
from liudong.tabular import ImportSummary, read_table

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


def parse_service_type(value: Cell) -> str:
    names = {zh: code for code, zh in SERVICE_TYPE_ZH.items()}
    code = parse_choice(value, ServiceType, names, "service_type", _("type of service"))
    if not code:
        raise RowProblem("service_type", _("service_type is required."))
    return code


def parse_method(value: Cell) -> str:
    names = {**METHOD_ZH, "其他": ContraceptiveMethod.OTHER}
    return parse_choice(value, ContraceptiveMethod, names, "contraceptive_method", _("method"))


def parse_yes_no(value: Cell, field: str, *, empty: bool) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if not text:
        return empty
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowProblem(field, _("“%(value)s”: write 是 or 否.") % {"value": value})


def import_service_records(path: Path, *, acting_user: Actor, commit: bool = True) -> ImportSummary:
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
        existing = record_services.service_records_for(acting_user).filter(
            person=person, service_type=service_type, date=day
        )
        if consent and existing.exists():
            return "unchanged"
        record_services.create_service_record(
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

    return run_rows(rows, one_row, commit=commit, denied_field="id_number")


def write_service_records(
    records: QuerySet[ServiceRecord],
    target: SheetTarget,
    *,
    acting_user: Actor,
    region: str,
    filters: dict[str, str],
) -> int:
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


def import_follow_ups(path: Path, *, acting_user: Actor, commit: bool = True) -> ImportSummary:
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
        service: ServiceRecord | None
        if current is not None:
            service = current.service
            check_same_person(values["id_number"], service.person, current.pk)
            if (service.service_type, service.date) != (service_type, service_date):
                raise RowProblem(
                    "service_date",
                    _("Follow-up %(number)s follows another service (%(service)s %(day)s).")
                    % {
                        "number": current.pk,
                        "service": service_type_zh(service.service_type),
                        "day": service.date,
                    },
                )
        else:
            person = find_person(acting_user, values["id_number"])
            records = record_services.service_records_for(acting_user).filter(
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
            current,
            {
                "due_on": due_on,
                "done_on": parse_optional_date(values["done_on"], "done_on"),
                "notes": parse_text(values["notes"]),
            },
            acting_user=acting_user,
            create=partial(record_services.schedule_follow_up, service=service),
            update=(record_services.update_follow_up, "follow_up"),
        )

    return run_rows(rows, one_row, commit=commit, denied_field="id_number")


def follow_up_rows(follow_ups: Iterable[FollowUp]) -> Iterable[list]:
    """One row per follow-up (masked ID number; never the service's result)."""
    for follow_up in follow_ups:
        service = follow_up.service
        yield [
            idnumbers.mask(service.person.id_number),
            service.person.name,
            service_type_zh(service.service_type),
            day_cell(service.date),
            day_cell(follow_up.due_on),
            day_cell(follow_up.done_on),
            follow_up.notes,
            follow_up.pk,
        ]


FOLLOW_UP_SHEET = Sheet(FOLLOW_UP_HEADER, follow_up_rows, "随访", "follow-ups", FollowUp)
