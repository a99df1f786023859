"""The login lockout's pure rules: whose budget a failure counts against, and how long to wait.

Pure: no database, settings or clock. allauth keeps the counting (ACCOUNT_RATE_LIMITS
"login_failed", in the shared default cache); these rules name its key and read its history.
"""

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """One rate of the limit: at most `amount` failures in `seconds`, and the failures counted in
    it, as allauth keeps them (times in seconds since the epoch, newest first)."""

    amount: int
    seconds: float
    history: Sequence[float]


def login_key(account_id: int | None, typed: str) -> str:
    """The budget a failed login counts against: the account's when the identifier names one, so
    that its user name and its e-mail address share one; otherwise the identifier as typed,
    normalised (full-width letters, case), so that unknown names are limited too."""
    if account_id is not None:
        return f"account:{account_id}"
    return "login:" + unicodedata.normalize("NFKC", typed).strip().casefold()


def seconds_to_wait(windows: Sequence[Window], *, now: float) -> float:
    """How long until every window takes one more failure; 0 when all take one now."""
    wait = 0.0
    for window in windows:
        live = sorted((t for t in window.history if t > now - window.seconds), reverse=True)
        if len(live) >= window.amount:
            # The failure that must age out is the amount-th newest.
            wait = max(wait, live[window.amount - 1] + window.seconds - now)
    return wait


def minutes_to_wait(seconds: float) -> int:
    """The wait as the message says it: whole minutes, rounded up, at least one."""
    return max(1, math.ceil(seconds / 60))
