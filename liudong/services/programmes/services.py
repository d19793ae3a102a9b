"""Business rules of families and applications for the reward and assistance programmes
(issue 17): keeping a family and its children, the births certification, applying for a
programme, the village's public notice (公示), the township's review, the county's approval
or refusal, the appeal and its decision, and withdrawing an application. Each change is one
transaction with its audit entry.

Eligibility is never decided here: it is ``eligibility.judge`` (the one answer the check
command, the web check and the re-qualification share). A benefit is applied for and
received; nothing here makes it a duty or a sanction. Must not touch the re-qualification
(``requalification``) or the payment lists (``payments``): an approval creates the
``Benefit`` they start from, and that is all.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from liudong.accounts.roles import APPROVE_BENEFITS, BENEFITS
from liudong.actors import Actor, Caller, account_of
from liudong.audit import services as audit
from liudong.audit.models import Action
from liudong.authorization import authorize
from liudong.base import TrackedModel
from liudong.people import idnumbers
from liudong.people.models import Person
from liudong.people.template import SEX_CHOICES
from liudong.regions.codes import subtree_q
from liudong.regions.models import Region

from . import eligibility
from . import requalification as rq
from .models import (
    NOTICE_MIN_DAYS,
    Application,
    Benefit,
    ChildState,
    Family,
    FamilyChild,
    HouseholdType,
    Programme,
    PublicNotice,
    Requalification,
)

Status = Application.Status

# Statuses of an application still waiting for a decision (she may withdraw it), and
# those that count as "applied" for the rule of one application per person and programme.
UNDECIDED = (Status.APPLIED, Status.ON_NOTICE, Status.REVIEWED, Status.APPEALED)
HELD = (*UNDECIDED, Status.APPROVED)
# A suspended benefit is still hers (suspension is not striking off).
HELD_BENEFITS = (Benefit.Status.ACTIVE, Benefit.Status.SUSPENDED)
REASON_MAX = 500
NAME_MAX = 50
VILLAGE_LENGTH = 12

REFUSED_BENEFITS = gettext_lazy("Your role may not keep families or applications for programmes.")
REFUSED_APPROVAL = gettext_lazy(
    "Only the county may approve or refuse applications and decide appeals."
)
OUTSIDE = gettext_lazy("%(field)s: region %(code)s lies outside your region %(region)s.")

FAMILY_FIELDS = (
    "applicant_name",
    "applicant_id_number",
    "spouse_name",
    "spouse_id_number",
    "household_type",
    "household_region",
    "household_address",
    "person",
    "births_certified_on",
    "births_certified_by",
    "births_certified_note",
)
EDITABLE_FAMILY_FIELDS = (
    "applicant_name",
    "applicant_id_number",
    "spouse_name",
    "spouse_id_number",
    "household_type",
    "household_region",
    "household_address",
    "person_id_number",
)
CHILD_FIELDS = ("name", "sex", "birth_date", "state", "death_date", "disability_grade", "adopted")
APPLICATION_FIELDS = (
    "status",
    "notice",
    "reviewed_on",
    "reviewed_by",
    "decided_on",
    "decided_by",
    "refusal_reason",
    "appealed_on",
    "appeal_reason",
    "appeal_decided_on",
    "appeal_decided_by",
)


# --- shared checks -------------------------------------------------------------------------


def _label(model: type[TrackedModel] | type[FamilyChild], field: str) -> str:
    found = model._meta.get_field(field)
    return str(getattr(found, "verbose_name", field))


def _authorize(actor: Caller, code: str, field: str = "household_region") -> None:
    authorize(
        actor,
        BENEFITS,
        code,
        refused=REFUSED_BENEFITS,
        outside=OUTSIDE,
        field=_label(Family, field) if field == "household_region" else field,
    )


def _authorize_county(actor: Caller, code: str) -> None:
    authorize(actor, APPROVE_BENEFITS, code, refused=REFUSED_APPROVAL)


def _today(on: datetime.date | None, field: str) -> datetime.date:
    """The day a step is taken: today unless given, never in the future."""
    today = timezone.localdate()
    if on is None:
        return today
    if on > today:
        raise ValidationError({field: _("%(day)s is in the future.") % {"day": on.isoformat()}})
    return on


def _reason(text: str | None, field: str) -> str:
    """A reason given for refusing (or grounds of an appeal): required, 1–500 characters."""
    value = (text or "").strip()
    if not value:
        raise ValidationError({field: _("Give the reason (it is shown to her and kept).")})
    if len(value) > REASON_MAX:
        raise ValidationError(
            {
                field: _("The reason has %(n)s characters; at most %(max)s.")
                % {"n": len(value), "max": REASON_MAX}
            }
        )
    return value


def _image(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    names = [obj._meta.get_field(name).attname for name in fields]
    if isinstance(obj, TrackedModel):
        names.append("version")
    return audit.snapshot(obj, names)


def _record(
    action: str,
    *,
    acting_user: Actor,
    obj: Any,
    region: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        action,
        acting_user=acting_user,
        obj=obj,
        region=region,
        before=before,
        after=after,
        detail=detail,
    )


# --- families ------------------------------------------------------------------------------


def _identity(value: str, field: str) -> idnumbers.IdNumber:
    try:
        return idnumbers.parse(value, today=timezone.localdate())
    except idnumbers.IdNumberError as exc:
        raise ValidationError({field: f"{_label(Family, field)}: {exc}"}) from exc


def _name(value: str, field: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(
            {field: _("%(field)s is required.") % {"field": _label(Family, field)}}
        )
    if len(value) > NAME_MAX:
        raise ValidationError(
            {
                field: _("%(field)s has %(n)s characters; at most %(max)s.")
                % {"field": _label(Family, field), "n": len(value), "max": NAME_MAX}
            }
        )
    return value


def _parents(family: Family) -> list[tuple[str, datetime.date]]:
    """(field, birth date) of the parents on record."""
    found = [("applicant_id_number", idnumbers.parse(family.applicant_id_number).birth_date)]
    if family.spouse_id_number:
        found.append(("spouse_id_number", idnumbers.parse(family.spouse_id_number).birth_date))
    return found


def _check_family(family: Family) -> None:
    """The rules of a family, whichever way it was changed (children's dates included)."""
    family.applicant_name = _name(family.applicant_name, "applicant_name", required=True)
    family.spouse_name = _name(family.spouse_name, "spouse_name", required=False)
    family.applicant_id_number = _identity(family.applicant_id_number, "applicant_id_number").value
    spouse = (family.spouse_id_number or "").strip()
    family.spouse_id_number = _identity(spouse, "spouse_id_number").value if spouse else ""
    if family.spouse_id_number and family.spouse_id_number == family.applicant_id_number:
        raise ValidationError(
            {"spouse_id_number": _("The spouse's ID number is the applicant's own.")}
        )
    if family.spouse_name and not family.spouse_id_number:
        raise ValidationError(
            {"spouse_id_number": _("Give the spouse's ID number with the spouse's name.")}
        )
    if family.household_type not in HouseholdType.values:
        raise ValidationError(
            {
                "household_type": _("%(field)s: “%(value)s” is not one of %(choices)s.")
                % {
                    "field": _label(Family, "household_type"),
                    "value": family.household_type,
                    "choices": "、".join(str(label) for label in HouseholdType.labels),
                }
            }
        )
    if len(family.household_address) > 200:
        raise ValidationError({"household_address": _("The address has more than 200 characters.")})
    # Unique among all families of this node (the rule, not a read: whose family it is
    # stays unsaid when it lies outside the caller's region).
    taken = Family.objects.filter(applicant_id_number=family.applicant_id_number)
    if family.pk:
        taken = taken.exclude(pk=family.pk)
    if taken.exists():
        raise ValidationError(
            {
                "applicant_id_number": _(
                    "A family with this applicant's ID number is on file already."
                )
            }
        )
    if family.pk:
        for child in family.children.all():
            _check_child_against_parents(family, child, field=None)


def _link_person(actor: Actor, family: Family, id_number: str | None) -> None:
    """Her person file on this node, found by ID number within the caller's region."""
    if id_number is None:
        return
    value = idnumbers.normalise(id_number)
    if not value:
        family.person = None
        return
    if value not in (family.applicant_id_number, family.spouse_id_number):
        raise ValidationError(
            {"person_id_number": _("Link the file of the applicant or of the spouse.")}
        )
    person = Person.objects.in_scope(actor).filter(id_number=value).first()
    if person is None:
        raise ValidationError(
            {"person_id_number": _("No person file with this ID number lies in your region.")}
        )
    family.person = person


def _family_region(family: Family) -> str:
    return family.household_region_id


@transaction.atomic
def create_family(
    *,
    acting_user: Actor,
    applicant_name: str,
    applicant_id_number: str,
    household_type: str,
    household_region: Region,
    spouse_name: str = "",
    spouse_id_number: str = "",
    household_address: str = "",
    person_id_number: str | None = None,
) -> Family:
    """A family as the household registration township records it. Its region must lie in
    the caller's; the applicant's ID number may have one family only."""
    _authorize(acting_user, household_region.code)
    family = Family(
        applicant_name=applicant_name,
        applicant_id_number=applicant_id_number or "",
        spouse_name=spouse_name or "",
        spouse_id_number=spouse_id_number or "",
        household_type=household_type,
        household_region=household_region,
        household_address=(household_address or "").strip(),
        created_by=account_of(acting_user),
    )
    _check_family(family)
    _link_person(acting_user, family, person_id_number)
    family.save()
    _record(
        Action.CREATE,
        acting_user=acting_user,
        obj=family,
        region=_family_region(family),
        after=_image(family, FAMILY_FIELDS),
    )
    return family


@transaction.atomic
def update_family(
    *,
    acting_user: Actor,
    family: Family,
    expected_version: int | None = None,
    **changes: Any,
) -> Family:
    """Correct the couple, the household type, region or address, or the file linked."""
    unknown = set(changes) - set(EDITABLE_FAMILY_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    _authorize(acting_user, _family_region(family))
    before = _image(family, FAMILY_FIELDS)
    person_id_number = changes.pop("person_id_number", None)
    for name, value in changes.items():
        setattr(family, name, value if value is not None else "")
    _authorize(acting_user, _family_region(family))  # a new region must be the caller's too
    _check_family(family)
    _link_person(acting_user, family, person_id_number)
    family.save_versioned(expected_version=expected_version)
    _record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=family,
        region=_family_region(family),
        before=before,
        after=_image(family, FAMILY_FIELDS),
    )
    return family


@transaction.atomic
def certify_births(
    *,
    acting_user: Actor,
    family: Family,
    certified_on: datetime.date,
    note: str = "",
    expected_version: int | None = None,
) -> Family:
    """Record that the village and township certified the family's births were within the
    policy of their time: who (the caller) and when. Recorded, never computed."""
    _authorize(acting_user, _family_region(family))
    certified_on = _today(certified_on, "births_certified_on")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError(
            {"births_certified_note": _("The note has more than 200 characters.")}
        )
    before = _image(family, FAMILY_FIELDS)
    family.births_certified_on = certified_on
    family.births_certified_by = account_of(acting_user)
    family.births_certified_note = note
    family.save_versioned(expected_version=expected_version)
    _record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=family,
        region=_family_region(family),
        before=before,
        after=_image(family, FAMILY_FIELDS),
    )
    return family


def view_family(*, acting_user: Actor, family: Family, via: str) -> None:
    """A read of the family's page or record (ID numbers shown in full): logged."""
    audit.record_view(acting_user=acting_user, obj=family, region=_family_region(family), via=via)


def view_benefit(*, acting_user: Actor, benefit: Benefit, via: str) -> None:
    """A read of one benefit's page or record: logged as a view of it."""
    audit.record_view(
        acting_user=acting_user, obj=benefit, region=_family_region(benefit.family), via=via
    )


# --- children ------------------------------------------------------------------------------


def _child_label(field: str) -> str:
    return _label(FamilyChild, field)


def _check_child(child: FamilyChild) -> None:
    today = timezone.localdate()
    if child.sex not in dict(SEX_CHOICES):
        raise ValidationError({"sex": _("Choose the child's sex.")})
    if child.birth_date is None:
        raise ValidationError({"birth_date": _("The child's birth date is required.")})
    if child.birth_date > today:
        raise ValidationError(
            {
                "birth_date": _("%(field)s: %(day)s is in the future.")
                % {"field": _child_label("birth_date"), "day": child.birth_date.isoformat()}
            }
        )
    if child.state not in ChildState.values:
        raise ValidationError({"state": _("Choose the child's state.")})
    if child.death_date is not None:
        if child.state != ChildState.DEAD:
            raise ValidationError(
                {
                    "death_date": _("%(field)s is given for a child who is not recorded as dead.")
                    % {"field": _child_label("death_date")}
                }
            )
        if child.death_date < child.birth_date:
            raise ValidationError(
                {
                    "death_date": _("%(field)s %(death)s is before the birth date %(birth)s.")
                    % {
                        "field": _child_label("death_date"),
                        "death": child.death_date.isoformat(),
                        "birth": child.birth_date.isoformat(),
                    }
                }
            )
        if child.death_date > today:
            raise ValidationError(
                {
                    "death_date": _("%(field)s: %(day)s is in the future.")
                    % {"field": _child_label("death_date"), "day": child.death_date.isoformat()}
                }
            )
    grade = child.disability_grade
    if grade is not None:
        if child.state != ChildState.DISABLED:
            raise ValidationError(
                {
                    "disability_grade": _(
                        "%(field)s is given for a child not recorded as disabled."
                    )
                    % {"field": _child_label("disability_grade")}
                }
            )
        if not 1 <= grade <= 4:
            raise ValidationError(
                {
                    "disability_grade": _(
                        "%(field)s must be 1 to 4 (from the disability certificate), got %(grade)s."
                    )
                    % {"field": _child_label("disability_grade"), "grade": grade}
                }
            )
    elif child.state == ChildState.DISABLED:
        raise ValidationError(
            {"disability_grade": _("Give the grade of the disability certificate (1 to 4).")}
        )
    child.name = (child.name or "").strip()
    if len(child.name) > NAME_MAX:
        raise ValidationError({"name": _("The name has more than 50 characters.")})


def _check_child_against_parents(
    family: Family, child: FamilyChild, field: str | None = "birth_date"
) -> None:
    """No child born before a parent: named on the child's birth date when the child
    changed, on the parent's ID number (``field=None``) when a parent did."""
    for parent_field, born in _parents(family):
        if child.birth_date < born:
            raise ValidationError(
                {
                    field or parent_field: _(
                        "A child born %(child)s is recorded before a parent was born (%(parent)s)."
                    )
                    % {"child": child.birth_date.isoformat(), "parent": born.isoformat()}
                }
            )


def _touch(family: Family, expected_version: int | None) -> None:
    """A change of a child is a change of the family: its version moves on, so two
    editors working from the same page cannot both win."""
    family.save_versioned(expected_version=expected_version)


@transaction.atomic
def add_child(
    *,
    acting_user: Actor,
    family: Family,
    sex: str,
    birth_date: datetime.date,
    state: str = ChildState.LIVING,
    death_date: datetime.date | None = None,
    disability_grade: int | None = None,
    name: str = "",
    adopted: bool = False,
    expected_version: int | None = None,
) -> FamilyChild:
    _authorize(acting_user, _family_region(family))
    child = FamilyChild(
        family=family,
        name=name or "",
        sex=sex,
        birth_date=birth_date,
        state=state,
        death_date=death_date,
        disability_grade=disability_grade,
        adopted=adopted,
    )
    _check_child(child)
    _check_child_against_parents(family, child)
    child.save()
    _touch(family, expected_version)
    _record(
        Action.CREATE,
        acting_user=acting_user,
        obj=child,
        region=_family_region(family),
        after=_image(child, CHILD_FIELDS),
    )
    # A child born or adopted: the family's benefits are judged again (issue 17: a new child
    # ends the special assistance from the next payment).
    rq.child_added(acting_user=acting_user, child=child)
    return child


@transaction.atomic
def update_child(
    *,
    acting_user: Actor,
    child: FamilyChild,
    expected_version: int | None = None,
    **changes: Any,
) -> FamilyChild:
    """Correct a child, or record a death or a disability certificate."""
    unknown = set(changes) - set(CHILD_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    family = child.family
    _authorize(acting_user, _family_region(family))
    before = _image(child, CHILD_FIELDS)
    for name, value in changes.items():
        setattr(child, name, value)
    _check_child(child)
    _check_child_against_parents(family, child)
    child.save()
    _touch(family, expected_version)
    _record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=child,
        region=_family_region(family),
        before=before,
        after=_image(child, CHILD_FIELDS),
    )
    _rejudge(acting_user, family)
    return child


@transaction.atomic
def remove_child(
    *, acting_user: Actor, child: FamilyChild, expected_version: int | None = None
) -> None:
    """A child entered by mistake (a death is recorded, never a removal)."""
    family = child.family
    _authorize(acting_user, _family_region(family))
    before = _image(child, CHILD_FIELDS)
    _record(
        Action.DELETE,
        acting_user=acting_user,
        obj=child,
        region=_family_region(family),
        before=before,
    )
    child.delete()
    _touch(family, expected_version)
    _rejudge(acting_user, family)


def _rejudge(acting_user: Actor, family: Family) -> None:
    """A child corrected, dead or removed: each benefit the family no longer qualifies for
    ends from the next payment, with the rule it fails."""
    today = timezone.localdate()
    rq.family_changed(
        acting_user=acting_user,
        family=family,
        on=today,
        cause=rq.end_reason(rq.EndCause.NOT_ELIGIBLE, today),
    )


@transaction.atomic
def record_new_child(
    *,
    acting_user: Actor,
    requalification: Requalification,
    sex: str,
    birth_date: datetime.date,
    adopted: bool = False,
) -> tuple[FamilyChild, list[Benefit]]:
    """A new child learnt of at re-qualification: recorded on the family as any child is
    (checked, audited, the family's benefits judged again). Returns the benefits it ended."""
    family = requalification.benefit.family
    current = list(family.benefits.filter(status__in=rq.CURRENT).values_list("pk", flat=True))
    child = add_child(
        acting_user=acting_user, family=family, sex=sex, birth_date=birth_date, adopted=adopted
    )
    ended = family.benefits.filter(pk__in=current, status=Benefit.Status.ENDED).order_by("pk")
    return child, list(ended)


# --- the check and applying ----------------------------------------------------------------


def parents_of(family: Family) -> list[tuple[str, str]]:
    """(ID number, name) of the parents who may apply."""
    found = [(family.applicant_id_number, family.applicant_name)]
    if family.spouse_id_number:
        found.append((family.spouse_id_number, family.spouse_name))
    return found


def check(family: Family, id_number: str, on: datetime.date) -> eligibility.Verdict:
    """What the page shows before an application: ``eligibility.judge`` for the parent
    on the day, over every open programme (the one answer; nothing judged here)."""
    return eligibility.judge(eligibility.facts_of(family, id_number), on)


def _open_application(id_number: str, programme: Programme) -> Application | None:
    return (
        Application.objects.filter(id_number=id_number, programme=programme, status__in=HELD)
        .order_by("pk")
        .first()
    )


def _held_benefit_of_group(id_number: str, programme: Programme) -> Benefit | None:
    return (
        Benefit.objects.filter(
            id_number=id_number,
            programme__group=programme.group,
            status__in=HELD_BENEFITS,
        )
        .select_related("programme")
        .first()
    )


BANK_CARD = re.compile(r"^[0-9]{10,30}$")


def _bank_card(value: str | None) -> str:
    card = re.sub(r"[\s-]", "", value or "")
    if card and not BANK_CARD.match(card):
        raise ValidationError(
            {"bank_card": _("A bank card number is 10 to 30 digits (spaces allowed).")}
        )
    return card


@transaction.atomic
def apply(
    *,
    acting_user: Actor,
    family: Family,
    programme: Programme,
    id_number: str,
    applied_on: datetime.date | None = None,
    bank_card: str = "",
) -> Application:
    """Her application, made by the township for her: refused when she does not qualify
    on the day (the first rule she fails), when she applied for the programme already and
    that application is open or approved, or when she holds a benefit of the programme's
    group (the reward and one special assistance programme may be held at once)."""
    _authorize(acting_user, _family_region(family))
    applied_on = _today(applied_on, "applied_on")
    id_number = idnumbers.normalise(id_number)
    names = dict(parents_of(family))
    if id_number not in names:
        raise ValidationError(
            {"id_number": _("The one applying must be the family's applicant or spouse.")}
        )
    if not programme.active:
        raise ValidationError({"programme": _("This programme takes no new applications.")})
    card = _bank_card(bank_card)
    earlier = _open_application(id_number, programme)
    if earlier is not None:
        raise ValidationError(
            {
                "programme": _(
                    "She applied for %(programme)s on %(day)s already (%(status)s): one "
                    "application per person and programme."
                )
                % {
                    "programme": programme.name,
                    "day": earlier.applied_on.isoformat(),
                    "status": earlier.get_status_display(),
                }
            }
        )
    held = _held_benefit_of_group(id_number, programme)
    if held is not None:
        raise ValidationError(
            {
                "programme": _(
                    "She receives %(held)s already; one programme of this kind at a time."
                )
                % {"held": held.programme.name}
            }
        )
    verdict = eligibility.judge(eligibility.facts_of(family, id_number), applied_on, [programme])
    if programme.code in verdict.not_:
        raise ValidationError(
            {
                "programme": _("She does not qualify for %(programme)s on %(day)s: %(reason)s")
                % {
                    "programme": programme.name,
                    "day": applied_on.isoformat(),
                    "reason": verdict.not_[programme.code],
                }
            }
        )
    application = Application.objects.create(
        family=family,
        programme=programme,
        id_number=id_number,
        name=names[id_number],
        applied_on=applied_on,
        bank_card=card,
        created_by=account_of(acting_user),
    )
    _record(
        Action.CREATE,
        acting_user=acting_user,
        obj=application,
        region=_family_region(family),
        after=_image(application, ("programme", "id_number", "applied_on", *APPLICATION_FIELDS)),
    )
    return application


def _change(
    application: Application,
    acting_user: Actor,
    expected_version: int | None,
    detail: dict[str, Any],
    **values: Any,
) -> Application:
    before = _image(application, APPLICATION_FIELDS)
    for name, value in values.items():
        setattr(application, name, value)
    application.save_versioned(expected_version=expected_version)
    _record(
        Action.UPDATE,
        acting_user=acting_user,
        obj=application,
        region=_family_region(application.family),
        before=before,
        after=_image(application, APPLICATION_FIELDS),
        detail=detail,
    )
    return application


def _expect(application: Application, *statuses: str) -> None:
    if application.status not in statuses:
        raise ValidationError(
            _("The application is %(status)s: this step is not open to it.")
            % {"status": application.get_status_display()}
        )


# --- the village's public notice -----------------------------------------------------------


def waiting_for_notice(actor: Caller, village: Region) -> QuerySet[Application]:
    """Applications of the village's families not yet on a notice."""
    return (
        Application.objects.in_scope(actor)
        .filter(subtree_q(village.code, "family__household_region_id"), status=Status.APPLIED)
        .select_related("family", "programme")
        .order_by("applied_on", "pk")
    )


@transaction.atomic
def post_notice(
    *,
    acting_user: Actor,
    village: Region,
    posted_on: datetime.date,
    ends_on: datetime.date,
    applications: Iterable[Application] | None = None,
) -> PublicNotice:
    """The village's public notice of applications of its families (all waiting ones
    unless chosen), posted at least ``NOTICE_MIN_DAYS`` days."""
    _authorize(acting_user, village.code, field=_("village"))
    if len(village.code) != VILLAGE_LENGTH:
        raise ValidationError({"region": _("A public notice is posted in a village or community.")})
    if posted_on is None or ends_on is None:
        raise ValidationError({"ends_on": _("Give the days the notice is posted.")})
    if ends_on < posted_on + datetime.timedelta(days=NOTICE_MIN_DAYS):
        raise ValidationError(
            {
                "ends_on": _(
                    "A notice stays posted at least %(days)s days: from %(posted)s it ends on "
                    "%(earliest)s or later, not %(ends)s."
                )
                % {
                    "days": NOTICE_MIN_DAYS,
                    "posted": posted_on.isoformat(),
                    "earliest": (posted_on + datetime.timedelta(days=NOTICE_MIN_DAYS)).isoformat(),
                    "ends": ends_on.isoformat(),
                }
            }
        )
    waiting = waiting_for_notice(acting_user, village)
    if applications is None:
        chosen = list(waiting)
    else:
        ids = {a.pk for a in applications}
        chosen = list(waiting.filter(pk__in=ids))
        if len(chosen) != len(ids):
            raise ValidationError(
                {
                    "applications": _(
                        "Only applications of this village's families waiting for "
                        "a notice may be posted."
                    )
                }
            )
    if not chosen:
        raise ValidationError(
            {"applications": _("No application of this village waits for a notice.")}
        )
    notice = PublicNotice.objects.create(
        region=village, posted_on=posted_on, ends_on=ends_on, posted_by=account_of(acting_user)
    )
    _record(
        Action.CREATE,
        acting_user=acting_user,
        obj=notice,
        region=village.code,
        after={
            **_image(notice, ("region", "posted_on", "ends_on", "posted_by")),
            "applications": [a.pk for a in chosen],
        },
    )
    for application in chosen:
        _change(
            application,
            acting_user,
            None,
            {"step": "notice"},
            status=Status.ON_NOTICE,
            notice=notice,
        )
    return notice


# --- review, approval, appeal, withdrawal --------------------------------------------------


@transaction.atomic
def review(
    *,
    acting_user: Actor,
    application: Application,
    passed: bool,
    reason: str = "",
    on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Application:
    """The township's review, once the village's notice has ended: passed on to the
    county, or refused with a reason she may appeal to the county."""
    _authorize(acting_user, _family_region(application.family))
    on = _today(on, "reviewed_on")
    _expect(application, Status.ON_NOTICE)
    notice = application.notice
    if notice is None or not notice.is_over(on):
        raise ValidationError(
            _("The public notice runs until %(ends)s: review it after that day.")
            % {"ends": notice.ends_on.isoformat() if notice else "—"}
        )
    values: dict[str, Any] = {"reviewed_on": on, "reviewed_by": account_of(acting_user)}
    if passed:
        values["status"] = Status.REVIEWED
    else:
        values["status"] = Status.REFUSED
        values["refusal_reason"] = _reason(reason, "reason")
    return _change(
        application,
        acting_user,
        expected_version,
        {"step": "review", "passed": passed},
        **values,
    )


def _check_not_reviewer(acting_user: Actor, application: Application) -> None:
    """Separation of duties: whoever reviewed an application never decides it."""
    account = account_of(acting_user)
    if account is not None and application.reviewed_by_id == account.pk:
        raise PermissionDenied(
            _("You reviewed this application: another person of the county decides it.")
        )


def first_of_next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _start_benefit(acting_user: Actor, application: Application, on: datetime.date) -> Benefit:
    """She qualifies still on the day of the decision (the family may have changed since
    she applied) and holds no benefit of the group; paid from the next month. Audited."""
    programme = application.programme
    verdict = eligibility.judge(
        eligibility.facts_of(application.family, application.id_number), on, [programme]
    )
    if programme.code in verdict.not_:
        raise ValidationError(
            _("She does not qualify for %(programme)s on %(day)s: %(reason)s")
            % {
                "programme": programme.name,
                "day": on.isoformat(),
                "reason": verdict.not_[programme.code],
            }
        )
    held = _held_benefit_of_group(application.id_number, programme)
    if held is not None:
        raise ValidationError(
            _("She receives %(held)s already; one programme of this kind at a time.")
            % {"held": held.programme.name}
        )
    benefit = Benefit.objects.create(
        application=application,
        family=application.family,
        programme=programme,
        id_number=application.id_number,
        name=application.name,
        bank_card=application.bank_card,
        starts_on=first_of_next_month(on),
    )
    _record(
        Action.CREATE,
        acting_user=acting_user,
        obj=benefit,
        region=_family_region(application.family),
        after=_image(benefit, ("programme", "id_number", "name", "starts_on", "status")),
    )
    return benefit


@transaction.atomic
def approve(
    *,
    acting_user: Actor,
    application: Application,
    on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Benefit:
    """The county approves a reviewed application: her benefit begins on the first day of
    the next month."""
    _authorize_county(acting_user, _family_region(application.family))
    on = _today(on, "decided_on")
    _expect(application, Status.REVIEWED)
    _check_not_reviewer(acting_user, application)
    _change(
        application,
        acting_user,
        expected_version,
        {"step": "approval", "approved": True},
        status=Status.APPROVED,
        decided_on=on,
        decided_by=account_of(acting_user),
    )
    return _start_benefit(acting_user, application, on)


@transaction.atomic
def refuse(
    *,
    acting_user: Actor,
    application: Application,
    reason: str,
    on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Application:
    """The county refuses a reviewed application, with a reason she may appeal."""
    _authorize_county(acting_user, _family_region(application.family))
    on = _today(on, "decided_on")
    _expect(application, Status.REVIEWED)
    _check_not_reviewer(acting_user, application)
    return _change(
        application,
        acting_user,
        expected_version,
        {"step": "approval", "approved": False},
        status=Status.REFUSED,
        decided_on=on,
        decided_by=account_of(acting_user),
        refusal_reason=_reason(reason, "reason"),
    )


@transaction.atomic
def appeal(
    *,
    acting_user: Actor,
    application: Application,
    grounds: str,
    on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Application:
    """Her appeal of a refusal to the county, lodged by the township for her: once."""
    _authorize(acting_user, _family_region(application.family))
    on = _today(on, "appealed_on")
    if application.appealed_on is not None:
        raise ValidationError(
            _("She appealed on %(day)s already; the county's decision on an appeal is final.")
            % {"day": application.appealed_on.isoformat()}
        )
    _expect(application, Status.REFUSED)
    return _change(
        application,
        acting_user,
        expected_version,
        {"step": "appeal"},
        status=Status.APPEALED,
        appealed_on=on,
        appeal_reason=_reason(grounds, "grounds"),
    )


@transaction.atomic
def decide_appeal(
    *,
    acting_user: Actor,
    application: Application,
    granted: bool,
    reason: str = "",
    on: datetime.date | None = None,
    expected_version: int | None = None,
) -> Application:
    """The county decides an appeal, finally: granted (her benefit begins) or refused
    again with a reason."""
    _authorize_county(acting_user, _family_region(application.family))
    on = _today(on, "appeal_decided_on")
    _expect(application, Status.APPEALED)
    _check_not_reviewer(acting_user, application)
    values: dict[str, Any] = {
        "appeal_decided_on": on,
        "appeal_decided_by": account_of(acting_user),
    }
    if granted:
        values["status"] = Status.APPROVED
    else:
        values["status"] = Status.REFUSED
        values["refusal_reason"] = _reason(reason, "reason")
    _change(
        application,
        acting_user,
        expected_version,
        {"step": "appeal decision", "granted": granted},
        **values,
    )
    if granted:
        _start_benefit(acting_user, application, on)
    return application


@transaction.atomic
def withdraw(
    *,
    acting_user: Actor,
    application: Application,
    expected_version: int | None = None,
) -> Application:
    """She withdraws her application before it is decided (her choice, no reason asked)."""
    _authorize(acting_user, _family_region(application.family))
    _expect(application, *UNDECIDED)
    return _change(
        application,
        acting_user,
        expected_version,
        {"step": "withdrawal"},
        status=Status.WITHDRAWN,
    )


# --- lists ---------------------------------------------------------------------------------


def county_worklist(actor: Caller) -> QuerySet[Application]:
    """Applications waiting for the county: reviewed ones and appeals, oldest first."""
    return (
        Application.objects.in_scope(actor)
        .filter(status__in=(Status.REVIEWED, Status.APPEALED))
        .select_related("family", "family__household_region", "programme", "reviewed_by")
        .order_by("applied_on", "pk")
    )


def township_worklist(actor: Caller) -> QuerySet[Application]:
    """Applications the township acts on: waiting for a notice, or on a notice."""
    return (
        Application.objects.in_scope(actor)
        .filter(status__in=(Status.APPLIED, Status.ON_NOTICE))
        .select_related("family", "family__household_region", "programme", "notice")
        .order_by("applied_on", "pk")
    )
