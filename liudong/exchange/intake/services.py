"""Department intake, the decisions (issue 7, part 5): the reconciliation report of a batch,
which rows a user sees and may decide (scoped_rows, decidable_rows, scoped_batches), confirming
a row through the people services (``save_arrival``, ``register_arrival``, ``update_person``) or
dismissing it with a reason, and the xlsx export. Reading a list and reconciling it into a batch
is ``reading``'s.

This module must not write person files other than through ``liudong.people.services`` (the
correction of an open stay's address and employer below is the one write it makes itself, with
the same audit images the services write). Every decision and export is in the audit log.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import CHANGE_PEOPLE
from liudong.actors import Actor, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import allowed, authorize
from liudong.people import idnumbers
from liudong.people import services as people
from liudong.people.models import Person
from liudong.people.rows import (
    ETHNICITY_BY_WORD,
    MARITAL_BY_WORD,
    REASON_BY_WORD,
    Problem,
    text,
)
from liudong.regions.models import Region
from liudong.regions.services import resolve_region_noting

from ..models import IntakeBatch, IntakeRow
from .reading import NOTE_MAX, TEXT_MAX

Category = IntakeRow.Category
Status = IntakeRow.Status

# --- the reconciliation report --------------------------------------------------------------


def _row_entry(row: IntakeRow) -> dict:
    entry = {
        "row": row.row_number,
        "id": row.pk,
        "id_number": idnumbers.mask(row.id_number),
        "name": row.name,
        "region": row.region,
        "date": row.date.isoformat(),
        "status": row.status,
    }
    if row.category == Category.CHANGED:
        entry["differences"] = row.differences
    if row.category == Category.UNMATCHED:
        entry["reason"] = row.reason
        entry["message"] = row.message
    return entry


def report(batch: IntakeBatch, *, acting_user: Actor) -> dict:
    """The reconciliation report as ``--format json`` prints it (masked ID numbers); only
    the rows the user may see."""
    rows = scoped_rows(acting_user).filter(batch=batch).order_by("row_number")
    result: dict = {
        "batch": batch.pk,
        "source": batch.source,
        "file": batch.file_name,
        "region": batch.region,
        "new": [],
        "changed": [],
        "unchanged": 0,
        "unmatched": [],
        "already_pending": [],
        "rejected": batch.rejected,
        "warnings": batch.warnings,
    }
    for row in rows.select_related("repeat_of"):
        if row.status == Status.REPEAT and row.reason != "pending_elsewhere":
            entry = _row_entry(row)
            if row.repeat_of is not None:
                entry["pending_in"] = {
                    "batch": row.repeat_of.batch_id,
                    "row": row.repeat_of.row_number,
                }
            result["already_pending"].append(entry)
        elif row.category == Category.UNCHANGED:
            result["unchanged"] += 1
        else:
            result[row.category].append(_row_entry(row))
    return result


def scoped_rows(user: Actor) -> QuerySet[IntakeRow]:
    """The rows a user may see: their region holds the row's, or the row belongs to a list
    they may see (an importer sees the rows of their list that lie outside their region:
    those are what they sent in). Deciding a row needs the first (see ``_locked``)."""
    return IntakeRow.objects.filter(
        Q(pk__in=IntakeRow.objects.in_scope(user).values("pk"))
        | Q(batch__in=IntakeBatch.objects.in_scope(user).values("pk"))
    )


def decidable_rows(user: Actor) -> QuerySet[IntakeRow]:
    """The rows a user may decide: their region holds the row's."""
    return IntakeRow.objects.in_scope(user)


def scoped_batches(user: Actor) -> QuerySet[IntakeBatch]:
    """The lists a user may see: imported for their region (or below it), or holding a row
    they may decide (a county's list names people living in a township)."""
    return IntakeBatch.objects.filter(
        Q(pk__in=IntakeBatch.objects.in_scope(user).values("pk"))
        | Q(pk__in=IntakeRow.objects.in_scope(user).values("batch_id"))
    )


def may_decide(user: Actor, row: IntakeRow) -> bool:
    """Whether the page offers confirm and dismiss for the row (the services check again)."""
    if row.status != Status.PENDING:
        return False
    return allowed(user, CHANGE_PEOPLE, row.region)


def shown_values(row: IntakeRow) -> dict:
    """The cells as given, with the ID number masked (lists never show it whole)."""
    values = dict(row.values)
    if values.get("id_number"):
        values["id_number"] = idnumbers.mask(row.id_number)
    return values


# --- decisions --------------------------------------------------------------------------------


ROW_AUDIT_FIELDS = ["batch_id", "row_number", "category", "status", "person_id", "note"]


def _locked(row: IntakeRow, *, acting_user: Actor) -> IntakeRow:
    """The row, locked, after the checks every decision shares."""
    authorize(
        acting_user,
        CHANGE_PEOPLE,
        row.region,
        refused=_("Your role may not decide department list rows."),
        outside=_("This row's region %(code)s lies outside your region %(region)s."),
    )
    locked = IntakeRow.objects.select_for_update().get(pk=row.pk)
    if locked.status != Status.PENDING:
        who = locked.decided_by.username if locked.decided_by else ""
        raise ValidationError(
            _("This row was already decided (%(status)s%(by)s); a row is decided once.")
            % {
                "status": locked.get_status_display(),
                "by": _(" by %(user)s") % {"user": who} if who else "",
            },
            code="decided",
        )
    return locked


def _close(
    row: IntakeRow, *, acting_user: Actor, status: str, note: str, decision: str
) -> IntakeRow:
    before = audit.snapshot(row, ROW_AUDIT_FIELDS)
    row.status = status
    row.note = note[:NOTE_MAX]
    row.decided_by = account_of(acting_user)
    row.decided_at = timezone.now()
    row.save_versioned()
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=row,
        region=row.region,
        before=before,
        after=audit.snapshot(row, ROW_AUDIT_FIELDS),
        detail={"decision": decision, "batch": row.batch_id, "row": row.row_number},
    )
    return row


def _coded(value: Any, table: dict[str, str], field: str, *, required: bool) -> str:
    raw = text(value)
    if not raw:
        if required:
            raise ValidationError({field: _("This field is required.")})
        return ""
    code = table.get(raw) or table.get(raw.lower())
    if code is None:
        raise ValidationError({field: _("Unknown value “%(value)s”.") % {"value": raw}})
    return code


@transaction.atomic
def confirm_row(
    row: IntakeRow,
    *,
    acting_user: Actor,
    marital_status: str = "",
    household_region: str = "",
    household_address: str = "",
    ethnicity: str = "",
    phone: str = "",
    reason: str = "",
) -> IntakeRow:
    """Confirm a pending row: a *new* row registers her arrival (sex and birth date from the
    ID number, marital status supplied by the specialist: 90 未说明 when not known); a
    *changed* row applies the differences to her file. Refused when already decided."""
    row = _locked(row, acting_user=acting_user)
    if row.category == Category.NEW:
        person = _confirm_new(
            row,
            acting_user=acting_user,
            marital_status=marital_status,
            household_region=household_region,
            household_address=household_address,
            ethnicity=ethnicity,
            phone=phone,
            reason=reason,
        )
    elif row.category == Category.CHANGED:
        person = _confirm_changed(row, acting_user=acting_user)
    else:
        raise ValidationError(
            _("Only new and changed rows can be confirmed; dismiss this one with a reason."),
            code="not_confirmable",
        )
    row.person = person
    return _close(
        row, acting_user=acting_user, status=Status.CONFIRMED, note="", decision="confirm"
    )


def _confirm_new(row: IntakeRow, *, acting_user: Actor, **supplied: Any) -> Person:
    scoped = Person.objects.in_scope(acting_user)
    if scoped.filter(id_number=row.id_number).exists():
        raise ValidationError(
            _(
                "A file with this ID number was registered after the list was imported: "
                "import the list again to compare it with that file."
            ),
            code="exists",
        )
    if Person.objects.filter(id_number=row.id_number).exists():
        raise ValidationError(
            _(
                "This ID number is on file outside your region; it cannot be registered "
                "here. Ask the county office to hand the file over."
            ),
            code="elsewhere",
        )
    identity = idnumbers.parse(row.id_number)
    marital = _coded(supplied["marital_status"], MARITAL_BY_WORD, "marital_status", required=True)
    ethnicity = _coded(supplied["ethnicity"], ETHNICITY_BY_WORD, "ethnicity", required=False)
    reason = _coded(supplied["reason"], REASON_BY_WORD, "reason", required=False)
    household_code = text(supplied["household_region"]) or identity.region
    try:
        # An ID card's county code of 1990 may be abolished: its successor is meant.
        household: Region | None = resolve_region_noting(household_code)
    except ValidationError:
        household = None
    if household is None:
        raise ValidationError(
            {
                "household_region": _(
                    "Unknown region code “%(code)s”: give her household registration region."
                )
                % {"code": household_code}
            }
        )
    phone = text(supplied["phone"])
    if phone:
        try:
            from liudong.people.rows import parse_phone

            phone = parse_phone(phone)
        except Problem as problem:
            raise ValidationError({"phone": problem.message}) from None
    data = {
        "id_number": row.id_number,
        "id_check_failed": not row.id_check_ok,
        "name": row.name,
        "sex": identity.sex,
        "birth_date": identity.birth_date,
        "ethnicity": ethnicity,
        "marital_status": marital,
        "phone": phone,
        "household_region": household,
        "household_address": text(supplied["household_address"])[:TEXT_MAX],
        "residence_region": Region.objects.get(code=row.region),
        "arrival_date": row.date,
        "residence_address": row.address,
        "reason": reason,
        "employer": row.employer,
    }
    episode = people.save_arrival(acting_user=acting_user, data=data, person=None)
    return episode.person


def _confirm_changed(row: IntakeRow, *, acting_user: Actor) -> Person:
    scoped = Person.objects.in_scope(acting_user)
    person = scoped.filter(pk=row.person_id).first() if row.person_id else None
    if person is None:
        raise ValidationError(
            _("Her file is no longer in your region: dismiss this row."), code="gone"
        )
    if person.version != row.person_version:
        raise ValidationError(
            _(
                "Her file was changed after the list was imported: look at the file, then "
                "import the list again or dismiss this row."
            ),
            code="stale",
        )
    differences = row.differences
    if "name" in differences:
        people.update_person(acting_user=acting_user, person=person, name=row.name)
    stay = people.open_episode(person)
    if "residence_region" in differences or stay is None:
        # Another place, or no current stay: she arrived there on the department's date.
        people.register_arrival(
            acting_user=acting_user,
            person=person,
            region=Region.objects.get(code=row.region),
            arrival_date=row.date,
            address=row.address or (stay.address if stay else ""),
            reason=stay.reason if stay else "",
            employer=row.employer or (stay.employer if stay else ""),
            housing=stay.housing if stay else "",
        )
    elif "address" in differences or "employer" in differences:
        # The same place, another address or employer: her stay corrected, not a move.
        people.correct_stay(
            acting_user=acting_user,
            person=person,
            address=row.address if "address" in differences else None,
            employer=row.employer if "employer" in differences else None,
            detail={"via": "department list", "intake_row": row.pk},
        )
    person.refresh_from_db()
    return person


@transaction.atomic
def dismiss_row(row: IntakeRow, *, acting_user: Actor, reason: str) -> IntakeRow:
    """Set a pending row aside, with the reason (kept on the row and in the audit log)."""
    reason = text(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why the row is dismissed.")})
    if len(reason) > NOTE_MAX:
        raise ValidationError({"reason": _("At most %(limit)d characters.") % {"limit": NOTE_MAX}})
    row = _locked(row, acting_user=acting_user)
    return _close(
        row, acting_user=acting_user, status=Status.DISMISSED, note=reason, decision="dismiss"
    )


def confirm_changed_rows(batch: IntakeBatch, *, acting_user: Actor) -> tuple[int, list[dict]]:
    """Confirm every pending *changed* row of the batch the user may decide, each in its own
    transaction: (how many were confirmed, [{"row", "message"}] for those refused)."""
    confirmed = 0
    refused: list[dict] = []
    rows = decidable_rows(acting_user).filter(
        batch=batch, category=Category.CHANGED, status=Status.PENDING
    )
    for row in rows.order_by("row_number"):
        try:
            confirm_row(row, acting_user=acting_user)
        except (ValidationError, PermissionDenied) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            refused.append({"row": row.row_number, "message": message})
        else:
            confirmed += 1
    return confirmed, refused


# --- the xlsx report ----------------------------------------------------------------------------


def difference_label(field: str) -> str:
    labels = {
        "name": _("name"),
        "residence_region": _("residence region"),
        "address": _("address"),
        "employer": _("employer"),
    }
    return labels.get(field, field)


def _differences_text(differences: dict) -> str:
    return "; ".join(
        f"{difference_label(field)}: {change.get('file') or '—'} → {change.get('list') or '—'}"
        for field, change in differences.items()
    )


def export_xlsx(batch: IntakeBatch, *, acting_user: Actor) -> bytes:
    """The reconciliation report as a workbook (masked ID numbers); the export is logged."""
    from liudong.safesheet import Workbook, lay_out

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("核对结果")
    header = [
        "行号 row",
        "类别 category",
        "状态 status",
        "姓名 name",
        "公民身份号码 id_number",
        "地址 address",
        "日期 date",
        "单位 employer",
        "现居住地区划代码 residence_region",
        "差异 differences",
        "说明 note",
    ]
    lay_out(sheet, header, widths=(8, 12, 10, 10, 22, 28, 12, 22, 16, 36, 30))
    sheet.append(header)
    count = 0
    rows = scoped_rows(acting_user).filter(batch=batch).order_by("row_number")
    for row in rows:
        sheet.append(
            [
                row.row_number,
                row.get_category_display(),
                row.get_status_display(),
                row.name,
                idnumbers.mask(row.id_number),
                row.address,
                row.date,
                row.employer,
                row.region,
                _differences_text(row.differences),
                row.message or row.note,
            ]
        )
        count += 1
    problems = workbook.create_sheet("未通过的行")
    problem_header = ["行号 row", "字段 field", "问题 message"]
    lay_out(problems, problem_header, widths=(8, 20, 60))
    problems.append(problem_header)
    for problem in batch.rejected:
        problems.append([problem["row"], problem["field"], problem["message"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=batch,
        region=batch.region,
        detail={"rows": count, "rejected": len(batch.rejected), "what": "reconciliation report"},
    )
    return buffer.getvalue()
