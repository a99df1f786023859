"""What the records services refuse, with words for the person who tried."""


class RecordsError(Exception):
    """A step the rules refuse; `message` is for the person who tried it, `code` for code."""

    def __init__(self, message: str, code: str = "refused") -> None:
        self.message, self.code = message, code
        super().__init__(str(message))
