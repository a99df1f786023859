"""One-time link tokens: shown once to the person who gets the link, stored only as a hash."""

import hashlib
import secrets


def new_token() -> str:
    """A random URL-safe token of 256 bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token: a leaked table gives no working link."""
    return hashlib.sha256(token.encode()).hexdigest()
