"""Matching reports on the web and the API: a county administrator or an inspector uploads
an outflow register and an inflow register, the match runs, and the per-county report
(county_report) is kept for its owner to read again and download as xlsx.

Rules:
- Who: the RUN_MATCHING capability (county administrators and inspectors), with a region of
  county level or above: the report is by county, so a township account would see other
  townships' people in its county's rows.
- Scope: the report lists the pairs of counties of which one lies in the user's region, with
  their unmatched rows (ID numbers masked) and their matches; pairs wholly outside are counted
  in ``outside`` and not listed (report.build_report). The files themselves are not
  kept: they are read and deleted in the request; only the scoped report is stored.
- Size: the match runs in the request (a 100,000-row pair of files takes about 8 s on a
  2-core server, bench/match.py); a file of more than MAX_ROWS rows is refused with a message
  that names the `liudong match` command, which has no limit. The background jobs of
  liudong.jobs are built around one file imported into the registry and resumed after a
  restart; a match changes nothing and is simply run again.
- Audit: running a match is a view entry (the people of two files were read), each later
  reading of the report page a view, each xlsx download an export; all name the report.
- Kept: REPORT_DAYS days under var/matching/, then deleted at the next run.
"""

from __future__ import annotations

import datetime
import io
import json
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import RUN_MATCHING, can
from liudong.actors import Actor
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.regions.models import Region
from liudong.web import uploads

from . import county_report
from .engine import DEFAULT_THRESHOLD, MatchInputError, Record, match, read_register

MAX_ROWS = 100_000  # a side, for a match run in the request
REPORT_DAYS = 7
OBJECT_TYPE = "exchange.matchreport"
_ID_LENGTH = 32


def check_allowed(user: Actor) -> None:
    """Raise PermissionDenied, with the reason, unless ``user`` may run matching reports."""
    if not can(user, RUN_MATCHING):
        raise PermissionDenied(_("Your role does not allow this page."))
    if len(user.region_id or "") > 6:
        raise PermissionDenied(
            _(
                "Matching reports are by county: they are run by accounts of a county, "
                "city or province."
            )
        )


def _folder() -> Path:
    folder = settings.VAR_DIR / "matching"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(report_id: str) -> Path:
    if len(report_id) != _ID_LENGTH or not all(c in "0123456789abcdef" for c in report_id):
        raise LookupError(report_id)
    return _folder() / f"{report_id}.json"


def _purge() -> None:
    """Reports older than REPORT_DAYS go: they hold names and masked numbers."""
    cutoff = time.time() - REPORT_DAYS * 86_400
    for path in _folder().glob("*.json"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _read(uploaded: UploadedFile, field: str) -> tuple[str, list[Record]]:
    """The records of one uploaded register; the stored copy is deleted at once."""
    name = Path(uploaded.name or "").name
    try:
        token = uploads.save_upload(uploaded)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    path = uploads.upload_path(token)
    try:
        records = read_register(path, name=name)
    except MatchInputError as exc:
        raise ValidationError({field: str(exc)}, code=exc.code) from exc
    finally:
        uploads.discard(token)
    if len(records) > MAX_ROWS:
        raise ValidationError(
            {
                field: _(
                    "%(name)s: %(rows)s rows; a match on this page takes at most %(max)s rows "
                    "a side. Run `liudong match` on the server for larger files."
                )
                % {"name": name, "rows": len(records), "max": MAX_ROWS}
            },
            code="too_large",
        )
    return name, records


def county_names(codes: Iterable[str]) -> dict[str, str]:
    return dict(Region.objects.filter(code__in=set(codes)).values_list("code", "name"))


def run_match(
    *,
    acting_user: Actor,
    outflow: UploadedFile,
    inflow: UploadedFile,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict:
    """Match two uploaded registers and keep the report scoped to ``acting_user``'s region.
    Returns the stored report (see :func:`stored`). Raises PermissionDenied, or
    ValidationError naming the field (outflow, inflow, threshold) and the problem."""
    check_allowed(acting_user)
    if not 0 < threshold <= 1:
        raise ValidationError({"threshold": _("Give a score above 0 and at most 1.")})
    outflow_name, outflow_records = _read(outflow, "outflow")
    inflow_name, inflow_records = _read(inflow, "inflow")
    result = match(outflow_records, inflow_records, threshold=threshold)
    report = county_report.build_report(
        outflow_records, inflow_records, result, region=acting_user.region_id
    )
    codes = county_report.county_codes(report)
    report_id = secrets.token_hex(_ID_LENGTH // 2)
    stored = {
        "id": report_id,
        "owner": acting_user.pk,
        "created": timezone.now().isoformat(),
        "outflow_file": outflow_name,
        "inflow_file": inflow_name,
        "threshold": threshold,
        "names": county_names(codes),
        **report,
    }
    _purge()
    with transaction.atomic():
        audit.record(
            Action.VIEW,
            acting_user=acting_user,
            object_type=OBJECT_TYPE,
            object_id=report_id,
            object_repr=f"{outflow_name} / {inflow_name}"[:200],
            detail={
                "via": "match",
                "outflow_file": outflow_name,
                "inflow_file": inflow_name,
                "rows": report["rows"],
                "threshold": threshold,
                "pairs_listed": len(report["summary"]),
                "pairs_outside": report["outside"]["pairs"],
                "matched_listed": report["total"]["matched"],
            },
        )
        # Written inside the transaction: a report exists only with its audit entry.
        _path(report_id).write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
    return stored


def stored(report_id: str, *, acting_user: Actor, via: str | None = None) -> dict:
    """A kept report, for its owner only (LookupError otherwise, shown as 404). ``via``
    (the page or the API) records the reading in the audit log."""
    check_allowed(acting_user)
    try:
        data = json.loads(_path(report_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise LookupError(report_id) from exc
    if data.get("owner") != acting_user.pk:
        raise LookupError(report_id)
    if via:
        audit.record(
            Action.VIEW,
            acting_user=acting_user,
            object_type=OBJECT_TYPE,
            object_id=report_id,
            object_repr=f"{data['outflow_file']} / {data['inflow_file']}"[:200],
            detail={"via": via},
        )
    return data


def report_xlsx(report_id: str, *, acting_user: Actor) -> bytes:
    """The report as the offices' xlsx; the download is audited as an export."""
    data = stored(report_id, acting_user=acting_user)
    buffer = io.BytesIO()
    county_report.write_xlsx(
        data,
        buffer,
        outflow_name=data["outflow_file"],
        inflow_name=data["inflow_file"],
        threshold=data["threshold"],
        names=data["names"],
        generated_at=datetime.datetime.fromisoformat(data["created"]).astimezone(
            timezone.get_current_timezone()
        ),
    )
    audit.record(
        Action.EXPORT,
        acting_user=acting_user,
        object_type=OBJECT_TYPE,
        object_id=report_id,
        object_repr=f"{data['outflow_file']} / {data['inflow_file']}"[:200],
        detail={
            "format": "xlsx",
            "outflow_unmatched": len(data["outflow_unmatched"]),
            "inflow_unmatched": len(data["inflow_unmatched"]),
        },
    )
    return buffer.getvalue()


def public(data: dict) -> dict:
    """The stored report as the API returns it (the owner's account id left out)."""
    return {key: value for key, value in data.items() if key != "owner"}
