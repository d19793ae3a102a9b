"""What the 婚育证明 section of a person's file shows and offers the user looking at it,
so the people pages need no change beyond including ``certificates/_person_section.html``."""

from __future__ import annotations

from django import template
from django.template import Context
from django.utils import timezone

from liudong.accounts.roles import VERIFY_CERTIFICATES, can
from liudong.authorization import allowed
from liudong.certificates import issuing, verification
from liudong.certificates.forms import IssueForm
from liudong.certificates.models import Certificate, Notice, Status
from liudong.people.models import Person

register = template.Library()


@register.simple_tag(takes_context=True)
def certificate_section(context: Context, person: Person) -> dict:
    user = context["request"].user
    today = timezone.localdate()
    certificate = (
        issuing.current_certificate(person, today)
        or Certificate.objects.in_scope(user).filter(person=person).first()
    )
    status = certificate.status_on(today) if certificate else ""
    holds_valid = status == Status.VALID
    may_issue = not holds_valid and issuing.allowed(lambda: issuing.check_may_issue(user, person))
    refusal = issuing.issue_refusal(person, today) if may_issue else ""
    may_issue = may_issue and not refusal
    stay = verification.open_stay(person)
    may_verify = stay is not None and allowed(user, VERIFY_CERTIFICATES, stay.region_id)
    notice = (
        Notice.objects.in_scope(user).open().filter(episode=stay).first()
        if may_verify and stay is not None
        else None
    )
    return {
        "certificate": certificate,
        "status": status,
        "status_label": Status(status).label if status else "",
        "may_open": can(user, VERIFY_CERTIFICATES),
        "may_issue": may_issue,
        "issue_refusal": refusal,
        "issue_form": IssueForm() if may_issue else None,
        "stay": stay,
        "may_verify": may_verify,
        "may_give_notice": (
            may_verify
            and stay is not None
            and stay.verified_on is None
            and notice is None
            and person.is_adult_wcba(today)
        ),
        "notice": notice,
    }
