"""The `.ics` calendar file of a booking (RFC 5545), made with the icalendar library.

One UID per case, with a SEQUENCE that grows with each change, so a calendar that imported the
first file updates its event instead of keeping two; a cancellation sends METHOD:CANCEL.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

PRODID = "-//OpinionDesk//Second opinion bookings//JA"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    summary: str
    description: str
    location: str
    url: str = ""
    organizer: tuple[str, str] | None = None  # (e-mail, name): calendars need it to cancel
    stamp: datetime | None = None  # DTSTAMP; aware
    cancelled: bool = False


def calendar_file(event: CalendarEvent) -> bytes:
    for moment in (event.starts_at, event.ends_at):
        if moment.tzinfo is None:
            raise ValueError("calendar times must be aware")
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if event.cancelled else "PUBLISH")
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", (event.stamp or event.starts_at).astimezone(UTC))  # UTC by RFC 5545
    vevent.add("dtstart", event.starts_at)
    vevent.add("dtend", event.ends_at)
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    vevent.add("location", event.location)
    if event.url:
        vevent.add("url", event.url)
    if event.organizer is not None:
        address, name = event.organizer
        organizer = icalendar.vCalAddress(f"mailto:{address}")
        organizer.params["cn"] = icalendar.vText(name)
        vevent.add("organizer", organizer)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    if not event.cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.summary)
        alarm.add("trigger", -timedelta(minutes=30))
        vevent.add_component(alarm)
    calendar.add_component(vevent)
    calendar.add_missing_timezones()  # the VTIMEZONE for Asia/Tokyo that TZID refers to
    return calendar.to_ical()
