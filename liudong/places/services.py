"""Business rules for places: creating and changing employers, rental houses, sites,
agreements and safety issues; the worklists of expiring agreements and open
rectifications; linking a stay to its employer and rental house. The API, the importers
and the command line call these functions; each change is audited in its transaction.

``acting_user`` None is the server operator (command line without --user): no region
bound. Any other user needs MANAGE_PLACES and may only touch places in their region.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liudong import records
from liudong.accounts.roles import CHANGE_PEOPLE, MANAGE_PLACES
from liudong.actors import Caller
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.records import check_region

from .models import Agreement, Employer, RentalHouse, SafetyIssue, Site
from .records import BY_MODEL


def check_role(user: Caller) -> None:
    authorize(user, MANAGE_PLACES, refused=_("Your role may not change places."))


# --- create and update -------------------------------------------------------------------


def create(model: type[models.Model], *, acting_user: Caller, **values: Any) -> Any:
    """A new place, agreement or safety issue from field values (region as a Region or
    a code); refused with the field and rule named (``places.rules``)."""
    return records.create(BY_MODEL[model], acting_user=acting_user, **values)


def update(
    obj: Any, *, acting_user: Caller, expected_version: int | None = None, **changes: Any
) -> Any:
    """Change fields of ``obj`` based on ``expected_version`` (StaleWrite when someone
    changed it since). The record must be in the user's region before and after."""
    return records.update(
        BY_MODEL[type(obj)],
        obj,
        acting_user=acting_user,
        expected_version=expected_version,
        **changes,
    )


def create_employer(*, acting_user: Caller, **values: Any) -> Employer:
    return create(Employer, acting_user=acting_user, **values)


def update_employer(
    employer: Employer, *, acting_user: Caller, expected_version: int | None = None, **changes: Any
) -> Employer:
    return update(employer, acting_user=acting_user, expected_version=expected_version, **changes)


def create_rental_house(*, acting_user: Caller, **values: Any) -> RentalHouse:
    return create(RentalHouse, acting_user=acting_user, **values)


def update_rental_house(
    house: RentalHouse, *, acting_user: Caller, expected_version: int | None = None, **changes: Any
) -> RentalHouse:
    return update(house, acting_user=acting_user, expected_version=expected_version, **changes)


def create_site(*, acting_user: Caller, **values: Any) -> Site:
    return create(Site, acting_user=acting_user, **values)


def update_site(
    site: Site, *, acting_user: Caller, expected_version: int | None = None, **changes: Any
) -> Site:
    return update(site, acting_user=acting_user, expected_version=expected_version, **changes)


def create_agreement(*, acting_user: Caller, **values: Any) -> Agreement:
    return create(Agreement, acting_user=acting_user, **values)


def update_agreement(
    agreement: Agreement,
    *,
    acting_user: Caller,
    expected_version: int | None = None,
    **changes: Any,
) -> Agreement:
    return update(agreement, acting_user=acting_user, expected_version=expected_version, **changes)


def create_safety_issue(*, acting_user: Caller, **values: Any) -> SafetyIssue:
    return create(SafetyIssue, acting_user=acting_user, **values)


def update_safety_issue(
    issue: SafetyIssue, *, acting_user: Caller, expected_version: int | None = None, **changes: Any
) -> SafetyIssue:
    return update(issue, acting_user=acting_user, expected_version=expected_version, **changes)


# --- worklists ---------------------------------------------------------------------------


def expiring_agreements(
    user: Caller, within_days: int = 30, today: datetime.date | None = None
) -> Any:
    """Agreements in the user's region still valid today and ending within the days, the
    soonest first: the ones to renew."""
    today = today or timezone.localdate()
    return (
        Agreement.objects.in_scope(user)
        .expiring(today, within_days)
        .select_related("employer", "rental_house", "site")
        .order_by("valid_until", "id")
    )


def open_rectifications(user: Caller, today: datetime.date | None = None) -> Any:
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
    episode: Any,
    employer: Employer | None = None,
    rental_house: RentalHouse | None = None,
    *,
    acting_user: Caller,
) -> Any:
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
