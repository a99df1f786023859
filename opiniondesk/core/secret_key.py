"""Is a SECRET_KEY strong enough for production? Pure: the key comes in, a problem code goes out.

Django signs sessions, password-reset links and our join tokens with it; a key that can be
guessed or that is printed in a repository lets anyone forge them.
"""

MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
# Keys printed in this repository (settings, Makefile, CI) and Django's startproject prefix.
KNOWN_KEYS = frozenset(
    {
        "insecure-development-key-do-not-use-in-production",
        "test-only-secret-key",
    }
)
INSECURE_PREFIX = "django-insecure"

KNOWN = "known"
INSECURE = "insecure"
SHORT = "short"
REPETITIVE = "repetitive"

PROBLEMS = {
    KNOWN: "it is a key printed in OpinionDesk's own files",
    INSECURE: f"it starts with {INSECURE_PREFIX!r}, the mark of a key made for development",
    SHORT: f"it is shorter than {MIN_LENGTH} characters",
    REPETITIVE: f"it has fewer than {MIN_UNIQUE_CHARACTERS} different characters",
}


def secret_key_problem(key: str) -> str | None:
    """The first reason the key is weak, or None for a strong one."""
    if key in KNOWN_KEYS:
        return KNOWN
    if key.startswith(INSECURE_PREFIX):
        return INSECURE
    if len(key) < MIN_LENGTH:
        return SHORT
    if len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return REPETITIVE
    return None
