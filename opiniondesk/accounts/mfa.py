"""Second factors (allauth MFA): TOTP with recovery codes."""

import base64
import hashlib

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

from opiniondesk.accounts.models import User


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def demo_totp_secret(username: str) -> str:
    """A fixed secret per demo persona, so a newcomer can add it to an authenticator app once.

    Derived from the user name: anyone can compute it. Demo mode only.
    """
    return base64.b32encode(hashlib.sha256(f"demo:{username}".encode()).digest()[:20]).decode()


def enrol_demo_factor(user: User) -> tuple[str, list[str]]:
    """Give a demo staff user a TOTP secret and recovery codes (idempotent)."""
    secret = demo_totp_secret(user.username)
    if not has_totp(user):
        TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    return secret, codes


def current_code(secret: str, at: float) -> str:
    """The TOTP code for `at` (Unix time), as an authenticator app would show it."""
    return format_hotp_value(hotp_value(secret, int(at) // 30))
