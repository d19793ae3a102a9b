"""The programmes and their amounts as data (issue 17): a province changes a programme's rules,
adds a programme of its own, and sets each year's amounts without a release.

Who: the province's bureau (an account holding APPROVE_BENEFITS whose region is a province)
or the server's operator. A county or township reads the rules and amounts (every account
holding BENEFITS); it does not set them: the amount a beneficiary receives is the province's
decision, the same in every county of it. Rules are checked by ``rules.parse`` before they are
saved, never when a family is judged; every change is audited with the old and new value.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from liudong.accounts.roles import APPROVE_BENEFITS
from liudong.actors import Actor, Operator, reach
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import allowed, authorize
from liudong.regions.codes import LEVEL_LENGTHS, Level

from .models import Programme, ProgrammeAmount
from .rules import parse

PROVINCE_LENGTH = LEVEL_LENGTHS[Level.PROVINCE]


def may_set(actor: Actor, province: str | None = None) -> bool:
    """Whether the actor sets programmes (and, given a province code, its amounts)."""
    if isinstance(actor, Operator):
        return province is None or province.startswith(actor.prefix[:PROVINCE_LENGTH])
    region = reach(actor) or ""
    if len(region) != PROVINCE_LENGTH or not allowed(actor, APPROVE_BENEFITS):
        return False
    return province is None or province == region


def _check_may_set(actor: Actor, province: str | None = None) -> None:
    authorize(actor, APPROVE_BENEFITS)
    if not may_set(actor, province):
        raise PermissionDenied(
            _("Programmes and their amounts are set by the province's bureau.")
            if province is None
            else _("Only the bureau of province %(province)s sets its amounts.")
            % {"province": province}
        )


def describe(programme: Programme) -> list[str]:
    """The programme's rules in words, as the pages show them."""
    return [rule.describe() for rule in parse(programme.rules)]


def save_rules(*, acting_user: Actor, programme: Programme, rules: object) -> Programme:
    """Replace a programme's rules; ValidationError naming what is wrong with them."""
    _check_may_set(acting_user)
    parse(rules)
    before = programme.rules
    with transaction.atomic():
        programme.rules = rules
        programme.save(update_fields=["rules"])
        audit.record(
            Action.UPDATE,
            acting_user=acting_user,
            obj=programme,
            region=reach(acting_user) or "",
            detail={"rules": {"from": before, "to": rules}},
        )
    return programme


def add_programme(
    *,
    acting_user: Actor,
    code: str,
    name: str,
    name_en: str = "",
    group: str = "",
    rules: object,
) -> Programme:
    """A province's own programme; its ``group`` (default: its code) names the programmes of
    which a person holds one at a time."""
    _check_may_set(acting_user)
    parse(rules)
    programme = Programme(code=code, name=name, name_en=name_en, group=group or code, rules=rules)
    programme.full_clean()
    with transaction.atomic():
        programme.save()
        audit.record(
            Action.CREATE,
            acting_user=acting_user,
            obj=programme,
            region=reach(acting_user) or "",
            detail={"code": code, "rules": rules},
        )
    return programme


def set_amount(
    *,
    acting_user: Actor,
    programme: Programme,
    year: int,
    province: str,
    yuan_per_year: Decimal,
    schedule: str = ProgrammeAmount.Schedule.YEARLY,
    example: bool = False,
) -> ProgrammeAmount:
    """The year's amount of a programme in a province (a second call for the same year
    replaces it: a province corrects a figure before the payment lists are made)."""
    _check_may_set(acting_user, province)
    if yuan_per_year <= 0:
        raise ValidationError(
            {"yuan_per_year": _("An amount is more than 0 yuan.")}, code="amount_positive"
        )
    with transaction.atomic():
        found = (
            ProgrammeAmount.objects.select_for_update()
            .filter(programme=programme, year=year, province=province)
            .first()
        )
        before = None if found is None else str(found.yuan_per_year)
        amount = found or ProgrammeAmount(programme=programme, year=year, province=province)
        amount.yuan_per_year = yuan_per_year
        amount.schedule = schedule
        amount.example = example
        amount.full_clean()
        amount.save()
        audit.record(
            Action.CREATE if found is None else Action.UPDATE,
            acting_user=acting_user,
            obj=amount,
            region=province,
            detail={
                "programme": programme.code,
                "year": year,
                "yuan_per_year": {"from": before, "to": str(yuan_per_year)},
                "schedule": schedule,
            },
        )
    return amount
