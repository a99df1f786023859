"""Business time is always Asia/Tokyo, whatever the server's or the process's time zone."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

JST = ZoneInfo("Asia/Tokyo")


def jst_now() -> datetime:
    return timezone.now().astimezone(JST)


def jst_today() -> date:
    return jst_now().date()
