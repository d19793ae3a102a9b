"""Rules every services sub-domain shares: the scope check on a named person, the field
checks (counts, choices, past dates), the audit snapshot and entry, and the save that
creates or updates with optimistic locking. Campaigns, associations, help requests and
service records build on it; it imports none of them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.accounts.roles import RECORD_SERVICES
from liudong.actors import Actor, Caller
from liudong.audit import services as audit
from liudong.authorization import authorize
from liudong.base import TrackedModel
from liudong.people.models import Person
from liudong.regions.codes import LEVEL_LENGTHS

# --- shared checks -------------------------------------------------------------------------


def field_label(field: str) -> str:
    """A services field as the pages name it (its verbose name, translated), for the text
    of a message; the code stays the error's key, which the API and CLI report apart. A
    name no services model has is returned as it is."""
    from django.apps import apps
    from django.utils.text import capfirst

    for model in apps.get_app_config("services").get_models():
        try:
            found = model._meta.get_field(field)
        except FieldDoesNotExist:
            continue
        if verbose := getattr(found, "verbose_name", None):
            return str(capfirst(verbose))
    return field


OUTSIDE_FIELD = gettext_lazy("%(field)s: region %(code)s lies outside your region %(region)s.")


def authorize_recording(user: Caller, code: str | None, field: str = "region") -> None:
    """The caller may record here: a role that records services, and ``code`` — the region
    the record belongs to, read from ``field`` — inside the caller's region. The refusal
    names the field as the pages label it (every services sub-domain checks this way)."""
    authorize(user, RECORD_SERVICES, code, outside=OUTSIDE_FIELD, field=field_label(field))


def check_person_in_scope(user: Caller, person: Person, field: str = "person") -> None:
    """Only a file registered or living in the caller's region may be named (a scope rule,
    not a capability: whoever records a service may name only a file they may read)."""
    if not Person.objects.in_scope(user).filter(pk=person.pk).exists():
        raise PermissionDenied(
            _("%(field)s: this person's file lies outside your region %(region)s.")
            % {"field": field_label(field), "region": getattr(user, "region_id", "") or ""}
        )


def not_negative(obj: models.Model, fields: Iterable[str]) -> None:
    errors = {
        name: _("%(field)s must be 0 or more, got %(value)s.")
        % {"field": field_label(name), "value": value}
        for name in fields
        if (value := getattr(obj, name)) is None or value < 0
    }
    if errors:
        raise ValidationError(errors)


def check_choice(value: str | None, choices: type[models.TextChoices], field: str) -> None:
    if not value:
        raise ValidationError({field: _("%(field)s is required.") % {"field": field_label(field)}})
    if value not in choices.values:
        raise ValidationError(
            {
                field: _("%(field)s: “%(value)s” is not one of %(choices)s.")
                % {
                    "field": field_label(field),
                    "value": value,
                    "choices": ", ".join(choices.values),
                }
            }
        )


def check_past(day: datetime.date | None, field: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ValidationError(
            {
                field: _("%(field)s: the date %(day)s is in the future.")
                % {"field": field_label(field), "day": day}
            }
        )


def set_fields(obj: models.Model, allowed: Iterable[str], changes: dict[str, Any]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    for name, value in changes.items():
        setattr(obj, name, value)


def snapshot(obj: TrackedModel, fields: Iterable[str], **extra: Any) -> dict[str, Any]:
    # The names are the model's own concrete fields (never a reverse relation).
    names = [cast("Field[Any, Any]", obj._meta.get_field(name)).attname for name in fields]
    names.append("version")
    return {**audit.snapshot(obj, names), **extra}


def record_change(
    action: str,
    *,
    acting_user: Actor,
    obj: models.Model,
    region: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        action, acting_user=acting_user, obj=obj, region=region, before=before, after=after
    )


def save_new_or_versioned(obj: TrackedModel, expected_version: int | None) -> None:
    if obj.pk is None:
        obj.save()
    else:
        obj.save_versioned(expected_version=expected_version)


def child_length(code: str) -> int:
    """How long the codes of a region's children are (the region's own length at the
    bottom level): campaign summaries and the campaign form list one level down."""
    longer = sorted(n for n in LEVEL_LENGTHS.values() if n > len(code))
    return longer[0] if longer else len(code)
