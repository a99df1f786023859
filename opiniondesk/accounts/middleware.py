"""Staff-only session rules: a second factor before anything else, and an idle timeout."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from opiniondesk.accounts.mfa import has_totp

LAST_ACTIVITY_KEY = "opiniondesk.last_activity"
# Writing the session on every request would cost a database write each time; a minute's
# precision is enough for a 15-minute timeout.
ACTIVITY_RESOLUTION_SECONDS = 60


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class StaffIdleTimeoutMiddleware:
    """Sign staff out after STAFF_IDLE_TIMEOUT_MINUTES without a request (SPEC §11.10)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and getattr(user, "is_hospital_staff", False):
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - last > settings.STAFF_IDLE_TIMEOUT_MINUTES * 60:
                logout(request)
                if _is_api(request):
                    return JsonResponse({"detail": _("Your session has ended.")}, status=401)
                messages.info(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity.")
                    % {"minutes": settings.STAFF_IDLE_TIMEOUT_MINUTES},
                )
                return redirect(f"{reverse('account_login')}?next={request.get_full_path()}")
            # A page reloading itself (the work queue, ?auto=1) is not someone at the desk.
            automatic = request.GET.get("auto") == "1"
            if last is None or (now - last >= ACTIVITY_RESOLUTION_SECONDS and not automatic):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


# Where a staff user without a second factor may still go: setting it up, and leaving.
MFA_SETUP_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/accounts/logout/",
    "/i18n/",
    "/static/",
    # The public API and its documentation are open to anyone, staff included.
    "/api/v1/eligibility/",
    "/api/v1/fees/",
    "/api/v1/departments",
    "/api/v1/calendar/",
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
