"""How the audit log names her (issue 19): every read and request of hers is an entry.

She has no account row: an entry names her as ``resident:<her file's key>`` with the role
``resident`` and lies in the region of her residence (else her household registration), so
the office holding her file reads it in its own log. Never her ID number or her name in
clear: the file's key is enough for staff to find her, and nothing for anyone else.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from liudong.actors import OPERATOR, Resident
from liudong.audit import services as audit
from liudong.audit.models import AuditEntry
from liudong.people.models import Person

ROLE = "resident"


def username_of(resident: Resident) -> str:
    return f"{ROLE}:{resident.person_id}"


def region_of(person_id: int) -> str:
    """Her residence's region, else her household registration's ("" for no file)."""
    # The log's own look-up of where an entry belongs, not a read of her file for anyone.
    row = (
        Person.objects.in_scope(OPERATOR)
        .filter(pk=person_id)
        .values_list("residence_region_id", "household_region_id")
        .first()
    )
    if row is None:
        return ""
    return row[0] or row[1] or ""


def record_for(
    resident: Resident,
    action: str,
    *,
    obj: models.Model | None = None,
    detail: dict | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    region: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Append one entry done by her: ``action`` is an ``audit.models.Action`` (VIEW for a
    read, EXPORT for a download, CREATE for a request, LOGIN/LOGOUT). ``obj`` without
    ``object_repr`` is named by its type and key only: ``str()`` of a file shows a name."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or f"{obj._meta.label_lower}:{obj.pk}"
    fields: dict[str, Any] = {
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "region": region if region is not None else region_of(resident.person_id),
        "before": before,
        "after": after,
        "detail": detail,
        "actor_username": username_of(resident),
    }
    item = audit.entry(action, acting_user=resident, **fields)
    item.actor_role = ROLE
    return audit.append([item])[0]
