"""`local_name` for the staff pages, whose rows are dictionaries from reports, not models."""

from collections.abc import Mapping
from typing import Any

from django import template

from opiniondesk.core.wording import name_in_language

register = template.Library()


@register.filter
def local_name(row: Mapping[str, Any]) -> str:
    """A row's `name` in the active language (`name_en` in English when it has one)."""
    return name_in_language(row.get("name") or "", row.get("name_en") or "")
