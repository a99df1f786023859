"""API tokens on the wire: `Authorization: Bearer odk_…`, and the scope each view declares.

A request with neither a token nor a signed-in session is a JSON 401 with a `WWW-Authenticate`
challenge. A token acts as its staff user, through the same access checks as that user's
session; its scopes only narrow what it may ask for. A revoked, expired or unknown token is a
JSON 401; a token without the view's scope a JSON 403 (audited). Reads and writes are audited as
the user, with the token's id in the event (audit.services reads `request.api_token_id`)."""

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from opiniondesk.accounts import services as tokens
from opiniondesk.accounts.models import ApiToken, User
from opiniondesk.accounts.vocabulary import Scope
from opiniondesk.audit.services import audit_denied

KEYWORD = b"bearer"
# The WWW-Authenticate challenge of every 401 of the API.
CHALLENGE = 'Bearer realm="api"'
# Each operation of the OpenAPI document names the scope a token needs for it.
SCOPE_EXTENSION = "x-token-scope"


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <secret>` of a live token of an active staff user."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None  # no token: the session may still sign the request
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send one token: Bearer <token>."))
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Unknown token.")) from None
        token = tokens.api_token_for_secret(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown token."))
        now = timezone.now()
        if not token.usable_at(now):
            tokens.api_token_refused(token, request)
            if token.revoked_at is not None:
                raise exceptions.AuthenticationFailed(_("This token has been revoked."))
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if not token.user.is_active or not token.user.is_hospital_staff:
            raise exceptions.AuthenticationFailed(_("This token's user may not use the API."))
        tokens.api_token_used(token, now)
        # Every audit event of this request names the token (audit.services).
        request._request.api_token_id = token.pk  # type: ignore[attr-defined]
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # DRF asks the first authentication class: with a header to send, a request without
        # credentials (neither token nor session) is a 401 that says how to authenticate.
        return CHALLENGE


class TokenScope(BasePermission):
    """A token needs the scope its view declares (reads and writes apart); a view that declares
    none is closed to tokens. Sessions are not limited by scopes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        scopes: dict[str, Scope | None] = getattr(view, "token_scopes", {})
        needed = scopes.get("read" if request.method in SAFE_METHODS else "write")
        if needed is not None and needed.value in token.scopes:
            return True
        self.message = (
            _("This token lacks the scope %(scope)s.") % {"scope": needed.value}
            if needed is not None
            else _("API tokens may not use this endpoint.")
        )
        audit_denied(
            request,
            path=request.path[:200],
            method=request.method,
            why=f"scope {needed.value if needed else 'none'}",
        )
        return False


def scoped(read: Scope, write: Scope | None = None) -> Callable[[Any], Any]:
    """Declare the scopes of a function view made by @api_view (put it above @api_view)."""

    def declare(view: Any) -> Any:
        view.cls.token_scopes = {"read": read, "write": write}
        methods = [
            m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view.cls, m)
        ]
        for method in methods:
            scope = read if method in SAFE_METHODS else write
            if scope is not None:
                view = extend_schema(methods=[method], extensions={SCOPE_EXTENSION: scope.value})(
                    view
                )
        return view

    return declare


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "opiniondesk.api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A hospital system's API token (`odk_…`), made by an administrator "
            "under Administration → API tokens. It acts as one staff user, with that user's "
            "role and departments, limited to its scopes (each operation names the scope it "
            f"needs in `{SCOPE_EXTENSION}`). A revoked, expired or unknown token gets 401; "
            "a missing scope 403.",
        }
