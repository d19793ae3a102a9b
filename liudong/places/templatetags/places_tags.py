"""Template filters of the place pages: the page a record is shown on, a place's kind."""

from django import template

register = template.Library()


@register.filter
def record_url(obj) -> str:
    from liudong.places.views import record_url as url

    return url(obj)


@register.filter
def kind_label(place) -> str:
    return str(place._meta.verbose_name)
