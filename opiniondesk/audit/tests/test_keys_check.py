"""The start's key check (create_audit_keys --check-only): the site refuses to start with audit
keys that are not the ones its log was written with, as another app host would have if its keys
were made anew instead of copied (docs/deploy.md, "Another app host")."""

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from opiniondesk.audit.keys import create_keys
from opiniondesk.audit.models import AuditAction
from opiniondesk.audit.sealer import seal
from opiniondesk.audit.services import audit_record
from opiniondesk.audit.verify import KEY_CHECK_SAMPLE, keys_match_the_log

pytestmark = pytest.mark.django_db


def write(user, count: int = 3) -> None:
    for n in range(count):
        audit_record(action=AuditAction.READ, user=user, case_id=n + 1, detail={})


def sealed() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        seal(lag=0)


@pytest.fixture
def other_keys(settings, tmp_path):
    """Keys made anew, as `create_audit_keys` on a second host would make them."""

    def use(mac: bool = True, signing: bool = True) -> None:
        create_keys(tmp_path / "audit-mac.key", tmp_path / "audit-signing.key")
        if mac:
            settings.AUDIT_MAC_KEY_FILE = tmp_path / "audit-mac.key"
        if signing:
            settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "audit-signing.key"

    return use


def test_the_installations_own_keys_pass(coordinator_sato):
    assert keys_match_the_log() == []  # no log yet
    write(coordinator_sato)
    assert keys_match_the_log() == []  # events, no checkpoint yet
    sealed()
    write(coordinator_sato)  # and events after it
    assert keys_match_the_log() == []
    call_command("create_audit_keys", "--check-only")


def test_no_log_yet_passes_any_keys(other_keys):
    other_keys()
    assert keys_match_the_log() == []


@pytest.mark.parametrize(
    ("mac", "signing", "named"),
    [
        (True, True, ["AUDIT_SIGNING_KEY_FILE", "AUDIT_MAC_KEY_FILE"]),
        (True, False, ["AUDIT_MAC_KEY_FILE"]),
        (False, True, ["AUDIT_SIGNING_KEY_FILE"]),
    ],
)
def test_keys_made_anew_are_refused(coordinator_sato, other_keys, mac, signing, named):
    write(coordinator_sato)
    sealed()
    other_keys(mac=mac, signing=signing)
    problems = keys_match_the_log()
    assert [problem.split(" ", 1)[0] for problem in problems] == named
    with pytest.raises(CommandError) as refused:
        call_command("create_audit_keys", "--check-only")
    assert "Copy both key files" in str(refused.value)
    for name in named:
        assert name in str(refused.value)


def test_a_mac_key_made_anew_is_refused_before_the_first_checkpoint(coordinator_sato, other_keys):
    write(coordinator_sato)
    other_keys(signing=False)
    assert [problem.split(" ", 1)[0] for problem in keys_match_the_log()] == ["AUDIT_MAC_KEY_FILE"]


def test_events_a_wrong_key_wrote_after_the_checkpoint_do_not_decide(
    coordinator_sato, other_keys, settings
):
    """The events a misconfigured host wrote are not what the right keys are checked against:
    the check looks at the events the newest checkpoint covers."""
    right = settings.AUDIT_MAC_KEY_FILE
    write(coordinator_sato)
    sealed()
    other_keys(signing=False)
    write(coordinator_sato, KEY_CHECK_SAMPLE + 1)  # under the wrong MAC key
    settings.AUDIT_MAC_KEY_FILE = right
    assert keys_match_the_log() == []
