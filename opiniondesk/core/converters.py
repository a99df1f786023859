"""URL converters."""


class IdConverter:
    """A database id: 1 to 18 digits, so a forged huge number is a plain 404, never an overflow
    in the database driver (SQLite and PostgreSQL stop at 2**63 - 1)."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
