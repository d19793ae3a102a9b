"""Employers and rental houses in and out of csv/xlsx (Chinese or English headers).

Valid rows are saved through ``places.services`` (so each is checked and audited as an
edit would be), invalid rows are saved nowhere and listed with row, field and rule.
Re-importing a file, or importing an export, changes nothing: an employer is matched by
credit code, else by name within its region; a rental house by region and address.
A blank cell keeps what is on file (nothing lost by a shorter sheet).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.people.rows import Problem, text
from liudong.regions.services import resolve_region
from liudong.tabular import ImportSummary, read_table

from . import creditcode, filters, services
from .models import Employer, RentalHouse

EMPLOYER_COLUMNS = {
    "credit_code": ("统一社会信用代码",),
    "name": ("单位名称",),
    "address": ("地址",),
    "region": ("区划代码",),
    "contact_name": ("联系人", "contact"),
    "phone": ("联系电话",),
    "industry": ("行业",),
}
RENTAL_HOUSE_COLUMNS = {
    "address": ("地址",),
    "region": ("区划代码",),
    "landlord_name": ("房东姓名",),
    "landlord_phone": ("房东电话",),
    "rooms": ("房间数",),
    "capacity": ("可住人数",),
}
EMPLOYER_HEADER = [names[0] for names in EMPLOYER_COLUMNS.values()]
RENTAL_HOUSE_HEADER = [names[0] for names in RENTAL_HOUSE_COLUMNS.values()]


class _Rejected(Exception):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def read_employers(path):
    return list(read_table(path, EMPLOYER_COLUMNS, required=("name", "region")))


def read_rental_houses(path):
    return list(read_table(path, RENTAL_HOUSE_COLUMNS, required=("address", "region")))


def _cells(values: dict) -> dict:
    """Trimmed text of the given cells; blank cells are left out (they keep the record's
    value). Formulas are refused."""
    cleaned = {}
    for name, value in values.items():
        try:
            cell = text(value)
        except Problem as exc:
            raise _Rejected(name, exc.message) from exc
        if cell:
            cleaned[name] = cell
    return cleaned


def _count(raw: str, field: str) -> int:
    if not raw.isdigit() or int(raw) > 9999:
        raise _Rejected(
            field, _("“%(value)s” is not a whole number from 0 to 9999.") % {"value": raw}
        )
    return int(raw)


def _save_row(summary, row_number, existing, model, values, acting_user, dry_run):
    """Create or update one row's record through the services (a savepoint per row, so a
    refused row leaves nothing behind)."""
    try:
        with transaction.atomic():
            if existing is None:
                services.create(model, acting_user=acting_user, **values)
                summary.imported += 1
            else:
                before = existing.version
                services.update(existing, acting_user=acting_user, **values)
                if existing.version == before:
                    summary.unchanged += 1
                else:
                    summary.updated += 1
            if dry_run:
                transaction.set_rollback(True)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                summary.rejected.append(
                    {"row": row_number, "field": field, "message": " ".join(messages)}
                )
        else:
            summary.rejected.append(
                {"row": row_number, "field": None, "message": " ".join(exc.messages)}
            )


def _reject(summary, row_number, exc: _Rejected) -> None:
    summary.rejected.append({"row": row_number, "field": exc.field, "message": exc.message})


def _run(rows, handle_row, *, acting_user, atomic: bool, dry_run: bool) -> ImportSummary:
    services.check_role(acting_user)
    summary = ImportSummary()
    with transaction.atomic():
        for row_number, values in rows:
            try:
                handle_row(summary, row_number, values)
            except _Rejected as exc:
                _reject(summary, row_number, exc)
        if (atomic and summary.rejected) or dry_run:
            transaction.set_rollback(True)
    return summary


def import_employers(rows, *, acting_user=None, atomic=False, dry_run=False) -> ImportSummary:
    seen: dict[tuple, int] = {}

    def handle_row(summary, row_number, raw):
        values = _cells(raw)
        if "region" not in values:
            raise _Rejected("region", _("region is required."))
        if "name" not in values:
            raise _Rejected("name", _("name is required."))
        try:
            region = resolve_region(values["region"])
        except ValidationError as exc:
            raise _Rejected("region", " ".join(exc.messages)) from exc
        values["region"] = region
        code = ""
        if "credit_code" in values:
            try:
                parsed = creditcode.parse(values["credit_code"])
            except creditcode.CreditCodeError as exc:
                raise _Rejected("credit_code", str(exc)) from exc
            code = values["credit_code"] = parsed.code
            if not parsed.organisation_code_ok:
                summary.warnings.append(
                    {
                        "row": row_number,
                        "field": "credit_code",
                        "message": _(
                            "The organisation code inside (characters 9 to 17) has a wrong "
                            "GB 11714 check character; the code is kept as written."
                        ),
                    }
                )
        key = ("code", code) if code else ("name", region.code, values["name"])
        if key in seen:
            field = "credit_code" if code else "name"
            raise _Rejected(
                field,
                _("This employer appears twice in the file (first on row %(row)d).")
                % {"row": seen[key]},
            )
        seen[key] = row_number
        existing = None
        if code:
            existing = Employer.objects.filter(credit_code=code).first()
        if existing is None:
            existing = Employer.objects.filter(
                credit_code="", region=region, name=values["name"]
            ).first()
        # Another region's employer is not the caller's to change, nor to learn about.
        if (
            acting_user is not None
            and existing is not None
            and not existing.region_id.startswith(acting_user.region_id)
        ):
            raise _Rejected(
                "credit_code" if code else "name",
                _("This employer is registered outside your region."),
            )
        _save_row(summary, row_number, existing, Employer, values, acting_user, dry_run=False)

    return _run(rows, handle_row, acting_user=acting_user, atomic=atomic, dry_run=dry_run)


def import_rental_houses(rows, *, acting_user=None, atomic=False, dry_run=False) -> ImportSummary:
    seen: dict[tuple, int] = {}

    def handle_row(summary, row_number, raw):
        values = _cells(raw)
        for required in ("address", "region"):
            if required not in values:
                raise _Rejected(required, _("%(field)s is required.") % {"field": required})
        try:
            region = resolve_region(values["region"])
        except ValidationError as exc:
            raise _Rejected("region", " ".join(exc.messages)) from exc
        values["region"] = region
        for name in ("rooms", "capacity"):
            if name in values:
                values[name] = _count(values[name], name)
        key = (region.code, values["address"])
        if key in seen:
            raise _Rejected(
                "address",
                _("This rental house appears twice in the file (first on row %(row)d).")
                % {"row": seen[key]},
            )
        seen[key] = row_number
        existing = RentalHouse.objects.filter(region=region, address=values["address"]).first()
        _save_row(summary, row_number, existing, RentalHouse, values, acting_user, dry_run=False)

    return _run(rows, handle_row, acting_user=acting_user, atomic=atomic, dry_run=dry_run)


def _check_export(acting_user, prefix: str) -> None:
    if acting_user is not None:
        services.check_role(acting_user)
        if not prefix.startswith(acting_user.region_id):
            raise PermissionDenied(
                _("The region %(code)s lies outside your region %(region)s.")
                % {"code": prefix, "region": acting_user.region_id}
            )


def export_employers(
    prefix: str, *, acting_user=None, file_format: str = "csv", search: str = ""
) -> list[list]:
    """Employers under ``prefix`` (matching ``search`` as the list's search box does) as
    import-template rows; the export is audited."""
    _check_export(acting_user, prefix)
    employers = filters.search(Employer.objects.in_region(prefix), search)
    rows = [
        [e.credit_code, e.name, e.address, e.region_id, e.contact_name, e.phone, e.industry]
        for e in employers.order_by("region_id", "name", "id")
    ]
    _record_export(acting_user, "places.employer", prefix, rows, file_format, search)
    return rows


def export_rental_houses(
    prefix: str, *, acting_user=None, file_format: str = "csv", search: str = ""
) -> list[list]:
    """Rental houses under ``prefix`` (matching ``search``) as import-template rows; the
    export is audited. A landlord on file is written by name and phone (a file carries no
    ID numbers)."""
    _check_export(acting_user, prefix)
    houses = filters.search(RentalHouse.objects.in_region(prefix), search)
    rows = [
        [
            h.address,
            h.region_id,
            h.landlord_name,
            h.landlord_phone,
            "" if h.rooms is None else h.rooms,
            "" if h.capacity is None else h.capacity,
        ]
        for h in houses.order_by("region_id", "address", "id")
    ]
    _record_export(acting_user, "places.rentalhouse", prefix, rows, file_format, search)
    return rows


def _record_export(
    acting_user, object_type: str, prefix: str, rows: list, file_format: str, search: str = ""
):
    detail: dict = {"rows": len(rows), "format": file_format}
    if search:
        detail["search"] = search
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type=object_type,
        object_repr=f"{object_type} under {prefix} ({len(rows)} rows)",
        region=prefix,
        detail=detail,
    )
