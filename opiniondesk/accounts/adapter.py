import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import filter_users_by_email, filter_users_by_username
from allauth.core import context as allauth_context

# allauth's counters: where it keeps them and at which rates (no public API names them).
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import ngettext

from opiniondesk.accounts import lockout
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.core.mail import queue_email


class AccountAdapter(DefaultAccountAdapter):
    """allauth, the OpinionDesk way: mail through the task queue, audited login failures."""

    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.HOSPITAL['name']}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        queue_email(self.render_mail(template_prefix, email, ctx))

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if getattr(request.user, "is_hospital_staff", False):
            return reverse("staff-home")
        return reverse("dashboard")

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        # allauth's default is LOGIN_REDIRECT_URL (/accounts/profile/), a page we do not have:
        # a new patient confirming the e-mail link landed on "Not Found".
        return self.get_login_redirect_url(request)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth's own key is the identifier as typed, so a user name and the e-mail address of
        # one account had two budgets. A private method, but both the count (pre_authenticate)
        # and its reset after a password reset go through it (test_lockout checks the sharing).
        typed = str(credentials.get("email") or credentials.get("username") or "")
        return lockout.login_key(account_id_for_login(typed), typed)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as exc:
            key = self._get_login_attempts_cache_key(request, **credentials)
            wait = lockout.seconds_to_wait(_login_windows(request, key), now=time.time())
            raise _locked_out(lockout.minutes_to_wait(wait)) from exc

    def validation_error(self, code: str, *args: Any) -> ValidationError:
        if code == "too_many_login_attempts":
            # The second factor's limit (allauth.mfa) comes here without its counts: the longest
            # window is the most anyone waits.
            longest = max(rate.duration for rate in _login_rates())
            return _locked_out(lockout.minutes_to_wait(longest))
        return super().validation_error(code, *args)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        # Only the identifier typed is kept, never the password.
        typed = credentials.get("email") or credentials.get("username") or ""
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            request=request,
            detail={"identifier": str(typed)[:150]},
        )

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> Any:
        audit_record(action=AuditAction.LOGIN, user=user, request=request)
        return super().post_login(request, user, **kwargs)

    def logout(self, request: HttpRequest) -> None:
        if request.user.is_authenticated:
            audit_record(action=AuditAction.LOGOUT, request=request)
        super().logout(request)


def account_id_for_login(typed: str) -> int | None:
    """The account a login identifier names, by user name or e-mail address as allauth finds
    it; None when it names none (or, by a different case, more than one)."""
    typed = typed.strip()
    if not typed:
        return None
    ids = {user.pk for user in filter_users_by_username(typed)}
    if "@" in typed:
        ids |= {user.pk for user in filter_users_by_email(typed)}
    return ids.pop() if len(ids) == 1 else None


def _login_rates() -> list[Any]:
    return allauth_ratelimit.get_rates(app="allauth.account", action="login_failed")


def _login_windows(request: HttpRequest, key: str) -> list[lockout.Window]:
    windows = []
    for rate in _login_rates():
        cache_key = allauth_ratelimit.get_cache_key(
            request, app="allauth.account", action="login_failed", rate=rate, key=key
        )
        history = cache.get(cache_key, [])
        windows.append(lockout.Window(rate.amount, rate.duration, history))
    return windows


def _locked_out(minutes: int) -> ValidationError:
    message = ngettext(
        "Too many failed sign-ins. Please try again in %(minutes)d minute.",
        "Too many failed sign-ins. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    return ValidationError(message, code="too_many_login_attempts")
