"""URL converters."""

MAX_ID = 2**63 - 1  # the largest BigAutoField value: SQLite and PostgreSQL stop here


class IdConverter:
    """A database id: 1 to 18 digits (always below MAX_ID), so a forged huge number is a plain
    404, never an overflow in the database driver."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
