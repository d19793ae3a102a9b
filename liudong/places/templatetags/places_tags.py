"""Template filters of the place pages: the page a record is shown on, a place's kind."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def record_url(obj: Any) -> str:
    from liudong.places.views import record_url as url

    return url(obj)


@register.filter
def kind_label(place: Any) -> str:
    return str(place._meta.verbose_name)
