"""Business rules for places: creating and changing employers, rental houses, sites,
agreements and safety issues; the worklists of expiring agreements and open
rectifications; linking a stay to its employer and rental house. The API, the importers
and the command line call these functions; each change is audited in its transaction.

``acting_user`` None is the server operator (command line without --user): no region
bound. Any other user needs MANAGE_PLACES and may only touch places in their region.
"""

from __future__ import annotations

import copy
import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong.accounts.roles import CHANGE_PEOPLE, MANAGE_PLACES
from liudong.actors import Caller, is_operator
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.base import StaleWrite
from liudong.people.rows import Problem, parse_phone
from liudong.regions.models import Region
from liudong.regions.services import resolve_region

from . import creditcode
from .models import PLACE_FIELDS, Agreement, Employer, RentalHouse, SafetyIssue, Site

EMPLOYER_FIELDS = ("credit_code", "name", "address", "region", "contact_name", "phone", "industry")
RENTAL_HOUSE_FIELDS = (
    "address",
    "region",
    "landlord",
    "landlord_name",
    "landlord_phone",
    "rooms",
    "capacity",
)
SITE_FIELDS = ("kind", "name", "address", "region", "contact_name", "phone")
AGREEMENT_FIELDS = (*PLACE_FIELDS, "kind", "signed_on", "valid_until", "duties")
SAFETY_ISSUE_FIELDS = ("rental_house", "hazard", "found_on", "deadline", "rectified_on", "notes")

FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Employer: EMPLOYER_FIELDS,
    RentalHouse: RENTAL_HOUSE_FIELDS,
    Site: SITE_FIELDS,
    Agreement: AGREEMENT_FIELDS,
    SafetyIssue: SAFETY_ISSUE_FIELDS,
}


def _audit_fields(model) -> list[str]:
    """The before/after image: the editable fields by column (region_id, employer_id)."""
    return [model._meta.get_field(name).attname for name in FIELDS[model]] + ["version"]


# --- who may change what ---------------------------------------------------------------


def check_role(user: Caller) -> None:
    authorize(user, MANAGE_PLACES, refused=_("Your role may not change places."))


def check_region(user, code: str, field: str = "region") -> None:
    """The place lies in the user's region (a refusal names the field that puts it there)."""
    if not is_operator(user) and not code.startswith(user.region_id):
        raise ValidationError(
            {
                field: _("The place lies in %(code)s, outside your region %(region)s.")
                % {"code": code, "region": user.region_id}
            },
            code="out_of_scope",
        )


# --- cleaning each kind of record -------------------------------------------------------


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _region(value) -> Region:
    if isinstance(value, Region):
        return value
    try:
        return resolve_region(value)
    except ValidationError as exc:
        raise ValidationError({"region": exc.messages}, code="region") from exc


def _phone(value, field: str) -> str:
    raw = _text(value)
    if not raw:
        return ""
    try:
        return parse_phone(raw)
    except Problem as exc:
        raise ValidationError({field: exc.message}, code="phone") from exc


def _required(values: dict, *names: str) -> None:
    missing = {
        name: _("%(field)s is required.") % {"field": name}
        for name in names
        if values.get(name) in (None, "")
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
    _required({"name": employer.name}, "name")
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
    _required({"address": house.address}, "address")
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
    _required({"name": site.name, "kind": site.kind}, "name", "kind")
    if site.kind not in Site.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of site.")}, code="invalid_choice")
    site.phone = _phone(site.phone, "phone")


def _clean_agreement(agreement: Agreement, user) -> None:
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
    _required({"kind": agreement.kind, "signed_on": agreement.signed_on}, "kind", "signed_on")
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


def _clean_safety_issue(issue: SafetyIssue, user) -> None:
    _required(
        {"hazard": issue.hazard, "found_on": issue.found_on, "deadline": issue.deadline},
        "hazard",
        "found_on",
        "deadline",
    )
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


def _clean(obj, user) -> None:
    if isinstance(obj, Employer | RentalHouse | Site):
        check_region(user, obj.region_id)
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


def _assign(obj, values: dict) -> None:
    allowed = FIELDS[type(obj)]
    unknown = set(values) - set(allowed)
    if unknown:
        raise TypeError(f"not a field of {type(obj).__name__}: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if name == "region":
            value = _region(value)
        elif isinstance(obj._meta.get_field(name), models.CharField | models.TextField):
            value = _text(value)
        setattr(obj, name, value)


def _region_of(obj) -> str:
    return obj.region_id


# --- create and update -------------------------------------------------------------------


@transaction.atomic
def create(model: type[models.Model], *, acting_user, **values):
    """A new place, agreement or safety issue from field values (region as a Region or
    a code); refused with the field and rule named."""
    check_role(acting_user)
    obj = model()
    _assign(obj, values)
    _clean(obj, acting_user)
    obj.save()
    audit.record(
        Action.CREATE,
        acting_user=acting_user,
        obj=obj,
        region=_region_of(obj),
        after=audit.snapshot(obj, _audit_fields(model)),
    )
    return obj


@transaction.atomic
def update(obj, *, acting_user, expected_version: int | None = None, **changes):
    """Change fields of ``obj`` based on ``expected_version`` (StaleWrite when someone
    changed it since). The record must be in the user's region before and after."""
    check_role(acting_user)
    check_region(acting_user, _region_of(obj), "id")
    model = type(obj)
    fields = _audit_fields(model)
    before = audit.snapshot(obj, fields)
    _assign(obj, changes)
    version = obj.version if expected_version is None else expected_version
    # Cleaned first, so a value typed differently (a phone with spaces, a lower-case
    # credit code) that means what is on file is no change.
    _clean(obj, acting_user)
    if audit.snapshot(obj, fields) == before:
        if version != obj.version:
            stale = copy.copy(obj)
            stale.version = version
            raise StaleWrite(stale, obj)
        return obj  # nothing to change: no write, no audit entry
    obj.save_versioned(expected_version=version)
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=obj,
        region=_region_of(obj),
        before=before,
        after=audit.snapshot(obj, fields),
    )
    return obj


def create_employer(*, acting_user, **values) -> Employer:
    return create(Employer, acting_user=acting_user, **values)


def update_employer(employer: Employer, *, acting_user, expected_version=None, **changes):
    return update(employer, acting_user=acting_user, expected_version=expected_version, **changes)


def create_rental_house(*, acting_user, **values) -> RentalHouse:
    return create(RentalHouse, acting_user=acting_user, **values)


def update_rental_house(house: RentalHouse, *, acting_user, expected_version=None, **changes):
    return update(house, acting_user=acting_user, expected_version=expected_version, **changes)


def create_site(*, acting_user, **values) -> Site:
    return create(Site, acting_user=acting_user, **values)


def update_site(site: Site, *, acting_user, expected_version=None, **changes):
    return update(site, acting_user=acting_user, expected_version=expected_version, **changes)


def create_agreement(*, acting_user, **values) -> Agreement:
    return create(Agreement, acting_user=acting_user, **values)


def update_agreement(agreement: Agreement, *, acting_user, expected_version=None, **changes):
    return update(agreement, acting_user=acting_user, expected_version=expected_version, **changes)


def create_safety_issue(*, acting_user, **values) -> SafetyIssue:
    return create(SafetyIssue, acting_user=acting_user, **values)


def update_safety_issue(issue: SafetyIssue, *, acting_user, expected_version=None, **changes):
    return update(issue, acting_user=acting_user, expected_version=expected_version, **changes)


# --- worklists ---------------------------------------------------------------------------


def expiring_agreements(user, within_days: int = 30, today: datetime.date | None = None):
    """Agreements in the user's region still valid today and ending within the days, the
    soonest first: the ones to renew."""
    today = today or timezone.localdate()
    return (
        Agreement.objects.in_scope(user)
        .expiring(today, within_days)
        .select_related("employer", "rental_house", "site")
        .order_by("valid_until", "id")
    )


def open_rectifications(user, today: datetime.date | None = None):
    """Hazards not yet rectified in the user's region, overdue ones first, then by
    deadline."""
    today = today or timezone.localdate()
    return (
        SafetyIssue.objects.in_scope(user)
        .open()
        .select_related("rental_house")
        .register_order(today)
    )


# --- stays -------------------------------------------------------------------------------

EPISODE_LINK_FIELDS = ["employer", "employer_place_id", "rental_house_id", "version"]


@transaction.atomic
def link_stay(
    episode,
    employer: Employer | None = None,
    rental_house: RentalHouse | None = None,
    *,
    acting_user,
):
    """Say where she works and lives during this stay. The stay must be one the user may
    change (people rules) and each place in the user's region."""
    from liudong.people.services import FILE_OUTSIDE

    authorize(
        acting_user,
        CHANGE_PEOPLE,
        episode.region_id,
        episode.person.household_region_id,
        episode.person.residence_region_id,
        outside=FILE_OUTSIDE,
    )
    before = audit.snapshot(episode, EPISODE_LINK_FIELDS)
    if employer is not None:
        check_region(acting_user, employer.region_id, "employer")
        episode.employer_place = employer
        # Pages and exports still read the free text: fill it when the stay has none.
        episode.employer = episode.employer or employer.name[:200]
    if rental_house is not None:
        check_region(acting_user, rental_house.region_id, "rental_house")
        episode.rental_house = rental_house
    if audit.snapshot(episode, EPISODE_LINK_FIELDS) == before:
        return episode
    episode.save_versioned()
    audit.record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=episode,
        region=episode.region_id,
        before=before,
        after=audit.snapshot(episode, EPISODE_LINK_FIELDS),
        detail={"linked": "places"},
    )
    return episode
