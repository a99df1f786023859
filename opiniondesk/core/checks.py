"""System checks of the core settings (`manage.py check`, run by every command: at deploy, by
`make run` and by bin/serve before the server starts)."""

from typing import Any

from django.conf import settings
from django.core import checks

from opiniondesk.core.secret_key import PROBLEMS, secret_key_problem


def secret_key_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """A weak or well-known SECRET_KEY is an error in production: the site does not start.
    DEBUG and the demo run with the built-in development key by design, and say nothing."""
    if settings.DEBUG or getattr(settings, "DEMO_MODE", False):
        return []
    problem = secret_key_problem(str(settings.SECRET_KEY))
    if problem is None:
        return []
    return [
        checks.Error(
            f"SECRET_KEY is not fit for production: {PROBLEMS[problem]}.",
            hint="Generate one, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))', "
            "and keep it out of the repository (README, Production environment).",
            obj="settings.SECRET_KEY",
            id="core.E001",
        )
    ]
