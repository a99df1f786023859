"""Session rules: staff need a second factor before anything else; sessions time out."""

import time
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from opiniondesk.accounts import sessions
from opiniondesk.accounts.activity import (
    ACTIVITY_RESOLUTION_SECONDS,
    LAST_ACTIVITY_KEY,
    SIGNED_IN_KEY,
    limits_for,
)
from opiniondesk.accounts.mfa import has_totp

# The public API and the static files do not use the session: a call there is neither activity
# nor a reason to write the session (the public API stores nothing, SPEC §10).
PUBLIC_API_PREFIXES = (
    "/api/v1/eligibility/",
    "/api/v1/fees/",
    "/api/v1/departments",
    "/api/v1/calendar/",
)
SESSIONLESS_PREFIXES = (*PUBLIC_API_PREFIXES, "/static/", "/healthz")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class SessionTimeoutMiddleware:
    """Sign people out after a time without requests: staff after STAFF_IDLE_TIMEOUT_MINUTES,
    patients and proxies after PATIENT_SESSION_IDLE_MINUTES or PATIENT_SESSION_MAX_HOURS after
    signing in (SPEC §11.10; the rule is accounts/sessions.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or request.path.startswith(SESSIONLESS_PREFIXES):
            return self.get_response(request)
        now = time.time()
        session = request.session
        limits = limits_for(user)
        last = session.get(LAST_ACTIVITY_KEY)
        ended = sessions.session_end(
            now=now, last_activity=last, signed_in_at=session.get(SIGNED_IN_KEY), limits=limits
        )
        if ended is not None:
            _sign_out(request, ended, limits)
            if _is_api(request):
                answer = JsonResponse({"detail": _("Your session has ended.")}, status=401)
                # As every 401 of the API (api.auth), which accounts cannot import.
                answer["WWW-Authenticate"] = 'Bearer realm="api"'
                return answer
            # On as someone signed out: a page for signed-in people sends to the sign-in page
            # (with ?next=), one open to anyone (a physician's upload link) simply opens.
            return self.get_response(request)
        if SIGNED_IN_KEY not in session:
            session[SIGNED_IN_KEY] = now
        # A page reloading itself (the work queue, ?auto=1) is not someone at the desk.
        automatic = request.GET.get("auto") == "1"
        if last is None or (now - last >= ACTIVITY_RESOLUTION_SECONDS and not automatic):
            session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


def _sign_out(request: HttpRequest, ended: sessions.Ended, limits: sessions.Limits) -> None:
    logout(request)
    if _is_api(request):
        return
    if ended == sessions.Ended.MAX_AGE:
        hours = round((limits.max_seconds or 0) / 3600)
        message = _(
            "You were signed out %(hours)d hours after signing in. Please sign in again."
        ) % {"hours": hours}
    else:
        message = _("You were signed out after %(minutes)d minutes without activity.") % {
            "minutes": round(limits.idle_seconds / 60)
        }
    messages.info(request, message)


# Where a staff user without a second factor may still go: setting it up, and leaving.
MFA_SETUP_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/accounts/logout/",
    "/i18n/",
    "/static/",
    "/healthz",
    # The public API and its documentation are open to anyone, staff included.
    *PUBLIC_API_PREFIXES,
    "/api/schema/",
    "/api/docs/",
    "/api/redoc/",
)


class StaffMFARequiredMiddleware:
    """Staff without an authenticator app are sent to set one up and can do nothing else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "is_hospital_staff", False)
            and not request.path.startswith(MFA_SETUP_PREFIXES)
            and not has_totp(user)
        ):
            if _is_api(request):
                return JsonResponse(
                    {"detail": _("Staff must set up two-factor authentication first.")},
                    status=403,
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
