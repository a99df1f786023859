from datetime import datetime

from django import template

from opiniondesk.scheduling import wording

register = template.Library()


@register.simple_tag
def slot_text(starts_at: datetime, ends_at: datetime) -> str:
    return wording.slot_text(starts_at, ends_at)


@register.filter
def day_text(moment: datetime) -> str:
    return wording.day_text(moment)


@register.filter
def jst_time(moment: datetime) -> str:
    from opiniondesk.core.time import JST

    return f"{moment.astimezone(JST):%H:%M}"
