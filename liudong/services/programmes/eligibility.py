"""Which programmes a family qualifies for on a date, and why not the others: the one answer
the check command, the web check before an application and the yearly re-qualification
share (issue 17: "the check command and the web give the same answers")."""

from __future__ import annotations

import dataclasses
import datetime

from liudong.people.idnumbers import parse as parse_id_number

from .models import Family, Programme
from .rules import ChildFacts, FamilyFacts, first_failure, parse


@dataclasses.dataclass(frozen=True)
class Verdict:
    programmes: list[str]  # codes of the programmes she qualifies for, in code order
    not_: dict[str, str]  # code -> the first rule she fails

    def as_json(self) -> dict[str, object]:
        return {"programmes": self.programmes, "not": self.not_}


def judge(
    facts: FamilyFacts, on: datetime.date, programmes: list[Programme] | None = None
) -> Verdict:
    """Every open programme (or those given) judged for the family on ``on``."""
    chosen = programmes if programmes is not None else list(Programme.objects.filter(active=True))
    qualifies: list[str] = []
    refused: dict[str, str] = {}
    for programme in sorted(chosen, key=lambda p: p.code):
        reason = first_failure(parse(programme.rules), facts, on)
        if reason is None:
            qualifies.append(programme.code)
        else:
            refused[programme.code] = reason
    return Verdict(qualifies, refused)


def facts_of(family: Family, id_number: str | None = None) -> FamilyFacts:
    """The facts of a family on file, for the parent ``id_number`` (the applicant when
    None: for the spouse, applicant and spouse swap)."""
    applicant, spouse = family.applicant_id_number, family.spouse_id_number
    if id_number is not None and id_number == spouse:
        applicant, spouse = spouse, applicant
    own = parse_id_number(applicant)
    other = parse_id_number(spouse) if spouse else None
    return FamilyFacts(
        applicant_birth_date=own.birth_date,
        applicant_sex=own.sex,
        spouse_birth_date=other.birth_date if other else None,
        spouse_sex=other.sex if other else None,
        household_type=family.household_type,
        births_certified=family.births_certified,
        children=tuple(
            ChildFacts(
                birth_date=child.birth_date,
                sex=child.sex,
                state=child.state,
                death_date=child.death_date,
                disability_grade=child.disability_grade,
            )
            for child in family.children.all()
        ),
    )
