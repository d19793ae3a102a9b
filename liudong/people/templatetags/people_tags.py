"""Template filters for person files: masked ID numbers and ages."""

import datetime

from django import template
from django.utils import timezone

from liudong.people import idnumbers
from liudong.people.models import age_on

register = template.Library()


@register.filter
def masked(value: str) -> str:
    """An ID number as lists show it: 110105********0021."""
    return idnumbers.mask(value or "")


@register.filter
def age(birth_date: datetime.date | None) -> int | str:
    """Whole years today."""
    if not birth_date:
        return ""
    return age_on(birth_date, timezone.localdate())


@register.filter
def region_name(code: str) -> str:
    """The name of a division code (reference data, not personal), or "" if unknown."""
    from liudong.regions.models import Region

    region = Region.objects.filter(code=code).only("name").first()
    return region.name if region else ""
