import time
from typing import Any
from urllib.parse import quote

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import filter_users_by_email, filter_users_by_username

# allauth's counters: where it keeps them and at which rates (no public API names them).
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from opiniondesk.accounts import lockout
from opiniondesk.accounts.models import User
from opiniondesk.accounts.names import person_name
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.core.mail import from_address, queue_email, site_link, year_end_dates

# The account mails go to an address before we know which language its owner reads (a sign-up,
# a reset for an unknown address): Japanese first, then English, in one mail.
MAIL_LANGUAGES = ("ja", "en")
# Stays English in the Japanese part: it is for the reader who cannot read that part.
ENGLISH_FOLLOWS = "(English follows the Japanese.)"
MAIL_SEPARATOR = "-" * 40


class AccountAdapter(DefaultAccountAdapter):
    """allauth, the OpinionDesk way: mail through the task queue in the hospital's name with
    links on SITE_URL, audited login failures."""

    def get_from_email(self) -> str:
        return from_address()

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        queue_email(self.render_mail(template_prefix, email, {"email": email, **context}))

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """Our own templates (templates/account/email/), Japanese then English. They are given
        no request: every link in them is built on SITE_URL, not on the host the request came
        in by; and no user name (one made up from the e-mail address is no name of theirs)."""
        to = [email] if isinstance(email, str) else email
        context = {key: value for key, value in context.items() if key != "username"}
        user = context.get("user") or _account_of(to[0])
        context.update(
            name=person_name(user),
            hospital=settings.HOSPITAL,
            site_url=settings.SITE_URL,
            year_end=year_end_dates(),
            confirmation_days=allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS,
            reset_days=max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        )
        subjects, bodies = [], []
        for language in MAIL_LANGUAGES:
            with translation.override(language):
                hospital_name = settings.HOSPITAL["name_en" if language == "en" else "name"]
                ctx = {**context, "hospital_name": hospital_name}
                subject = render_to_string(f"{template_prefix}_subject.txt", ctx)
                subjects.append(" ".join(subject.split()))
                bodies.append(render_to_string(f"{template_prefix}_message.txt", ctx).strip())
        japanese, english = bodies
        return EmailMultiAlternatives(
            subject=self.format_email_subject(" / ".join(subjects)),
            body=f"{ENGLISH_FOLLOWS}\n\n{japanese}\n\n{MAIL_SEPARATOR}\n\n{english}\n",
            from_email=self.get_from_email(),
            to=to,
            headers=headers,
        )

    def get_email_confirmation_url(
        self, request: HttpRequest | None, emailconfirmation: Any
    ) -> str:
        return site_link(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        # As allauth builds the path (one opaque key in place of its uidb36-key pair).
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_link(path.replace("UID-KEY", quote(key)))

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


def _account_of(email: str) -> User | None:
    """The one account an address belongs to (for whom an "already exists" mail is), if any."""
    users = filter_users_by_email(email)
    return users[0] if len(users) == 1 else None


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
