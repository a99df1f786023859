"""What the steps before the consult refuse, with the words for the person who tried."""


class ReadinessError(Exception):
    """A step the rules refuse; `message` is for the person who tried it."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(str(message))


class InvitationProblem(ReadinessError):
    """The patient's invitation link cannot be used (unknown, used, replaced or expired)."""
