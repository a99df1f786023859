"""allauth's e-mail confirmation page, saying what a link that no longer works means."""

from typing import Any

from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.account.views import ConfirmEmailView
from django.core import signing
from django.http import Http404, HttpResponse

# What a confirmation link that allauth no longer takes is.
CONFIRMED, EXPIRED, INVALID = "confirmed", "expired", "invalid"


def link_state(key: str) -> str:
    """Whether an unusable link's address is already confirmed (the link was used, or the
    address confirmed by a later link), still waits (the link has expired), or is no link of
    ours at all."""
    address: EmailAddress | None
    try:
        # allauth's own signing, without its age limit: only to find the address.
        pk = signing.loads(key, salt=allauth_settings.SALT)
        address = EmailAddress.objects.filter(pk=pk).first()
    except signing.BadSignature:
        # A key stored in the database (EmailConfirmation), when HMAC links are turned off.
        stored = EmailConfirmation.objects.filter(key=key.lower()).select_related("email_address")
        confirmation = stored.first()
        address = confirmation.email_address if confirmation else None
    if address is None:
        return INVALID
    return CONFIRMED if address.verified else EXPIRED


class ConfirmEmail(ConfirmEmailView):
    """A used or expired link shows a page that says so, with the way to sign in (which sends
    a fresh link while the address waits), instead of allauth's page or a bare 404 (POST)."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(*args, **kwargs)
        except Http404:
            self.object = None
            return self.render_to_response(self.get_context_data())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if not self.object:
            context["link_state"] = link_state(self.kwargs["key"])
            context["confirmation_days"] = allauth_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS
        return context


confirm_email = ConfirmEmail.as_view()
