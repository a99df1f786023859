"""What the opinion services refuse, with words for the person who tried."""

from typing import Any


class OpinionError(Exception):
    """A step the rules refuse; `message` is for the person who tried it, `code` for code."""

    def __init__(self, message: str, code: str = "refused") -> None:
        self.message, self.code = message, code
        super().__init__(str(message))


class LinkRefused(Exception):
    """The physician's link cannot be used: `why` is unknown, expired, used or revoked."""

    def __init__(self, why: str, delivery: Any = None) -> None:
        self.why, self.delivery = why, delivery
        super().__init__(why)
