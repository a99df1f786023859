"""What every test database holds from the start: the demo catalog of SPEC §2, the default fee
table, the privacy policy in force and the personas. Written once per test session (and again
after a transactional test has emptied the database)."""

from opiniondesk.accounts.models import User
from opiniondesk.demo.catalog import load_catalog
from opiniondesk.demo.fees import load_fees
from opiniondesk.demo.texts import load_privacy_policy
from opiniondesk.testing.personas import USERNAMES, seed_personas


def is_seeded() -> bool:
    # The personas come last: if the last one is there, everything is.
    return User.objects.filter(username=USERNAMES[-1]).exists()


def seed() -> None:
    load_catalog()
    load_fees()
    load_privacy_policy()
    seed_personas()


def ensure_seeded() -> None:
    if not is_seeded():
        seed()
