"""Amounts on the billing pages."""

from django import template

from opiniondesk.billing import wording

register = template.Library()


@register.filter
def yen(value: int | None) -> str:
    """¥5,500 (and ¥0 for nothing)."""
    return wording.yen(int(value or 0))
