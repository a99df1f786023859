"""Amounts on the billing pages."""

from django import template

register = template.Library()


@register.filter
def yen(value: int | None) -> str:
    """¥5,500 (and ¥0 for nothing)."""
    return f"¥{int(value or 0):,}"
