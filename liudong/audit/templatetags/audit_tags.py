"""Template filters of the audit pages: what an entry shows, with ID numbers masked."""

from django import template

from liudong.audit.masking import mask_value

register = template.Library()


@register.filter
def masked(value: object) -> object:
    """The value with every ID number in it masked (``audit.masking``)."""
    return mask_value(value)
