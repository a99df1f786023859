"""Which version of the privacy policy is in force (SPEC §6). Pure: no database or clock."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from opiniondesk.core.time import JST


class Versioned(Protocol):
    @property
    def effective_from(self) -> date: ...


def policy_in_force[P: Versioned](policies: Iterable[P], *, at: datetime) -> P | None:
    """The newest version whose effective date (a JST day) has been reached at `at`; a version
    published ahead of its date is not offered yet."""
    if at.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    today = at.astimezone(JST).date()
    reached = [p for p in policies if p.effective_from <= today]
    return max(reached, key=lambda p: p.effective_from, default=None)
