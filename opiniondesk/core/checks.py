"""System checks of the core settings (`manage.py check`, run by every command: at deploy, by
`make run` and by bin/serve before the server starts)."""

from typing import Any

from django.conf import settings
from django.core import checks

from opiniondesk.core.secret_key import PROBLEMS, secret_key_problem


def secret_key_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """A weak or well-known SECRET_KEY: an error in production (the site does not start), a
    warning while developing or in the demo."""
    problem = secret_key_problem(str(settings.SECRET_KEY))
    if problem is None:
        return []
    production = not (settings.DEBUG or getattr(settings, "DEMO_MODE", False))
    kind = checks.Error if production else checks.Warning
    return [
        kind(
            f"SECRET_KEY is not fit for production: {PROBLEMS[problem]}.",
            hint="Generate one, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))', "
            "and keep it out of the repository (README, Production environment).",
            obj="settings.SECRET_KEY",
            id="core.E001" if production else "core.W001",
        )
    ]
