"""API tokens (SPEC §12): made and revoked by administrators, audited; the secret is shown once.

The secret is `odk_` and 43 URL-safe characters (256 random bits); the database keeps its SHA-256
(core.tokens), so a leaked table holds no working key."""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from opiniondesk.accounts.models import STAFF_ROLES, ApiToken, Role, User
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.services import audit_record
from opiniondesk.core.tokens import new_token, token_hash

SECRET_PREFIX = "odk_"  # noqa: S105 (the marker of our tokens, not a secret)
SHOWN_PREFIX_LENGTH = 12  # "odk_" and 8 characters of the secret
# last_used_at is written at most this often: a busy system must not write on every request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class TokenError(Exception):
    """A token request the rules refuse; `message` is for the administrator."""

    def __init__(self, message: str, code: str = "refused") -> None:
        self.message, self.code = message, code
        super().__init__(str(message))


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise TokenError(_("Only administrators manage API tokens."), "not_allowed")


@transaction.atomic
def api_token_create(
    *,
    name: str,
    user: User,
    scopes: list[str],
    expires_at: datetime | None,
    actor: User,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """A new token acting as `user`; returns it with its secret, which nobody sees again."""
    _require_admin(actor)
    name = name.strip()
    if not name or len(name) > 100:
        raise TokenError(_("Give the token a name (at most 100 characters)."), "name")
    if user.role not in STAFF_ROLES or not user.is_active:
        raise TokenError(_("A token acts as an active member of the hospital staff."), "user")
    unknown = sorted(set(scopes) - set(Scope.values))
    if not scopes or unknown:
        raise TokenError(_("Choose at least one scope from the list."), "scopes")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise TokenError(_("The expiry must be in the future."), "expires_at")
    secret = SECRET_PREFIX + new_token()
    token = ApiToken.objects.create(
        name=name,
        user=user,
        scopes=[scope for scope in Scope.values if scope in scopes],
        key_hash=token_hash(secret),
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        created_by=actor,
        created_at=now,
        expires_at=expires_at,
    )
    audit_record(
        action=AuditAction.CREATE,
        user=actor,
        request=request,
        obj=token,
        detail={
            "api_token": token.pk,
            "name": token.name,
            "acts_as": user.get_username(),
            "scopes": token.scopes,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token_id: int, actor: User, request: HttpRequest | None = None) -> ApiToken:
    """The token stops working at once; it stays listed, with who revoked it and when."""
    _require_admin(actor)
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if token.revoked_at is not None:
        raise TokenError(_("This token is already revoked."), "state")
    token.revoked_at, token.revoked_by = timezone.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        action=AuditAction.UPDATE,
        user=actor,
        request=request,
        obj=token,
        detail={"api_token": token.pk, "name": token.name, "revoked": True},
    )
    return token


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The token with this secret, whatever its state (None if there is none)."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    return ApiToken.objects.select_related("user").filter(key_hash=token_hash(secret)).first()


def api_token_refused(token: ApiToken, request: Any) -> None:
    """Record a use of a revoked or expired token (who holds it may be an intruder)."""
    audit_record(
        action=AuditAction.DENIED,
        user=token.user,
        request=request,
        obj=token,
        detail={
            "api_token": token.pk,
            "why": "revoked" if token.revoked_at else "expired",
            "path": request.path[:200],
            "method": request.method,
        },
    )


def api_token_used(token: ApiToken, now: datetime) -> None:
    """Note the token's last use, at most once a minute (one cheap UPDATE, no lock)."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USE_RESOLUTION:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
