"""Dates and times as a patient reads them: always Japan time, in the language of the page."""

from datetime import datetime

from django.utils import translation

from opiniondesk.core.time import JST

WEEKDAYS_JA = "月火水木金土日"
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def day_text(moment: datetime, language: str | None = None) -> str:
    """2026年12月1日(火) / Tuesday 1 December 2026."""
    local = moment.astimezone(JST)
    if (language or translation.get_language() or "ja").startswith("en"):
        return (
            f"{WEEKDAYS_EN[local.weekday()]} {local.day} {MONTHS_EN[local.month - 1]} {local.year}"
        )
    return f"{local.year}年{local.month}月{local.day}日({WEEKDAYS_JA[local.weekday()]})"


def slot_text(starts_at: datetime, ends_at: datetime, language: str | None = None) -> str:
    """2026年12月1日(火) 14:00~14:30 / Tuesday 1 December 2026, 14:00–14:30 (Japan time)."""
    lang = language or translation.get_language() or "ja"
    start, end = starts_at.astimezone(JST), ends_at.astimezone(JST)
    if lang.startswith("en"):
        return f"{day_text(start, lang)}, {start:%H:%M}–{end:%H:%M} (Japan time)"
    return f"{day_text(start, lang)} {start:%H:%M}~{end:%H:%M}"
