"""Payment lists for the finance bureau (issue 17, item 4): the county's yearly list, its
export (the list is frozen once exported), the bank's return file, and the failures
worklist. Each change is one transaction with its audit entry; the files themselves are
``paymentsheet``'s. Must not touch families, applications, approval or re-qualification
(``services``): a benefit reaches this module already approved, suspended or ended.

Who pays what in a year
-----------------------
A county's list for ``year`` holds one line per benefit of its families (by the family's
household region) that is payable on some day of the year: it started (``starts_on``) on
or before 31 December and, if it has a last paid day (``ends_on``), that day is on or after
1 January. Of those:

- a *suspended* benefit (not confirmed by the re-qualification deadline) is left out and
  shown as left out with its reason; it comes back on the list once confirmed and the list
  is made again (suspension is not striking off);
- an *ended* benefit without a last paid day, and a benefit without a bank card, are left
  out with their reason too (the bank cannot pay without a card: nothing is guessed);
- every other benefit gets a line whose amount is the programme's ``ProgrammeAmount`` of the
  year for the county's province (the county code's first two digits). A programme without
  one refuses the whole list, naming programme, year and province: never a silent zero.

Pro-rating follows the amount's schedule:

- ``yearly`` (the reward programme): paid once a year, in full, to every benefit payable on
  some day of the year: one that starts in December or ends in February still gets the whole
  year's amount (a beneficiary who died in the year is paid that year and not from the next).
- ``monthly`` (special assistance): paid for the calendar months of the year in which the
  benefit is payable on some day: from the month of ``starts_on`` to the month of
  ``ends_on``, both counted in full. The amount is ``yuan_per_year × months / 12``, rounded
  half up to the fen. A benefit paid from 15 April to 10 September gets 6 months (April to
  September).

Re-making a list that is not frozen replaces its lines; a frozen (exported) one is never
changed and is not exported again. Bank cards are masked (:func:`mask_card`) everywhere but
the exported file itself, the only place that needs the whole number; the audit log keeps
masked cards too.
"""

from __future__ import annotations

import dataclasses
import datetime
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.accounts.roles import APPROVE_BENEFITS, BENEFITS
from liudong.actors import Actor, Caller, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.people import idnumbers
from liudong.regions.codes import Level, subtree_q
from liudong.regions.models import Region
from liudong.tabular import ImportSummary, read_table, row_problems

from . import paymentsheet
from .models import Benefit, PaymentLine, PaymentList, Programme, ProgrammeAmount

CENT = Decimal("0.01")
MONTHS = 12
# What the finance bureau's file needs; the export's audit entry names these columns.
CARD_MIN, CARD_MAX = 12, 30
RESOLUTION_MAX = PaymentLine._meta.get_field("resolution").max_length or 200
REASON_MAX = PaymentLine._meta.get_field("failure_reason").max_length or 200

REFUSED_LIST = gettext_lazy("Your role may not make, export or return payment lists.")
REFUSED_FAILURE = gettext_lazy("Your role may not deal with failed payments.")
REFUSED_CARD = gettext_lazy("Your role may not change a beneficiary's bank card.")
OUTSIDE = gettext_lazy("This record lies outside your region %(region)s.")

# The order of a list's lines everywhere: the file's 序号 is the position in this order,
# and a return file's 序号 is read against the same order.
LINE_ORDER = ("township_id", "programme__code", "name", "pk")


# --- bank cards -------------------------------------------------------------------------------


def mask_card(card: str) -> str:
    """A bank card as pages, the API and the audit log show it: ``6217********1234``."""
    card = card or ""
    if len(card) <= 8:
        return "*" * len(card)
    return card[:4] + "*" * (len(card) - 8) + card[-4:]


def clean_bank_card(raw: object, field: str = "bank_card") -> str:
    """The digits of a 一卡通 account as typed or read from a cell (spaces, hyphens and
    full-width digits allowed); refused unless 12 to 30 digits. A number cell that lost
    its last digits (Excel's 6.21700E+18) is refused, never guessed."""
    if isinstance(raw, bool):
        raw = str(raw)
    if isinstance(raw, float):
        if not raw.is_integer() or abs(raw) >= 10**15:
            raise ValidationError(
                {
                    field: _(
                        "The card number was read as a number and lost digits (%(value)s): "
                        "format the column as text and write the number again."
                    )
                    % {"value": raw}
                }
            )
        raw = int(raw)
    text = unicodedata.normalize("NFKC", str(raw if raw is not None else ""))
    digits = "".join(ch for ch in text if ch not in " -\u00a0\t")
    if not digits:
        raise ValidationError({field: _("The bank card number is required.")})
    if not (digits.isascii() and digits.isdigit()) or not CARD_MIN <= len(digits) <= CARD_MAX:
        raise ValidationError(
            {
                field: _("A bank card number is %(min)s to %(max)s digits (got %(value)s).")
                % {"min": CARD_MIN, "max": CARD_MAX, "value": mask_card(digits)}
            }
        )
    return digits


# --- who is paid what -------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def months_paid(benefit: Benefit, year: int) -> int:
    """Calendar months of ``year`` in which ``benefit`` is payable on some day."""
    first, last = year_bounds(year)
    start = max(benefit.starts_on, first)
    end = min(benefit.ends_on, last) if benefit.ends_on else last
    if end < start:
        return 0
    return end.month - start.month + 1


def amount_of(benefit: Benefit, amount: ProgrammeAmount, year: int) -> Decimal:
    """What ``benefit`` is paid in ``year`` (module docstring: yearly in full, monthly for
    its months)."""
    if amount.schedule == ProgrammeAmount.Schedule.MONTHLY:
        months = months_paid(benefit, year)
        value = amount.yuan_per_year * months / MONTHS
    else:
        value = amount.yuan_per_year if months_paid(benefit, year) else Decimal(0)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def province_of(county: Region) -> str:
    return county.code[:2]


def township_code(region_code: str) -> str:
    """The township a household region lies in (the region itself above township level)."""
    length = Level.TOWNSHIP.length
    return region_code[:length] if len(region_code) >= length else region_code


@dataclasses.dataclass(frozen=True)
class LeftOut:
    """A benefit of the county not on the year's list, and why."""

    benefit: Benefit
    reason: str


@dataclasses.dataclass
class Plan:
    payable: list[Benefit]
    left_out: list[LeftOut]


def _county_benefits(acting_user: Caller, county: Region, year: int) -> QuerySet[Benefit]:
    first, last = year_bounds(year)
    return (
        Benefit.objects.in_scope(acting_user)
        .filter(subtree_q(county.code, "family__household_region_id"), starts_on__lte=last)
        .exclude(ends_on__lt=first)
        .select_related("programme", "family")
        .order_by("family__household_region_id", "name", "pk")
    )


def plan(acting_user: Caller, county: Region, year: int) -> Plan:
    """Which benefits of the county the year's list pays and which it leaves out (with the
    reason): the rules of the module docstring, before any amount is looked up."""
    payable: list[Benefit] = []
    left_out: list[LeftOut] = []
    for benefit in _county_benefits(acting_user, county, year):
        if benefit.status == Benefit.Status.SUSPENDED:
            reason = _("suspended: %(reason)s") % {
                "reason": benefit.status_reason or _("no reason recorded")
            }
            left_out.append(LeftOut(benefit, reason))
        elif benefit.status == Benefit.Status.ENDED and benefit.ends_on is None:
            left_out.append(
                LeftOut(
                    benefit,
                    _("ended without a last paid day (%(reason)s)")
                    % {"reason": benefit.status_reason or _("no reason recorded")},
                )
            )
        elif not benefit.bank_card:
            left_out.append(
                LeftOut(benefit, _("no bank card on file: add her card and make the list again"))
            )
        else:
            payable.append(benefit)
    return Plan(payable, left_out)


def amounts_for(
    programmes: Iterable[Programme], year: int, province: str
) -> dict[int, ProgrammeAmount]:
    """The amount of each programme in the year and province; ValidationError naming every
    programme that has none (no silent zero)."""
    wanted = {programme.pk: programme for programme in programmes}
    found = {
        amount.programme_id: amount
        for amount in ProgrammeAmount.objects.filter(
            programme_id__in=wanted, year=year, province=province
        )
    }
    missing = [wanted[pk] for pk in sorted(wanted) if pk not in found]
    if missing:
        raise ValidationError(
            [
                ValidationError(
                    _(
                        "No amount of programme %(programme)s (%(code)s) for %(year)s in "
                        "province %(province)s: enter it before making the list."
                    )
                    % {
                        "programme": programme.name,
                        "code": programme.code,
                        "year": year,
                        "province": province,
                    },
                    code="no_amount",
                )
                for programme in missing
            ]
        )
    return found


# --- making a list ----------------------------------------------------------------------------


def _check_county(county: Region) -> None:
    if county.level != Level.COUNTY:
        raise ValidationError(
            {
                "county": _("A payment list is made for a county; %(code)s is not one.")
                % {"code": county.code}
            }
        )


def _check_year(year: int) -> None:
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationError({"year": _("The year must lie between 2000 and 2100.")})


def _list_image(payment_list: PaymentList) -> dict[str, Any]:
    lines = payment_list.lines.aggregate(n=Count("pk"), total=Sum("amount"))
    return {
        "region": payment_list.region_id,
        "year": payment_list.year,
        "made_on": payment_list.made_on,
        "lines": lines["n"],
        "total": str(lines["total"] or Decimal("0.00")),
        "exported_at": payment_list.exported_at,
        "version": payment_list.version,
    }


def _frozen_error(payment_list: PaymentList) -> ValidationError:
    by = payment_list.exported_by
    return ValidationError(
        _(
            "The payment list of %(year)s was exported on %(at)s%(by)s and is frozen: it is "
            "never changed or exported again."
        )
        % {
            "year": payment_list.year,
            "at": timezone.localtime(payment_list.exported_at).strftime("%Y-%m-%d %H:%M")
            if payment_list.exported_at
            else "",
            "by": f" ({by})" if by else "",
        },
        code="frozen",
    )


@transaction.atomic
def make_list(
    *,
    acting_user: Actor,
    county: Region,
    year: int,
    on: datetime.date | None = None,
) -> PaymentList:
    """Make (or make again, while not exported) the county's payment list of ``year``:
    one line per payable benefit, its amount from the year's ``ProgrammeAmount`` of the
    county's province. Refused for a frozen list and when a programme has no amount."""
    authorize(acting_user, APPROVE_BENEFITS, county.code, refused=REFUSED_LIST, outside=OUTSIDE)
    _check_county(county)
    _check_year(year)
    on = on or timezone.localdate()
    existing = (
        PaymentList.objects.in_scope(acting_user)
        .select_for_update(of=("self",))
        .filter(region=county, year=year)
        .first()
    )
    if existing is not None and existing.frozen:
        raise _frozen_error(existing)
    found = plan(acting_user, county, year)
    amounts = amounts_for({b.programme for b in found.payable}, year, province_of(county))
    before = None
    if existing is None:
        payment_list = PaymentList(region=county, year=year, made_on=on)
    else:
        payment_list = existing
        before = _list_image(existing)
        existing.lines.all().delete()
    payment_list.made_on = on
    payment_list.made_by = account_of(acting_user)
    if existing is None:
        payment_list.save()
    else:
        payment_list.save_versioned()
    lines = []
    for benefit in found.payable:
        amount = amount_of(benefit, amounts[benefit.programme_id], year)
        if amount <= 0:
            continue  # payable on no day of the year after all (cannot happen: filtered)
        lines.append(
            PaymentLine(
                payment_list=payment_list,
                benefit=benefit,
                township_id=township_code(benefit.family.household_region_id),
                name=benefit.name,
                id_number=benefit.id_number,
                bank_card=benefit.bank_card,
                programme=benefit.programme,
                amount=amount,
            )
        )
    PaymentLine.objects.bulk_create(lines, batch_size=1000)
    after = _list_image(payment_list)
    after["left_out"] = len(found.left_out)
    audit.record(
        Action.CREATE if before is None else Action.UPDATE,
        acting_user=acting_user,
        obj=payment_list,
        region=county.code,
        before=before,
        after=after,
    )
    return payment_list


def left_out(acting_user: Caller, payment_list: PaymentList) -> list[LeftOut]:
    """The county's benefits of the list's year that are not on it, with the reason: left
    out when the list was made (suspended, no card, ...), or approved or changed since."""
    county = payment_list.region
    found = plan(acting_user, county, payment_list.year)
    on_list = set(payment_list.lines.values_list("benefit_id", flat=True))
    missing = [
        LeftOut(
            benefit,
            _("not on this list: approved or changed after it was made on %(day)s")
            % {"day": payment_list.made_on},
        )
        for benefit in found.payable
        if benefit.pk not in on_list
    ]
    return [each for each in found.left_out if each.benefit.pk not in on_list] + missing


# --- totals -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TotalRow:
    code: str
    name: str
    count: int
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class Totals:
    by_township: list[TotalRow]
    by_programme: list[TotalRow]
    count: int
    amount: Decimal


def totals(lines: QuerySet[PaymentLine]) -> Totals:
    """Lines and amounts per township, per programme and in all, of the lines given (a
    list's, or the part of it the caller sees)."""
    lines = lines.order_by()
    by_township = [
        TotalRow(row["township_id"], row["township__name"], row["n"], row["total"])
        for row in lines.values("township_id", "township__name")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("township_id")
    ]
    by_programme = [
        TotalRow(row["programme__code"], row["programme__name"], row["n"], row["total"])
        for row in lines.values("programme__code", "programme__name")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("programme__code")
    ]
    return Totals(
        by_township,
        by_programme,
        sum(row.count for row in by_township),
        sum((row.amount for row in by_township), Decimal("0.00")),
    )


def ordered_lines(payment_list: PaymentList) -> QuerySet[PaymentLine]:
    """A list's lines in the file's order (its 序号), with what a row shows."""
    return payment_list.lines.select_related("township", "programme").order_by(*LINE_ORDER)


# --- export -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ExportedFile:
    name: str
    content_type: str
    content: bytes


@transaction.atomic
def export_list(*, acting_user: Actor, payment_list: PaymentList, file_format: str) -> ExportedFile:
    """The list in the finance bureau's format (``xlsx`` or ``csv``, ``paymentsheet``),
    with full ID numbers and cards (the file is what payment needs). Exporting freezes the
    list; a second export is refused. Audited, naming the columns the file holds."""
    authorize(
        acting_user,
        APPROVE_BENEFITS,
        payment_list.region_id,
        refused=REFUSED_LIST,
        outside=OUTSIDE,
    )
    if file_format not in paymentsheet.FORMATS:
        raise ValidationError(
            {
                "format": _("The file format is xlsx or csv (got “%(value)s”).")
                % {"value": file_format}
            }
        )
    current = (
        PaymentList.objects.in_scope(acting_user)
        .select_for_update(of=("self",))
        .select_related("region", "exported_by")
        .get(pk=payment_list.pk)
    )
    if current.frozen:
        raise _frozen_error(current)
    lines = list(ordered_lines(current))
    if not lines:
        raise ValidationError(
            _("The payment list of %(year)s has no lines: there is nothing to export.")
            % {"year": current.year},
            code="empty",
        )
    summed = totals(current.lines.all())
    title = f"{current.region.name}{current.year}年度计划生育奖励扶助金发放名单"
    content = paymentsheet.write(file_format, lines, summed, title=title)
    before = _list_image(current)
    current.exported_at = timezone.now()
    current.exported_by = account_of(acting_user)
    current.save_versioned()
    payment_list.exported_at, payment_list.exported_by = current.exported_at, current.exported_by
    payment_list.version = current.version
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        obj=current,
        region=current.region_id,
        before=before,
        after=_list_image(current),
        detail={
            "format": file_format,
            "lines": len(lines),
            "total": str(summed.amount),
            # Only what payment needs: the file's columns, nothing more.
            "columns": list(paymentsheet.HEADER),
        },
    )
    return ExportedFile(
        name=f"payment-list-{current.region_id}-{current.year}.{file_format}",
        content_type=paymentsheet.CONTENT_TYPES[file_format],
        content=content,
    )


# --- the bank's return file -------------------------------------------------------------------

RETURN_COLUMNS = {
    "id_number": ("公民身份号码", "身份证号码", "身份证号"),
    "bank_card": ("一卡通账号", "银行卡号", "卡号", "账号"),
    "result": ("结果", "发放结果", "支付结果"),
    "reason": ("失败原因", "原因", "failure_reason"),
    # Optional: which of her lines a row means when she has two on the list (the reward
    # and a special assistance), and the amount the bank read, checked when given.
    "serial": ("序号", "no"),
    "programme": ("项目",),
    "amount": ("金额(元)", "金额", "amount_yuan"),
}
RETURN_REQUIRED = ("id_number", "bank_card", "result")
# Columns of the exported file a return may echo back unread.
RETURN_IGNORED = ("乡镇", "township", "姓名", "name", "备注", "note")

PAID_WORDS = {"成功", "支付成功", "发放成功", "已发放", "paid", "success", "ok"}
FAILED_WORDS = {"失败", "支付失败", "发放失败", "failed", "fail", "failure"}


class RowProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()


def parse_result(value: object) -> str:
    word = _text(value).lower()
    if word in PAID_WORDS:
        return PaymentLine.Result.PAID
    if word in FAILED_WORDS:
        return PaymentLine.Result.FAILED
    raise RowProblem(
        "result",
        _("“%(value)s” is not a result: write 成功 or 失败 (paid or failed).")
        % {"value": _text(value)},
    )


class _ReturnMatcher:
    """Finds the line a return row means, among the list's lines."""

    def __init__(self, lines: list[PaymentLine]) -> None:
        self.by_serial = {index: line for index, line in enumerate(lines, start=1)}
        self.by_id: dict[str, list[PaymentLine]] = defaultdict(list)
        for line in lines:
            self.by_id[line.id_number].append(line)

    def line(self, values: dict[str, Any]) -> PaymentLine:
        id_number = idnumbers.normalise(values["id_number"])
        if not id_number:
            raise RowProblem("id_number", _("The ID number is required."))
        hers = self.by_id.get(id_number)
        if not hers:
            raise RowProblem(
                "id_number",
                _("%(id)s is not on this payment list: a return names only people it paid.")
                % {"id": idnumbers.mask(id_number) if len(id_number) >= 10 else id_number},
            )
        serial = _text(values.get("serial"))
        if serial:
            line = self.by_serial.get(int(serial)) if serial.isdigit() else None
            if line is None or line.id_number != id_number:
                raise RowProblem(
                    "serial",
                    _("序号 %(serial)s is not this person's line on the list.")
                    % {"serial": serial},
                )
            return line
        programme = _text(values.get("programme"))
        if programme:
            named = [
                line
                for line in hers
                if programme in (_text(line.programme.name), line.programme.code)
            ]
            if len(named) != 1:
                raise RowProblem(
                    "programme",
                    _("“%(value)s” is not one of her programmes on this list (%(hers)s).")
                    % {
                        "value": programme,
                        "hers": ", ".join(line.programme.name for line in hers),
                    },
                )
            return named[0]
        if len(hers) > 1:
            raise RowProblem(
                "serial",
                _(
                    "She has %(n)s lines on this list (%(hers)s): give the row's 序号 or 项目 "
                    "to say which one."
                )
                % {"n": len(hers), "hers": ", ".join(line.programme.name for line in hers)},
            )
        return hers[0]


def _return_row(values: dict[str, Any], matcher: _ReturnMatcher) -> tuple[PaymentLine, str, str]:
    line = matcher.line(values)
    try:
        card = clean_bank_card(values["bank_card"])
    except ValidationError as exc:
        raise RowProblem("bank_card", " ".join(exc.messages)) from exc
    if card != line.bank_card:
        raise RowProblem(
            "bank_card",
            _("The card %(card)s is not the card this list sent for her (%(sent)s).")
            % {"card": mask_card(card), "sent": mask_card(line.bank_card)},
        )
    amount = values.get("amount")
    if amount not in (None, ""):
        try:
            read = Decimal(_text(amount).replace(",", "")).quantize(CENT)
        except (InvalidOperation, ValueError) as exc:
            raise RowProblem(
                "amount", _("“%(value)s” is not an amount.") % {"value": _text(amount)}
            ) from exc
        if read != line.amount:
            raise RowProblem(
                "amount",
                _("The amount %(read)s is not the amount of her line (%(amount)s).")
                % {"read": read, "amount": line.amount},
            )
    result = parse_result(values["result"])
    reason = _text(values.get("reason"))
    if result == PaymentLine.Result.FAILED and not reason:
        raise RowProblem("reason", _("A failed payment needs the bank's reason (失败原因)."))
    if result == PaymentLine.Result.PAID:
        reason = ""
    if len(reason) > REASON_MAX:
        raise RowProblem(
            "reason", _("The reason is longer than %(max)s characters.") % {"max": REASON_MAX}
        )
    return line, result, reason


@transaction.atomic
def import_return(
    *,
    acting_user: Actor,
    payment_list: PaymentList,
    path: str | Path,
    returned_on: datetime.date | None = None,
) -> ImportSummary:
    """The bank's return file (csv or xlsx: 公民身份号码, 一卡通账号, 结果 成功/失败,
    失败原因; optional 序号, 项目, 金额(元)) marks each named line paid or failed with the
    reason and ``returned_on``. All or nothing: a row naming a person not on the list, a
    card that is not the line's, or any other problem is listed (row as the spreadsheet
    shows it, field, message) and nothing is changed. Importing the same return again
    changes nothing (the rows are ``unchanged``); a line already returned otherwise is not
    changed by a return (resolve it on the failures worklist). Only a frozen (exported)
    list takes a return. TableError for a file that cannot be read at all."""
    authorize(
        acting_user,
        APPROVE_BENEFITS,
        payment_list.region_id,
        refused=REFUSED_LIST,
        outside=OUTSIDE,
    )
    current = (
        PaymentList.objects.in_scope(acting_user)
        .select_for_update(of=("self",))
        .get(pk=payment_list.pk)
    )
    if not current.frozen:
        raise ValidationError(
            _(
                "The payment list of %(year)s is not exported yet: only the list the bank was "
                "sent takes its return."
            )
            % {"year": current.year},
            code="not_exported",
        )
    returned_on = returned_on or timezone.localdate()
    if returned_on > timezone.localdate():
        raise ValidationError({"returned_on": _("The return date is in the future.")})
    lines = list(ordered_lines(current))
    matcher = _ReturnMatcher(lines)
    summary = ImportSummary()
    seen: dict[int, int] = {}
    changes: list[tuple[PaymentLine, str, str]] = []
    rows = read_table(Path(path), RETURN_COLUMNS, RETURN_REQUIRED, ignorable=RETURN_IGNORED)
    for row, values in rows:
        if problems := row_problems(values):
            summary.rejected.extend(problems)
            continue
        try:
            line, result, reason = _return_row(values, matcher)
            if line.pk in seen:
                raise RowProblem(
                    "id_number",
                    _("Row %(row)s already returned this line.") % {"row": seen[line.pk]},
                )
            seen[line.pk] = row
            if line.result == result and line.failure_reason == reason:
                summary.unchanged += 1
                continue
            if line.result != PaymentLine.Result.PENDING:
                raise RowProblem(
                    "result",
                    _(
                        "This line was returned as %(result)s on %(day)s; a return does not "
                        "change it (deal with it on the failures worklist)."
                    )
                    % {"result": line.get_result_display(), "day": line.returned_on},
                )
        except RowProblem as problem:
            summary.rejected.append(
                {"row": row, "field": problem.field, "message": problem.message}
            )
            continue
        changes.append((line, result, reason))
    if summary.rejected:
        summary.unchanged = 0  # nothing was read into the list: say so plainly
        return summary
    for line, result, reason in changes:
        line.result, line.failure_reason, line.returned_on = result, reason, returned_on
    PaymentLine.objects.bulk_update(
        [line for line, _result, _reason in changes],
        ["result", "failure_reason", "returned_on"],
        batch_size=1000,
    )
    summary.updated = len(changes)
    if changes:
        paid = sum(1 for _line, result, _reason in changes if result == PaymentLine.Result.PAID)
        audit.record(
            Action.IMPORT,
            acting_user=acting_user,
            obj=current,
            region=current.region_id,
            detail={
                "what": "bank return",
                "returned_on": str(returned_on),
                "paid": paid,
                "failed": len(changes) - paid,
                "unchanged": summary.unchanged,
            },
        )
    return summary


# --- failures ---------------------------------------------------------------------------------


def failures(user: Caller, *, open_only: bool = False) -> QuerySet[PaymentLine]:
    """Failed payments the caller's region sees: not yet resolved first, then by year
    (latest first) and township."""
    lines = PaymentLine.objects.in_scope(user).filter(result=PaymentLine.Result.FAILED)
    if open_only:
        lines = lines.filter(resolved_on__isnull=True)
    return lines.select_related("payment_list", "township", "programme", "benefit").order_by(
        F("resolved_on").desc(nulls_first=True), "-payment_list__year", "township_id", "name", "pk"
    )


def _line_image(line: PaymentLine) -> dict[str, Any]:
    return {
        "result": line.result,
        "failure_reason": line.failure_reason,
        "returned_on": line.returned_on,
        "resolved_on": line.resolved_on,
        "resolution": line.resolution,
    }


@transaction.atomic
def resolve_failure(
    *,
    acting_user: Actor,
    line: PaymentLine,
    resolution: str,
    resolved_on: datetime.date | None = None,
    new_bank_card: str = "",
    benefit_version: int | None = None,
) -> PaymentLine:
    """Say what was done about a failed payment (card corrected and paid by hand, ...),
    once. ``new_bank_card`` also corrects the benefit's card for the next lists
    (:func:`correct_bank_card`, in the same transaction); the frozen list keeps the card
    the bank was sent."""
    authorize(acting_user, BENEFITS, line.township_id, refused=REFUSED_FAILURE, outside=OUTSIDE)
    current = (
        PaymentLine.objects.in_scope(acting_user)
        .select_for_update(of=("self",))
        .select_related("benefit__family")
        .get(pk=line.pk)
    )
    if current.result != PaymentLine.Result.FAILED:
        raise ValidationError(_("Only a failed payment is resolved."), code="not_failed")
    if current.resolved_on is not None:
        raise ValidationError(
            _("This failed payment was resolved on %(day)s.") % {"day": current.resolved_on},
            code="resolved",
        )
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Say what was done.")})
    if len(resolution) > RESOLUTION_MAX:
        raise ValidationError(
            {
                "resolution": _("At most %(max)s characters.") % {"max": RESOLUTION_MAX},
            }
        )
    resolved_on = resolved_on or timezone.localdate()
    if resolved_on > timezone.localdate():
        raise ValidationError({"resolved_on": _("The date is in the future.")})
    if current.returned_on and resolved_on < current.returned_on:
        raise ValidationError(
            {
                "resolved_on": _("The date is before the bank returned it (%(day)s).")
                % {"day": current.returned_on}
            }
        )
    if new_bank_card:
        correct_bank_card(
            acting_user=acting_user,
            benefit=current.benefit,
            bank_card=new_bank_card,
            expected_version=benefit_version,
        )
    before = _line_image(current)
    current.resolved_on, current.resolution = resolved_on, resolution
    current.save(update_fields=["resolved_on", "resolution"])
    line.resolved_on, line.resolution = current.resolved_on, current.resolution
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=current,
        region=current.township_id,
        before=before,
        after=_line_image(current),
    )
    return current


@transaction.atomic
def correct_bank_card(
    *,
    acting_user: Actor,
    benefit: Benefit,
    bank_card: str,
    expected_version: int | None = None,
) -> Benefit:
    """Correct the 一卡通 account a benefit is paid into, for the lists made from now on
    (versioned; audited with the cards masked)."""
    authorize(
        acting_user,
        BENEFITS,
        benefit.family.household_region_id,
        refused=REFUSED_CARD,
        outside=OUTSIDE,
    )
    card = clean_bank_card(bank_card, "bank_card")
    if card == benefit.bank_card:
        raise ValidationError({"bank_card": _("This is already her card.")})
    before = {"bank_card": mask_card(benefit.bank_card), "version": benefit.version}
    benefit.bank_card = card
    benefit.save_versioned(expected_version=expected_version)
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=benefit,
        region=benefit.family.household_region_id,
        before=before,
        after={"bank_card": mask_card(card), "version": benefit.version},
    )
    return benefit
