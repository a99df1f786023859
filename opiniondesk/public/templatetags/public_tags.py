from typing import Any

from django import template

from opiniondesk.public import wording

register = template.Library()


@register.filter
def local_name(obj: Any) -> str:
    """A department's, disease's or the hospital's name in the active language."""
    return wording.local_name(obj)


@register.filter
def yen(amount: int) -> str:
    """Yen with thousands separators, e.g. 44000 → 44,000 (JPY has no minor unit)."""
    return f"{amount:,}"
