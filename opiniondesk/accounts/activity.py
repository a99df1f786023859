"""What counts as someone being there, for the session timeout (SPEC §11.10): a request, and a
live consult connection. A patient waits in the waiting room and talks for up to 60 minutes
without a single page load, and the specialist for as long; without this their session would
end mid-call, and a dropped connection could not get a new join token to rejoin."""

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError

from opiniondesk.accounts import sessions

LAST_ACTIVITY_KEY = "opiniondesk.last_activity"
SIGNED_IN_KEY = "opiniondesk.signed_in_at"
# Writing the session on every request would cost a database write each time; a minute's
# precision is enough for a 15-minute timeout.
ACTIVITY_RESOLUTION_SECONDS = 60


def limits_for(user: Any) -> sessions.Limits:
    return sessions.limits_for(
        staff=getattr(user, "is_hospital_staff", False),
        staff_idle_minutes=settings.STAFF_IDLE_TIMEOUT_MINUTES,
        patient_idle_minutes=settings.PATIENT_SESSION_IDLE_MINUTES,
        patient_max_hours=settings.PATIENT_SESSION_MAX_HOURS,
    )


def keep_alive(*, session_key: str | None, user: Any, now: float) -> bool:
    """Record activity in the user's session from outside a request (a WebSocket). The session
    is read afresh, so what requests wrote since the socket opened is kept; one that has already
    ended (idle, its maximum age, signed out) is never revived. True if the activity was kept."""
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if store.get(SESSION_KEY) != str(user.pk):  # signed out, or someone else since
        return False
    ended = sessions.session_end(
        now=now,
        last_activity=store.get(LAST_ACTIVITY_KEY),
        signed_in_at=store.get(SIGNED_IN_KEY),
        limits=limits_for(user),
    )
    if ended is not None:
        return False  # the next request signs them out, with the reason
    store[LAST_ACTIVITY_KEY] = now
    try:
        store.save()
    except UpdateError:  # deleted while we read it (signed out in another tab)
        return False
    return True
