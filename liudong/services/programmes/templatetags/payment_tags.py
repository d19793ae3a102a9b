"""Template filters of the payment pages: a bank card is shown masked, never whole."""

from __future__ import annotations

from django import template

from liudong.services.programmes.payments import mask_card

register = template.Library()


@register.filter
def card_masked(value: str | None) -> str:
    """``6217********1234``: the first and last four digits of a 一卡通 account."""
    return mask_card(value or "")
