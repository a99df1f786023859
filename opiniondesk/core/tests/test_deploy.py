"""Production settings: a weak SECRET_KEY stops the site, and `manage.py check --deploy` is clean
under the production environment that README.md documents."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core import checks

from opiniondesk.core.checks import secret_key_check
from opiniondesk.core.secret_key import INSECURE, KNOWN, REPETITIVE, SHORT, secret_key_problem

STRONG = "Zq7vK2mP9xR4tW8yB3nF6hJ1cL5dS0gAuEiOrTkNwQzXbVcYpLm"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (STRONG, None),
        ("0123456789" * 5, None),
        ("test-only-secret-key", KNOWN),
        ("insecure-development-key-do-not-use-in-production", KNOWN),
        ("django-insecure-" + STRONG, INSECURE),
        (STRONG[:49], SHORT),
        ("", SHORT),
        ("abcd" * 20, REPETITIVE),
        ("abcde" * 20, None),
    ],
)
def test_it_judges_the_secret_key(key, problem):
    assert secret_key_problem(key) == problem


def test_a_weak_key_stops_production_but_not_the_demo(settings):
    settings.SECRET_KEY = "test-only-secret-key"
    settings.DEBUG, settings.DEMO_MODE = False, False
    assert [(m.id, m.level) for m in secret_key_check()] == [("core.E001", checks.ERROR)]
    settings.DEMO_MODE = True
    assert secret_key_check() == []
    settings.DEMO_MODE = False
    settings.SECRET_KEY = STRONG
    assert secret_key_check() == []


def documented_production_environment() -> dict[str, str]:
    """The lines of README's "Production environment" block, its <placeholders> filled."""
    readme = (settings.BASE_DIR / "README.md").read_text()
    block = re.search(r"### Production environment\n.*?```sh\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md has no Production environment block"
    filled = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HOSPITAL_INVOICE_NUMBER": "T7123456789012",  # the ordinance's worked example
    }
    env = {}
    for line in block.group(1).splitlines():
        name, _, value = line.partition("=")
        env[name] = filled[name] if value.startswith("<") else value
    return env


def test_check_deploy_is_clean_in_the_documented_production_environment():
    production = documented_production_environment()
    assert production["DEBUG"] == "false" and production["DEMO_MODE"] == "false"
    # Nothing of this machine's or the test run's environment may help or hinder.
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}
    env |= production | {"DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
