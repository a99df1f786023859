"""System checks of the billing settings (`manage.py check`, run at deploy and at start-up)."""

from typing import Any

from django.conf import settings
from django.core import checks

from opiniondesk.billing.invoice_number import PROBLEMS, normalise, registration_number_problem


def invoice_number_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """The registration number printed on every receipt (HOSPITAL_INVOICE_NUMBER) must be a
    valid one: an error in production, a warning while developing or in the demo."""
    value = str(settings.HOSPITAL.get("invoice_number", ""))
    problem = registration_number_problem(value)
    if problem is None:
        return []
    production = not (settings.DEBUG or getattr(settings, "DEMO_MODE", False))
    kind = checks.Error if production else checks.Warning
    return [
        kind(
            f"HOSPITAL_INVOICE_NUMBER {normalise(value)!r} is not a valid qualified-invoice "
            f"registration number: {PROBLEMS[problem]}.",
            hint='Set it to "T" and the hospital\'s 13-digit corporate number (法人番号), '
            "as on its registration notice; every receipt prints it.",
            obj="settings.HOSPITAL",
            id="billing.E001" if production else "billing.W001",
        )
    ]
