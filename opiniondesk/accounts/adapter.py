from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest
from django.urls import reverse

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
