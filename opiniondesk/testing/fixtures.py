"""The pytest fixtures of the personas, the seeded data and the builders (loaded by the root
conftest with `pytest_plugins`)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opiniondesk.accounts.models import User
from opiniondesk.testing import s3, turn
from opiniondesk.testing.personas import persona
from opiniondesk.testing.seed import ensure_seeded


@pytest.fixture
def seeded(db) -> None:
    """The catalog, fee table, privacy policy and personas are there (seeded once per session;
    again only after a transactional test has emptied the database)."""
    ensure_seeded()


@pytest.fixture
def demo_catalog(seeded) -> None:
    """The demo catalog of SPEC §2 and the default fee table, as `make run` loads them."""


@pytest.fixture
def policy(seeded) -> None:
    """The privacy policy in force (demo text)."""


@pytest.fixture
def personas(seeded) -> dict[str, User]:
    """Every persona by user name, for tests that choose one by a parameter."""
    from opiniondesk.testing.personas import USERNAMES

    return {username: persona(username) for username in USERNAMES}


@pytest.fixture
def patient_hana(seeded) -> User:
    return persona("patient_hana")


@pytest.fixture
def proxy_ken(seeded) -> User:
    """Hana's son, who applies for her with his own account."""
    return persona("proxy_ken")


@pytest.fixture
def outsider_eve(seeded) -> User:
    return persona("outsider_eve")


@pytest.fixture
def coordinator_sato(seeded) -> User:
    return persona("coordinator_sato")


@pytest.fixture
def dr_tanaka(seeded) -> User:
    return persona("dr_tanaka")


@pytest.fixture
def dr_kato(seeded) -> User:
    return persona("dr_kato")


@pytest.fixture
def dr_mori(seeded) -> User:
    return persona("dr_mori")


@pytest.fixture
def billing_ito(seeded) -> User:
    return persona("billing_ito")


@pytest.fixture
def admin_kato(seeded) -> User:
    """Hospital IT: catalog and users, no clinical data by default (SPEC §1)."""
    return persona("admin_kato")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service as a request would: its after-commit work (tasks, mails) happens."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


@pytest.fixture(scope="session")
def turnserver() -> str:
    """coturn's `turnserver`; skipped without it (failed under CI=true, as a missing Chromium
    is)."""
    if not turn.TURNSERVER:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but coturn is not installed: the TURN tests cannot be skipped")
        pytest.skip("coturn is not installed (apt-get install coturn) — TURN test skipped")
    return turn.TURNSERVER


@pytest.fixture(scope="session")
def coturn(turnserver, tmp_path_factory) -> Iterator[turn.Coturn]:
    """A real coturn on 127.0.0.1 with use-auth-secret and a random shared secret, one per test
    worker."""
    with turn.running_coturn(tmp_path_factory.mktemp("coturn")) as server:
        yield server


@pytest.fixture
def card_company(monkeypatch, settings):  # type: ignore[no-untyped-def]
    """A card provider is configured, and it is the card company of `testing.card_company`
    (payments kept by idempotency key, as Stripe does). The Stripe implementation itself is
    tested against localstripe."""
    from opiniondesk.billing import providers
    from opiniondesk.testing.card_company import CardCompany

    settings.STRIPE_SECRET_KEY = "sk_test_configured"
    settings.STRIPE_PUBLISHABLE_KEY, settings.STRIPE_WEBHOOK_SECRET = "pk_test", "whsec_test"
    company = CardCompany()
    monkeypatch.setattr(providers, "card_provider", lambda: company)
    return company


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """The static files, collected once, as production serves them (servestatic): for the
    tests that start the site in processes of its own (opiniondesk.testing.processes)."""
    from django.conf import settings

    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=settings.BASE_DIR,
        env=os.environ | {"STATIC_ROOT": str(root), "STATIC_COMPRESS": "false"},
        check=True,
    )
    return root


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[s3.S3Server]:
    """A real S3-compatible server (SeaweedFS) with a bucket, one per test session (per xdist
    worker); skipped without `weed` (failed under CI=true)."""
    s3.weed_or_skip()
    with s3.running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


class BucketPrefix:
    """The site's documents in the test's own prefix of the S3 server's bucket."""

    def __init__(self, server: s3.S3Server, prefix: str) -> None:
        self.server, self.prefix = server, prefix

    def keys(self) -> list[str]:
        """The objects under this test's prefix, by their names in the storage (no prefix)."""
        return [key.removeprefix(self.prefix + "/") for key in self.server.keys(self.prefix + "/")]

    def unfinished_uploads(self) -> list[str]:
        return self.server.unfinished_uploads(self.prefix + "/")


@pytest.fixture
def s3_storage(s3_server, settings, _test_storages) -> BucketPrefix:
    """The documents are stored as with STORAGE_BUCKET (config/settings.py), in the session's
    S3 server, under a prefix of this test's own."""
    prefix = s3.new_prefix()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "opiniondesk.core.storage.PrivateS3Storage",
            "OPTIONS": s3_server.storage_options(prefix),
        },
    }
    return BucketPrefix(s3_server, prefix)


@pytest.fixture(params=["local", "s3"])
def document_storage(request) -> BucketPrefix | None:
    """Run the test with the local storage and again with the S3 server's bucket: for the tests
    of what each must do alike (store, hash, serve, refuse). None for the local one."""
    if request.param == "s3":
        return request.getfixturevalue("s3_storage")  # type: ignore[no-any-return]
    return None
