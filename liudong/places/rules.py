"""The rules of each kind of place record, run on the record with its fields assigned,
before it is saved: the credit code's check character and duplicates of employers, a
rental house's landlord and address, a site's kind, an agreement's one place and dates, a
hazard's dates. ``places.records`` hands them to the generic service calls
(``liudong.records``); they never save and never check the capability.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from liudong.actors import Caller
from liudong.people.rows import Problem, parse_phone
from liudong.records import check_region

from . import creditcode
from .models import PLACE_FIELDS, Agreement, Employer, RentalHouse, SafetyIssue, Site


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _phone(value: Any, field: str) -> str:
    raw = _text(value)
    if not raw:
        return ""
    try:
        return parse_phone(raw)
    except Problem as exc:
        raise ValidationError({field: exc.message}, code="phone") from exc


def _required(obj: models.Model, *names: str) -> None:
    # The message names the field as the pages do (its verbose name); the code is the key.
    missing = {
        name: _("%(field)s is required.")
        % {"field": capfirst(getattr(obj._meta.get_field(name), "verbose_name", name))}
        for name in names
        if getattr(obj, name) in (None, "")
    }
    if missing:
        raise ValidationError(missing, code="required")


def _clean_employer(employer: Employer) -> None:
    if employer.credit_code:
        try:
            employer.credit_code = creditcode.parse(employer.credit_code).code
        except creditcode.CreditCodeError as exc:
            raise ValidationError({"credit_code": str(exc)}, code=exc.rule) from exc
    # Without a credit code the employer is known by its name within its region.
    _required(employer, "name")
    employer.phone = _phone(employer.phone, "phone")
    clash = Employer.objects.exclude(pk=employer.pk)
    if employer.credit_code and clash.filter(credit_code=employer.credit_code).exists():
        raise ValidationError(
            {
                "credit_code": _("An employer with credit code %(code)s is already registered.")
                % {"code": employer.credit_code}
            },
            code="duplicate",
        )
    if (
        not employer.credit_code
        and clash.filter(credit_code="", region_id=employer.region_id, name=employer.name).exists()
    ):
        raise ValidationError(
            {
                "name": _(
                    "An employer named “%(name)s” without a credit code is already registered "
                    "in %(region)s."
                )
                % {"name": employer.name, "region": employer.region_id}
            },
            code="duplicate",
        )


def _clean_rental_house(house: RentalHouse) -> None:
    _required(house, "address")
    house.landlord_phone = _phone(house.landlord_phone, "landlord_phone")
    if house.landlord_id is None and not house.landlord_name:
        raise ValidationError(
            {"landlord_name": _("Give the landlord: a person on file or a name.")},
            code="required",
        )
    if (
        RentalHouse.objects.exclude(pk=house.pk)
        .filter(region_id=house.region_id, address=house.address)
        .exists()
    ):
        raise ValidationError(
            {
                "address": _("A rental house at “%(address)s” is already registered in %(region)s.")
                % {"address": house.address, "region": house.region_id}
            },
            code="duplicate",
        )


def _clean_site(site: Site) -> None:
    _required(site, "name", "kind")
    if site.kind not in Site.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of site.")}, code="invalid_choice")
    site.phone = _phone(site.phone, "phone")


def _clean_agreement(agreement: Agreement, user: Caller) -> None:
    places = [name for name in PLACE_FIELDS if getattr(agreement, f"{name}_id") is not None]
    if len(places) != 1:
        raise ValidationError(
            _(
                "An agreement is signed with exactly one place: an employer, a rental house "
                "or a site."
            ),
            code="one_place",
        )
    check_region(user, agreement.place.region_id, places[0])
    _required(agreement, "kind", "signed_on")
    if agreement.kind not in Agreement.Kind.values:
        raise ValidationError({"kind": _("Unknown type of agreement.")}, code="invalid_choice")
    if agreement.valid_until and agreement.valid_until < agreement.signed_on:
        raise ValidationError(
            {
                "valid_until": _("The agreement ends (%(end)s) before it is signed (%(start)s).")
                % {"end": agreement.valid_until, "start": agreement.signed_on}
            },
            code="ends_before_start",
        )


def _clean_safety_issue(issue: SafetyIssue, user: Caller) -> None:
    _required(issue, "hazard", "found_on", "deadline")
    check_region(user, issue.rental_house.region_id, "rental_house")
    today = timezone.localdate()
    if issue.found_on > today:
        raise ValidationError(
            {"found_on": _("The date %(day)s is in the future.") % {"day": issue.found_on}},
            code="future",
        )
    if issue.deadline < issue.found_on:
        raise ValidationError(
            {
                "deadline": _("The deadline is before the hazard was found (%(day)s).")
                % {"day": issue.found_on}
            },
            code="deadline_before_found",
        )
    if issue.rectified_on is not None:
        if issue.rectified_on < issue.found_on:
            raise ValidationError(
                {
                    "rectified_on": _(
                        "The hazard cannot be rectified before it was found (%(day)s)."
                    )
                    % {"day": issue.found_on}
                },
                code="rectified_before_found",
            )
        if issue.rectified_on > today:
            raise ValidationError(
                {
                    "rectified_on": _("The date %(day)s is in the future.")
                    % {"day": issue.rectified_on}
                },
                code="future",
            )


def clean(obj: Any, user: Caller) -> None:
    """The rules of each kind of place record (its region is checked before, by
    ``liudong.records``)."""
    if isinstance(obj, Employer):
        _clean_employer(obj)
    elif isinstance(obj, RentalHouse):
        _clean_rental_house(obj)
    elif isinstance(obj, Site):
        _clean_site(obj)
    elif isinstance(obj, Agreement):
        _clean_agreement(obj, user)
    elif isinstance(obj, SafetyIssue):
        _clean_safety_issue(obj, user)
